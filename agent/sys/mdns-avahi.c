/* SPDX-License-Identifier: MIT */
/* The only file that includes avahi: an AvahiPoll on sd-event (no thread, no second loop), and the client that
 * publishes, browses and resolves through avahi-daemon. */

#include <avahi-client/client.h>
#include <avahi-client/lookup.h>
#include <avahi-client/publish.h>
#include <avahi-common/alternative.h>
#include <avahi-common/defs.h>
#include <avahi-common/domain.h>
#include <avahi-common/error.h>
#include <avahi-common/malloc.h>
#include <avahi-common/strlst.h>
#include <avahi-common/watch.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/time.h>
#include <time.h>

#include "log.h"
#include "mdns-avahi.h"
#include "strv.h"

#define MDNS_RETRY_USEC     (5 * 1000 * 1000ULL) /* after a failure that the no-fail client does not cover */
#define MDNS_SETTLE_USEC    (500 * 1000ULL)      /* after losing the daemon: let the bus name watch catch up */
#define MDNS_RESOLVERS_MAX  256                  /* services resolved at once: bounds what a flood can cost */
#define MDNS_TXT_ITEMS_MAX  64                   /* passed on; the TXT parser rejects more than it allows anyway */
#define MDNS_COLLISIONS_MAX 16
#define MDNS_PENDING_USEC   (10 * 1000000ULL) /* a resolver this young that has not answered yet is not freed */
#define MDNS_WAITING_MAX    1024 /* services seen while no resolver could be freed: resolved as soon as one can */
#define TIMER_ACCURACY_USEC 1000 /* avahi's probe and announce timers need better than sd-event's 250 ms */

typedef struct Resolver Resolver;

typedef struct Waiting {
        struct Waiting *next;
        AvahiIfIndex iface;
        AvahiProtocol proto;
        char *name, *type, *domain;
} Waiting;

typedef struct Mdns {
        sd_event *event;
        AvahiPoll poll;
        AvahiClient *client;
        bool present; /* the daemon's bus name has an owner (set_daemon_present) */
        MdnsState state;
        const char *last_error; /* avahi_strerror()'s static strings: reported once each */
        sd_event_source *retry;
        const MdnsEvents *events;
        void *userdata;

        /* What we were asked for; re-established after every reconnection. */
        bool publishing;
        char *type;
        char *wanted_name; /* as asked for */
        char *name;        /* as published: after collisions "wanted #2" */
        int ifindex;
        uint16_t port;
        MdnsTxtBuilder txt; /* signs the record for the name and host it is published under */
        void *txt_userdata;

        AvahiEntryGroup *group;
        char *group_name; /* the name the group holds; NULL: empty */
        unsigned collisions;

        char *browse_type;
        int browse_ifindex;
        AvahiServiceBrowser *browser;
        Resolver *resolvers;
        unsigned n_resolvers;
        Waiting *waiting; /* oldest first */
        unsigned n_waiting;
} Mdns;

/* One service seen by the browser: resolved once (SRV, TXT, A), then followed by its TXT record alone. A
 * resolver subscribes the daemon to the SRV and A records, whose 120 s TTL it then refreshes on the LAN about
 * every 100 s for as long as the resolver lives (a query and an answer per record, from every node, forever);
 * the TXT record (what changes: the phase) lives 75 minutes. */
struct Resolver {
        Mdns *m;
        AvahiServiceResolver *r; /* until the first answer */
        AvahiRecordBrowser *txt; /* after it */
        char *name, *type, *domain;
        AvahiIfIndex iface;
        AvahiProtocol proto;
        /* What the resolution gave, reported again with every new TXT record. */
        char *host;
        AvahiAddress address;
        uint16_t port;
        uint8_t *rdata; /* the TXT record last reported, in wire format */
        size_t rdata_size;
        bool peer;          /* its last record made a peer (events->found said so) */
        bool heard;         /* it resolved, failed or its TXT record came at least once: its record was judged */
        uint64_t last_usec; /* when it was last heard of, else when it started (CLOCK_MONOTONIC) */
        Resolver *next;
};

static const char *const state_names[_MDNS_STATE_MAX] = {
        [MDNS_CONNECTING] = "connecting",
        [MDNS_REGISTERING] = "registering",
        [MDNS_RUNNING] = "running",
};

