/* SPDX-License-Identifier: MIT */

#include <arpa/inet.h>
#include <stdio.h>

#include "fileio.h"
#include "log.h"
#include "role-node-internal.h"
#include "version.h"

typedef struct JoinRequest {
        NodeRole *role;
        ExchangeCall *call;
        bool control_plane;
} JoinRequest;

static void provider_status(void *userdata, ExchangeStatus *ret)
{
        NodeRole *r = userdata;

        *ret = (ExchangeStatus){.node = r->self_id,
                                .role = role_to_string(r->config->role),
                                .phase = phase_to_string(node_role_phase(r)),
                                .version = PIAGENT_VERSION};
}

static void on_material_made(int error, const char *detail, const BootstrapMaterial *m, void *userdata)
{
        JoinRequest *j = userdata;
        NodeRole *r = j->role;
        char endpoint[INET_ADDRSTRLEN + 8], vip[INET_ADDRSTRLEN];

        if (error < 0) {
                log_warning("Could not make join material for %s: %s", exchange_call_get_node(j->call),
                            strempty(detail));
                exchange_call_return_error(j->call, error == -EAGAIN ? -EAGAIN : -EIO);
                free(j);
                return;
        }
        inet_ntop(AF_INET, &r->config->vip.addr, vip, sizeof vip);
        snprintf(endpoint, sizeof endpoint, "%s:%u", vip, r->config->api_port);
        log_struct(LOG_NOTICE, 0, LOG_FIELDS("PIAGENT_PEER", exchange_call_get_node(j->call)),
                   "Handing %s join material to %s", j->control_plane ? "control-plane" : "worker",
                   exchange_call_get_node(j->call));
        exchange_call_return_join(j->call, &(ExchangeJoinMaterial){
                                                   .endpoint = endpoint,
                                                   .token = m->token,
                                                   .ca_cert_hash = m->ca_hash,
                                                   .certificate_key = j->control_plane ? m->certificate_key : NULL,
                                           });
        free(j);
}

static int provider_join(void *userdata, ExchangeCall *call, const char *node, ExchangeRole role)
{
        NodeRole *r = userdata;
        JoinRequest *j;
        int q;

        if (!r->bootstrap || bootstrap_phase(r->bootstrap) != PHASE_READY)
                return -EAGAIN;
        if (!node_role_clock_synced(r)) {
                /* A rebooted master is ready from its state at once, before NTP answered: the token's 24 h and
                 * the uploaded certificates would start from a wrong clock. The requester asks again. */
                log_struct(LOG_NOTICE, 0, LOG_FIELDS("PIAGENT_PEER", node),
                           "Not handing join material to %s yet: this master's clock is not synchronised", node);
                return -EAGAIN;
        }
        j = calloc(1, sizeof *j);
        if (!j)
                return -ENOMEM;
        *j = (JoinRequest){.role = r, .call = call, .control_plane = role == EXCHANGE_ROLE_CONTROL_PLANE};
        JoinMaterialParams p = {.config = r->config,
                                .self_id = r->self_id,
                                .node_name = r->hostname,
                                .address = r->address,
                                .ca_file = CA_FILE,
                                .runtime_dir = r->runtime_dir,
                                .kubeadm = r->kubeadm,
                                .control_plane = j->control_plane};
        if (!r->material_cache) {
                q = join_material_cache_new(&r->material_cache);
                if (q < 0) {
                        free(j);
                        return q;
                }
        }
        q = join_material_create(r->event, r->material_cache, &p, on_material_made, j);
        if (q < 0)
                free(j);
        return q;
}

static int provider_vote(void *userdata, ExchangeCall *call, const char *node)
{
        NodeRole *r = userdata;

        const char *refusal = NULL;
        bool granted;

        if (!r->bootstrap)
                return -EAGAIN;
        granted = node_role_grant_vote(r, node, &refusal);
        exchange_call_return_vote(call, granted, refusal);
        return 0;
}

static int provider_ca(void *userdata, ExchangeCall *call)
{
        NodeRole *r = userdata;
        _cleanup_free_ char *pem = NULL;
        int q;

        if (!r->bootstrap || !node_state_is_member(bootstrap_state(r->bootstrap)))
                return -EAGAIN;
        q = read_file_full(CA_FILE, 64 * 1024, &pem, NULL);
        if (q < 0)
                return log_warning_errno(q, "Cannot read %s for a CA request: %m", CA_FILE);
        exchange_call_return_ca(call, pem);
        return 0;
}

