/* SPDX-License-Identifier: MIT */

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/wait.h>

#include "macro.h"
#include "subprocess.h"

#define SPAWN_LINE_MAX   4096u
#define SPAWN_KILL_GRACE (5 * 1000 * 1000ULL) /* SIGTERM, then SIGKILL after this */

struct Spawn {
        sd_event *event;
        pid_t pid;
        sd_event_source *child;
        sd_event_source *io;
        sd_event_source *timer;
        int fd;

        char line[SPAWN_LINE_MAX + 1];
        size_t line_len;
        char *output;
        size_t output_len;
        bool output_truncated;

        bool exited;
        bool eof;
        bool terminating; /* SIGTERM sent after the timeout */
        SpawnResult result;
        SpawnOptions o;
};

static char *const default_env[] = {(char *)"PATH=/usr/sbin:/usr/bin:/sbin:/bin", (char *)"LANG=C.UTF-8", NULL};

static void spawn_free(Spawn *s)
{
        if (!s)
                return;
        sd_event_source_disable_unref(s->child);
        sd_event_source_disable_unref(s->io);
        sd_event_source_disable_unref(s->timer);
        if (s->fd >= 0)
                close(s->fd);
        sd_event_unref(s->event);
        /* Output may hold secrets (kubeadm token create prints one). */
        erase(s->output, s->output_len);
        free(s->output);
        erase(s->line, sizeof s->line);
        free(s);
}

static void append_output(Spawn *s, const char *data, size_t n)
{
        char *p;

        if (!s->o.capture || s->output_truncated)
                return;
        if (s->output_len + n > SPAWN_OUTPUT_MAX) {
                s->output_truncated = true;
                return;
        }
        p = realloc(s->output, s->output_len + n + 1);
        if (!p) {
                s->output_truncated = true;
                return;
        }
        memcpy(p + s->output_len, data, n);
        s->output_len += n;
        p[s->output_len] = 0;
        s->output = p;
}

static void emit_line(Spawn *s)
{
        s->line[s->line_len] = 0;
        if (s->line_len > 0 && s->line[s->line_len - 1] == '\r')
                s->line[--s->line_len] = 0;
        if (s->o.on_line)
                s->o.on_line(s->line, s->o.userdata);
        s->line_len = 0;
}

static void maybe_done(Spawn *s)
{
        if (!s->exited || !s->eof)
                return;
        if (s->line_len > 0)
                emit_line(s);
        s->result.output = s->o.capture ? (s->output ?: "") : NULL;
        if (s->o.on_done)
                s->o.on_done(&s->result, s->o.userdata);
        spawn_free(s);
}

static int on_output(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
        Spawn *s = userdata;
        char buf[4096];
        ssize_t n;

        n = read(fd, buf, sizeof buf);
        if (n < 0) {
                if (errno == EAGAIN || errno == EINTR)
                        return 0;
                n = 0; /* treat as end of output */
        }
        if (n == 0) {
                s->eof = true;
                s->io = sd_event_source_disable_unref(s->io);
                maybe_done(s);
                return 0;
        }

        append_output(s, buf, (size_t)n);
        for (ssize_t i = 0; i < n; i++) {
                if (buf[i] == '\n' || s->line_len == SPAWN_LINE_MAX)
                        emit_line(s);
                if (buf[i] != '\n')
                        s->line[s->line_len++] = buf[i];
        }
        return 0;
}

static int on_child(sd_event_source *src, const siginfo_t *si, void *userdata)
{
        Spawn *s = userdata;

        s->exited = true;
        if (si->si_code == CLD_EXITED)
                s->result.exit_code = si->si_status;
        else
                s->result.signal = si->si_status;
        /* The child's own children may keep the pipe open: stop reading once it is gone and the pipe is idle. */
        maybe_done(s);
        return 0;
}

