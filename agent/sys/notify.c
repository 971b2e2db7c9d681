/* SPDX-License-Identifier: MIT */
/* The only file that includes sd-daemon. */

#include <stdarg.h>
#include <stdio.h>
#include <systemd/sd-daemon.h>

#include "notify.h"

void notify_ready(void)
{
        (void)sd_notify(false, "READY=1");
}

void notify_stopping(void)
{
        (void)sd_notify(false, "STOPPING=1\nSTATUS=Stopping");
}

void notify_status(const char *format, ...)
{
        char status[512];
        va_list ap;

        va_start(ap, format);
        vsnprintf(status, sizeof status, format, ap);
        va_end(ap);
        /* STATUS= is one line. */
        for (char *p = status; *p; p++)
                if (*p == '\n')
                        *p = ' ';
        (void)sd_notifyf(false, "STATUS=%s", status);
}
