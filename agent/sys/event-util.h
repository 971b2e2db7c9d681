/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>
#include <systemd/sd-event.h>

/* The loop's idea of now on CLOCK_MONOTONIC (the time of the current iteration): what every lease, TTL and
 * rate limit in the agent is measured on. 0 if the loop cannot tell, which only makes things look older. */
static inline uint64_t event_now_usec(sd_event *e)
{
        uint64_t t = 0;

        (void)sd_event_now(e, CLOCK_MONOTONIC, &t);
        return t;
}
