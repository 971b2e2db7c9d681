#!/usr/bin/env python3
"""Load-balancer benchmark (issue 4): real keepalived and HAProxy in nspawn
nodes, configured with the agent's own renderers (tests/tools/render-lb),
measured from a client node through VIP:9000.

Nodes: lb1, lb2 (keepalived + HAProxy, the agent's keepalived drop-in),
m1..m3 (+ m4 for the reload test; tests/cluster/fake_apiserver.py as a
transient unit), client (tests/bench/lb_probe.py). No agent runs.

Measures, each repeated --reps times (min / median / max):
  failover  client-visible outage when the VIP holder's keepalived stops
            (systemctl stop), is SIGKILLed (main PID only; VRRP child and
            main together; the VRRP child alone), its HAProxy is stopped or
            SIGKILLed, the node powers off cleanly, or its power is cut (its
            bridge port down); duplicate
            VIP from every address change (ip monitor in each LB's netns);
            after a power loss a new LB joins and the holder's keepalived is
            reloaded with the new peer (outage measured too)
  master    a master dead / hung / not ready (/readyz 500): out of HAProxy's
            rotation, back in after recovery (HAProxy's stats socket on the
            VIP holder, polled every 20 ms, and the client's answers)
  reload    a master added/removed with `systemctl reload haproxy`: a
            long-lived client connection through the VIP survives; new
            connections during reloads; a reload while a master is down; a
            new master that is not ready yet entering the backend

The rendered files are used as they are, with one exception for renderers
that track HAProxy with vrrp_track_process (before commit 799435a): it needs
the kernel's proc connector, which exists only in the initial network
namespace, so in an nspawn node keepalived stays in FAULT; the bench then
tracks HAProxy with an equivalent vrrp_script (pgrep) instead.

Every time is CLOCK_MONOTONIC (shared by the host and every node).
Results: a summary on stdout and JSON (--json-out). Method and figures:
docs/lb-measurements.md.

  sudo python3 tests/bench/lb_failover.py --render-lb build/tests/tools/render-lb
  sudo python3 tests/bench/lb_failover.py --render-lb ... --only failover --reps 10 --advert-ms 200
  sudo python3 tests/bench/lb_failover.py --render-lb ... \\
      --haproxy-sub 'inter 500ms=>inter 300ms' --haproxy-sub 'timeout check 500ms=>timeout check 300ms'

--haproxy-sub/--keepalived-sub/--dropin-sub OLD=>NEW edit the rendered text
(experiments with parameters the renderer does not take; each OLD must occur);
--server-state adds HAProxy's server-state-file and saves `show servers state`
before every reload.
"""

import argparse
import json
import os
import re
import shlex
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "cluster"))
from harness import Cluster, NodeSpec, NotYet, SkipTest, log, run_scenario  # noqa: E402

VIP = "10.77.0.240"
VIP_CIDR = f"{VIP}/24"
API_PORT = 9000
SECRET = "lb-bench-secret-0123456789abcdefghijklmnop"
IFACE = "eth0"
LIB = "/usr/local/lib/piagent-test"
FAKE = f"{LIB}/fake_apiserver.py"
PROBE = f"{LIB}/lb_probe.py"
KEEPALIVED_CONF = "/etc/keepalived/keepalived.conf"
HAPROXY_CFG = "/etc/haproxy/haproxy.cfg"
DROPIN = "/run/systemd/system/keepalived.service.d/50-piagent.conf"
SERVER_STATE = "/var/lib/haproxy/server-state"
FAILOVER_METHODS = ("stop", "kill9-main", "kill9-all", "kill9-vrrp", "haproxy-stop", "haproxy-kill9", "poweroff",
                    "powercut")
MASTER_MODES = ("dead", "hang", "error")


def read(path):
    with open(path) as f:
        return f.read()


def stats3(values):
    v = [x for x in values if x is not None]
    if not v:
        return "-"
    return f"{min(v):.3f} / {statistics.median(v):.3f} / {max(v):.3f}"


def jsonl(text):
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
    return out


class Background:
    """A function in a thread; .result() joins and returns (or raises)."""

    def __init__(self, fn, *a, **kw):
        self._v = self._e = None

        def run():
            try:
                self._v = fn(*a, **kw)
            except BaseException as e:  # noqa: BLE001 - re-raised in result()
                self._e = e

        self._t = threading.Thread(target=run, daemon=True)
        self._t.start()

    def result(self, timeout=None):
        self._t.join(timeout)
        if self._t.is_alive():
            raise TimeoutError("background task still running")
        if self._e:
            raise self._e
        return self._v


