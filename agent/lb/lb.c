/* SPDX-License-Identifier: MIT */

#include <arpa/inet.h>
#include <net/if.h>
#include <stdio.h>

#include "addr-watch.h"
#include "fileio.h"
#include "lb.h"
#include "log.h"
#include "subprocess.h"

#define LB_ADVERT_MS       250u
#define LB_CHECK_TIMEOUT   (20 * 1000 * 1000ULL)
#define LB_CHECK_RETRY     (5 * 1000 * 1000ULL)
#define LB_CHECK_RETRY_MAX (60 * 1000 * 1000ULL)
#define LB_PROBLEM_MAX     512

const LbPaths lb_default_paths = {
        .keepalived_conf = "/etc/keepalived/keepalived.conf",
        .haproxy_cfg = "/etc/haproxy/haproxy.cfg",
        .keepalived_dropin = "/run/systemd/system/keepalived.service.d/50-piagent.conf",
        .keepalived_bin = "/usr/sbin/keepalived",
        .haproxy_bin = "/usr/sbin/haproxy",
};

/* One managed file: what we want there, what is installed and applied, what the checker last refused. */
typedef struct LbFile {
        const char *name; /* "haproxy", "keepalived", "keepalived drop-in" */
        const char *unit; /* applied by starting/reloading this unit; NULL: a daemon-reload */
        const char *path;
        const char *checker; /* binary; NULL: no checker */
        const char *check_flag;
        char *want;
        char *inflight; /* what the pipeline checks and installs now: want may change meanwhile */
        char *live;
        char *rejected;
} LbFile;

enum { LB_FILE_DROPIN, LB_FILE_HAPROXY, LB_FILE_KEEPALIVED, _LB_FILE_MAX };

struct Lb {
        sd_event *event;
        const LbOps *ops;
        void *ops_userdata;
        LbChanged changed;
        void *changed_userdata;

        LbFile files[_LB_FILE_MAX];
        size_t current; /* file the pipeline works on */
        bool busy;
        bool dirty;
        char *problem;

        char interface[IF_NAMESIZE];
        struct in_addr vip;
        bool holds_vip;
        AddrWatch *vip_watch; /* the kernel tells when keepalived adds or removes the VIP */
        Spawn *checker;
        sd_event_source *retry_timer; /* runs the pipeline again after a check that gave no verdict */
        uint64_t retry_first;
        unsigned retries;
};

static void lb_step(Lb *lb);
static void lb_run(Lb *lb);
static uint64_t schedule_retry(Lb *lb);

static void set_problem(Lb *lb, const char *fmt, ...) _printf_(2, 3);
static void set_problem(Lb *lb, const char *fmt, ...)
{
        char buf[LB_PROBLEM_MAX];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        free(lb->problem);
        lb->problem = strdup(buf);
        log_error("%s", buf);
}

static void notify_changed(Lb *lb)
{
        if (lb->changed)
                lb->changed(lb, lb->changed_userdata);
}

bool lb_is_ready(const Lb *lb)
{
        for (size_t i = 0; i < _LB_FILE_MAX; i++)
                if (!lb->files[i].live)
                        return false;
        return true;
}

const char *lb_problem(const Lb *lb)
{
        return lb->problem;
}

bool lb_holds_vip(const Lb *lb)
{
        return lb->holds_vip;
}

static void on_vip(bool present, void *userdata)
{
        Lb *lb = userdata;
        char a[INET_ADDRSTRLEN];

        if (present == lb->holds_vip)
                return;
        lb->holds_vip = present;
        log_notice("%s the virtual IP %s", present ? "This LB now holds" : "This LB no longer holds",
                   inet_ntop(AF_INET, &lb->vip, a, sizeof a));
        notify_changed(lb);
}

/* Watches the VIP from the first inputs on, and again when cluster.txt names another one. */
static void watch_vip(Lb *lb, struct in_addr vip)
{
        int r;

        if (lb->vip_watch && vip.s_addr == lb->vip.s_addr)
                return;
        lb->vip_watch = addr_watch_free(lb->vip_watch);
        lb->vip = vip;
        on_vip(false, lb);
        r = addr_watch_new(lb->event, vip, on_vip, lb, &lb->vip_watch);
        if (r < 0)
                log_warning_errno(r, "Cannot watch the addresses of this node, so whether it holds the virtual IP "
                                     "stays unknown: %m");
}

