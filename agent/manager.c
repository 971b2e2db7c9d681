/* SPDX-License-Identifier: MIT */

#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <systemd/sd-event.h>

#include "boot-watch.h"
#include "config-load.h"
#include "log.h"
#include "manager.h"
#include "notify.h"
#include "secret.h"

struct Manager {
        sd_event *event;
        char *boot_dir;
        char *state_dir;
        BootWatch *boot_watch;

        Config *config;      /* the configuration in use; NULL until the files are valid */
        char *last_problems; /* what was last reported, so that a re-check does not repeat it */
        Phase phase;
};

Phase manager_get_phase(const Manager *m)
{
        return m->phase;
}

static void manager_set_phase(Manager *m, Phase p)
{
        if (m->phase == p)
                return;
        m->phase = p;
        (void)log_set_context("PIAGENT_PHASE", phase_to_string(p));
        log_notice("Phase: %s", phase_to_string(p));
}

/* All problems as one string, to tell whether anything changed since the last report. */
static char *problems_join(const DiagList *d)
{
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        if (!f)
                return NULL;
        for (size_t i = 0; i < d->n; i++)
                fprintf(f, "%s:%u:%s\n", d->items[i].file, d->items[i].line, d->items[i].message);
        fprintf(f, "+%zu", d->dropped);
        if (fclose(f) != 0) {
                free(buf);
                return NULL;
        }
        return buf;
}

static void report_problems(Manager *m, const DiagList *d)
{
        _cleanup_free_ char *joined = problems_join(d), *first = NULL;

        if (joined && streq_ptr(joined, m->last_problems))
                return; /* already said */
        free(m->last_problems);
        m->last_problems = TAKE_PTR(joined);

        for (size_t i = 0; i < d->n; i++) {
                _cleanup_free_ char *s = diag_format(&d->items[i]);
                log_error("%s/%s", m->boot_dir, s ?: d->items[i].message);
        }
        if (d->dropped > 0)
                log_error("… and %zu more problems in the boot files", d->dropped);

        first = d->n > 0 ? diag_format(&d->items[0]) : NULL;
        if (m->config) {
                log_warning("The boot files have %zu problem(s); keeping the configuration in use until they are "
                            "fixed",
                            diag_count(d));
                notify_status("Boot files invalid (%s%s); keeping the configuration in use", strempty(first),
                              diag_count(d) > 1 ? ", and more" : "");
        } else {
                log_error("Nothing will be done to this node until %s/role.txt and cluster.txt are fixed; "
                          "'piagent check' lists the problems",
                          m->boot_dir);
                notify_status("Failed: %s%s; waiting for the boot files to be fixed", strempty(first),
                              diag_count(d) > 1 ? " (and more)" : "");
        }
}

static int config_apply(Manager *m, Config *c)
{
        char fp[SECRET_FINGERPRINT_SIZE];
        int r;

        r = secret_fingerprint(c->secret, fp);
        if (r < 0)
                return r;

        if (m->config && config_equal(m->config, c))
                return 0;

        if (m->config)
                log_notice("Configuration changed in %s", m->boot_dir);
        (void)log_set_context("PIAGENT_ROLE", role_to_string(c->role));
        log_struct(LOG_NOTICE, 0, LOG_FIELDS("PIAGENT_CLUSTER", c->cluster, "PIAGENT_SECRET_FP", fp),
                   "Role %s in cluster '%s' (secret fingerprint %s), from %s", role_to_string(c->role), c->cluster, fp,
                   m->boot_dir);

        config_free(m->config);
        m->config = c;
        manager_set_phase(m, PHASE_CONFIGURED);
        notify_status("%s: configuration valid (cluster '%s')", role_to_string(c->role), c->cluster);
        return 0;
}

static void manager_reload(Manager *m)
{
        DiagList diags = {};
        Config *c = NULL;
        int r;

        r = config_load(m->boot_dir, &diags, &c);
        if (r >= 0) {
                free(m->last_problems);
                m->last_problems = NULL;
                r = config_apply(m, c);
                if (r < 0) {
                        config_free(c);
                        log_error_errno(r, "Failed to apply the configuration: %m");
                } else if (m->config != c)
                        config_free(c);
        } else if (r == -ENOMEM)
                log_error_errno(r, "Out of memory while reading the boot files");
        else {
                if (!m->config)
                        manager_set_phase(m, PHASE_CONFIG_ERROR);
                report_problems(m, &diags);
        }
        diag_list_clear(&diags);
}

static void on_boot_files_changed(void *userdata)
{
        manager_reload(userdata);
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
        Manager *m = userdata;

        if (si->ssi_signo == SIGHUP) {
                log_info("Reloading the boot files (SIGHUP)");
                manager_reload(m);
                return 0;
        }
        log_info("Received %s, stopping", strsignal((int)si->ssi_signo));
        notify_stopping();
        return sd_event_exit(m->event, 0);
}

static int mkdir_p(const char *path, mode_t mode)
{
        _cleanup_free_ char *p = strdup(path);

        if (!p)
                return -ENOMEM;
        for (char *s = p + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = 0;
                if (mkdir(p, 0755) < 0 && errno != EEXIST)
                        return -errno;
                *s = '/';
        }
        if (mkdir(p, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

int manager_new(const ManagerOptions *o, Manager **ret)
{
        _cleanup_manager_ Manager *m = NULL;
        sigset_t mask;
        int r;

        m = calloc(1, sizeof *m);
        if (!m)
                return -ENOMEM;
        m->phase = PHASE_STARTING;
        m->boot_dir = strdup(o->boot_dir);
        m->state_dir = strdup(o->state_dir);
        if (!m->boot_dir || !m->state_dir)
                return -ENOMEM;

        r = mkdir_p(m->state_dir, 0700);
        if (r < 0)
                return log_error_errno(r, "Failed to create the state directory %s: %m", m->state_dir);

        r = sd_event_default(&m->event);
        if (r < 0)
                return log_error_errno(r, "Failed to allocate the event loop: %m");

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return log_error_errno(errno, "Failed to block signals: %m");
        for (int sig = SIGHUP; sig <= SIGTERM; sig++)
                if (sigismember(&mask, sig)) {
                        r = sd_event_add_signal(m->event, NULL, sig, on_signal, m);
                        if (r < 0)
                                return log_error_errno(r, "Failed to handle signal %d: %m", sig);
                }

        /* Pings the service manager's watchdog at half of WATCHDOG_USEC while the loop turns. */
        r = sd_event_set_watchdog(m->event, true);
        if (r < 0)
                log_warning_errno(r, "Failed to enable the watchdog, ignoring: %m");

        r = boot_watch_new(m->event, m->boot_dir, on_boot_files_changed, m, &m->boot_watch);
        if (r < 0)
                return log_error_errno(r, "Failed to watch %s: %m", m->boot_dir);

        *ret = TAKE_PTR(m);
        return 0;
}

Manager *manager_free(Manager *m)
{
        if (!m)
                return NULL;
        boot_watch_free(m->boot_watch);
        sd_event_unref(m->event);
        config_free(m->config);
        free(m->last_problems);
        free(m->boot_dir);
        free(m->state_dir);
        free(m);
        return NULL;
}

int manager_run(Manager *m)
{
        int r;

        (void)log_set_context("PIAGENT_PHASE", phase_to_string(m->phase));
        log_info("piagent starting; boot files in %s, state in %s", m->boot_dir, m->state_dir);
        manager_reload(m);
        notify_ready();

        r = sd_event_loop(m->event);
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m");
        return 0;
}