const char *mdns_state_to_string(MdnsState s)
{
        return s >= 0 && s < _MDNS_STATE_MAX ? state_names[s] : NULL;
}

/* ---- AvahiPoll on sd-event ---- */

struct AvahiWatch {
        sd_event_source *source;
        int fd;     /* avahi's, passed back to its callback */
        int dup_fd; /* ours: epoll refuses a second registration of one fd, and D-Bus watches one fd twice */
        AvahiWatchEvent revents;
        AvahiWatchCallback callback;
        void *userdata;
};

struct AvahiTimeout {
        sd_event_source *source;
        AvahiTimeoutCallback callback;
        void *userdata;
};

static uint32_t to_epoll(AvahiWatchEvent e)
{
        return (e & AVAHI_WATCH_IN ? EPOLLIN : 0) | (e & AVAHI_WATCH_OUT ? EPOLLOUT : 0) |
               (e & AVAHI_WATCH_ERR ? EPOLLERR : 0) | (e & AVAHI_WATCH_HUP ? EPOLLHUP : 0);
}

static AvahiWatchEvent from_epoll(uint32_t e)
{
        return (e & EPOLLIN ? AVAHI_WATCH_IN : 0) | (e & EPOLLOUT ? AVAHI_WATCH_OUT : 0) |
               (e & EPOLLERR ? AVAHI_WATCH_ERR : 0) | (e & EPOLLHUP ? AVAHI_WATCH_HUP : 0);
}

static int on_watch(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        AvahiWatch *w = userdata;

        w->revents = from_epoll(revents);
        w->callback(w, w->fd, w->revents, w->userdata); /* may free w */
        return 0;
}

static void watch_update(AvahiWatch *w, AvahiWatchEvent events)
{
        (void)sd_event_source_set_io_events(w->source, to_epoll(events));
        (void)sd_event_source_set_enabled(w->source, events ? SD_EVENT_ON : SD_EVENT_OFF);
}

static AvahiWatchEvent watch_get_events(AvahiWatch *w)
{
        return w->revents;
}

static void watch_free(AvahiWatch *w)
{
        sd_event_source_disable_unref(w->source);
        if (w->dup_fd >= 0)
                close(w->dup_fd);
        free(w);
}

static AvahiWatch *watch_new(const AvahiPoll *api, int fd, AvahiWatchEvent events, AvahiWatchCallback cb,
                             void *userdata)
{
        Mdns *m = api->userdata;
        AvahiWatch *w = calloc(1, sizeof *w);

        if (!w)
                return NULL;
        *w = (AvahiWatch){.fd = fd, .callback = cb, .userdata = userdata};
        w->dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (w->dup_fd < 0 || sd_event_add_io(m->event, &w->source, w->dup_fd, to_epoll(events), on_watch, w) < 0) {
                watch_free(w);
                return NULL;
        }
        if (!events)
                (void)sd_event_source_set_enabled(w->source, SD_EVENT_OFF);
        return w;
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
        AvahiTimeout *t = userdata;

        t->callback(t, t->userdata); /* may free t */
        return 0;
}

/* avahi gives absolute gettimeofday() times; sd-event runs on CLOCK_MONOTONIC, which wall-clock steps (a Pi has
 * no RTC; NTP sets the time late) do not disturb. Convert at arming time.
 *
 * A time that has come already (avahi's D-Bus glue asks for one after every message it reads, to dispatch the
 * next: a browser's creation brings a dozen) is set in the past: the loop then runs it in the same turn. Set to
 * "now" with the source's 1 ms accuracy, each cost the process a sleep and a wakeup. */
static void timeout_update(AvahiTimeout *t, const struct timeval *tv)
{
        struct timeval now;
        struct timespec mono;
        int64_t delay;

        if (!tv) {
                (void)sd_event_source_set_enabled(t->source, SD_EVENT_OFF);
                return;
        }
        gettimeofday(&now, NULL);
        delay = ((int64_t)tv->tv_sec - now.tv_sec) * 1000000 + ((int64_t)tv->tv_usec - now.tv_usec);
        if (delay <= 0)
                (void)sd_event_source_set_time(t->source, 1);
        else {
                clock_gettime(CLOCK_MONOTONIC, &mono);
                (void)sd_event_source_set_time(t->source, (uint64_t)mono.tv_sec * 1000000 +
                                                                  (uint64_t)mono.tv_nsec / 1000 + (uint64_t)delay);
        }
        (void)sd_event_source_set_enabled(t->source, SD_EVENT_ONESHOT);
}

