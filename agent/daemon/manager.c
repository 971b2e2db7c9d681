/* SPDX-License-Identifier: MIT */

#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <systemd/sd-event.h>

#include "boot-count.h"
#include "boot-watch.h"
#include "bus.h"
#include "cluster-tag.h"
#include "config-load.h"
#include "discovery.h"
#include "event-util.h"
#include "fileio.h"
#include "identity-setup.h"
#include "if-addr.h"
#include "log.h"
#include "manager.h"
#include "mdns-avahi.h"
#include "notify.h"
#include "role-lb.h"
#include "role-node.h"
#include "secret.h"
#include "state-lock.h"
#include "status-json.h"
#include "status-server.h"
#include "timesync.h"
#include "vip-check.h"

#define STATUS_LINE_MAX 256

struct Manager {
        sd_event *event;
        char *boot_dir;
        char *state_dir;
        BootWatch *boot_watch;

        Config *config;               /* the configuration in use (a reference); NULL until the files are valid */
        char *last_problems;          /* what was last reported, so that a re-check does not repeat it */
        Phase phase;                  /* the daemon's own: starting, config-error, configured, discovering */
        Phase published;              /* the effective phase last published (manager_effective_phase) */
        bool exposure_said;           /* the warning about a cluster.txt that others can read, once */
        char status[STATUS_LINE_MAX]; /* the last STATUS=, also shown by `piagent status` */

        Bus *bus;
        IdentitySetup *identity;
        Discovery *discovery;
        StatusServer *status_server;
        char tag[CLUSTER_TAG_SIZE];         /* of the configuration in use */
        uint8_t txt_key[PEER_TXT_KEY_SIZE]; /* signs and verifies TXT records: of the configuration in use */
        uint32_t boot;                      /* this start's number (boot-count.h) */
        NodeIdentity ident;
        bool ident_ready;
        sd_event_source *address_retry; /* until the cluster interface has an IPv4 address to sign */

        /* The role, once the node has its identity and is discoverable. Each role holds a reference to the
         * configuration it was started with. */
        bool roles_enabled;
        const Settings *settings; /* PIAGENT_KUBEADM, PIAGENT_PREFLIGHT_IGNORE, PIAGENT_TEST_BREAK for the roles */
        char *runtime_dir;
        char *exchange_socket; /* NULL: the exchange is served in this process */
        int lock_fd;
        LbRole *lb;
        NodeRole *node;
        sd_event_source *role_retry;
        char vip_problem[320]; /* cluster.txt's VIP does not fit this LAN (said once), or "" */
        bool role_change_pending;
};

static void manager_roles_stop(Manager *m);
static void manager_roles_start(Manager *m);
static void manager_role_changed(Manager *m);

/* The node's one phase, as published: the running role's, else the daemon's own. */
static Phase manager_effective_phase(const Manager *m)
{
        if (m->lb)
                return lb_role_phase(m->lb);
        if (m->node)
                return node_role_phase(m->node);
        return m->phase;
}

_printf_(2, 3) static void manager_status(Manager *m, const char *format, ...)
{
        va_list ap;

        va_start(ap, format);
        vsnprintf(m->status, sizeof m->status, format, ap);
        va_end(ap);
        notify_status("%s", m->status);
}

/* Once discovering: role, name, phase and the peers seen, e.g. "master master-0a1b2c: discovering, 5 peers
 * (2 lb, 2 master, 1 worker)". */
