/* SPDX-License-Identifier: MIT */
#pragma once

/* Whether one IPv4 address is on any interface of this network namespace, learnt from the kernel: a netlink
 * socket subscribed to RTMGRP_IPV4_IFADDR on the event loop, one RTM_GETADDR dump when it starts (and again
 * if the kernel had to drop notifications), then nothing but the kernel's notifications. An idle node is
 * never woken by it. The LB role watches the VIP with it (keepalived adds and removes it). */

#include <netinet/in.h>
#include <stdbool.h>
#include <systemd/sd-event.h>

typedef struct AddrWatch AddrWatch;

/* Called when the address appears or disappears (not for the first answer if it is "absent"). */
typedef void (*AddrWatchFunc)(bool present, void *userdata);

int addr_watch_new(sd_event *e, struct in_addr addr, AddrWatchFunc cb, void *userdata, AddrWatch **ret);
AddrWatch *addr_watch_free(AddrWatch *w);

/* As last learnt (false until the first dump has answered). */
bool addr_watch_present(const AddrWatch *w);