static void timeout_free(AvahiTimeout *t)
{
        sd_event_source_disable_unref(t->source);
        free(t);
}

static AvahiTimeout *timeout_new(const AvahiPoll *api, const struct timeval *tv, AvahiTimeoutCallback cb,
                                 void *userdata)
{
        Mdns *m = api->userdata;
        AvahiTimeout *t = calloc(1, sizeof *t);

        if (!t)
                return NULL;
        *t = (AvahiTimeout){.callback = cb, .userdata = userdata};
        if (sd_event_add_time(m->event, &t->source, CLOCK_MONOTONIC, 0, TIMER_ACCURACY_USEC, on_timeout, t) < 0) {
                free(t);
                return NULL;
        }
        (void)sd_event_source_set_enabled(t->source, SD_EVENT_OFF);
        timeout_update(t, tv);
        return t;
}

/* ---- resolving ---- */

static const char *client_error(Mdns *m)
{
        return avahi_strerror(m->client ? avahi_client_errno(m->client) : AVAHI_ERR_DISCONNECTED);
}

static void waiting_clear(Mdns *m);

static Resolver *resolver_free(Resolver *r)
{
        if (!r)
                return NULL;
        if (r->r)
                avahi_service_resolver_free(r->r);
        if (r->txt)
                avahi_record_browser_free(r->txt);
        free(r->name);
        free(r->type);
        free(r->domain);
        free(r->host);
        free(r->rdata);
        free(r);
        return NULL;
}

static void resolvers_clear(Mdns *m)
{
        while (m->resolvers) {
                Resolver *r = m->resolvers;
                m->resolvers = r->next;
                resolver_free(r);
        }
        m->n_resolvers = 0;
        waiting_clear(m);
}

static uint64_t now_usec(Mdns *m)
{
        uint64_t t = 0;

        (void)sd_event_now(m->event, CLOCK_MONOTONIC, &t);
        return t;
}

/* Whether the service is a peer now. */
static bool report_found(Mdns *m, const char *name, const char *host, const AvahiAddress *a, uint16_t port,
                         AvahiStringList *txt)
{
        TxtItem items[MDNS_TXT_ITEMS_MAX];
        MdnsService s = {.name = name, .host = host, .port = port, .txt = items};

        if (!a || a->proto != AVAHI_PROTO_INET) {
                log_debug("mDNS: %s resolved without an IPv4 address, ignoring", name);
                return false;
        }
        s.address.s_addr = a->data.ipv4.address;
        for (AvahiStringList *l = txt; l && s.n_txt < MDNS_TXT_ITEMS_MAX; l = avahi_string_list_get_next(l))
                items[s.n_txt++] = (TxtItem){avahi_string_list_get_text(l), avahi_string_list_get_size(l)};
        return m->events->found(m->userdata, &s);
}

static void resolve_again(Resolver *r);
static void waiting_kick(Mdns *m);

static void on_txt(AvahiRecordBrowser *b, AvahiIfIndex iface, AvahiProtocol proto, AvahiBrowserEvent event,
                   const char *name, uint16_t clazz, uint16_t type, const void *rdata, size_t size,
                   AvahiLookupResultFlags flags, void *userdata)
{
        Resolver *r = userdata;
        AvahiStringList *txt = NULL;
        uint8_t *copy;

        switch (event) {
        case AVAHI_BROWSER_NEW:
                /* The record in the cache when the browser starts is the one reported already. */
                if (size == r->rdata_size && memcmp(rdata, r->rdata, size) == 0)
                        return;
                if (avahi_string_list_parse(rdata, size, &txt) < 0 || !(copy = malloc(size ?: 1))) {
                        log_debug("mDNS: unreadable TXT record for '%s', ignoring", r->name);
                        avahi_string_list_free(txt);
                        return;
                }
                memcpy(copy, rdata, size);
                free(r->rdata);
                r->rdata = copy;
                r->rdata_size = size;
                r->last_usec = now_usec(r->m);
                r->peer = report_found(r->m, r->name, r->host, &r->address, r->port, txt);
                avahi_string_list_free(txt);
                return;
        case AVAHI_BROWSER_FAILURE:
                resolve_again(r);
                return;
        case AVAHI_BROWSER_REMOVE:
                /* An older TXT record flushed by a newer one, or a goodbye: the browser reports the service's end. */
        case AVAHI_BROWSER_CACHE_EXHAUSTED:
        case AVAHI_BROWSER_ALL_FOR_NOW:
                return;
        }
}