/* The file is in place and systemd applied it. */
static void on_job_done(int error, void *userdata)
{
        Lb *lb = userdata;
        LbFile *f = &lb->files[lb->current];

        if (error < 0) {
                /* The file is valid and in place; systemd did not take it (a D-Bus call times out while systemd
                 * is busy booting): applied again later, without waiting for new inputs. */
                uint64_t d = schedule_retry(lb);
                set_problem(lb, "systemd failed to %s for the new %s configuration: %s; trying again in %llu s",
                            f->unit ? "start or reload the unit" : "reload unit files", f->name, strerror(-error),
                            (unsigned long long)(d / 1000000));
                free(f->inflight);
                f->inflight = NULL;
                /* keepalived must not start before systemd has its drop-in: end this pass. */
                lb->current = lb->current == LB_FILE_DROPIN ? _LB_FILE_MAX : lb->current + 1;
                lb_step(lb);
                return;
        }
        free(f->live);
        f->live = TAKE_PTR(f->inflight);
        lb->retries = 0;
        log_info("Applied the %s configuration", f->name);
        lb->current++;
        lb_step(lb);
}

/* The directory of path, created if missing (a drop-in directory under /run, /etc/keepalived on a fresh node);
 * a failure shows up in the write that follows. */
static void make_parent_dir(const char *path)
{
        _cleanup_free_ char *dir = strdup(path);
        char *slash = dir ? strrchr(dir, '/') : NULL;

        if (slash && slash != dir) {
                *slash = 0;
                (void)mkdir_parents(dir, 0755);
        }
}

static void install_and_apply(Lb *lb, LbFile *f)
{
        int r;

        make_parent_dir(f->path);
        r = write_file_atomic(f->path, f->inflight, strlen(f->inflight), 0644);
        if (r < 0) {
                set_problem(lb, "Failed to write %s: %s", f->path, strerror(-r));
                lb->current++;
                lb_step(lb);
                return;
        }
        r = f->unit ? lb->ops->unit_apply(lb->ops_userdata, f->unit, on_job_done, lb)
                    : lb->ops->daemon_reload(lb->ops_userdata, on_job_done, lb);
        if (r < 0)
                on_job_done(r, lb);
}

static void on_checker_line(const char *line, void *userdata)
{
        log_debug("checker: %s", line);
}

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
        lb_run(userdata);
        return 0;
}

/* A checker that timed out, was killed or could not run said nothing about the file: check it again later
 * (doubling up to a minute), instead of taking it for a rejection that only new inputs would lift. Returns
 * the delay. */
static uint64_t schedule_retry(Lb *lb)
{
        uint64_t d = lb->retry_first;
        int r;

        for (unsigned i = 0; i < lb->retries && d < LB_CHECK_RETRY_MAX; i++)
                d *= 2;
        d = MIN(d, LB_CHECK_RETRY_MAX);
        lb->retries++;
        if (lb->retry_timer) {
                r = sd_event_source_set_time_relative(lb->retry_timer, d);
                if (r >= 0)
                        r = sd_event_source_set_enabled(lb->retry_timer, SD_EVENT_ONESHOT);
        } else
                r = sd_event_add_time_relative(lb->event, &lb->retry_timer, CLOCK_MONOTONIC, d, 0, on_retry, lb);
        if (r < 0)
                log_warning_errno(r, "Cannot schedule the next check of the load-balancer configuration: %m");
        return d;
}

static void on_checked(const SpawnResult *res, void *userdata)
{
        Lb *lb = userdata;
        LbFile *f = &lb->files[lb->current];
        char how[96], first[200] = "";
        _cleanup_free_ char *candidate = NULL;

        lb->checker = NULL;
        if (asprintf(&candidate, "%s.piagent-check", f->path) >= 0)
                (void)unlink(candidate);

        if (spawn_result_ok(res)) {
                lb->retries = 0;
                install_and_apply(lb, f);
                return;
        }
        if (res->timed_out || res->signal || res->error < 0) {
                uint64_t d = schedule_retry(lb);
                set_problem(lb, "%s %s could not check the new %s configuration (%s); checking it again in %llu s",
                            f->checker, f->check_flag, f->name, spawn_result_describe(res, how, sizeof how),
                            (unsigned long long)(d / 1000000));
                free(f->inflight);
                f->inflight = NULL;
                lb->current++;
                lb_step(lb);
                return;
        }

        if (res->output) {
                /* The checker's line that says what is wrong, for the journal and STATUS=: the first alert or
                 * error, else the first line. */
                const char *p = strstr(res->output, "ALERT");
                if (!p)
                        p = strstr(res->output, "rror");
                if (p)
                        while (p > res->output && p[-1] != '\n')
                                p--;
                else
                        p = res->output;
                size_t n = strcspn(p, "\n");
                snprintf(first, sizeof first, ": %.*s", (int)MIN(n, sizeof first - 3), p);
        }
        set_problem(lb, "%s %s rejected the new %s configuration (%s)%s; keeping the last good one in %s", f->checker,
                    f->check_flag, f->name, spawn_result_describe(res, how, sizeof how), first, f->path);
        free(f->rejected);
        f->rejected = TAKE_PTR(f->inflight);
        lb->current++;
        lb_step(lb);
}