static int on_timeout(sd_event_source *src, uint64_t usec, void *userdata)
{
        Spawn *s = userdata;

        if (!s->terminating) {
                s->terminating = true;
                s->result.timed_out = true;
                (void)kill(-s->pid, SIGTERM);
                (void)sd_event_source_set_time_relative(src, SPAWN_KILL_GRACE);
                (void)sd_event_source_set_enabled(src, SD_EVENT_ONESHOT);
                return 0;
        }
        (void)kill(-s->pid, SIGKILL);
        if (s->exited && !s->eof) {
                /* Grandchildren hold the pipe: give up on the rest of the output. */
                s->eof = true;
                s->io = sd_event_source_disable_unref(s->io);
                maybe_done(s);
        }
        return 0;
}

static int start_process(Spawn *s, int out_fd)
{
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t attr;
        sigset_t none, defaults;
        int r;

        sigemptyset(&none);
        sigfillset(&defaults);
        posix_spawn_file_actions_init(&fa);
        posix_spawnattr_init(&attr);

        posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_adddup2(&fa, out_fd, STDOUT_FILENO);
        posix_spawn_file_actions_adddup2(&fa, out_fd, STDERR_FILENO);
        /* The child starts with no blocked signals and default handlers, in its own process group so that a
         * timeout ends everything it started. */
        posix_spawnattr_setsigmask(&attr, &none);
        posix_spawnattr_setsigdefault(&attr, &defaults);
        posix_spawnattr_setpgroup(&attr, 0);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);

        r = posix_spawnp(&s->pid, s->o.argv[0], &fa, &attr, s->o.argv, s->o.envp ?: default_env);

        posix_spawnattr_destroy(&attr);
        posix_spawn_file_actions_destroy(&fa);
        return -r;
}

int spawn_start(sd_event *e, const SpawnOptions *o, Spawn **ret)
{
        Spawn *s;
        int fds[2], r;

        if (!o->argv || !o->argv[0])
                return -EINVAL;

        /* sd-event reaps children through SIGCHLD, which must be blocked (the agent has no other threads). */
        sigset_t chld;
        sigemptyset(&chld);
        sigaddset(&chld, SIGCHLD);
        if (sigprocmask(SIG_BLOCK, &chld, NULL) < 0)
                return -errno;

        s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        s->event = sd_event_ref(e);
        s->o = *o;
        s->fd = -EBADF;

        if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0) {
                r = -errno;
                spawn_free(s);
                return r;
        }
        s->fd = fds[0];
        r = start_process(s, fds[1]);
        close(fds[1]);
        if (r < 0) {
                spawn_free(s);
                return r;
        }

        r = sd_event_add_child(e, &s->child, s->pid, WEXITED, on_child, s);
        if (r >= 0)
                r = sd_event_add_io(e, &s->io, s->fd, EPOLLIN, on_output, s);
        if (r >= 0 && o->timeout_usec > 0)
                r = sd_event_add_time_relative(e, &s->timer, CLOCK_MONOTONIC, o->timeout_usec, 0, on_timeout, s);
        if (r < 0) {
                (void)kill(-s->pid, SIGKILL);
                (void)waitpid(s->pid, NULL, 0);
                spawn_free(s);
                return r;
        }

        if (ret)
                *ret = s;
        return 0;
}

void spawn_cancel(Spawn *s)
{
        if (!s)
                return;
        if (!s->exited) {
                (void)kill(-s->pid, SIGKILL);
                (void)waitpid(s->pid, NULL, 0);
        }
        spawn_free(s);
}

const char *spawn_result_describe(const SpawnResult *r, char *buf, size_t size)
{
        if (r->error < 0)
                snprintf(buf, size, "could not be run: %s", strerror(-r->error));
        else if (r->timed_out)
                snprintf(buf, size, "timed out and was killed");
        else if (r->signal)
                snprintf(buf, size, "killed by signal %s", sigabbrev_np(r->signal) ?: "?");
        else
                snprintf(buf, size, "exited with status %d", r->exit_code);
        return buf;
}