static void manager_update_status(Manager *m)
{
        const PeerSet *peers = discovery_peers(m->discovery);
        MdnsState st = discovery_mdns_state(m->discovery);
        unsigned n[_ROLE_MAX];
        size_t total = peer_set_size(peers);

        const char *problem = m->node ? node_role_problem(m->node) : m->lb ? lb_role_problem(m->lb) : NULL;
        const char *phase = phase_to_string(manager_effective_phase(m));

        if (m->phase != PHASE_DISCOVERING || !m->config || !m->ident_ready)
                return;
        peer_set_count_roles(peers, n);
        manager_status(m, "%s %s: %s%s, %zu peer%s (%u lb, %u master, %u worker)%s%s%s%s",
                       role_to_string(m->config->role), m->ident.hostname, phase,
                       m->lb && lb_role_holds_vip(m->lb) ? " (holds the VIP)" : "", total, total == 1 ? "" : "s",
                       n[ROLE_LB], n[ROLE_MASTER], n[ROLE_WORKER],
                       st == MDNS_RUNNING ? "" : "; waiting for avahi-daemon", problem ? "; " : "", strempty(problem),
                       m->role_change_pending ? "; boot files changed: restart piagent to apply" : "");
}

/* Publishes the effective phase when it changed: journal context, a notice, the TXT record. */
static void manager_publish_phase(Manager *m)
{
        Phase p = manager_effective_phase(m);
        int r;

        if (p == m->published)
                return;
        m->published = p;
        (void)log_set_context("PIAGENT_PHASE", phase_to_string(p));
        log_notice("Phase: %s", phase_to_string(p));
        r = discovery_set_phase(m->discovery, p);
        if (r < 0)
                log_warning_errno(r, "Failed to publish the new phase on mDNS, ignoring: %m");
}

static void manager_set_phase(Manager *m, Phase p)
{
        if (m->phase == p)
                return;
        m->phase = p;
        manager_publish_phase(m);
        manager_update_status(m);
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
                manager_status(m, "Boot files invalid (%s%s); keeping the configuration in use", strempty(first),
                               diag_count(d) > 1 ? ", and more" : "");
        } else {
                log_error("Nothing will be done to this node until %s/role.txt and cluster.txt are fixed; "
                          "'piagent check' lists the problems",
                          m->boot_dir);
                manager_status(m, "Failed: %s%s; waiting for the boot files to be fixed", strempty(first),
                               diag_count(d) > 1 ? " (and more)" : "");
        }
}

/* What the node's identity and publication depend on. */
static bool identity_differs(const Config *a, const Config *b)
{
        return a->role != b->role || !streq_ptr(a->hostname, b->hostname) || !streq_ptr(a->interface, b->interface) ||
               !streq_ptr(a->secret, b->secret) || a->exchange_port != b->exchange_port;
}

static void on_timesyncd_restarted(int error, const char *result, void *userdata)
{
        if (error < 0)
                log_warning_errno(error,
                                  "Could not restart " TIMESYNC_UNIT " for the NTP servers of cluster.txt (%s): %m",
                                  strempty(result));
}

/* cluster.txt's ntp= becomes a timesyncd drop-in (removed again when the key goes); timesyncd, if it runs, is
 * restarted to read it. Every role: LBs' logs and keepalived's timers like a right clock too. */
static void manager_apply_ntp(Manager *m, const Config *c)
{
        bool changed = false;
        int r;

        r = timesync_write_dropin(TIMESYNC_DROPIN, c->ntp, &changed);
        if (r < 0) {
                log_warning_errno(r, "Could not write %s for cluster.txt's ntp=: %m", TIMESYNC_DROPIN);
                return;
        }
        if (!changed)
                return;
        if (c->ntp)
                log_notice("NTP servers from cluster.txt for " TIMESYNC_UNIT ": %s (%s)", c->ntp, TIMESYNC_DROPIN);
        else
                log_notice("cluster.txt names no NTP servers any more: removed %s", TIMESYNC_DROPIN);
        r = bus_unit_job(m->bus, "TryRestartUnit", TIMESYNC_UNIT, on_timesyncd_restarted, m);
        if (r < 0)
                on_timesyncd_restarted(r, "not queued", m);
}

static void erase_key(uint8_t (*key)[PEER_TXT_KEY_SIZE])
{
        explicit_bzero(*key, sizeof *key);
}