/* Resolved: keep what the answer said and follow the TXT record alone. If the daemon cannot, keep the resolver. */
static void follow_txt(Resolver *r, const char *host, const AvahiAddress *a, uint16_t port, AvahiStringList *txt)
{
        char full[AVAHI_DOMAIN_NAME_MAX];
        size_t size = avahi_string_list_serialize(txt, NULL, 0);
        uint8_t *rdata = malloc(size ?: 1);
        char *h = strdup(host);

        if (!rdata || !h || avahi_service_name_join(full, sizeof full, r->name, r->type, r->domain) < 0) {
                free(rdata);
                free(h);
                return;
        }
        avahi_string_list_serialize(txt, rdata, size);
        free(r->rdata);
        r->rdata = rdata;
        r->rdata_size = size;
        free(r->host);
        r->host = h;
        r->address = *a;
        r->port = port;
        r->txt = avahi_record_browser_new(r->m->client, r->iface, r->proto, full, AVAHI_DNS_CLASS_IN,
                                          AVAHI_DNS_TYPE_TXT, 0, on_txt, r);
        if (!r->txt) {
                log_debug("mDNS: cannot follow the TXT record of '%s' (%s), keeping its resolver", r->name,
                          client_error(r->m));
                return;
        }
        avahi_service_resolver_free(r->r);
        r->r = NULL;
}

static void on_resolve(AvahiServiceResolver *ar, AvahiIfIndex iface, AvahiProtocol proto, AvahiResolverEvent event,
                       const char *name, const char *type, const char *domain, const char *host, const AvahiAddress *a,
                       uint16_t port, AvahiStringList *txt, AvahiLookupResultFlags flags, void *userdata)
{
        Resolver *r = userdata;
        Mdns *m = r->m;

        r->last_usec = now_usec(m);
        r->heard = true;
        switch (event) {
        case AVAHI_RESOLVER_FOUND:
                r->peer = report_found(m, name, host, a, port, txt);
                if (a && a->proto == AVAHI_PROTO_INET && host)
                        follow_txt(r, host, a, port, txt); /* may free the resolver: nothing after this */
                break;
        case AVAHI_RESOLVER_FAILURE:
                /* The resolver keeps looking: a later answer still arrives as FOUND. */
                m->events->resolve_failed(m->userdata, name, client_error(m));
                break;
        }
        waiting_kick(m); /* r was judged: a waiting service may take its place */
}

static Resolver *resolver_find(Mdns *m, const char *name, Resolver ***ret_prev)
{
        for (Resolver **p = &m->resolvers; *p; p = &(*p)->next)
                if (streq((*p)->name, name)) {
                        if (ret_prev)
                                *ret_prev = p;
                        return *p;
                }
        return NULL;
}

static int resolve(Resolver *r)
{
        r->r = avahi_service_resolver_new(r->m->client, r->iface, r->proto, r->name, r->type, r->domain,
                                          AVAHI_PROTO_INET, 0, on_resolve, r);
        return r->r ? 0 : -EIO;
}

/* The TXT record cannot be followed any more: resolve the service again (its answer follows the TXT again). */
static void resolve_again(Resolver *r)
{
        if (r->txt)
                avahi_record_browser_free(r->txt);
        r->txt = NULL;
        if (!r->r && resolve(r) < 0)
                log_debug("mDNS: failed to resolve '%s' again: %s", r->name, client_error(r->m));
}

static void resolver_stop(Mdns *m, const char *name);

/* Room for one more resolver. Only one whose service is not a peer goes: one whose record has been judged already
 * (it did not count), the least recently heard of first; else one that has had MDNS_PENDING_USEC to answer. A
 * resolver still waiting for its first answer is never freed for a newer one: in a burst of more services than
 * resolvers (a flood) each would otherwise free one started just before it could answer, and a real node's new
 * record, heard during the burst, could be freed unresolved (the browser reports a service once). A service that
 * finds no room waits (waiting_add) until a resolver has answered. Peers' resolvers are never freed for another. */
