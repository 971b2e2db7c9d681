"""Helpers shared by the discovery scenarios: the cluster files, the cluster
tag (computed here the way the agent does, so a test can forge a record that
passes the tag filter), `piagent status --json`, the agent's journal, and the
unit's start time on the clock the journal uses."""

import hashlib
import hmac
import json
import secrets

from harness import NotYet

SERVICE_TYPE = "_piagent._tcp"
EXCHANGE_PORT = 9470


def new_secret():
    return secrets.token_hex(32)


def cluster_txt(secret, name="test"):
    return (f"cluster={name}\nsecret={secret}\nvip=10.77.0.240/24\napi_port=9000\nmasters=3\n")


def cluster_tag(secret):
    """HKDF-SHA256 (RFC 5869): salt "piagent", info "piagent cluster tag v1",
    first 8 bytes as hex; one block of expand is enough."""
    prk = hmac.new(b"piagent", secret.encode(), hashlib.sha256).digest()
    return hmac.new(prk, b"piagent cluster tag v1\x01", hashlib.sha256).digest()[:8].hex()


def node_id(node):
    """The id the agent derives: the MAC of eth0 as 12 hex digits."""
    return node.mac.replace(":", "").lower()


def expected_hostname(node):
    return f"{node.role}-{node_id(node)[-6:]}"


def status(c, node):
    """The agent's status document; NotYet while it is not answering."""
    p = c.exec(node, ["piagent", "status", "--json"], check=False, timeout=20)
    if p.returncode != 0:
        raise NotYet(f"{node}: piagent status exited {p.returncode}: {p.stderr.strip()}")
    return json.loads(p.stdout)


def peers_by_id(doc):
    return {p["id"]: p for p in doc["peers"]}


def journal(c, node, unit="piagent.service"):
    """The unit's journal entries (dicts, as journalctl -o json gives them)."""
    p = c.exec(node, ["journalctl", "-u", unit, "-o", "json", "--no-pager", "--output-fields",
                      "MESSAGE,PRIORITY,PIAGENT_PEER,PIAGENT_PEER_SERVICE,__MONOTONIC_TIMESTAMP"], timeout=30)
    return [json.loads(line) for line in p.stdout.splitlines() if line.strip()]


def messages(entries):
    out = []
    for e in entries:
        m = e.get("MESSAGE")
        if isinstance(m, list):  # journalctl's form for non-UTF-8 messages
            m = bytes(m).decode("utf-8", "replace")
        out.append(m or "")
    return out


def unit_start(c, node, unit="piagent.service"):
    """When the unit's main process started, in seconds of CLOCK_MONOTONIC:
    the nodes share the host's kernel, so this compares with the journal's
    __MONOTONIC_TIMESTAMP and with the harness's time.monotonic()."""
    p = c.exec(node, ["systemctl", "show", "-p", "ExecMainStartTimestampMonotonic", "--value", unit])
    v = int(p.stdout.strip() or 0)
    if v == 0:
        raise NotYet(f"{node}: {unit} has not started")
    return v / 1e6


def first_appearance(entries, peer_id):
    """Monotonic seconds of the first "Peer <id> appeared" entry, or None."""
    for e in entries:
        m = e.get("MESSAGE")
        if isinstance(m, str) and m.startswith(f"Peer {peer_id} appeared"):
            return int(e["__MONOTONIC_TIMESTAMP"]) / 1e6
    return None


def expect(cond, msg):
    if not cond:
        raise AssertionError(msg)


def agent_pid_and_restarts(c, node):
    p = c.exec(node, ["systemctl", "show", "-p", "MainPID", "-p", "NRestarts", "-p", "ActiveState",
                      "piagent.service"])
    kv = dict(line.split("=", 1) for line in p.stdout.splitlines() if "=" in line)
    return int(kv["MainPID"]), int(kv["NRestarts"]), kv["ActiveState"]


INOTIFY_LIMIT = "/proc/sys/fs/inotify/max_user_instances"
INOTIFY_PER_NODE = 12  # measured: 9 per booted node with the agent (systemd, journald, logind, dbus, the agent...)


def ensure_inotify_instances(nodes, log):
    """Every container runs as the host's root, so all nodes share root's inotify instance limit (128 by
    default): 20 nodes need ~180 and systemd in the last ones fails to boot ("Failed to create inotify object:
    Too many open files"). Raise the limit (never lower it) when it is short."""
    try:
        with open(INOTIFY_LIMIT) as f:
            limit = int(f.read())
    except (OSError, ValueError):
        return
    need = nodes * INOTIFY_PER_NODE
    if need > limit - 32:  # some left for the host and for other runs
        need += 128
        with open(INOTIFY_LIMIT, "w") as f:
            f.write(str(need))
        log(f"raised fs.inotify.max_user_instances from {limit} to {need} for {nodes} nodes")


def discovery_only():
    """Node files for scenarios that test discovery alone: the agent publishes and browses but does not act on
    its role (no keepalived, HAProxy or kubeadm: a master's preflight would fail in a bare container)."""
    return {"/etc/systemd/system/piagent.service.d/discovery-only.conf": "[Service]\nEnvironment=PIAGENT_ROLES=no\n"}


def txt_key(secret):
    """The MAC key of TXT records (docs/discovery.md, "Signed records"): HKDF-SHA256, salt "piagent", info
    "piagent txt mac v2"."""
    prk = hmac.new(b"piagent", secret.encode(), hashlib.sha256).digest()
    return hmac.new(prk, b"piagent txt mac v2\x01", hashlib.sha256).digest()


def txt_mac(secret, name, host, port, items):
    """The mac= value for items (every non-empty item but mac=) published as service name on host:port."""
    def lp(b):
        return bytes([len(b)]) + b
    items = [i for i in items if i and not i.startswith("mac=")]
    msg = (b"piagent-txt\x00\x02" + lp(name.encode()) + lp(host.lower().rstrip(".").encode())
           + port.to_bytes(2, "big") + b"".join(lp(i.encode()) for i in sorted(items, key=lambda i: i.split("=")[0])))
    return hmac.new(txt_key(secret), msg, hashlib.sha256).digest()[:16].hex()


def signed_txt(secret, name, host, port, items):
    """items with their mac= appended: a record that verifies (only a holder of the secret can make one)."""
    return list(items) + [f"mac={txt_mac(secret, name, host, port, items)}"]
