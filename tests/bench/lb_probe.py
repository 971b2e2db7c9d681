#!/usr/bin/env python3
"""Probes for the load-balancer benchmark, run inside test nodes (python3
stdlib only). Every time is CLOCK_MONOTONIC in seconds (the host's clock in
every nspawn node). Output: one JSON object per line on stdout.

  lb_probe.py probe HOST:PORT --duration S [--interval 0.025] [--connect-timeout 0.2] [--timeout 1]
      A new probe every --interval, each in its own thread (a slow probe does
      not delay the next): TCP connect (short timeout), TLS, `GET /`, the
      answer's body (the master's name). Lines: {"t0", "t1", "ok", "name"|"err", "phase"}.

  lb_probe.py hold HOST:PORT --duration S [--interval 0.1] [--timeout 2]
      One long-lived TLS keep-alive connection: `GET /` on it every
      --interval. Lines per request; the last line says whether the one
      connection lasted: {"summary": ..., "requests", "failures", "reconnects", "names"}.

  lb_probe.py servers --socket /run/haproxy/admin.sock --duration S [--interval 0.02]
      Polls HAProxy's `show stat` and prints every server status change:
      {"t", "server", "status"} (status "UP", "DOWN", "UP 1/2", "no check"...).

  lb_probe.py save-state [--socket ...] [--out /var/lib/haproxy/server-state]
      `show servers state` into a file, for load-server-state-from-file.
"""

import argparse
import json
import os
import socket
import ssl
import sys
import threading
import time

_out_lock = threading.Lock()


def emit(obj):
    with _out_lock:
        sys.stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")


def split_target(s):
    host, _, port = s.rpartition(":")
    return host, int(port)


def tls_context():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def read_response(f):
    """(status, body) of one HTTP/1.1 response with Content-Length."""
    line = f.readline()
    if not line:
        raise ConnectionError("connection closed before an answer")
    parts = line.decode("latin-1").split()
    if len(parts) < 2 or not parts[0].startswith("HTTP/"):
        raise ConnectionError(f"bad status line {line[:40]!r}")
    status = int(parts[1])
    length = 0
    while True:
        h = f.readline()
        if not h:
            raise ConnectionError("connection closed in the headers")
        if h in (b"\r\n", b"\n"):
            break
        k, _, v = h.decode("latin-1").partition(":")
        if k.strip().lower() == "content-length":
            length = int(v.strip())
    body = f.read(length) if length else b""
    if len(body) != length:
        raise ConnectionError("short body")
    return status, body.decode("utf-8", "replace")


def one_probe(host, port, ctx, connect_timeout, timeout):
    t0 = time.monotonic()
    phase = "connect"
    try:
        s = socket.create_connection((host, port), timeout=connect_timeout)
        try:
            phase = "tls"
            s.settimeout(max(0.05, timeout - (time.monotonic() - t0)))
            tls = ctx.wrap_socket(s)
            phase = "http"
            tls.sendall(b"GET / HTTP/1.1\r\nHost: apiserver\r\nConnection: close\r\n\r\n")
            status, body = read_response(tls.makefile("rb"))
            tls.close()
        finally:
            s.close()
        if status != 200:
            emit({"t0": t0, "t1": time.monotonic(), "ok": False, "phase": phase, "err": f"HTTP {status}"})
        else:
            emit({"t0": t0, "t1": time.monotonic(), "ok": True, "name": body.strip()})
    except Exception as e:  # noqa: BLE001 - every failure is a data point
        emit({"t0": t0, "t1": time.monotonic(), "ok": False, "phase": phase, "err": type(e).__name__ + ": " + str(e)[:80]})


def cmd_probe(a):
    host, port = split_target(a.target)
    ctx = tls_context()
    end = time.monotonic() + a.duration
    nxt = time.monotonic()
    threads = []
    while nxt < end:
        t = threading.Thread(target=one_probe, args=(host, port, ctx, a.connect_timeout, a.timeout), daemon=True)
        t.start()
        threads.append(t)
        threads = [x for x in threads if x.is_alive()]
        nxt += a.interval
        d = nxt - time.monotonic()
        if d > 0:
            time.sleep(d)
        else:
            nxt = time.monotonic()  # overloaded: do not burst to catch up
    for t in threads:
        t.join(a.timeout + 1)
    sys.stdout.flush()
    return 0