static int config_apply(Manager *m, Config *c)
{
        char fp[SECRET_FINGERPRINT_SIZE], tag[CLUSTER_TAG_SIZE];
        _cleanup_(erase_key) uint8_t key[PEER_TXT_KEY_SIZE];
        bool restart;
        int r;

        r = secret_fingerprint(c->secret, fp);
        if (r < 0)
                return r;
        r = cluster_tag_compute(c->secret, tag);
        if (r < 0)
                return r;
        r = peer_txt_key(c->secret, key);
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

        restart = !m->config || identity_differs(m->config, c);
        config_unref(m->config);
        m->config = config_ref(c);
        if (m->roles_enabled)
                manager_apply_ntp(m, c);
        if (m->node) {
                /* A master or worker may be in the middle of kubeadm: never pull the rug from under it. */
                log_notice("The boot files changed; a master or worker applies that when piagent restarts "
                           "(systemctl restart piagent)");
                m->role_change_pending = true;
                manager_update_status(m);
                return 0;
        }
        if (m->lb) {
                /* A load balancer is re-rendered from the new configuration at once. */
                manager_roles_stop(m);
                if (!restart)
                        manager_roles_start(m);
        }
        if (!restart) {
                manager_update_status(m);
                return 0;
        }
        memcpy(m->tag, tag, sizeof tag);
        memcpy(m->txt_key, key, sizeof key);
        m->ident_ready = false;
        manager_set_phase(m, PHASE_CONFIGURED);
        manager_status(m, "%s: configuration valid (cluster '%s')", role_to_string(c->role), c->cluster);
        r = identity_setup_start(m->identity, c);
        if (r < 0)
                log_error_errno(r, "Failed to start setting up the node's identity: %m");
        return 0;
}

static void manager_reload(Manager *m)
{
        _cleanup_config_ Config *c = NULL;
        DiagList diags = {};
        int r;

        r = config_load(m->boot_dir, &diags, &c);
        if (r >= 0 && !m->exposure_said) {
                mode_t mode = 0;
                if (cluster_file_exposed(m->boot_dir, &mode) > 0)
                        log_warning("%s/%s holds the cluster secret and other users can read it (mode %04o): mount "
                                    "the boot partition with fmask=0077,dmask=0077 (docs/security.md)",
                                    m->boot_dir, CLUSTER_FILE, (unsigned)mode);
                m->exposure_said = true;
        }
        if (r >= 0) {
                free(m->last_problems);
                m->last_problems = NULL;
                r = config_apply(m, c);
                if (r < 0)
                        log_error_errno(r, "Failed to apply the configuration: %m");
        } else if (r == -ENOMEM)
                log_error_errno(r, "Out of memory while reading the boot files");
        else {
                if (!m->config)
                        manager_set_phase(m, PHASE_CONFIG_ERROR);
                report_problems(m, &diags);
        }
        diag_list_clear(&diags);
}

static void on_identity_waiting(const char *reason, void *userdata)
{
        Manager *m = userdata;

        if (m->config)
                manager_status(m, "%s: configuration valid; %s", role_to_string(m->config->role), reason);
}

/* The node's address on the cluster interface, signed into its TXT record: nothing is published before it is
 * there (DHCP may not be done yet). Asked for again every 2 s until then. */
static int on_address_retry(sd_event_source *s, uint64_t usec, void *userdata);

static struct in_addr manager_find_address(Manager *m)
{
        struct in_addr a = {};

        if (!m->config || !m->ident_ready)
                return a;
        if (interface_ipv4_address(m->ident.netif.name, m->config->vip.addr, &a) >= 0) {
                m->address_retry = sd_event_source_disable_unref(m->address_retry);
                return a;
        }
        if (!m->address_retry && sd_event_add_time_relative(m->event, &m->address_retry, CLOCK_MONOTONIC,
                                                            2 * 1000000ULL, 0, on_address_retry, m) < 0)
                log_warning("Cannot schedule looking for the cluster interface's address again");
        return (struct in_addr){};
}

