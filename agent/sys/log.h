/* SPDX-License-Identifier: MIT */
#pragma once

/* Logging: journald with structured fields when running under systemd, stderr otherwise.
 * Levels: err = a person must act; warning = degraded, handled; notice = phase changes a person wants to
 * see; info = progress; debug = protocol detail. Never pass a secret: log a fingerprint instead. */

#include <stdarg.h>
#include <syslog.h>

#include "macro.h"

typedef enum LogTarget {
        LOG_TARGET_AUTO,    /* journal if stderr is connected to journald (JOURNAL_STREAM), else stderr */
        LOG_TARGET_JOURNAL, /* native journal protocol with structured fields */
        LOG_TARGET_STDERR,
        _LOG_TARGET_MAX,
} LogTarget;

/* From the settings (settings.h): target PIAGENT_LOG_TARGET (auto|journal|stderr), level PIAGENT_LOG_LEVEL
 * (err..debug), journal_stream JOURNAL_STREAM (dev:inode of the journal's stream). Each may be NULL. */
void log_setup(const char *target, const char *level, const char *journal_stream);
void log_set_target(LogTarget target);
void log_set_max_level(int level);
int log_get_max_level(void);
int log_level_from_string(const char *s);

/* Context fields attached to every later message, e.g. ("PIAGENT_ROLE", "master"). NULL value removes it.
 * Returns 0 or -ENOMEM / -E2BIG. */
int log_set_context(const char *field, const char *value);
void log_clear_context(void);

/* Returns -abs(error) so that callers can write: return log_error_errno(r, "Failed to …: %m");
 * fields: NULL or a NULL-terminated list of alternating field names and values. */
int log_internal(int level, int error, const char *file, int line, const char *func, const char *const *fields,
                 const char *format, ...) _printf_(7, 8);

#define log_full_errno(level, error, ...) \
        log_internal((level), (error), __FILE__, __LINE__, __func__, NULL, __VA_ARGS__)
#define log_full(level, ...) (void)log_full_errno((level), 0, __VA_ARGS__)

#define log_debug(...)   log_full(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)    log_full(LOG_INFO, __VA_ARGS__)
#define log_notice(...)  log_full(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, __VA_ARGS__)
#define log_error(...)   log_full(LOG_ERR, __VA_ARGS__)

#define log_debug_errno(error, ...)   log_full_errno(LOG_DEBUG, (error), __VA_ARGS__)
#define log_info_errno(error, ...)    log_full_errno(LOG_INFO, (error), __VA_ARGS__)
#define log_notice_errno(error, ...)  log_full_errno(LOG_NOTICE, (error), __VA_ARGS__)
#define log_warning_errno(error, ...) log_full_errno(LOG_WARNING, (error), __VA_ARGS__)
#define log_error_errno(error, ...)   log_full_errno(LOG_ERR, (error), __VA_ARGS__)

/* A message with extra structured fields: log_struct(LOG_INFO, 0, LOG_FIELDS("PIAGENT_PEER", id), "…", …) */
#define LOG_FIELDS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define log_struct(level, error, fields, ...) \
        log_internal((level), (error), __FILE__, __LINE__, __func__, (fields), __VA_ARGS__)
