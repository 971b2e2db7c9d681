/* SPDX-License-Identifier: MIT */

#include "exchange-link.h"
#include <stdio.h>
#include <unistd.h>

#include "event-util.h"
#include "exchange-ipc.h"
#include "ipc-link.h"
#include "log.h"
#include "macro.h"

/* ---- the back's end (root) ---- */

typedef struct Pending Pending;

struct Pending {
        ExchangeBackLink *link;
        Pending *prev, *next;
        uint32_t id;
        ExchangeCall *call; /* NULL until the back has answered or taken it */
};

struct ExchangeBackLink {
        sd_event *event;
        IpcLink *ipc;
        ExchangeBack *back;
        ExchangeLinkEvent event_cb;
        void *userdata;
        Pending *pending;
        unsigned n_pending;
        bool ready;
};

static int send_message(IpcLink *ipc, const ExchangeIpcMessage *m)
{
        _cleanup_free_ uint8_t *buf = NULL;
        size_t size;
        int r;

        r = exchange_ipc_encode(m, &buf, &size);
        if (r < 0)
                return r;
        return ipc_link_send(ipc, buf, size);
}

static void pending_free(Pending *p)
{
        ExchangeBackLink *l = p->link;

        if (l) {
                if (p->prev)
                        p->prev->next = p->next;
                else
                        l->pending = p->next;
                if (p->next)
                        p->next->prev = p->prev;
                l->n_pending--;
        }
        free(p);
}

static void back_answer(ExchangeBackLink *l, uint32_t id, unsigned status, const char *body, size_t size)
{
        int r = send_message(l->ipc, &(ExchangeIpcMessage){.type = EXCHANGE_IPC_ANSWER,
                                                           .id = id,
                                                           .status = (int32_t)status,
                                                           .data = size > 0 ? body : NULL,
                                                           .size = size});
        if (r < 0)
                log_warning_errno(r, "Exchange: could not answer the worker's request %u, ignoring: %m", id);
}

static void on_back_respond(void *userdata, unsigned status, const char *body, size_t size)
{
        Pending *p = userdata;

        if (p->link)
                back_answer(p->link, p->id, status, body, size);
        pending_free(p);
}

static void back_request(ExchangeBackLink *l, const ExchangeIpcMessage *m)
{
        Pending *p;
        ExchangeCall *call = NULL;

        if (l->n_pending >= EXCHANGE_LINK_PENDING_MAX)
                return back_answer(l, m->id, 503, "", 0);
        p = calloc(1, sizeof *p);
        if (!p)
                return back_answer(l, m->id, 500, "", 0);
        *p = (Pending){.link = l, .id = m->id, .next = l->pending};
        if (l->pending)
                l->pending->prev = p;
        l->pending = p;
        l->n_pending++;

        switch (m->kind) {
        case EXCHANGE_FORWARD_STATUS:
                exchange_back_status(l->back, on_back_respond, p);
                return;
        case EXCHANGE_FORWARD_EXCHANGE:
                exchange_back_process(l->back, m->address, m->data ?: "", m->size, event_now_usec(l->event),
                                      on_back_respond, p, &call);
                if (call)
                        p->call = call;
                return;
        case _EXCHANGE_FORWARD_KIND_MAX:
        case _EXCHANGE_FORWARD_KIND_INVALID:
                break;
        }
        on_back_respond(p, 400, "", 0);
}

static void back_cancel(ExchangeBackLink *l, uint32_t id)
{
        for (Pending *p = l->pending; p; p = p->next)
                if (p->id == id && p->call) {
                        exchange_call_abandon(p->call);
                        pending_free(p);
                        return;
                }
}

static void back_closed(ExchangeBackLink *l, int error)
{
        l->event_cb(l->userdata, true, error, 0);
}