static int on_address_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
        Manager *m = userdata;
        struct in_addr a;
        int r;

        m->address_retry = sd_event_source_disable_unref(m->address_retry);
        a = manager_find_address(m);
        if (a.s_addr == 0)
                return 0;
        r = discovery_set_address(m->discovery, a);
        if (r < 0)
                log_error_errno(r, "Failed to publish this node on mDNS: %m");
        return 0;
}

static void on_identity_ready(const NodeIdentity *ident, void *userdata)
{
        Manager *m = userdata;
        int r;

        m->ident = *ident;
        m->ident_ready = true;
        (void)log_set_context("PIAGENT_NODE", ident->id);
        manager_set_phase(m, PHASE_DISCOVERING);
        r = discovery_start(m->discovery, &(DiscoverySelf){
                                                  .id = ident->id,
                                                  .hostname = ident->hostname,
                                                  .tag = m->tag,
                                                  .role = m->config->role,
                                                  .phase = manager_effective_phase(m),
                                                  .ifindex = ident->netif.ifindex,
                                                  .port = m->config->exchange_port,
                                                  .key = m->txt_key,
                                                  .address = manager_find_address(m),
                                                  .boot = m->boot,
                                          });
        if (r < 0)
                log_error_errno(r, "Failed to start discovery: %m");
        manager_roles_start(m);
        manager_update_status(m);
}

static void on_mdns_restarting(void *userdata)
{
        Manager *m = userdata;

        discovery_expect_daemon_restart(m->discovery);
}

static void on_mdns_daemon_owner(const char *name, bool owned, void *userdata)
{
        Manager *m = userdata;

        log_debug("%s %s", name, owned ? "has an owner" : "has no owner");
        discovery_set_daemon_present(m->discovery, owned);
}

static void on_discovery_changed(void *userdata)
{
        Manager *m = userdata;

        if (m->lb)
                lb_role_update(m->lb, discovery_peers(m->discovery));
        if (m->node)
                node_role_update(m->node, discovery_peers(m->discovery));
        manager_update_status(m);
}

/* ---- the role ---- */

static void manager_role_changed(Manager *m)
{
        int r;

        manager_publish_phase(m);
        if (m->lb) {
                r = discovery_set_vip(m->discovery, lb_role_holds_vip(m->lb));
                if (r < 0)
                        log_warning_errno(r, "Failed to publish whether this LB holds the VIP, ignoring: %m");
        }
        manager_update_status(m);
}

static void on_lb_changed(Lb *lb, void *userdata)
{
        manager_role_changed(userdata);
}

static void on_node_changed(void *userdata)
{
        manager_role_changed(userdata);
}

static int on_role_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
        Manager *m = userdata;

        m->role_retry = sd_event_source_disable_unref(m->role_retry);
        manager_roles_start(m);
        return 0;
}

static void manager_roles_retry(Manager *m, const char *why)
{
        manager_status(m, "%s %s: %s", role_to_string(m->config->role), m->ident.hostname, why);
        if (!m->role_retry)
                (void)sd_event_add_time_relative(m->event, &m->role_retry, CLOCK_MONOTONIC, 2 * 1000000ULL, 0,
                                                 on_role_retry, m);
}

/* cluster.txt's VIP against this node's LAN (vip-check.h): said once at err level while it stays wrong, in the
 * status all the time; checked again every 2 s (an address from DHCP, a fixed cluster.txt). */
static bool manager_vip_fits(Manager *m)
{
        Ipv4Cidr addrs[16];
        char msg[sizeof m->vip_problem];
        int n = interface_ipv4_subnets(m->ident.netif.name, m->config->vip.addr, addrs, ELEMENTSOF(addrs));

        if (n < 0 || vip_check(&m->config->vip, m->ident.netif.name, addrs, (size_t)n, msg, sizeof msg) == VIP_FITS) {
                if (m->vip_problem[0])
                        log_notice("The virtual IP fits this LAN now");
                m->vip_problem[0] = 0;
                return true;
        }
        if (!streq(msg, m->vip_problem))
                log_error("%s", msg);
        snprintf(m->vip_problem, sizeof m->vip_problem, "%s", msg);
        manager_roles_retry(m, msg);
        return false;
}

