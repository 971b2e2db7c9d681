/* SPDX-License-Identifier: MIT */
/* The only file that includes sd-journal. */

#include <stdio.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>

#include "log.h"

#define LOG_CONTEXT_MAX 8
#define LOG_FIELDS_MAX  16

static LogTarget log_target = LOG_TARGET_AUTO;
static int log_max_level = LOG_INFO;
static int log_resolved_target = -1; /* resolved from LOG_TARGET_AUTO on first use */
static bool log_stderr_journal;      /* stderr is the stream JOURNAL_STREAM names (log_setup) */

static struct {
        char *field;
        char *value; /* "FIELD=value", as the journal wants it */
} log_context[LOG_CONTEXT_MAX];

static const char *const level_names[] = {
        [LOG_EMERG] = "emerg",     [LOG_ALERT] = "alert",   [LOG_CRIT] = "crit", [LOG_ERR] = "err",
        [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice", [LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

int log_level_from_string(const char *s)
{
        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(level_names); i++)
                if (streq(s, level_names[i]))
                        return (int)i;
        if (streq(s, "error"))
                return LOG_ERR;
        if (streq(s, "warn"))
                return LOG_WARNING;
        return -EINVAL;
}

void log_set_target(LogTarget target)
{
        log_target = target;
        log_resolved_target = -1;
}

void log_set_max_level(int level)
{
        log_max_level = level;
}

int log_get_max_level(void)
{
        return log_max_level;
}

/* journald sets JOURNAL_STREAM=dev:ino for the stream it connected to stdout/stderr. */
static bool stderr_is_journal(const char *e)
{
        unsigned long long dev, ino;
        struct stat st;

        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
                return false;
        if (fstat(STDERR_FILENO, &st) < 0)
                return false;
        return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

static LogTarget resolve_target(void)
{
        if (log_resolved_target < 0)
                log_resolved_target = log_target != LOG_TARGET_AUTO ? log_target
                                      : log_stderr_journal          ? LOG_TARGET_JOURNAL
                                                                    : LOG_TARGET_STDERR;
        return (LogTarget)log_resolved_target;
}

void log_setup(const char *target, const char *level, const char *journal_stream)
{
        log_stderr_journal = stderr_is_journal(journal_stream);
        if (target) {
                if (streq(target, "journal"))
                        log_set_target(LOG_TARGET_JOURNAL);
                else if (streq(target, "stderr"))
                        log_set_target(LOG_TARGET_STDERR);
                else
                        log_set_target(LOG_TARGET_AUTO);
        }
        log_resolved_target = -1;

        if (level) {
                int l = log_level_from_string(level);
                if (l >= 0)
                        log_set_max_level(l);
        }
}

int log_set_context(const char *field, const char *value)
{
        size_t free_slot = LOG_CONTEXT_MAX;

        for (size_t i = 0; i < LOG_CONTEXT_MAX; i++) {
                if (log_context[i].field && streq(log_context[i].field, field)) {
                        free(log_context[i].value);
                        log_context[i].value = NULL;
                        if (!value) {
                                free(log_context[i].field);
                                log_context[i].field = NULL;
                                return 0;
                        }
                        if (asprintf(&log_context[i].value, "%s=%s", field, value) < 0) {
                                log_context[i].value = NULL;
                                return -ENOMEM;
                        }
                        return 0;
                }
                if (!log_context[i].field && free_slot == LOG_CONTEXT_MAX)
                        free_slot = i;
        }

        if (!value)
                return 0;
        if (free_slot == LOG_CONTEXT_MAX)
                return -E2BIG;

        _cleanup_free_ char *f = strdup(field), *v = NULL;
        if (!f || asprintf(&v, "%s=%s", field, value) < 0)
                return -ENOMEM;
        log_context[free_slot].field = TAKE_PTR(f);
        log_context[free_slot].value = TAKE_PTR(v);
        return 0;
}

void log_clear_context(void)
{
        for (size_t i = 0; i < LOG_CONTEXT_MAX; i++) {
                free(log_context[i].field);
                free(log_context[i].value);
                log_context[i].field = log_context[i].value = NULL;
        }
}

static void log_to_journal(int level, int error, const char *file, int line, const char *func,
                           const char *const *fields, const char *message)
{
        char prio[32], code_line[32], errno_field[32];
        _cleanup_free_ char *msg = NULL, *code_file = NULL, *code_func = NULL;
        char *extra[LOG_FIELDS_MAX] = {};
        struct iovec iov[8 + LOG_CONTEXT_MAX + LOG_FIELDS_MAX];
        size_t n = 0, n_extra = 0;

        if (asprintf(&msg, "MESSAGE=%s", message) < 0 || asprintf(&code_file, "CODE_FILE=%s", file) < 0 ||
            asprintf(&code_func, "CODE_FUNC=%s", func) < 0)
                return;
        snprintf(prio, sizeof prio, "PRIORITY=%d", level);
        snprintf(code_line, sizeof code_line, "CODE_LINE=%d", line);

        iov[n++] = (struct iovec){msg, strlen(msg)};
        iov[n++] = (struct iovec){prio, strlen(prio)};
        iov[n++] = (struct iovec){code_file, strlen(code_file)};
        iov[n++] = (struct iovec){code_line, strlen(code_line)};
        iov[n++] = (struct iovec){code_func, strlen(code_func)};
        iov[n++] = (struct iovec){(char *)"SYSLOG_IDENTIFIER=piagent", strlen("SYSLOG_IDENTIFIER=piagent")};
        if (error != 0) {
                snprintf(errno_field, sizeof errno_field, "ERRNO=%d", error);
                iov[n++] = (struct iovec){errno_field, strlen(errno_field)};
        }
        for (size_t i = 0; i < LOG_CONTEXT_MAX; i++)
                if (log_context[i].value)
                        iov[n++] = (struct iovec){log_context[i].value, strlen(log_context[i].value)};
        for (size_t i = 0; fields && fields[i] && fields[i + 1] && n_extra < LOG_FIELDS_MAX; i += 2) {
                if (asprintf(&extra[n_extra], "%s=%s", fields[i], fields[i + 1]) < 0)
                        break;
                iov[n++] = (struct iovec){extra[n_extra], strlen(extra[n_extra])};
                n_extra++;
        }

        (void)sd_journal_sendv(iov, (int)n);

        for (size_t i = 0; i < n_extra; i++)
                free(extra[i]);
}

static void log_to_stderr(int level, const char *message)
{
        const char *prefix = level <= LOG_ERR ? "error: " : level == LOG_WARNING ? "warning: " : "";

        fprintf(stderr, "piagent: %s%s\n", prefix, message);
}

int log_internal(int level, int error, const char *file, int line, const char *func, const char *const *fields,
                 const char *format, ...)
{
        char buf[2048];
        va_list ap;
        int saved_errno = errno;

        error = error < 0 ? -error : error;
        if (level > log_max_level) {
                errno = saved_errno;
                return -error;
        }

        /* Let %m refer to the error passed in. */
        errno = error;
        va_start(ap, format);
        vsnprintf(buf, sizeof buf, format, ap);
        va_end(ap);

        if (resolve_target() == LOG_TARGET_JOURNAL)
                log_to_journal(level, error, file, line, func, fields, buf);
        else
                log_to_stderr(level, buf);

        errno = saved_errno;
        return -error;
}
