/* SPDX-License-Identifier: MIT */
#pragma once

/* mdns.h's ops table implemented with avahi-client (mdns-avahi.c): what the daemon hands to discovery_new(). */

#include "mdns.h"

extern const MdnsOps mdns_avahi_ops;