static void check_file(Lb *lb, LbFile *f)
{
        _cleanup_free_ char *candidate = NULL;
        int r;

        if (asprintf(&candidate, "%s.piagent-check", f->path) < 0)
                return (void)set_problem(lb, "Out of memory");
        make_parent_dir(f->path);
        r = write_file_atomic(candidate, f->inflight, strlen(f->inflight), 0600);
        if (r >= 0) {
                char *argv[] = {(char *)f->checker, (char *)f->check_flag, (char *)"-f", candidate, NULL};
                SpawnOptions o = {.argv = argv,
                                  .timeout_usec = LB_CHECK_TIMEOUT,
                                  .capture = true,
                                  .on_line = on_checker_line,
                                  .on_done = on_checked,
                                  .userdata = lb};
                r = spawn_start(lb->event, &o, &lb->checker);
        }
        if (r < 0) {
                uint64_t d = schedule_retry(lb);
                set_problem(lb, "Failed to check the new %s configuration with %s: %s; trying again in %llu s", f->name,
                            f->checker, strerror(-r), (unsigned long long)(d / 1000000));
                lb->current++;
                lb_step(lb);
        }
}

static void lb_step(Lb *lb)
{
        for (; lb->current < _LB_FILE_MAX; lb->current++) {
                LbFile *f = &lb->files[lb->current];
                if (!f->want || streq_ptr(f->want, f->live) || streq_ptr(f->want, f->rejected))
                        continue;
                free(f->inflight);
                f->inflight = strdup(f->want);
                if (!f->inflight) {
                        set_problem(lb, "Out of memory");
                        continue;
                }
                if (f->checker)
                        check_file(lb, f);
                else
                        install_and_apply(lb, f);
                return;
        }

        lb->busy = false;
        bool all_applied = true;
        for (size_t i = 0; i < _LB_FILE_MAX; i++)
                all_applied = all_applied && streq_ptr(lb->files[i].want, lb->files[i].live);
        if (all_applied && lb->problem) {
                free(lb->problem);
                lb->problem = NULL;
        }
        notify_changed(lb);
        if (lb->dirty) {
                lb->dirty = false;
                lb_run(lb);
        }
}

/* A pass over every file from the first, now; or, while one runs, right after it. */
static void lb_run(Lb *lb)
{
        if (lb->busy) {
                lb->dirty = true;
                return;
        }
        lb->busy = true;
        lb->current = 0;
        lb_step(lb);
}

static int render_dropin(const LbInputs *in, char **ret)
{
        char vip[INET_ADDRSTRLEN];

        inet_ntop(AF_INET, &in->config->vip.addr, vip, sizeof vip);
        return asprintf(ret,
                        "# Written by piagent.\n"
                        "[Unit]\n"
                        "After=haproxy.service\n\n"
                        "[Service]\n"
                        "# A crashed VRRP child must take the whole daemon down, so that ExecStopPost runs: left\n"
                        "# to keepalived, the child is respawned after a delay with the VIP still up here.\n"
                        "ExecStart=\n"
                        "ExecStart=/usr/sbin/keepalived --dont-fork --dont-respawn $DAEMON_ARGS\n"
                        "Restart=always\n"
                        "RestartSec=1s\n"
                        "# A killed keepalived cannot remove the VIP itself: without this it stays here as a\n"
                        "# duplicate of the VIP the other LB takes over.\n"
                        "ExecStopPost=-/sbin/ip -4 addr del %s/32 dev %s\n",
                        vip, in->interface) < 0
                       ? -ENOMEM
                       : 0;
}

/* PIAGENT_TEST_BREAK=haproxy|keepalived appends a line the checker rejects (cluster tests use it to prove
 * that a rejected file is never installed). */
static int maybe_break(const char *test_break, const char *name, char **text)
{
        char *s;

        if (!streq_ptr(test_break, name))
                return 0;
        if (asprintf(&s, "%sthis-is-not-a-keyword piagent-test-break\n", *text) < 0)
                return -ENOMEM;
        free(*text);
        *text = s;
        return 0;
}