def cmd_hold(a):
    host, port = split_target(a.target)
    ctx = tls_context()
    end = time.monotonic() + a.duration
    conn = f = None
    reconnects = failures = requests = 0
    names = {}
    first_name = None
    connected_at = None
    while time.monotonic() < end:
        t0 = time.monotonic()
        try:
            if conn is None:
                s = socket.create_connection((host, port), timeout=a.timeout)
                s.settimeout(a.timeout)
                conn = ctx.wrap_socket(s)
                f = conn.makefile("rb")
                connected_at = time.monotonic()
                if requests:
                    reconnects += 1
            requests += 1
            conn.sendall(b"GET / HTTP/1.1\r\nHost: apiserver\r\n\r\n")
            status, body = read_response(f)
            name = body.strip()
            names[name] = names.get(name, 0) + 1
            first_name = first_name or name
            emit({"t0": t0, "t1": time.monotonic(), "ok": status == 200, "name": name})
        except Exception as e:  # noqa: BLE001
            failures += 1
            emit({"t0": t0, "t1": time.monotonic(), "ok": False, "err": type(e).__name__ + ": " + str(e)[:80]})
            try:
                if conn:
                    conn.close()
            except OSError:
                pass
            conn = None
        d = t0 + a.interval - time.monotonic()
        if d > 0:
            time.sleep(d)
    emit({"summary": "hold", "requests": requests, "failures": failures, "reconnects": reconnects,
          "names": names, "connected_at": connected_at})
    return 0


def stats(sock_path):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(1)
        s.connect(sock_path)
        s.sendall(b"show stat -1 4 -1\n")
        buf = b""
        while True:
            d = s.recv(65536)
            if not d:
                break
            buf += d
    lines = buf.decode().splitlines()
    if not lines or not lines[0].startswith("# "):
        raise ValueError("no CSV header from the stats socket")
    cols = lines[0][2:].split(",")
    i_px, i_sv, i_st = cols.index("pxname"), cols.index("svname"), cols.index("status")
    out = {}
    for line in lines[1:]:
        f = line.split(",")
        if len(f) > i_st:
            out[f"{f[i_px]}/{f[i_sv]}"] = f[i_st]
    return out


def cmd_servers(a):
    end = time.monotonic() + a.duration
    last = {}
    errors = 0
    while time.monotonic() < end:
        t = time.monotonic()
        try:
            cur = stats(a.socket)
        except (OSError, ValueError) as e:
            errors += 1
            if errors in (1, 10, 100):
                emit({"t": t, "error": str(e)})
            cur = None
        if cur is not None:
            for k, v in cur.items():
                if last.get(k) != v:
                    emit({"t": t, "server": k.split("/", 1)[1], "backend": k.split("/", 1)[0], "status": v})
            for k in set(last) - set(cur):
                emit({"t": t, "server": k.split("/", 1)[1], "backend": k.split("/", 1)[0], "status": "gone"})
            last = cur
        time.sleep(max(0.0, t + a.interval - time.monotonic()))
    emit({"summary": "servers", "errors": errors, "final": last})
    return 0


def cmd_save_state(a):
    """`show servers state` into a file (atomically): what HAProxy's load-server-state-from-file reads after a
    reload, so that a server that is DOWN stays DOWN in the new worker."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(2)
        s.connect(a.socket)
        s.sendall(b"show servers state\n")
        buf = b""
        while True:
            d = s.recv(65536)
            if not d:
                break
            buf += d
    tmp = a.out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(buf)
    os.replace(tmp, a.out)
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("probe")
    p.add_argument("target")
    p.add_argument("--duration", type=float, required=True)
    p.add_argument("--interval", type=float, default=0.025)
    p.add_argument("--connect-timeout", type=float, default=0.2)
    p.add_argument("--timeout", type=float, default=1.0)
    h = sub.add_parser("hold")
    h.add_argument("target")
    h.add_argument("--duration", type=float, required=True)
    h.add_argument("--interval", type=float, default=0.1)
    h.add_argument("--timeout", type=float, default=2.0)
    s = sub.add_parser("servers")
    s.add_argument("--socket", default="/run/haproxy/admin.sock")
    s.add_argument("--duration", type=float, required=True)
    s.add_argument("--interval", type=float, default=0.02)
    v = sub.add_parser("save-state")
    v.add_argument("--socket", default="/run/haproxy/admin.sock")
    v.add_argument("--out", default="/var/lib/haproxy/server-state")
    a = ap.parse_args(argv)
    return {"probe": cmd_probe, "hold": cmd_hold, "servers": cmd_servers, "save-state": cmd_save_state}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
