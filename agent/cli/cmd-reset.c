/* SPDX-License-Identifier: MIT */
/* piagent reset: the deliberate way to make a node bootstrap again. The agent never does this by itself to a
 * node that completed kubeadm init or join. */

#include <getopt.h>
#include <stdio.h>
#include <systemd/sd-event.h>

#include "commands.h"
#include "kubeadm.h"
#include "macro.h"
#include "node-state.h"
#include "state-lock.h"

static void help(void)
{
        printf("Usage: piagent reset [--yes] [--state-dir DIR]\n"
               "\n"
               "Undo this node's Kubernetes setup (kubeadm reset -f) and forget its bootstrap state, so that\n"
               "piagent bootstraps it again on its next start. Stop the agent first (systemctl stop piagent).\n"
               "On a master, remove its etcd member and node object from the cluster first if the cluster\n"
               "lives on (kubectl delete node NAME).\n"
               "\n"
               "  --yes             do not ask for confirmation\n"
               "  --state-dir DIR   the agent's state (default " STATE_DIR_DEFAULT ")\n"
               "  -h, --help        show this help\n");
}

typedef struct ResetRun {
        sd_event *event;
        SpawnResult result;
        bool done;
} ResetRun;

static void on_reset(const SpawnResult *r, void *userdata)
{
        ResetRun *run = userdata;

        run->result = *r;
        run->result.output = NULL;
        run->done = true;
        sd_event_exit(run->event, 0);
}

static bool confirmed(void)
{
        char answer[16];

        printf("This runs 'kubeadm reset -f' on this node and forgets its cluster membership.\n"
               "Type 'yes' to continue: ");
        fflush(stdout);
        if (!fgets(answer, sizeof answer, stdin))
                return false;
        answer[strcspn(answer, "\n")] = 0;
        return streq(answer, "yes");
}

static int run_kubeadm_reset(const char *kubeadm)
{
        ResetRun run = {};
        char how[96];
        int r;

        r = sd_event_new(&run.event);
        if (r < 0)
                return r;
        r = kubeadm_run(run.event, kubeadm, KUBEADM_RESET, NULL, on_reset, &run, NULL);
        if (r >= 0)
                r = sd_event_loop(run.event);
        sd_event_unref(run.event);
        if (r < 0)
                return r;
        if (!spawn_result_ok(&run.result)) {
                fprintf(stderr, "piagent reset: kubeadm reset %s\n",
                        spawn_result_describe(&run.result, how, sizeof how));
                return -EIO;
        }
        return 0;
}

int cmd_reset(const Settings *settings, int argc, char **argv)
{
        static const struct option options[] = {
                {"yes", no_argument, NULL, 'y'},
                {"state-dir", required_argument, NULL, 's'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        const char *state_dir = STATE_DIR_DEFAULT;
        _cleanup_close_ int lock = -EBADF;
        _cleanup_free_ char *path = NULL;
        bool yes = false;
        int opt, r;

        optind = 1;
        while ((opt = getopt_long(argc, argv, "ys:h", options, NULL)) >= 0)
                switch (opt) {
                case 'y':
                        yes = true;
                        break;
                case 's':
                        state_dir = optarg;
                        break;
                case 'h':
                        help();
                        return 0;
                default:
                        return EXIT_USAGE;
                }
        if (optind < argc) {
                fprintf(stderr, "piagent reset: unexpected argument '%s'\n", argv[optind]);
                return EXIT_USAGE;
        }

        lock = state_lock_acquire(state_dir);
        if (lock == -EBUSY) {
                fprintf(stderr, "piagent reset: the agent is running; stop it first: systemctl stop piagent\n");
                return 1;
        }
        if (lock < 0 && lock != -ENOENT) {
                fprintf(stderr, "piagent reset: cannot lock %s: %s\n", state_dir, strerror(-lock));
                return 1;
        }
        if (!yes && !confirmed()) {
                fprintf(stderr, "piagent reset: nothing done\n");
                return 1;
        }

        r = run_kubeadm_reset(settings->kubeadm);
        if (r < 0) {
                if (r != -EIO)
                        fprintf(stderr, "piagent reset: cannot run kubeadm: %s\n", strerror(-r));
                fprintf(stderr, "piagent reset: the node state was kept\n");
                return 1;
        }
        if (asprintf(&path, "%s/" NODE_STATE_FILE, state_dir) < 0)
                return 1;
        if (unlink(path) < 0 && errno != ENOENT) {
                fprintf(stderr, "piagent reset: cannot remove %s: %m\n", path);
                return 1;
        }
        printf("Done: this node bootstraps again when piagent starts (systemctl start piagent).\n");
        return 0;
}