static int render_all(const LbInputs *in, char **ret_keepalived, char **ret_haproxy, char **ret_dropin)
{
        _cleanup_free_ char *k = NULL, *h = NULL, *d = NULL;
        const char *ids[64];
        struct in_addr peers[64];
        size_t n = MIN(in->n_lbs, ELEMENTSOF(peers));
        uint8_t vrid;
        int r;

        for (size_t i = 0; i < n; i++) {
                ids[i] = in->lbs[i].id;
                peers[i] = in->lbs[i].addr;
        }
        r = lb_vrid(in->config->secret, &vrid);
        if (r < 0)
                return r;

        KeepalivedParams kp = {
                .router_id = in->hostname,
                .interface = in->interface,
                .self = in->self_addr,
                .vip = in->config->vip,
                .vrid = vrid,
                .priority = lb_priority(in->self_id, ids, n),
                .peers = peers,
                .n_peers = n,
                .advert_ms = LB_ADVERT_MS,
        };
        HaproxyParams hp = {
                .api_port = in->config->api_port,
                .backends = in->masters,
                .n_backends = in->n_masters,
                .ca_file = in->ca_file,
        };

        r = keepalived_conf_render(&kp, &k);
        if (r >= 0)
                r = haproxy_conf_render(&hp, &h);
        if (r >= 0)
                r = render_dropin(in, &d);
        if (r >= 0)
                r = maybe_break(in->test_break, "haproxy", &h);
        if (r >= 0)
                r = maybe_break(in->test_break, "keepalived", &k);
        if (r < 0)
                return r;
        *ret_keepalived = TAKE_PTR(k);
        *ret_haproxy = TAKE_PTR(h);
        *ret_dropin = TAKE_PTR(d);
        return 0;
}

static void set_want(LbFile *f, char *text)
{
        free(f->want);
        f->want = text;
}

int lb_update(Lb *lb, const LbInputs *in)
{
        char *k = NULL, *h = NULL, *d = NULL;
        bool changed;
        int r;

        r = render_all(in, &k, &h, &d);
        if (r == -EINVAL) {
                set_problem(lb,
                            "Cannot render the load-balancer configuration from these inputs (interface '%s', "
                            "hostname '%s')",
                            strempty(in->interface), strempty(in->hostname));
                notify_changed(lb);
                return r;
        }
        if (r < 0)
                return r;

        changed = !streq_ptr(k, lb->files[LB_FILE_KEEPALIVED].want) || !streq_ptr(h, lb->files[LB_FILE_HAPROXY].want) ||
                  !streq_ptr(d, lb->files[LB_FILE_DROPIN].want);
        set_want(&lb->files[LB_FILE_KEEPALIVED], k);
        set_want(&lb->files[LB_FILE_HAPROXY], h);
        set_want(&lb->files[LB_FILE_DROPIN], d);
        watch_vip(lb, in->config->vip.addr);
        snprintf(lb->interface, sizeof lb->interface, "%s", in->interface);

        if (changed)
                lb_run(lb);
        return 0;
}

int lb_new(sd_event *e, const LbOps *ops, void *ops_userdata, const LbPaths *paths, LbChanged changed,
           void *changed_userdata, Lb **ret)
{
        Lb *lb = calloc(1, sizeof *lb);

        if (!lb)
                return -ENOMEM;
        lb->event = sd_event_ref(e);
        lb->ops = ops;
        lb->ops_userdata = ops_userdata;
        lb->changed = changed;
        lb->changed_userdata = changed_userdata;
        lb->retry_first = paths->check_retry_usec ?: LB_CHECK_RETRY;
        /* Order matters: the drop-in before keepalived's first start, HAProxy before keepalived tracks it. */
        lb->files[LB_FILE_DROPIN] = (LbFile){.name = "keepalived drop-in", .path = paths->keepalived_dropin};
        lb->files[LB_FILE_HAPROXY] = (LbFile){.name = "haproxy",
                                              .unit = "haproxy.service",
                                              .path = paths->haproxy_cfg,
                                              .checker = paths->haproxy_bin,
                                              .check_flag = "-c"};
        lb->files[LB_FILE_KEEPALIVED] = (LbFile){.name = "keepalived",
                                                 .unit = "keepalived.service",
                                                 .path = paths->keepalived_conf,
                                                 .checker = paths->keepalived_bin,
                                                 .check_flag = "-t"};

        *ret = lb;
        return 0;
}

Lb *lb_free(Lb *lb)
{
        if (!lb)
                return NULL;
        spawn_cancel(lb->checker);
        sd_event_source_disable_unref(lb->retry_timer);
        addr_watch_free(lb->vip_watch);
        for (size_t i = 0; i < _LB_FILE_MAX; i++) {
                free(lb->files[i].want);
                free(lb->files[i].inflight);
                free(lb->files[i].live);
                free(lb->files[i].rejected);
        }
        free(lb->problem);
        sd_event_unref(lb->event);
        free(lb);
        return NULL;
}