static bool resolver_make_room(Mdns *m)
{
        Resolver *victim = NULL;
        uint64_t now = now_usec(m);

        if (m->n_resolvers < MDNS_RESOLVERS_MAX)
                return true;
        for (Resolver *r = m->resolvers; r; r = r->next) {
                if (r->peer || (!r->heard && now - r->last_usec < MDNS_PENDING_USEC))
                        continue;
                if (!victim || r->heard > victim->heard ||
                    (r->heard == victim->heard && r->last_usec < victim->last_usec))
                        victim = r;
        }
        if (!victim)
                return false;
        log_debug("mDNS: resolving %u services already, no longer '%s' (not a peer)", m->n_resolvers, victim->name);
        resolver_stop(m, victim->name);
        return true;
}

static Waiting *waiting_free(Waiting *w)
{
        if (w) {
                free(w->name);
                free(w->type);
                free(w->domain);
                free(w);
        }
        return NULL;
}

/* Unlinks the waiting service of that name (NULL: the oldest) and returns it. */
static Waiting *waiting_take(Mdns *m, const char *name)
{
        for (Waiting **p = &m->waiting; *p; p = &(*p)->next)
                if (!name || streq((*p)->name, name)) {
                        Waiting *w = *p;
                        *p = w->next;
                        m->n_waiting--;
                        return w;
                }
        return NULL;
}

static void waiting_clear(Mdns *m)
{
        while (m->waiting)
                waiting_free(waiting_take(m, NULL));
}

static void waiting_add(Mdns *m, AvahiIfIndex iface, AvahiProtocol proto, const char *name, const char *type,
                        const char *domain)
{
        Waiting *w, **p;

        for (w = m->waiting; w; w = w->next)
                if (streq(w->name, name))
                        return;
        if (m->n_waiting >= MDNS_WAITING_MAX) {
                w = waiting_take(m, NULL);
                log_debug("mDNS: %u services waiting to be resolved, no longer '%s'", m->n_waiting + 1, w->name);
                waiting_free(w);
        }
        w = calloc(1, sizeof *w);
        if (!w || !(w->name = strdup(name)) || !(w->type = strdup(type)) || !(w->domain = strdup(domain))) {
                waiting_free(w);
                return;
        }
        w->iface = iface;
        w->proto = proto;
        for (p = &m->waiting; *p; p = &(*p)->next)
                ;
        *p = w;
        m->n_waiting++;
        log_debug("mDNS: resolving %u services already, '%s' waits", m->n_resolvers, name);
}

static void resolver_start(Mdns *m, AvahiIfIndex iface, AvahiProtocol proto, const char *name, const char *type,
                           const char *domain);

/* Resolvers that may go now make room for the services waiting, oldest first. */
static void waiting_kick(Mdns *m)
{
        while (m->waiting && resolver_make_room(m)) {
                Waiting *w = waiting_take(m, NULL);
                resolver_start(m, w->iface, w->proto, w->name, w->type, w->domain);
                waiting_free(w);
        }
}

static void resolver_start(Mdns *m, AvahiIfIndex iface, AvahiProtocol proto, const char *name, const char *type,
                           const char *domain)
{
        Resolver *r;

        if (resolver_find(m, name, NULL))
                return;
        if (!resolver_make_room(m)) {
                waiting_add(m, iface, proto, name, type, domain);
                return;
        }
        r = calloc(1, sizeof *r);
        if (!r || !(r->name = strdup(name)) || !(r->type = strdup(type)) || !(r->domain = strdup(domain))) {
                resolver_free(r);
                return;
        }
        r->m = m;
        r->iface = iface;
        r->proto = proto;
        r->last_usec = now_usec(m);
        if (resolve(r) < 0) {
                log_debug("mDNS: failed to resolve '%s': %s", name, client_error(m));
                resolver_free(r);
                return;
        }
        r->next = m->resolvers;
        m->resolvers = r;
        m->n_resolvers++;
}

static void resolver_stop(Mdns *m, const char *name)
{
        Resolver **prev, *r = resolver_find(m, name, &prev);

        if (!r)
                return;
        *prev = r->next;
        resolver_free(r);
        m->n_resolvers--;
}

/* ---- browsing ---- */