class VipWatch:
    """Every VIP add/remove on every LB, from `ip monitor address` in each LB's
    network namespace (event driven: no sampling gap)."""

    def __init__(self, c):
        self.c = c
        self.events = []  # (t, node, present)
        self.state = {}
        self.procs = {}
        self.lock = threading.Lock()
        self.cut = set()

    def _present(self, node):
        p = subprocess.run(["ip", "-n", node.netns, "-4", "-o", "addr", "show", "dev", IFACE],
                           capture_output=True, text=True)
        return f" {VIP}/" in p.stdout

    def add(self, node):
        p = subprocess.Popen(["ip", "-n", node.netns, "-o", "-4", "monitor", "address"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.procs[node.name] = p
        now = self._present(node)
        with self.lock:
            self.state[node.name] = now
            self.events.append((time.monotonic(), node.name, now))
        threading.Thread(target=self._read, args=(node, p), daemon=True).start()

    def _read(self, node, p):
        for line in p.stdout:
            if f" {VIP}/" not in line:
                continue
            t = time.monotonic()
            present = not line.startswith("Deleted")
            with self.lock:
                if node.name not in self.cut and self.state.get(node.name) != present:
                    self.state[node.name] = present
                    self.events.append((t, node.name, present))

    def forget(self, name):
        """The node is cut off the LAN (power cut): its address no longer counts."""
        with self.lock:
            self.cut.add(name)
            self.state.pop(name, None)
            self.events.append((time.monotonic(), name, None))

    def holders(self):
        with self.lock:
            return sorted(n for n, v in self.state.items() if v)

    def duplicates(self, t_from, t_to):
        """Total time in [t_from, t_to] during which 2+ LBs held the VIP, and the longest stretch."""
        with self.lock:
            ev = sorted(self.events)
        st, total, longest, since = {}, 0.0, 0.0, None
        for t, n, v in ev + [(t_to, None, None)]:
            if since is not None:
                d = min(t, t_to) - max(since, t_from)
                if d > 0:
                    total += d
                    longest = max(longest, d)
                since = None
            if n is None:
                break
            if v is None:
                st.pop(n, None)
            else:
                st[n] = v
            if sum(1 for x in st.values() if x) >= 2:
                since = t
        return total, longest

    def takeover(self, old, t_from):
        """(time the old holder dropped the VIP, time another LB added it) after t_from."""
        with self.lock:
            ev = sorted(self.events)
        dropped = next((t for t, n, v in ev if t >= t_from and n == old and v is False), None)
        added = next((t for t, n, v in ev if t >= t_from and n != old and v), None)
        return dropped, added

    def stop(self):
        for p in self.procs.values():
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()


class Bench:
    def __init__(self, c, args):
        self.c = c
        self.a = args
        self.lbs = []  # LB nodes alive
        self.masters = []
        self.backends = []  # (name, addr) in haproxy.cfg now
        self.client = None
        self.next_lb = 1
        self.vips = VipWatch(c)
        self.results = {"parameters": {}, "failover": {}, "master": {}, "reload": {}, "notes": []}

    # -- rendering ----------------------------------------------------------

    def _sub(self, text, subs, what):
        for s in subs:
            old, sep, new = s.partition("=>")
            if not sep or old not in text:
                raise SystemExit(f"--{what}-sub {s!r}: {old!r} does not occur in the rendered {what} file")
            text = text.replace(old, new)
        return text

    def render(self, *argv):
        p = subprocess.run([self.a.render_lb, *argv], capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError(f"render-lb {shlex.join(argv)}: {p.stderr.strip()}")
        return p.stdout

    @staticmethod
    def adapt_track(text):
        """For renderers that track HAProxy with vrrp_track_process (up to commit 799435a): it needs the
        kernel's proc connector, which exists only in the initial network namespace; in an nspawn node with its
        own netns keepalived logs "Failed to set/clear process event listen - errno 111" and stays in FAULT
        (never takes the VIP). The same HAProxy tracking, polled: a vrrp_script running pgrep every second.
        A file without vrrp_track_process is left as rendered."""
        if not re.search(r"^vrrp_track_process ", text, re.M):
            return text
        text, n1 = re.subn(r"vrrp_track_process piagent_haproxy \{\n(?:    .*\n)*?\}\n",
                           "vrrp_script piagent_haproxy {\n"
                           "    script \"/usr/bin/pgrep -x haproxy\"\n"
                           "    interval 1\n    fall 1\n    rise 1\n}\n", text)
        text, n2 = re.subn(r"    track_process \{\n        piagent_haproxy\n    \}\n",
                           "    track_script {\n        piagent_haproxy\n    }\n", text)
        if (n1, n2) != (1, 1):
            raise RuntimeError("the rendered keepalived.conf no longer has the vrrp_track_process this bench adapts")
        return text

    def keepalived_conf(self, lb):
        argv = ["keepalived", "--router-id", lb.name, "--interface", IFACE, "--self", lb.addr, "--vip", VIP_CIDR,
                "--secret", SECRET, "--self-id", lb.name, "--advert-ms", str(self.a.advert_ms)]
        for other in self.lbs:
            argv += ["--lb-id", other.name]
            if other is not lb:
                argv += ["--peer", other.addr]
        text = self._sub(self.render(*argv), self.a.keepalived_sub, "keepalived")
        return text if self.a.keep_track_process else self.adapt_track(text)

    def haproxy_cfg(self):
        argv = ["haproxy", "--api-port", str(API_PORT)]
        for name, addr in self.backends:
            argv += ["--backend", f"{name}={addr}"]
        text = self._sub(self.render(*argv), self.a.haproxy_sub, "haproxy")
        if self.a.server_state:
            text = self._sub(text, [
                "    stats socket /run/haproxy/admin.sock mode 660 level admin\n=>"
                "    stats socket /run/haproxy/admin.sock mode 660 level admin\n"
                f"    server-state-file {SERVER_STATE}\n",
                "\ndefaults\n=>\ndefaults\n    load-server-state-from-file global\n"], "haproxy")
        return text

    def dropin(self):
        return self._sub(self.render("dropin", "--vip", VIP_CIDR, "--interface", IFACE), self.a.dropin_sub, "dropin")

    def put(self, node, path, text):
        self.c.exec(node, ["sh", "-ec", 'mkdir -p "$(dirname "$1")"; cat > "$1.new"; mv "$1.new" "$1"', "sh", path],
                    input=text)

    def install_checked(self, node, path, text, checker):
        """Like the agent: check the candidate with the daemon's checker, then replace the live file."""
        cand = f"{path}.piagent-check"
        self.put(node, cand, text)
        p = self.c.exec(node, checker + [cand], check=False)
        self.c.exec(node, ["rm", "-f", cand])
        if p.returncode != 0:
            raise RuntimeError(f"{node}: {' '.join(checker)} rejected the rendered file:\n{p.stdout}{p.stderr}")
        self.put(node, path, text)

    def install_haproxy(self, lb):
        self.install_checked(lb, HAPROXY_CFG, self.haproxy_cfg(), ["haproxy", "-c", "-q", "-f"])

    def install_keepalived(self, lb):
        self.install_checked(lb, KEEPALIVED_CONF, self.keepalived_conf(lb), ["keepalived", "-t", "-f"])

    # -- nodes ----------------------------------------------------------------

    def node_files(self, master=False):
        files = {PROBE: read(os.path.join(HERE, "lb_probe.py"))}
        if master:
            files[FAKE] = read(os.path.join(REPO, "tests", "cluster", "fake_apiserver.py"))
        return files

    def new_lb_specs(self, n):
        specs = []
        for _ in range(n):
            specs.append(NodeSpec(f"lb{self.next_lb}", "lb", files=self.node_files()))
            self.next_lb += 1
        return specs

    def start_fake(self, m, mode="ok"):
        self.c.exec(m, ["systemd-run", "--unit", "fake-apiserver", "--quiet", "--collect",
                        "--property", "Type=notify", "--property", "NotifyAccess=main",
                        "python3", FAKE, "--name", m.name, "--mode", mode])

    def set_mode(self, m, mode):
        """Returns the monotonic time at which the fake apiserver applied the mode."""
        return float(self.c.exec(m, ["python3", FAKE, "set-mode", mode]).stdout.strip())

    def start_lb(self, lb):
        """Configure and start HAProxy, then keepalived, as the agent does (drop-in first)."""
        self.put(lb, DROPIN, self.dropin())
        self.c.exec(lb, ["systemctl", "daemon-reload"])
        self.install_haproxy(lb)
        self.c.exec(lb, ["systemctl", "start", "haproxy.service"])
        self.install_keepalived(lb)
        self.c.exec(lb, ["systemctl", "start", "keepalived.service"])

    def setup(self):
        c = self.c
        c.prepare()
        specs = self.new_lb_specs(2)
        specs += [NodeSpec(f"m{i}", "master", files=self.node_files(master=True)) for i in range(1, 5)]
        specs.append(NodeSpec("client", None, files=self.node_files()))
        t = time.monotonic()
        nodes = c.up(specs)
        log(f"{len(nodes)} nodes up in {time.monotonic() - t:.1f} s")
        self.lbs = [n for n in nodes if n.name.startswith("lb")]
        self.masters = [c.node(f"m{i}") for i in range(1, 5)]
        self.client = c.node("client")
        # CLOCK_MONOTONIC must be the same in the nodes as here.
        t0 = time.monotonic()
        tn = float(c.exec(self.client, ["python3", "-c", "import time; print(time.monotonic())"]).stdout)
        t1 = time.monotonic()
        if not t0 <= tn <= t1:
            raise RuntimeError(f"the nodes' CLOCK_MONOTONIC differs from the host's ({t0} <= {tn} <= {t1} fails)")
        for m in self.masters:
            self.start_fake(m)
        self.backends = [(m.name, m.addr) for m in self.masters[:3]]
        for lb in self.lbs:
            self.vips.add(lb)
        for lb in self.lbs:
            self.start_lb(lb)
        self.results["parameters"] = {
            "keepalived.conf (lb1)": self.keepalived_conf(self.lbs[0]),
            "haproxy.cfg": self.haproxy_cfg(),
            "dropin": self.dropin(),
            "versions": {
                "haproxy": c.exec(self.lbs[0], ["haproxy", "-v"]).stdout.splitlines()[0],
                "keepalived": (lambda p: (p.stdout + p.stderr).splitlines()[0])(
                    c.exec(self.lbs[0], ["keepalived", "--version"], check=False)),
            },
            "advert_ms": self.a.advert_ms,
            "track_process_adapted": not self.a.keep_track_process and "\nvrrp_track_process " in self.render(
                "keepalived", "--router-id", "x", "--interface", IFACE, "--self", "10.77.0.10", "--vip", VIP_CIDR,
                "--vrid", "1", "--priority", "100"),
            "server_state": self.a.server_state,
            "subs": {"haproxy": self.a.haproxy_sub, "keepalived": self.a.keepalived_sub, "dropin": self.a.dropin_sub},
        }
        self.wait_steady(timeout=20)
        self.check_round_robin()

    # -- state ------------------------------------------------------------------

    def holder(self):
        h = self.vips.holders()
        if len(h) != 1:
            raise NotYet(f"VIP holders: {h}")
        return self.c.node(h[0])

    def servers_up(self, lb):
        out = self.c.exec(lb, ["python3", PROBE, "servers", "--duration", "0.01"]).stdout
        final = next(o for o in jsonl(out) if o.get("summary") == "servers")["final"]
        return {k.split("/", 1)[1]: v for k, v in final.items() if not k.endswith(("/FRONTEND", "/BACKEND"))}

    def wait_steady(self, timeout=20):
        """One VIP holder; every LB's keepalived active; every backend UP on every LB; the client reaches the VIP."""
        want = {name for name, _ in self.backends}

        def steady():
            h = self.holder()
            for lb in self.lbs:
                st = self.c.exec(lb, ["systemctl", "is-active", "keepalived.service", "haproxy.service"],
                                 check=False).stdout.split()
                if st != ["active", "active"]:
                    raise NotYet(f"{lb}: keepalived/haproxy {st}")
                up = self.servers_up(lb)
                bad = {k: v for k, v in up.items() if k in want and v != "UP"}
                if bad or not want <= set(up):
                    raise NotYet(f"{lb}: servers {up}")
            self.c.exec(self.client, ["python3", PROBE, "probe", f"{VIP}:{API_PORT}", "--duration", "0.01"])
            return h

        return self.c.wait_for(steady, timeout=timeout, what="steady state (one VIP holder, all backends UP)")

    def check_round_robin(self):
        out = jsonl(self.c.exec(self.client, ["python3", PROBE, "probe", f"{VIP}:{API_PORT}", "--duration", "0.5",
                                              "--interval", "0.05"]).stdout)
        names = {o.get("name") for o in out if o.get("ok")}
        want = {n for n, _ in self.backends}
        if names != want:
            raise AssertionError(f"round robin through the VIP reached {sorted(names)}, expected {sorted(want)}")
        log(f"round robin through {VIP}:{API_PORT}: {sorted(names)} answered ({len(out)} requests)")
        self.results["round_robin"] = sorted(names)

    # -- measurement helpers ----------------------------------------------------------

    def probe(self, duration, **kw):
        argv = ["python3", PROBE, "probe", f"{VIP}:{API_PORT}", "--duration", str(duration),
                "--interval", str(self.a.probe_interval), "--connect-timeout", str(self.a.connect_timeout),
                "--timeout", str(self.a.probe_timeout)]
        return Background(lambda: jsonl(self.c.exec(self.client, argv, timeout=duration + 30).stdout))

    def servers_watch(self, lb, duration):
        argv = ["python3", PROBE, "servers", "--duration", str(duration)]
        return Background(lambda: jsonl(self.c.exec(lb, argv, timeout=duration + 30).stdout))

    @staticmethod
    def outage(probes, t_event, t_end=None):
        """Client-visible outage around t_event: from the start of the first failing request to the start of
        the first successful one after the last failure (0 when nothing failed)."""
        t_end = t_end or float("inf")
        ps = sorted((p for p in probes if "t0" in p), key=lambda p: p["t0"])
        hit = [p for p in ps if p["t1"] >= t_event and p["t0"] <= t_end]
        fails = [p for p in hit if not p["ok"]]
        oks = [p for p in hit if p["ok"]]
        slow = max((p["t1"] - p["t0"] for p in oks), default=0.0)
        r = {"failed": len(fails), "probes": len(hit), "slowest_ok": round(slow, 3)}
        if not fails:
            r.update(outage=0.0, recovered=0.0)
            return r
        first_fail = fails[0]["t0"]
        last_fail = max(p["t0"] for p in fails)
        after = [p for p in oks if p["t0"] > last_fail]
        if not after:
            r.update(outage=None, recovered=None, first_fail=first_fail - t_event)
            return r
        r.update(outage=after[0]["t0"] - first_fail, recovered=after[0]["t0"] - t_event,
                 first_fail=first_fail - t_event,
                 errors=sorted({p.get("err", "")[:40] for p in fails})[:4])
        return r

    def node_time(self, node, script):
        """Run a shell script in the node; return CLOCK_MONOTONIC just before it ran (from the node)."""
        out = self.c.exec(node, ["sh", "-c", 'python3 -c "import time; '
                                 'print(time.monotonic())"; ' + script], check=False).stdout
        return float(out.split()[0])

    # -- a. failover -------------------------------------------------------------

    def failover_once(self, method):
        c = self.c
        old = self.holder()
        backup = next(lb for lb in self.lbs if lb is not old)
        pre, post = 1.0, self.a.failover_window
        probe = self.probe(pre + post)
        time.sleep(pre)
        main_pid = c.exec(old, ["systemctl", "show", "-P", "MainPID", "keepalived.service"]).stdout.strip()
        restarts_before = c.exec(old, ["systemctl", "show", "-P", "NRestarts", "keepalived.service"]).stdout.strip()
        stopper = None
        if method == "stop":
            t_ev = self.node_time(old, "systemctl stop keepalived.service")
        elif method == "kill9-main":
            t_ev = self.node_time(old, f"kill -9 {main_pid}")
        elif method == "kill9-all":
            # Children first, in one kill(1): a child outliving its parent gets PR_SET_PDEATHSIG (SIGTERM) and
            # would shut down gracefully (priority-0 advert), which is not a crash.
            t_ev = self.node_time(old, f"kill -9 $(pgrep -P {main_pid}) {main_pid}")
        elif method == "kill9-vrrp":
            # The VRRP child alone (a crash of the process that holds the VIP); keepalived's parent respawns it.
            t_ev = self.node_time(old, f"kill -9 $(pgrep -P {main_pid})")
        elif method == "haproxy-stop":
            # HAProxy gone for good on the holder: keepalived's HAProxy tracking must move the VIP.
            t_ev = self.node_time(old, "systemctl stop haproxy.service")
        elif method == "haproxy-kill9":
            # HAProxy crashes on the holder: systemd restarts it (Restart=always in Debian's unit).
            t_ev = self.node_time(old, "systemctl kill --signal=SIGKILL haproxy.service")
        elif method == "poweroff":
            t_ev = time.monotonic()
            stopper = Background(c.stop, old)
        elif method == "powercut":
            t_ev = time.monotonic()
            c.host(["ip", "link", "set", f"v{old.index}", "down"])
            self.vips.forget(old.name)
            stopper = Background(c.stop, old)  # free the CPU; the node is already off the LAN
        else:
            raise ValueError(method)
        probes = probe.result()
        r = self.outage(probes, t_ev)
        # Every failure, and the successes' start times, relative to the event (for diagnosis).
        r["timeline_failed"] = [(round(p["t0"] - t_ev, 3), round(p["t1"] - p["t0"], 3), p.get("err", "")[:24])
                                for p in probes if not p["ok"]]
        r["timeline_ok"] = [round(p["t0"] - t_ev, 3) for p in probes if p["ok"]]
        dropped, added = self.vips.takeover(old.name, t_ev - 0.05)
        r["vip_removed"] = None if dropped is None else round(dropped - t_ev, 3)
        r["vip_taken"] = None if added is None else round(added - t_ev, 3)
        if stopper:
            stopper.result(60)
            self.lbs.remove(old)
        # The unit restarts keepalived after a SIGKILL; it must not take the VIP back (nopreempt).
        if method in ("kill9-main", "kill9-all"):
            def restarted():
                out = c.exec(old, ["systemctl", "show", "-p", "ActiveState", "-p", "NRestarts",
                                   "keepalived.service"]).stdout
                st = dict(line.split("=", 1) for line in out.split())
                if st.get("ActiveState") != "active" or st.get("NRestarts") == restarts_before:
                    raise NotYet(f"keepalived on {old}: {st}")
                return True
            c.wait_for(restarted, timeout=10, what=f"keepalived restarted by systemd on {old}")
            time.sleep(1.5)
        if method == "stop":
            c.exec(old, ["systemctl", "start", "keepalived.service"])
            time.sleep(1.5)
        if method == "haproxy-stop":
            # keepalived too: a drop-in with BindsTo=haproxy.service stops it with HAProxy.
            c.exec(old, ["systemctl", "start", "haproxy.service", "keepalived.service"])
            time.sleep(3.0)  # keepalived's tracking sees HAProxy again (script interval 1 s)
        if method == "haproxy-kill9":
            c.wait_for(lambda: c.exec(old, ["systemctl", "is-active", "haproxy.service"], check=False)
                       .stdout.strip() == "active", timeout=10, what=f"haproxy restarted by systemd on {old}")
            time.sleep(1.0)
        if method == "kill9-vrrp":
            # Respawned by keepalived's parent, or (with --dont-respawn) the whole unit restarted by systemd.
            def vrrp_running():
                pid = c.exec(old, ["systemctl", "show", "-P", "MainPID", "keepalived.service"]).stdout.strip()
                r["vrrp_restart"] = "respawned" if pid == main_pid else "unit restarted"
                return pid != "0" and c.exec(old, ["pgrep", "-P", pid]).stdout.strip()
            c.wait_for(vrrp_running, timeout=10, what=f"keepalived's VRRP process running again on {old}")
            time.sleep(1.5)
        holders = self.vips.holders()
        r["holders_after"] = holders
        r["preempted_back"] = old.name in holders if method != "haproxy-kill9" else False
        total, longest = self.vips.duplicates(t_ev - pre, time.monotonic())
        r["duplicate_vip_s"] = round(total, 3)
        expected = [old.name, backup.name] if method == "haproxy-kill9" else [backup.name]
        if len(holders) != 1 or holders[0] not in expected:
            r["problem"] = f"VIP holders after the failover: {holders}, expected one of {expected}"
        r["vip_moved"] = holders != [old.name]
        if method in ("poweroff", "powercut"):
            r["replacement"] = self.replace_lb(backup)
        self.wait_steady(timeout=20)
        log(f"failover {method}: {old} -> {backup}: {json.dumps(r)}")
        return r

    def replace_lb(self, survivor):
        """A new LB joins (a replacement for the one powered off): the survivor's keepalived gets the new peer
        and is reloaded — as the agent will do — while the client keeps probing."""
        for attempt in range(3):
            try:
                (new,) = self.c.up(self.new_lb_specs(1))
                break
            except RuntimeError as e:
                # Seen when the host runs out of inotify instances (fs.inotify.max_user_instances, shared by
                # every container on the machine): "Failed to allocate manager object: Too many open files".
                log(f"replacement LB did not boot ({str(e).splitlines()[0]}); retrying")
                self.results["notes"].append(f"replacement boot failed: {str(e).splitlines()[0]}")
                time.sleep(5)
        else:
            raise RuntimeError("no replacement LB booted in 3 attempts")
        self.lbs.append(new)
        self.vips.add(new)
        probe = self.probe(4.0)
        time.sleep(0.5)
        self.install_keepalived(survivor)
        t = self.node_time(survivor, "systemctl reload keepalived.service")
        self.start_lb(new)
        probes = probe.result()
        r = self.outage(probes, t)
        r["holders"] = self.vips.holders()
        return {"node": new.name, "reload_on_holder": r}

    def run_failover(self):
        for method in self.a.methods:
            reps = []
            for i in range(self.a.reps):
                log(f"=== failover {method} {i + 1}/{self.a.reps}")
                reps.append(self.failover_once(method))
            self.results["failover"][method] = reps

    # -- b. masters out and back in ----------------------------------------------------

    def master_once(self, mode, m):
        c = self.c
        lb = self.holder()
        out_w, back_w = self.a.master_window, self.a.master_window
        watch = self.servers_watch(lb, 0.5 + out_w + back_w + 0.5)
        probe = self.probe(0.5 + out_w + back_w)
        time.sleep(0.5)
        t_set = self.set_mode(m, mode)
        time.sleep(max(0.0, t_set + out_w - time.monotonic()))
        t_back = self.set_mode(m, "ok")
        probes = probe.result()
        events = watch.result()
        mine = [e for e in events if e.get("server") == m.name]
        down = next((e["t"] for e in mine if e["t"] >= t_set and e["status"].startswith("DOWN")), None)
        up = next((e["t"] for e in mine if e["t"] >= t_back and e["status"] == "UP"), None)
        r = {"master": m.name, "lb": lb.name,
             "out": None if down is None else round(down - t_set, 3),
             "back": None if up is None else round(up - t_back, 3),
             "transitions": [(round(e["t"] - t_set, 3), e["status"]) for e in mine],
             # Healthy masters leaving rotation meanwhile: false positives of the checks (load, timeouts).
             "others_down": [(round(e["t"] - t_set, 3), e["server"], e["status"]) for e in events
                             if e.get("server") not in (None, m.name) and e["t"] >= t_set - 0.5
                             and e["status"] not in ("UP", "no check")]}
        # The client's view: requests failing after the switch; the master answering again after recovery.
        bad = [p for p in probes if not p["ok"] and p["t1"] >= t_set and p["t0"] < t_back]
        r["client_failed"] = len(bad)
        r["client_last_fail"] = round(max(p["t0"] for p in bad) - t_set, 3) if bad else None
        r["client_errors"] = sorted({p.get("err", "")[:40] for p in bad})[:3]
        seen = [p["t0"] for p in probes if p["ok"] and p.get("name") == m.name and p["t0"] >= t_back]
        r["client_back"] = round(min(seen) - t_back, 3) if seen else None
        served_while_out = [p for p in probes if p["ok"] and p.get("name") == m.name and t_set + 0.1 < p["t0"] < t_back]
        r["client_served_by_it_while_out"] = len(served_while_out)
        log(f"master {mode} {m}: {json.dumps({k: v for k, v in r.items() if k != 'transitions'})}")
        time.sleep(0.5)
        return r

    def run_master(self):
        for mode in self.a.modes:
            reps = []
            for i in range(self.a.reps):
                log(f"=== master {mode} {i + 1}/{self.a.reps}")
                self.wait_steady(timeout=20)
                reps.append(self.master_once(mode, self.masters[i % 3]))
            self.results["master"][mode] = reps

    # -- c. reloads --------------------------------------------------------------------

    def reload_all(self):
        """Render, check, install and `systemctl reload haproxy` on every LB (the holder first)."""
        h = self.holder()
        order = [h] + [lb for lb in self.lbs if lb is not h]
        t = None
        for lb in order:
            self.install_haproxy(lb)
        for lb in order:
            if self.a.server_state:
                # What the agent would do before each reload: HAProxy's view of the servers, for the new worker.
                self.c.exec(lb, ["python3", PROBE, "save-state", "--out", SERVER_STATE])
            tt = self.node_time(lb, "systemctl reload haproxy.service")
            t = t or tt
        return t

    def run_reload(self):
        c = self.c
        self.wait_steady(timeout=20)
        m4 = self.masters[3]
        n = self.a.reloads
        span = n * self.a.reload_gap + 2.0
        hold = Background(lambda: jsonl(c.exec(self.client, ["python3", PROBE, "hold", f"{VIP}:{API_PORT}",
                                                             "--duration", str(span + 1.0), "--interval", "0.1"],
                                               timeout=span + 40).stdout))
        probe = self.probe(span)
        time.sleep(1.0)
        reloads = []
        for i in range(n):
            if (m4.name, m4.addr) in self.backends:
                self.backends.remove((m4.name, m4.addr))
                what = "remove m4"
            else:
                self.backends.append((m4.name, m4.addr))
                what = "add m4"
            t = self.reload_all()
            reloads.append((what, t))
            time.sleep(max(0.0, t + self.a.reload_gap - time.monotonic()))
        # Old workers stay while they still carry a connection (timeout client 1h): count them while the
        # long-lived connection is still open.
        workers = int(c.exec(self.holder(), ["pgrep", "-c", "-x", "haproxy"]).stdout)
        probes = probe.result()
        held = hold.result()
        summary = next(o for o in held if o.get("summary") == "hold")
        r = {"reloads": n, "hold": summary}
        r["haproxy_processes_on_holder"] = workers
        fails = [p for p in probes if not p["ok"]]
        r["new_connections"] = len(probes)
        r["new_connection_failures"] = len(fails)
        r["new_connection_errors"] = sorted({p.get("err", "")[:40] for p in fails})[:4]
        enter = []
        for (what, t), nxt in zip(reloads, reloads[1:] + [(None, float("inf"))]):
            if what == "add m4":
                seen = [p["t0"] for p in probes if p["ok"] and p.get("name") == "m4" and t <= p["t0"] < nxt[1]]
                enter.append(round(min(seen) - t, 3) if seen else None)
        r["m4_first_answer_after_add"] = enter
        log(f"reload: {json.dumps(r)}")
        self.results["reload"]["add_remove"] = r
        if (m4.name, m4.addr) in self.backends:
            self.backends.remove((m4.name, m4.addr))
            self.reload_all()
        self.wait_steady(timeout=20)

        # A reload while a master is down: does the new HAProxy worker send clients to it?
        for mode in ("dead", "hang"):
            rs = []
            for i in range(self.a.reps):
                self.wait_steady(timeout=20)
                m = self.masters[i % 3]
                self.set_mode(m, mode)
                lb = self.holder()

                def is_down():
                    st = self.servers_up(lb).get(m.name, "")
                    if not st.startswith("DOWN"):
                        raise NotYet(f"{m} is {st} on {lb}")
                    return True

                c.wait_for(is_down, timeout=10, what=f"{m} DOWN on {lb}")
                watch = self.servers_watch(lb, 4.0)
                probe = self.probe(3.5)
                time.sleep(0.5)
                t = self.reload_all()
                probes = probe.result()
                events = watch.result()
                self.set_mode(m, "ok")
                o = self.outage(probes, t)
                o["to_it_after_reload"] = len([p for p in probes if p["t0"] >= t and not p["ok"]])
                o["transitions"] = [(round(e["t"] - t, 3), e["status"]) for e in events
                                    if e.get("server") == m.name]
                o["master"] = m.name
                rs.append(o)
                log(f"reload with {m} {mode}: {json.dumps(o)}")
            self.results["reload"][f"while_{mode}"] = rs
        self.wait_steady(timeout=20)

        # A new master that is not ready yet (apiserver not listening / hung) enters the backend.
        for mode in ("dead", "hang"):
            rs = []
            for i in range(self.a.reps):
                self.wait_steady(timeout=20)
                self.set_mode(m4, mode)
                lb = self.holder()
                watch = self.servers_watch(lb, 4.0)
                probe = self.probe(3.5)
                time.sleep(0.5)
                self.backends.append((m4.name, m4.addr))
                t = self.reload_all()
                probes = probe.result()
                events = watch.result()
                o = self.outage(probes, t)
                o["failed_after_reload"] = len([p for p in probes if p["t0"] >= t and not p["ok"]])
                down = next((e["t"] for e in events if e.get("server") == m4.name and e["t"] >= t
                             and e["status"].startswith("DOWN")), None)
                o["down_after"] = None if down is None else round(down - t, 3)
                o["transitions"] = [(round(e["t"] - t, 3), e["status"]) for e in events if e.get("server") == m4.name]
                rs.append(o)
                log(f"reload adding {m4} {mode}: {json.dumps(o)}")
                self.backends.remove((m4.name, m4.addr))
                self.reload_all()
                self.set_mode(m4, "ok")
            self.results["reload"][f"new_master_{mode}"] = rs
        self.wait_steady(timeout=20)

    # -- report --------------------------------------------------------------------------

    def summary(self):
        lines = []
        res = self.results
        lines.append(f"parameters: advert {self.a.advert_ms} ms; subs {res['parameters'].get('subs')}; "
                     f"server-state {self.a.server_state}")
        lines.append(f"versions: {res['parameters'].get('versions')}")
        lines.append(f"load average at the end: {os.getloadavg()}")
        adds = sum(1 for _t, _n, v in self.vips.events if v)
        failovers = sum(len(v) for v in res["failover"].values())
        lines.append(f"VIP taken {adds} times for {failovers} failovers (+1 at the start): "
                     f"{max(0, adds - failovers - 1)} unprovoked VIP moves")
        for method, reps in res["failover"].items():
            lines.append(
                f"failover {method:10} outage {stats3([r['outage'] for r in reps])} s; "
                f"VIP taken {stats3([r['vip_taken'] for r in reps])} s; failed probes "
                f"{[r['failed'] for r in reps]}; duplicate VIP {max(r['duplicate_vip_s'] for r in reps):.3f} s max; "
                f"preempted back {sum(r['preempted_back'] for r in reps)}; "
                f"problems {[r['problem'] for r in reps if 'problem' in r]}")
            repl = [r["replacement"]["reload_on_holder"]["outage"] for r in reps if "replacement" in r]
            if repl:
                lines.append(f"  keepalived reload on the holder (new peer): outage {stats3(repl)} s")
        for mode, reps in res["master"].items():
            lines.append(
                f"master {mode:6} out {stats3([r['out'] for r in reps])} s; back {stats3([r['back'] for r in reps])} s; "
                f"client last failure {stats3([r['client_last_fail'] for r in reps])} s; client back "
                f"{stats3([r['client_back'] for r in reps])} s; failed requests {[r['client_failed'] for r in reps]}; "
                f"healthy masters marked down meanwhile {sum(1 for r in reps for o in r['others_down'] if 'DOWN' == o[2])}")
        rl = res["reload"]
        if "add_remove" in rl:
            r = rl["add_remove"]
            lines.append(
                f"reload x{r['reloads']}: long-lived connection {r['hold']['requests']} requests, "
                f"{r['hold']['failures']} failures, {r['hold']['reconnects']} reconnects, answered by "
                f"{r['hold']['names']}; new connections {r['new_connections']}, failed "
                f"{r['new_connection_failures']}; m4 first answer after add {r['m4_first_answer_after_add']}")
        for k in ("while_dead", "while_hang", "new_master_dead", "new_master_hang"):
            if k in rl:
                extra = ""
                if k.startswith("new_master"):
                    extra = f"; new master DOWN after {stats3([r['down_after'] for r in rl[k]])} s"
                lines.append(f"reload {k}: failed requests after the reload {[r['failed'] for r in rl[k]]}; "
                             f"outage {stats3([r['outage'] for r in rl[k]])} s{extra}")
        return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--render-lb", required=True, help="the render-lb binary (build/tests/tools/render-lb)")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="3 repetitions, 6 reloads")
    ap.add_argument("--only", default="failover,master,reload", help="comma list of failover,master,reload")
    ap.add_argument("--methods", default=",".join(FAILOVER_METHODS))
    ap.add_argument("--modes", default=",".join(MASTER_MODES))
    ap.add_argument("--advert-ms", type=int, default=250, help="VRRP advert interval for the renderer")
    ap.add_argument("--haproxy-sub", action="append", default=[], metavar="OLD=>NEW")
    ap.add_argument("--keepalived-sub", action="append", default=[], metavar="OLD=>NEW")
    ap.add_argument("--dropin-sub", action="append", default=[], metavar="OLD=>NEW")
    ap.add_argument("--server-state", action="store_true",
                    help="experiment: server-state-file + load-server-state-from-file, state saved before reloads")
    ap.add_argument("--keep-track-process", action="store_true",
                    help="keep a rendered vrrp_track_process (it stays in FAULT inside nspawn: no proc connector)")
    ap.add_argument("--probe-interval", type=float, default=0.025)
    ap.add_argument("--connect-timeout", type=float, default=0.2)
    ap.add_argument("--probe-timeout", type=float, default=1.0)
    ap.add_argument("--failover-window", type=float, default=5.0, help="seconds probed after the event")
    ap.add_argument("--master-window", type=float, default=4.0, help="seconds a master stays broken / recovered")
    ap.add_argument("--reloads", type=int, default=10)
    ap.add_argument("--reload-gap", type=float, default=2.0)
    ap.add_argument("--json-out", help="write the results here (default: <artifacts>/lb-bench-<time>.json)")
    ap.add_argument("--ctest", action="store_true", help="skip (77) unless PIAGENT_BENCH=1")
    ap.add_argument("--hold", action="store_true", help="after the setup, keep the nodes until Ctrl-C")
    args = ap.parse_args()
    if args.ctest and os.environ.get("PIAGENT_BENCH") != "1":
        raise SkipTest("benchmark: set PIAGENT_BENCH=1 to run it")
    if args.quick:
        args.reps, args.reloads = 3, 6
    args.methods = [m for m in args.methods.split(",") if m]
    args.modes = [m for m in args.modes.split(",") if m]
    for m in args.methods:
        if m not in FAILOVER_METHODS:
            raise SystemExit(f"unknown method {m}")
    args.render_lb = os.path.abspath(args.render_lb)
    if not os.access(args.render_lb, os.X_OK):
        raise SystemExit(f"{args.render_lb}: not executable (build the render-lb target)")
    only = set(args.only.split(","))

    with Cluster("lb-bench", binary=None) as c:
        b = Bench(c, args)
        try:
            b.setup()
            if args.hold:
                print("holding: " + ", ".join(f"{n.name}={n.leader}" for n in c.nodes) + "; Ctrl-C ends", flush=True)
                try:
                    while True:
                        time.sleep(3600)
                except (KeyboardInterrupt, SystemExit):
                    return
            if "master" in only:
                b.run_master()
            if "reload" in only:
                b.run_reload()
            if "failover" in only:
                c.stop(b.masters[3])  # m4 is only for the reload test: fewer nodes, fewer inotify instances
                b.run_failover()  # last: it replaces LB nodes
        finally:
            b.vips.stop()
            # keepalived's state changes on the LBs still up: the reason for any VIP move nobody provoked.
            b.results["keepalived_log"] = {}
            for lb in b.lbs:
                try:
                    p = c.exec(lb, ["journalctl", "-u", "keepalived.service", "-o", "short-monotonic",
                                    "--no-pager"], check=False, timeout=30)
                    b.results["keepalived_log"][lb.name] = [
                        line for line in p.stdout.splitlines()
                        if re.search(r"Entering|FAULT|[Ss]cript|timed out|removing|priority 0|Stopp|Start", line)][-200:]
                except Exception as e:  # noqa: BLE001 - evidence only
                    b.results["keepalived_log"][lb.name] = [f"failed: {e!r}"]
            out = args.json_out or os.path.join(c.artifacts, f"lb-bench-{time.strftime('%Y%m%d-%H%M%S')}.json")
            os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
            b.results["load_average"] = os.getloadavg()
            b.results["vip_events"] = [(round(t, 3), n, v) for t, n, v in sorted(b.vips.events)]
            with open(out, "w") as f:
                json.dump(b.results, f, indent=1)
            print(b.summary(), flush=True)
            print(f"results: {out}", flush=True)


if __name__ == "__main__":
    run_scenario(main)
