"""Helpers shared by the benchmarks: the agent's process in a node as the host sees it (PID, CPU time, context
switches, memory), and min/median/max summaries. The containers share the host's kernel, so every figure comes
from the host's /proc, without entering a node."""

import json
import os
import socket
import statistics

CLK_TCK = os.sysconf("SC_CLK_TCK")


def pids_in(node, comm=None):
    """Host PIDs of the processes in a node's PID namespace (with this comm, if given)."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            if os.stat(f"/proc/{d}/ns/pid").st_ino != node.pidns:
                continue
            if comm is not None:
                with open(f"/proc/{d}/comm") as f:
                    if f.read().strip() != comm:
                        continue
        except OSError:
            continue
        out.append(int(d))
    return out


def agent_pid(node):
    """The host PID of the node's `piagent run` (the daemon, not a short-lived `piagent status`)."""
    for pid in pids_in(node, "piagent"):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if len(argv) > 1 and argv[1] == b"run":
            return pid
    raise LookupError(f"{node}: no piagent daemon running")


def agent_pids(node):
    """{what: host PID} of every piagent process in a node that lives on: the daemon ("run") and, on masters with
    the sandboxed exchange, its worker ("exchange"). Short-lived commands (piagent status) are left out."""
    out = {}
    for pid in pids_in(node, "piagent"):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if len(argv) > 1 and argv[1] == b"run":
            out["run"] = pid
        elif len(argv) > 2 and argv[1] == b"exchange" and argv[2] == b"worker":
            out["exchange"] = pid
    return out


def proc_sample(pid):
    """What the process has used since it started: CPU seconds (user + system), context switches summed over its
    threads (voluntary = it went to sleep; each wakeup costs one), timeslices run (schedstat), PSS and private
    dirty (bytes), and its start time (to notice a restart)."""
    with open(f"/proc/{pid}/stat") as f:
        stat = f.read()
    fields = stat[stat.rindex(")") + 2:].split()
    utime, stime, starttime = int(fields[11]), int(fields[12]), int(fields[19])
    vol = invol = slices = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                for line in f:
                    if line.startswith("voluntary_ctxt_switches:"):
                        vol += int(line.split()[1])
                    elif line.startswith("nonvoluntary_ctxt_switches:"):
                        invol += int(line.split()[1])
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                slices += int(f.read().split()[2])
        except (OSError, ValueError, IndexError):
            continue
    mem = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("Rss", "Pss", "Private_Dirty", "Private_Clean", "Shared_Clean", "Shared_Dirty"):
                mem[key] = int(rest.split()[0]) * 1024
    return {"pid": pid, "cpu_s": (utime + stime) / CLK_TCK, "starttime": starttime, "voluntary": vol,
            "nonvoluntary": invol, "timeslices": slices, "threads": len(os.listdir(f"/proc/{pid}/task")), **mem}


def loadavg():
    """The machine's 1-, 5- and 15-minute load averages: every figure is recorded with them (the machine may be
    shared; docs/performance.md says which figures were taken under load)."""
    return [round(x, 2) for x in os.getloadavg()]


def summary(xs):
    """(min, median, max) of a non-empty list."""
    xs = list(xs)
    return min(xs), statistics.median(xs), max(xs)


def fmt(xs, unit="", digits=2):
    lo, med, hi = summary(xs)
    return f"{lo:.{digits}f} / {med:.{digits}f} / {hi:.{digits}f}{unit}"


def status_doc(node, timeout=5.0):
    """The agent's status document, read from the host through the node's root (/proc/<init>/root): no process
    is started in the node, so polling fifty nodes costs next to nothing."""
    path = f"/proc/{node.leader}/root/run/piagent/status.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(path)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return json.loads(data)


def cgroup_cpu_s(node):
    """CPU seconds used by everything that ever ran in the node (its cgroup: processes that exited included)."""
    for cg in node.cgroups:
        try:
            with open(os.path.join(cg, "cpu.stat")) as f:
                for line in f:
                    if line.startswith("usage_usec "):
                        return int(line.split()[1]) / 1e6
        except OSError:
            continue
    return None