static void on_back_message(void *userdata, const void *data, size_t size)
{
        ExchangeBackLink *l = userdata;
        ExchangeIpcMessage m;

        if (exchange_ipc_decode(data, size, &m) < 0)
                return back_closed(l, -EBADMSG);
        switch (m.type) {
        case EXCHANGE_IPC_READY:
                if (l->ready)
                        return back_closed(l, -EBADMSG);
                l->ready = m.status == 0;
                l->event_cb(l->userdata, false, m.status, m.port);
                return;
        case EXCHANGE_IPC_REQUEST:
                if (!l->ready)
                        return back_closed(l, -EBADMSG);
                return back_request(l, &m);
        case EXCHANGE_IPC_CANCEL:
                return back_cancel(l, m.id);
        case EXCHANGE_IPC_HELLO:
        case EXCHANGE_IPC_ANSWER:
        case _EXCHANGE_IPC_TYPE_MAX:
        case _EXCHANGE_IPC_TYPE_INVALID:
                break;
        }
        back_closed(l, -EBADMSG); /* what only the root sends */
}

static void on_back_close(void *userdata, int error)
{
        back_closed(userdata, error);
}

int exchange_back_link_new(sd_event *e, int fd, ExchangeBack *back, const char *address, uint16_t port,
                           ExchangeLinkEvent event, void *userdata, ExchangeBackLink **ret)
{
        ExchangeIpcMessage hello = {.type = EXCHANGE_IPC_HELLO, .port = port};
        ExchangeBackLink *l;
        int r;

        if (address && strlen(address) >= sizeof hello.address) {
                close(fd);
                return -EINVAL;
        }
        snprintf(hello.address, sizeof hello.address, "%s", strempty(address));
        l = calloc(1, sizeof *l);
        if (!l) {
                close(fd);
                return -ENOMEM;
        }
        *l = (ExchangeBackLink){.event = sd_event_ref(e), .back = back, .event_cb = event, .userdata = userdata};
        r = ipc_link_new(e, fd, EXCHANGE_IPC_MAX, on_back_message, on_back_close, l, &l->ipc);
        if (r >= 0)
                r = send_message(l->ipc, &hello);
        if (r < 0) {
                exchange_back_link_free(l);
                return r;
        }
        *ret = l;
        return 0;
}

ExchangeBackLink *exchange_back_link_free(ExchangeBackLink *l)
{
        if (!l)
                return NULL;
        /* Calls still with the provider finish into nothing. */
        while (l->pending) {
                Pending *p = l->pending;
                if (p->call) {
                        exchange_call_abandon(p->call);
                        pending_free(p);
                } else {
                        /* Being answered right now (a status): it frees itself, without a link. */
                        l->pending = p->next;
                        p->link = NULL;
                }
        }
        ipc_link_free(l->ipc);
        sd_event_unref(l->event);
        free(l);
        return NULL;
}

int exchange_back_link_peer_pid(ExchangeBackLink *l, pid_t *ret)
{
        return ipc_link_peer_pid(l->ipc, ret);
}

unsigned exchange_back_link_pending(const ExchangeBackLink *l)
{
        return l->n_pending;
}

/* ---- the worker's end ---- */

typedef struct Forward Forward;

struct Forward {
        ExchangeWorker *worker;
        Forward *prev, *next;
        uint32_t id;
        ExchangeForward *fw;
};

struct ExchangeWorker {
        sd_event *event;
        IpcLink *ipc;
        ExchangeServerOptions o;
        ExchangeServer *server;
        ExchangeLinkEvent event_cb;
        void *userdata;
        Forward *forwards;
        uint32_t next_id;
};

static void forward_unlink(Forward *f)
{
        ExchangeWorker *w = f->worker;

        if (f->prev)
                f->prev->next = f->next;
        else
                w->forwards = f->next;
        if (f->next)
                f->next->prev = f->prev;
        free(f);
}

static void on_forward_abandoned(void *userdata)
{
        Forward *f = userdata;
        int r = send_message(f->worker->ipc, &(ExchangeIpcMessage){.type = EXCHANGE_IPC_CANCEL, .id = f->id});

        if (r < 0)
                log_debug_errno(r, "Exchange worker: could not cancel request %u: %m", f->id);
        forward_unlink(f);
}

