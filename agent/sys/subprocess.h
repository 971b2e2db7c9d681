/* SPDX-License-Identifier: MIT */
#pragma once

/* Child processes (kubeadm, config checkers) on the event loop: posix_spawn from an argv array (never a shell
 * string), an explicit environment, stdout+stderr streamed line by line, a timeout on every child, and the
 * exit status decoded. spawn_start() blocks SIGCHLD, as sd-event needs to reap children. */

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#define SPAWN_OUTPUT_MAX (256u * 1024u) /* captured output beyond this is dropped (and said so) */

typedef struct Spawn Spawn;

typedef struct SpawnResult {
        int exit_code;      /* valid when !signal && !timed_out && !error */
        int signal;         /* the signal that ended the child, or 0 */
        bool timed_out;     /* killed because the timeout passed */
        int error;          /* negative errno if the child could not be started or watched, else 0 */
        const char *output; /* captured stdout+stderr (when SpawnOptions.capture), NUL-terminated, else NULL */
} SpawnResult;

/* Called once per output line (without the newline); may be NULL. */
typedef void (*SpawnLineFunc)(const char *line, void *userdata);
/* Called once when the child has exited and its output is drained. The Spawn is freed after it returns. */
typedef void (*SpawnDoneFunc)(const SpawnResult *result, void *userdata);

typedef struct SpawnOptions {
        char *const *argv;     /* argv[0]: an absolute path, or a name looked up in the environment's PATH */
        char *const *envp;     /* NULL: PATH=/usr/sbin:/usr/bin:/sbin:/bin and LANG=C.UTF-8 */
        uint64_t timeout_usec; /* 0: no timeout (discouraged) */
        bool capture;          /* keep the output for SpawnResult.output */
        SpawnLineFunc on_line;
        SpawnDoneFunc on_done;
        void *userdata;
} SpawnOptions;

/* Starts the child. Returns 0 and a handle (owned by the loop until on_done; spawn_cancel() ends it early),
 * or a negative errno if it could not be started (on_done is then not called). */
int spawn_start(sd_event *e, const SpawnOptions *o, Spawn **ret);

/* Kills the child (SIGKILL to its process group) and frees the handle without calling on_done. */
void spawn_cancel(Spawn *s);

/* The child ran and exited with status 0. */
static inline bool spawn_result_ok(const SpawnResult *r)
{
        return r->error == 0 && !r->timed_out && !r->signal && r->exit_code == 0;
}

/* "exited with status 1", "killed by signal SIGKILL", "timed out after 30 s": for messages. */
const char *spawn_result_describe(const SpawnResult *r, char *buf, size_t size);