static void on_browse(AvahiServiceBrowser *b, AvahiIfIndex iface, AvahiProtocol proto, AvahiBrowserEvent event,
                      const char *name, const char *type, const char *domain, AvahiLookupResultFlags flags,
                      void *userdata)
{
        Mdns *m = userdata;

        switch (event) {
        case AVAHI_BROWSER_NEW:
                if (flags & AVAHI_LOOKUP_RESULT_OUR_OWN)
                        return;
                resolver_start(m, iface, proto, name, type, domain);
                break;
        case AVAHI_BROWSER_REMOVE:
                waiting_free(waiting_take(m, name));
                if (!resolver_find(m, name, NULL))
                        return;
                resolver_stop(m, name);
                m->events->removed(m->userdata, name);
                waiting_kick(m);
                break;
        case AVAHI_BROWSER_ALL_FOR_NOW:
                m->events->browse_settled(m->userdata);
                break;
        case AVAHI_BROWSER_CACHE_EXHAUSTED:
                break;
        case AVAHI_BROWSER_FAILURE:
                m->events->browse_failed(m->userdata, client_error(m));
                break;
        }
}

static void browse_stop(Mdns *m)
{
        resolvers_clear(m);
        if (m->browser)
                avahi_service_browser_free(m->browser);
        m->browser = NULL;
}

/* One browser for the life of the connection. avahi-daemon asks the LAN itself while it runs (1 s, 2 s, 4 s ...
 * up to an hour apart). A second browser for the same type asks nothing: the daemon shares one querier per
 * record key (measured: a second browser made every 30 s added no query to the LAN, only wakeups here). */
static void browse_now(Mdns *m)
{
        if (!m->browse_type || m->browser || !m->client || (m->state != MDNS_RUNNING && m->state != MDNS_REGISTERING))
                return;
        m->browser = avahi_service_browser_new(m->client, m->browse_ifindex, AVAHI_PROTO_INET, m->browse_type, NULL, 0,
                                               on_browse, m);
        if (!m->browser)
                m->events->browse_failed(m->userdata, client_error(m));
}

/* ---- publishing ---- */

static void publish_now(Mdns *m);

static void group_reset(Mdns *m)
{
        if (m->group)
                avahi_entry_group_reset(m->group);
        free(m->group_name);
        m->group_name = NULL;
}

static void on_group(AvahiEntryGroup *g, AvahiEntryGroupState state, void *userdata)
{
        Mdns *m = userdata;
        _cleanup_free_ char *old = NULL;

        switch (state) {
        case AVAHI_ENTRY_GROUP_ESTABLISHED:
                m->collisions = 0;
                if (m->group_name)
                        m->events->published(m->userdata, m->group_name);
                break;
        case AVAHI_ENTRY_GROUP_COLLISION:
                /* Another host has our service name: take "name #2" and so on, as DNS-SD wants. */
                old = m->group_name ? strdup(m->group_name) : NULL;
                if (!old)
                        break;
                free(m->name);
                m->name = avahi_alternative_service_name(old);
                group_reset(m);
                if (++m->collisions > MDNS_COLLISIONS_MAX || !m->name) {
                        m->events->publish_failed(m->userdata, "too many service name collisions");
                        break;
                }
                m->events->collision(m->userdata, old, m->name);
                publish_now(m);
                break;
        case AVAHI_ENTRY_GROUP_FAILURE:
                m->events->publish_failed(m->userdata, client_error(m));
                break;
        case AVAHI_ENTRY_GROUP_UNCOMMITED:
        case AVAHI_ENTRY_GROUP_REGISTERING:
                break;
        }
}

/* The record signed for the name we publish under and the daemon's host name now. */
static int build_txt(Mdns *m, AvahiStringList **ret)
{
        _cleanup_strv_free_ char **l = NULL;
        const char *host = avahi_client_get_host_name_fqdn(m->client);
        AvahiStringList *txt;
        int r;

        if (!host)
                return AVAHI_ERR_DISCONNECTED;
        r = m->txt(m->txt_userdata, m->name, host, &l);
        if (r < 0)
                return r == -ENOMEM ? AVAHI_ERR_NO_MEMORY : AVAHI_ERR_INVALID_RECORD;
        txt = avahi_string_list_new_from_array((const char **)l, (int)strv_length(l));
        if (!txt && l[0])
                return AVAHI_ERR_NO_MEMORY;
        *ret = txt;
        return AVAHI_OK;
}

