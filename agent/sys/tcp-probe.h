/* SPDX-License-Identifier: MIT */
#pragma once

/* Does host:port accept a TCP connection? A non-blocking connect on the event loop, with a timeout. Used for
 * the control-plane endpoint gate (VIP:api_port answers once an LB is ready). */

#include <netinet/in.h>
#include <stdint.h>
#include <systemd/sd-event.h>

typedef struct TcpProbe TcpProbe;

/* error: 0 when the connection was accepted, else a negative errno (-ECONNREFUSED, -ETIMEDOUT,
 * -EHOSTUNREACH…). The probe is freed after the callback returns. */
typedef void (*TcpProbeDone)(int error, void *userdata);

int tcp_probe_start(sd_event *e, struct in_addr addr, uint16_t port, uint64_t timeout_usec, TcpProbeDone done,
                    void *userdata, TcpProbe **ret);
/* Stops a probe without calling done. */
void tcp_probe_cancel(TcpProbe *p);