static void manager_roles_start(Manager *m)
{
        struct in_addr address;
        int r;

        if (!m->roles_enabled || !m->config || !m->ident_ready || m->lb || m->node)
                return;
        r = interface_ipv4_address(m->ident.netif.name, m->config->vip.addr, &address);
        if (r < 0) {
                manager_roles_retry(m, "waiting for an IPv4 address on the cluster interface");
                return;
        }
        if (!manager_vip_fits(m))
                return;
        if (m->config->role == ROLE_LB)
                r = lb_role_new(m->event, m->bus,
                                &(LbRoleParams){.config = m->config,
                                                .self_id = m->ident.id,
                                                .hostname = m->ident.hostname,
                                                .interface = m->ident.netif.name,
                                                .address = address,
                                                .state_dir = m->state_dir,
                                                .test_break = m->settings ? m->settings->test_break : NULL},
                                on_lb_changed, m, &m->lb);
        else {
                _cleanup_free_ char *dir = NULL;
                if (asprintf(&dir, "%s/kubeadm", m->runtime_dir) < 0)
                        return;
                r = node_role_new(
                        m->event,
                        &(NodeRoleParams){.config = m->config,
                                          .self_id = m->ident.id,
                                          .hostname = m->ident.hostname,
                                          .address = address,
                                          .state_dir = m->state_dir,
                                          .runtime_dir = dir,
                                          .boot_dir = m->boot_dir,
                                          .kubeadm = m->settings ? m->settings->kubeadm : NULL,
                                          .preflight_ignore = m->settings ? m->settings->preflight_ignore : NULL,
                                          .clock_kernel = !(m->settings && m->settings->clock_kernel &&
                                                            streq(m->settings->clock_kernel, "no")),
                                          .bus = m->bus,
                                          .exchange_socket = m->exchange_socket},
                        on_node_changed, m, &m->node);
        }
        if (r < 0) {
                log_error_errno(r, "Failed to start the %s role: %m", role_to_string(m->config->role));
                manager_roles_retry(m, "could not start the role, retrying");
                return;
        }
        manager_publish_phase(m);
        if (m->lb)
                lb_role_update(m->lb, discovery_peers(m->discovery));
        else
                node_role_start(m->node, discovery_peers(m->discovery));
}

static void manager_roles_stop(Manager *m)
{
        m->lb = lb_role_free(m->lb);
        m->node = node_role_free(m->node);
        m->role_retry = sd_event_source_disable_unref(m->role_retry);
}