static int group_add(Mdns *m)
{
        AvahiStringList *txt = NULL;
        int r;

        if (!m->group) {
                m->group = avahi_entry_group_new(m->client, on_group, m);
                if (!m->group)
                        return avahi_client_errno(m->client);
        }
        for (;;) {
                r = build_txt(m, &txt);
                if (r < 0)
                        return r;
                r = avahi_entry_group_add_service_strlst(m->group, m->ifindex, AVAHI_PROTO_UNSPEC, 0, m->name, m->type,
                                                         NULL, NULL, m->port, txt);
                avahi_string_list_free(txt);
                if (r != AVAHI_ERR_COLLISION || ++m->collisions > MDNS_COLLISIONS_MAX)
                        break;
                /* Taken by another service of this very host: the record is signed again for the new name. */
                char *alt = avahi_alternative_service_name(m->name);
                if (!alt)
                        return AVAHI_ERR_NO_MEMORY;
                m->events->collision(m->userdata, m->name, alt);
                free(m->name);
                m->name = alt;
        }
        if (r < 0)
                return r;
        m->group_name = strdup(m->name);
        return avahi_entry_group_commit(m->group);
}

static void publish_now(Mdns *m)
{
        AvahiStringList *txt = NULL;
        int r;

        if (!m->publishing || !m->client || m->state != MDNS_RUNNING)
                return;
        if (m->group_name) {
                r = build_txt(m, &txt);
                if (r >= 0)
                        r = avahi_entry_group_update_service_txt_strlst(m->group, m->ifindex, AVAHI_PROTO_UNSPEC, 0,
                                                                        m->group_name, m->type, NULL, txt);
                avahi_string_list_free(txt);
        } else
                r = group_add(m);
        if (r < 0)
                m->events->publish_failed(m->userdata, avahi_strerror(r));
}

/* ---- the client ---- */

static int client_start(Mdns *m);

static void set_state(Mdns *m, MdnsState state, const char *error)
{
        if (m->state == state && (!error || streq_ptr(error, m->last_error)))
                return;
        m->state = state;
        m->last_error = error;
        m->events->state_changed(m->userdata, state, error);
}

/* Everything that belonged to the old connection; avahi_client_free() would free these too. */
static void client_drop(Mdns *m)
{
        browse_stop(m);
        if (m->group)
                avahi_entry_group_free(m->group);
        m->group = NULL;
        free(m->group_name);
        m->group_name = NULL;
        if (m->client)
                avahi_client_free(m->client);
        m->client = NULL;
}

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
        Mdns *m = userdata;

        client_drop(m);
        if (m->present)
                (void)client_start(m); /* on failure it schedules another attempt */
        else
                set_state(m, MDNS_CONNECTING, NULL); /* until set_daemon_present(true) */
        return 0;
}

/* Not from inside the client's own callback: the client is freed from the loop. */
static void schedule_retry(Mdns *m, uint64_t delay)
{
        int r;

        r = sd_event_source_set_time_relative(m->retry, delay);
        if (r >= 0)
                r = sd_event_source_set_enabled(m->retry, SD_EVENT_ONESHOT);
        if (r < 0)
                log_debug_errno(r, "mDNS: failed to schedule a reconnection: %m");
}

static void on_client(AvahiClient *c, AvahiClientState state, void *userdata)
{
        Mdns *m = userdata;

        m->client = c; /* the first call comes from inside avahi_client_new() */
        switch (state) {
        case AVAHI_CLIENT_S_RUNNING:
                set_state(m, MDNS_RUNNING, NULL);
                browse_now(m);
                publish_now(m);
                break;
        case AVAHI_CLIENT_S_REGISTERING:
        case AVAHI_CLIENT_S_COLLISION:
                /* The host name is being (re)established: our records wait for it. */
                group_reset(m);
                set_state(m, MDNS_REGISTERING, NULL);
                browse_now(m);
                break;
        case AVAHI_CLIENT_CONNECTING:
                set_state(m, MDNS_CONNECTING, NULL);
                break;
        case AVAHI_CLIENT_FAILURE:
                /* Usually the daemon went away: start over with a new no-fail client, which waits for it. */
                set_state(m, MDNS_CONNECTING, avahi_strerror(avahi_client_errno(c)));
                schedule_retry(m, avahi_client_errno(c) == AVAHI_ERR_DISCONNECTED ? MDNS_SETTLE_USEC : MDNS_RETRY_USEC);
                break;
        }
}