static int forward_to_root(void *userdata, ExchangeForward *fw, ExchangeForwardKind kind, const char *peer,
                           const char *body, size_t size, uint64_t now)
{
        ExchangeWorker *w = userdata;
        ExchangeIpcMessage m = {
                .type = EXCHANGE_IPC_REQUEST, .kind = kind, .data = size > 0 ? body : NULL, .size = size};
        Forward *f;
        int r;

        if (strlen(peer) >= sizeof m.address)
                return -EINVAL;
        strcpy(m.address, peer);
        f = calloc(1, sizeof *f);
        if (!f)
                return -ENOMEM;
        m.id = f->id = ++w->next_id;
        r = send_message(w->ipc, &m);
        if (r < 0) {
                free(f);
                return r;
        }
        *f = (Forward){.worker = w, .id = m.id, .fw = fw, .next = w->forwards};
        if (w->forwards)
                w->forwards->prev = f;
        w->forwards = f;
        exchange_forward_on_abandon(fw, on_forward_abandoned, f);
        return 0;
}

static void worker_answer(ExchangeWorker *w, const ExchangeIpcMessage *m)
{
        for (Forward *f = w->forwards; f; f = f->next)
                if (f->id == m->id) {
                        ExchangeForward *fw = f->fw;
                        forward_unlink(f);
                        exchange_forward_done(fw, (unsigned)m->status, m->data ?: "", m->size);
                        return;
                }
        /* A request whose client went away meanwhile. */
}

static void worker_hello(ExchangeWorker *w, const ExchangeIpcMessage *m)
{
        ExchangeServerOptions o = w->o;
        int r;

        o.http.address = *m->address ? m->address : NULL;
        o.http.port = m->port;
        r = exchange_server_new_forwarding(w->event, &o, forward_to_root, w, &w->server);
        (void)send_message(w->ipc, &(ExchangeIpcMessage){.type = EXCHANGE_IPC_READY,
                                                         .status = r < 0 ? r : 0,
                                                         .port = r < 0 ? 0 : exchange_server_get_port(w->server)});
        w->event_cb(w->userdata, false, r < 0 ? r : 0, r < 0 ? 0 : exchange_server_get_port(w->server));
}

static void on_worker_message(void *userdata, const void *data, size_t size)
{
        ExchangeWorker *w = userdata;
        ExchangeIpcMessage m;

        if (exchange_ipc_decode(data, size, &m) < 0)
                return w->event_cb(w->userdata, true, -EBADMSG, 0);
        switch (m.type) {
        case EXCHANGE_IPC_HELLO:
                if (w->server)
                        break;
                return worker_hello(w, &m);
        case EXCHANGE_IPC_ANSWER:
                return worker_answer(w, &m);
        case EXCHANGE_IPC_READY:
        case EXCHANGE_IPC_REQUEST:
        case EXCHANGE_IPC_CANCEL:
        case _EXCHANGE_IPC_TYPE_MAX:
        case _EXCHANGE_IPC_TYPE_INVALID:
                break;
        }
        w->event_cb(w->userdata, true, -EBADMSG, 0);
}

static void on_worker_close(void *userdata, int error)
{
        ExchangeWorker *w = userdata;

        w->event_cb(w->userdata, true, error, 0);
}

int exchange_worker_new(sd_event *e, int fd, const ExchangeServerOptions *o, ExchangeLinkEvent event, void *userdata,
                        ExchangeWorker **ret)
{
        ExchangeWorker *w = calloc(1, sizeof *w);
        int r;

        if (!w) {
                close(fd);
                return -ENOMEM;
        }
        *w = (ExchangeWorker){.event = sd_event_ref(e), .o = *o, .event_cb = event, .userdata = userdata};
        r = ipc_link_new(e, fd, EXCHANGE_IPC_MAX, on_worker_message, on_worker_close, w, &w->ipc);
        if (r < 0) {
                exchange_worker_free(w);
                return r;
        }
        *ret = w;
        return 0;
}

ExchangeWorker *exchange_worker_free(ExchangeWorker *w)
{
        if (!w)
                return NULL;
        /* The server first: it abandons its forwards (cancels go nowhere once the link is gone). */
        exchange_server_free(w->server);
        while (w->forwards)
                forward_unlink(w->forwards);
        ipc_link_free(w->ipc);
        sd_event_unref(w->event);
        free(w);
        return NULL;
}

uint16_t exchange_worker_get_port(const ExchangeWorker *w)
{
        return w->server ? exchange_server_get_port(w->server) : 0;
}