static char *render_status(void *userdata)
{
        Manager *m = userdata;
        const Config *c = m->config;
        char *text = NULL;
        uint64_t now = event_now_usec(m->event);

        if (status_json_render(
                    &(StatusSelf){
                            .id = m->ident_ready ? m->ident.id : NULL,
                            .hostname = m->ident_ready ? m->ident.hostname : NULL,
                            .role = c ? role_to_string(c->role) : NULL,
                            .phase = phase_to_string(manager_effective_phase(m)),
                            .cluster = c ? c->cluster : NULL,
                            .tag = c ? m->tag : NULL,
                            .interface = m->ident_ready ? m->ident.netif.name : NULL,
                            .service = discovery_published_name(m->discovery),
                            .mdns = mdns_state_to_string(discovery_mdns_state(m->discovery)),
                            .port = c ? c->exchange_port : 0,
                            .status = m->status,
                    },
                    discovery_peers(m->discovery), discovery_rejected(m->discovery),
                    discovery_rejected_count(m->discovery), now, &text) < 0)
                return NULL;
        return text;
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

/* The bus, the identity steps, mDNS (connecting at once, so that avahi-daemon is there when the node is ready to be
 * published) and the status socket. */
static int manager_setup_discovery(Manager *m, const ManagerOptions *o)
{
        char buf[PATH_MAX];
        const char *path = o->status_socket ?: status_socket_path(NULL, NULL, buf, sizeof buf);
        int r;

        r = bus_new(m->event, &m->bus);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the system bus: %m");
        r = identity_setup_new(m->event, m->bus,
                               &(IdentitySetupOptions){
                                       .state_dir = m->state_dir,
                                       .manage_hostname = o->manage_hostname,
                                       .ready = on_identity_ready,
                                       .waiting = on_identity_waiting,
                                       .mdns_restarting = on_mdns_restarting,
                                       .userdata = m,
                               },
                               &m->identity);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the node's identity: %m");
        r = discovery_new(m->event, &mdns_avahi_ops, on_discovery_changed, m, &m->discovery);
        if (r < 0)
                return log_error_errno(r, "Failed to set up mDNS discovery: %m");
        r = bus_watch_name(m->bus, MDNS_DAEMON_BUS_NAME, on_mdns_daemon_owner, m);
        if (r < 0) {
                /* Without a bus, avahi-client cannot work either; let it say so itself. */
                log_warning_errno(r, "Failed to watch for avahi-daemon on the system bus: %m");
                discovery_set_daemon_present(m->discovery, true);
        }
        r = status_server_new(m->event, path, render_status, m, &m->status_server);
        if (r < 0)
                log_warning_errno(r, "Failed to listen on %s, 'piagent status' will not work: %m", path);
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
        m->published = _PHASE_INVALID;
        m->lock_fd = -EBADF;
        m->roles_enabled = o->roles;
        m->boot_dir = strdup(o->boot_dir);
        m->state_dir = strdup(o->state_dir);
        m->settings = o->settings;
        m->runtime_dir = strdup(o->runtime_dir ?: "/run/piagent");
        if (!m->boot_dir || !m->state_dir || !m->runtime_dir)
                return -ENOMEM;
        if (o->exchange_sandbox && asprintf(&m->exchange_socket, "%s/exchange.sock", m->runtime_dir) < 0)
                return -ENOMEM;

        r = mkdir_parents(m->state_dir, 0700);
        if (r < 0)
                return log_error_errno(r, "Failed to create the state directory %s: %m", m->state_dir);
        m->lock_fd = state_lock_acquire(m->state_dir);
        if (m->lock_fd == -EBUSY)
                return log_error_errno(m->lock_fd, "Another piagent uses %s; refusing to run twice", m->state_dir);
        if (m->lock_fd < 0)
                return log_error_errno(m->lock_fd, "Failed to lock %s: %m", m->state_dir);
        if (!m->roles_enabled)
                log_notice("Not run by systemd: discovering only; the role is not acted on (--roles=yes to act)");
        r = boot_count_next(m->state_dir, &m->boot);
        if (r < 0)
                log_warning_errno(r,
                                  "Failed to count this start in %s/" BOOT_COUNT_FILE
                                  " (using the random count %" PRIu32
                                  "; peers may hold this node's records for 30 s): %m",
                                  m->state_dir, m->boot);

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

        r = manager_setup_discovery(m, o);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(m);
        return 0;
}

Manager *manager_free(Manager *m)
{
        if (!m)
                return NULL;
        boot_watch_free(m->boot_watch);
        sd_event_source_disable_unref(m->address_retry);
        explicit_bzero(m->txt_key, sizeof m->txt_key);
        manager_roles_stop(m);
        /* Freeing the mDNS client withdraws this node's records (avahi sends goodbyes). */
        status_server_free(m->status_server);
        discovery_free(m->discovery);
        identity_setup_free(m->identity);
        bus_free(m->bus);
        sd_event_unref(m->event);
        config_unref(m->config);
        free(m->last_problems);
        free(m->boot_dir);
        free(m->state_dir);
        free(m->runtime_dir);
        free(m->exchange_socket);
        if (m->lock_fd >= 0)
                close(m->lock_fd);
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