static int client_start(Mdns *m)
{
        AvahiClient *c;
        int error = 0;

        c = avahi_client_new(&m->poll, AVAHI_CLIENT_NO_FAIL, on_client, m, &error);
        if (!c) {
                /* Not even the system bus is there: try again later. */
                m->client = NULL;
                set_state(m, MDNS_CONNECTING, avahi_strerror(error));
                schedule_retry(m, MDNS_RETRY_USEC);
                return -EHOSTDOWN;
        }
        m->client = c;
        return 0;
}

/* ---- operations ---- */

static void mdns_free(void *backend)
{
        Mdns *m = backend;

        if (!m)
                return;
        client_drop(m);
        sd_event_source_disable_unref(m->retry);
        free(m->type);
        free(m->wanted_name);
        free(m->name);
        free(m->browse_type);
        sd_event_unref(m->event);
        free(m);
}

static int mdns_new(sd_event *e, const MdnsEvents *events, void *userdata, void **ret)
{
        Mdns *m = calloc(1, sizeof *m);
        int r;

        if (!m)
                return -ENOMEM;
        m->event = sd_event_ref(e);
        m->events = events;
        m->userdata = userdata;
        m->state = MDNS_CONNECTING; /* until set_daemon_present(true) */
        m->poll = (AvahiPoll){
                .userdata = m,
                .watch_new = watch_new,
                .watch_update = watch_update,
                .watch_get_events = watch_get_events,
                .watch_free = watch_free,
                .timeout_new = timeout_new,
                .timeout_update = timeout_update,
                .timeout_free = timeout_free,
        };
        r = sd_event_add_time(e, &m->retry, CLOCK_MONOTONIC, 0, 0, on_retry, m);
        if (r < 0) {
                mdns_free(m);
                return r;
        }
        (void)sd_event_source_set_enabled(m->retry, SD_EVENT_OFF);
        *ret = m;
        return 0;
}

static int dup_string(char **dst, const char *src)
{
        char *s = NULL;

        if (src && !(s = strdup(src)))
                return -ENOMEM;
        free(*dst);
        *dst = s;
        return 0;
}

static int mdns_publish(void *backend, const MdnsPublication *p)
{
        Mdns *m = backend;
        bool renamed, reset;

        if (!p->type || !p->name || p->ifindex <= 0 || !p->txt)
                return -EINVAL;
        renamed = !streq_ptr(m->wanted_name, p->name);
        reset = renamed || m->ifindex != p->ifindex || !streq_ptr(m->type, p->type) || m->port != p->port;

        if (dup_string(&m->type, p->type) < 0 ||
            (renamed && (dup_string(&m->wanted_name, p->name) < 0 || dup_string(&m->name, p->name) < 0)))
                return -ENOMEM;
        if (reset)
                group_reset(m);
        m->txt = p->txt;
        m->txt_userdata = p->txt_userdata;
        m->ifindex = p->ifindex;
        m->port = p->port;
        m->publishing = true;
        m->collisions = 0;
        publish_now(m);
        return 0;
}

static void mdns_unpublish(void *backend)
{
        Mdns *m = backend;

        m->publishing = false;
        group_reset(m);
}

static int mdns_browse(void *backend, const char *type, int ifindex)
{
        Mdns *m = backend;

        browse_stop(m);
        if (dup_string(&m->browse_type, type) < 0)
                return -ENOMEM;
        m->browse_ifindex = ifindex > 0 ? ifindex : AVAHI_IF_UNSPEC;
        browse_now(m);
        return 0;
}

static void mdns_stop_browse(void *backend)
{
        Mdns *m = backend;

        browse_stop(m);
        free(m->browse_type);
        m->browse_type = NULL;
}

static void mdns_set_daemon_present(void *backend, bool present)
{
        Mdns *m = backend;
        int enabled = SD_EVENT_OFF;

        m->present = present;
        /* A reconnection already scheduled decides then; a client that exists finds out by itself. */
        (void)sd_event_source_get_enabled(m->retry, &enabled);
        if (present && !m->client && enabled == SD_EVENT_OFF)
                (void)client_start(m);
        else if (!present && !m->client)
                set_state(m, MDNS_CONNECTING, "not running");
}

const MdnsOps mdns_avahi_ops = {
        .new = mdns_new,
        .free = mdns_free,
        .publish = mdns_publish,
        .unpublish = mdns_unpublish,
        .browse = mdns_browse,
        .stop_browse = mdns_stop_browse,
        .set_daemon_present = mdns_set_daemon_present,
};