/* admin.conf for `piagent kubeconfig`. The requester proved the cluster secret, which lets any card join as a
 * master and so read this file anyway (docs/security.md); what is added is a record: who asked, by its node id
 * and address, in this master's journal, never the content. Only a ready member has the file. */
static int provider_kubeconfig(void *userdata, ExchangeCall *call)
{
        NodeRole *r = userdata;
        const char *node = exchange_call_get_node(call), *peer = exchange_call_get_peer(call);
        _cleanup_free_ char *text = NULL;
        int q;

        if (!r->bootstrap || bootstrap_phase(r->bootstrap) != PHASE_READY ||
            !node_state_is_member(bootstrap_state(r->bootstrap)))
                return -EAGAIN;
        q = read_file_full(ADMIN_CONF, 64 * 1024, &text, NULL);
        if (q < 0)
                return log_warning_errno(q, "Cannot read %s for a kubeconfig request: %m", ADMIN_CONF);
        log_struct(LOG_NOTICE, 0, LOG_FIELDS("PIAGENT_PEER", node, "PIAGENT_PEER_ADDRESS", peer),
                   "Handing the admin kubeconfig (cluster-admin) to %s at %s", node, peer);
        exchange_call_return_kubeconfig(call, text);
        erase(text, strlen(text));
        return 0;
}

static int provider_joined(void *userdata, ExchangeCall *call, const char *node, ExchangeRole role, bool success)
{
        NodeRole *r = userdata;

        /* Whatever went wrong, the next joiner gets material made for it. */
        if (!success)
                join_material_cache_forget(r->material_cache);
        log_struct(success ? LOG_NOTICE : LOG_WARNING, 0, LOG_FIELDS("PIAGENT_PEER", node), "%s %s as %s", node,
                   success ? "joined" : "failed to join", exchange_role_to_string(role));
        exchange_call_return_ok(call);
        return 0;
}

/* ---- ready: a waiting node is told the moment this master is ready ---- */

struct ReadyWaiter {
        NodeRole *role;
        ExchangeCall *call;
        sd_event_source *timer;
        ReadyWaiter *next;
};

static void ready_waiter_finish(ReadyWaiter *w, int error)
{
        NodeRole *r = w->role;

        for (ReadyWaiter **p = &r->ready_waiters; *p; p = &(*p)->next)
                if (*p == w) {
                        *p = w->next;
                        break;
                }
        r->n_ready_waiters--;
        sd_event_source_disable_unref(w->timer);
        if (error < 0)
                exchange_call_return_error(w->call, error);
        else
                exchange_call_return_ready(w->call);
        free(w);
}

/* Held long enough: "not yet" (503), and the node asks again; well within the server's deadline. */
static int on_ready_waited(sd_event_source *s, uint64_t usec, void *userdata)
{
        ready_waiter_finish(userdata, -EAGAIN);
        return 0;
}

static int provider_ready(void *userdata, ExchangeCall *call, const char *node)
{
        NodeRole *r = userdata;
        ReadyWaiter *w;
        int q;

        if (!r->bootstrap)
                return -EAGAIN;
        if (bootstrap_phase(r->bootstrap) == PHASE_READY) {
                exchange_call_return_ready(call);
                return 0;
        }
        if (r->n_ready_waiters >= READY_WAITERS_MAX)
                return -EAGAIN;
        w = calloc(1, sizeof *w);
        if (!w)
                return -ENOMEM;
        *w = (ReadyWaiter){.role = r, .call = call, .next = r->ready_waiters};
        q = sd_event_add_time_relative(r->event, &w->timer, CLOCK_MONOTONIC, READY_HOLD_USEC, 0, on_ready_waited, w);
        if (q < 0) {
                free(w);
                return q;
        }
        r->ready_waiters = w;
        r->n_ready_waiters++;
        return 0;
}

void node_role_ready_waiters_release(NodeRole *r, int error)
{
        unsigned n = r->n_ready_waiters;

        while (r->ready_waiters)
                ready_waiter_finish(r->ready_waiters, error);
        if (n > 0 && error >= 0)
                log_info("Told %u waiting node%s that this master is ready", n, n == 1 ? "" : "s");
}

const ExchangeProvider node_role_master_provider = {
        .status = provider_status,
        .join = provider_join,
        .vote = provider_vote,
        .ca = provider_ca,
        .joined = provider_joined,
        .kubeconfig = provider_kubeconfig,
        .ready = provider_ready,
};
