/* SPDX-License-Identifier: MIT */

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>

#include "crypto.h"
#include "lb-conf.h"
#include "macro.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(FILE *, fclose);

/* Names go into config files unquoted: allow only what cannot change the grammar. */
static bool is_safe_name(const char *s)
{
        if (!s || !*s || strlen(s) > 63)
                return false;
        for (; *s; s++)
                if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' && *s != '.')
                        return false;
        return true;
}

/* Paths go into config files unquoted too: absolute, and only what cannot change the grammar (no blanks, quotes,
 * control characters or bytes a checker may read differently). */
static bool is_safe_path(const char *s)
{
        if (!s || s[0] != '/' || strlen(s) > 255)
                return false;
        for (; *s; s++)
                if (!isalnum((unsigned char)*s) && !strchr("/._-+", *s))
                        return false;
        return true;
}

static int finish(FILE **f, char **buf, char **ret)
{
        int failed = ferror(*f);

        if (fclose(*f) != 0 || failed) {
                *f = NULL;
                free(*buf);
                *buf = NULL;
                return -ENOMEM;
        }
        *f = NULL;
        *ret = *buf;
        *buf = NULL;
        return 0;
}

int keepalived_conf_render(const KeepalivedParams *p, char **ret)
{
        _cleanup_(fclosep) FILE *f = NULL;
        _cleanup_free_ char *buf = NULL;
        char self[INET_ADDRSTRLEN], vip[INET_ADDRSTRLEN], peer[INET_ADDRSTRLEN];
        size_t size;

        if (!is_safe_name(p->router_id) || !is_safe_name(p->interface) || p->vrid == 0 || p->priority < 1 ||
            p->priority > 254 || p->advert_ms < 10 || p->advert_ms % 10 != 0 || p->advert_ms > 40950)
                return -EINVAL;
        if (p->notify_script && !is_safe_path(p->notify_script))
                return -EINVAL;

        inet_ntop(AF_INET, &p->self, self, sizeof self);
        inet_ntop(AF_INET, &p->vip.addr, vip, sizeof vip);

        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;

        fprintf(f,
                "# Written by piagent: changes are overwritten. Rendered from cluster.txt and the LBs seen.\n"
                "global_defs {\n"
                "    router_id %s\n"
                "    vrrp_version 3\n"
                "    script_user root\n"
                "    enable_script_security\n"
                "    vrrp_garp_master_delay 1\n"
                "    vrrp_garp_master_refresh 30\n"
                "}\n\n"
                "# The VIP leaves an LB whose HAProxy is not running. A script, not vrrp_track_process: the\n"
                "# kernel's process connector that needs is missing in containers, and a killed keepalived\n"
                "# restarted without it stays in FAULT. Not pidof: keepalived runs the symlink's target,\n"
                "# killall5, which then refuses the argument. A stopped HAProxy is seen within the 1 s\n"
                "# interval; the 3 s timeout only spares a node whose systemctl is slow for a moment (boot,\n"
                "# SD card stalls): with 1 s, the VIP flapped there.\n"
                "vrrp_script piagent_haproxy {\n"
                "    script \"/usr/bin/systemctl is-active --quiet haproxy.service\"\n"
                "    interval 1\n"
                "    timeout 3\n"
                "    fall 1\n"
                "    rise 1\n"
                "}\n\n"
                "vrrp_instance piagent {\n"
                "    state BACKUP\n"
                "    nopreempt\n"
                "    interface %s\n"
                "    virtual_router_id %u\n"
                "    priority %u\n"
                "    advert_int %u.%02u\n",
                p->router_id, p->interface, p->vrid, p->priority, p->advert_ms / 1000, (p->advert_ms % 1000) / 10);
        /* Unicast to the other LBs: lost multicast or a foreign VRRP speaker cannot split the brain. A lone LB
         * has nobody to talk to (keepalived refuses an empty peer list) and advertises by multicast until a
         * peer appears. */
        if (p->n_peers > 0) {
                /* check_unicast_src: adverts from any other address are dropped, so a host on the LAN that is
                 * not one of the LBs seen (signed records only) cannot take part in the election of the VIP. */
                fprintf(f, "    unicast_src_ip %s\n    check_unicast_src\n    unicast_peer {\n", self);
                for (size_t i = 0; i < p->n_peers; i++)
                        fprintf(f, "        %s\n", inet_ntop(AF_INET, &p->peers[i], peer, sizeof peer));
                fprintf(f, "    }\n");
        }
        fprintf(f,
                "    # /32 with link scope: avahi does not publish it under this host's name.\n"
                "    virtual_ipaddress {\n"
                "        %s/32 dev %s scope link\n"
                "    }\n"
                "    track_script {\n"
                "        piagent_haproxy\n"
                "    }\n",
                vip, p->interface);
        if (p->notify_script)
                fprintf(f, "    notify %s\n", p->notify_script);
        fprintf(f, "}\n");

        return finish(&f, &buf, ret);
}

int haproxy_conf_render(const HaproxyParams *p, char **ret)
{
        _cleanup_(fclosep) FILE *f = NULL;
        _cleanup_free_ char *buf = NULL;
        char addr[INET_ADDRSTRLEN];
        size_t size;

        if (p->api_port == 0)
                return -EINVAL;
        if (p->ca_file && !is_safe_path(p->ca_file))
                return -EINVAL;
        for (size_t i = 0; i < p->n_backends; i++) {
                if (!is_safe_name(p->backends[i].name))
                        return -EINVAL;
                /* Two servers of one name make `haproxy -c` refuse the whole file. */
                for (size_t j = 0; j < i; j++)
                        if (streq(p->backends[i].name, p->backends[j].name))
                                return -EINVAL;
        }

        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;

        fprintf(f,
                "# Written by piagent: changes are overwritten. Rendered from cluster.txt and the masters seen.\n"
                "global\n"
                "    log /dev/log local0 notice\n"
                "    maxconn 4096\n"
                "    stats socket /run/haproxy/admin.sock mode 660 level admin\n\n"
                "defaults\n"
                "    mode tcp\n"
                "    log global\n"
                "    option tcplog\n"
                "    option dontlognull\n"
                "    timeout connect 3s\n"
                "    # kubectl watches and exec sessions stay open for a long time.\n"
                "    timeout client 1h\n"
                "    timeout server 1h\n"
                "    timeout check 500ms\n\n"
                "frontend kubernetes-api\n"
                "    bind :%u\n"
                "    default_backend kubernetes-masters\n\n"
                "backend kubernetes-masters\n"
                "    balance roundrobin\n"
                "    # HTTPS /readyz: a TCP check keeps routing to a hung apiserver.\n"
                "    option httpchk\n"
                "    http-check send meth GET uri /readyz\n"
                "    http-check expect status 200\n"
                "    default-server inter 500ms fastinter 250ms downinter 500ms fall 2 rise 2 "
                "on-marked-down shutdown-sessions\n",
                p->api_port);
        for (size_t i = 0; i < p->n_backends; i++) {
                fprintf(f, "    server %s %s:6443", p->backends[i].name,
                        inet_ntop(AF_INET, &p->backends[i].addr, addr, sizeof addr));
                if (p->backends[i].unchecked)
                        fputs("  # kubeadm init running: not checked until a master is ready\n", f);
                else
                        fprintf(f, " check check-ssl %s%s\n", p->ca_file ? "verify required ca-file " : "verify none",
                                p->ca_file ?: "");
        }

        return finish(&f, &buf, ret);
}

int lb_vrid(const char *secret, uint8_t *ret)
{
        uint8_t d[2];
        int r;

        r = crypto_hkdf_sha256(secret, strlen(secret), "piagent", 7, "piagent vrrp router id v1", d, sizeof d);
        if (r < 0)
                return r;
        *ret = (uint8_t)(((d[0] << 8) | d[1]) % 255 + 1);
        return 0;
}

unsigned lb_priority(const char *self_id, const char *const *lb_ids, size_t n)
{
        unsigned rank = 0;

        for (size_t i = 0; i < n; i++)
                if (strcmp(lb_ids[i], self_id) < 0)
                        rank++;
        return rank * LB_PRIORITY_STEP >= LB_PRIORITY_TOP ? 1 : LB_PRIORITY_TOP - rank * LB_PRIORITY_STEP;
}
