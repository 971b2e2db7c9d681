#!/usr/bin/env python3
"""A stand-in for kube-apiserver's health endpoints, for load-balancer tests.

Runs inside a test node (python3 stdlib + the `openssl` CLI for its
self-signed certificate), HTTPS on :6443:

    GET /readyz, /livez   200 "ok"
    GET /                 200 "<name>\\n" (which master answered through the VIP)
    anything else         404

Modes, switchable at run time:

    ok      as above
    dead    the listening socket is closed and every open connection dropped
            (connects are refused, as when the apiserver process is gone)
    hang    TCP and TLS are accepted, requests are read and never answered
            (a wedged apiserver); hung requests are dropped unanswered when
            the mode changes
    error   /readyz answers 500 (not ready); /livez and / still answer

Control: write the mode into <state-dir>/mode and send SIGUSR1 to the server
(or wait: the file is re-read every 0.2 s). `fake_apiserver.py set-mode MODE`
does both and waits until the server has applied it; it prints the
CLOCK_MONOTONIC time (seconds) at which the switch happened, read from
<state-dir>/applied ("MODE TIME"). CLOCK_MONOTONIC is the host's clock in every
nspawn node, so a test can compare it with its own time.monotonic().

In a node, as a transient unit (Type=notify: `systemd-run` returns once the
port listens):

    systemd-run --unit fake-apiserver --property Type=notify --property NotifyAccess=main \\
        python3 /usr/local/lib/piagent-test/fake_apiserver.py --name m1
    python3 /usr/local/lib/piagent-test/fake_apiserver.py set-mode hang
"""

import argparse
import http.server
import os
import signal
import socket
import socketserver
import ssl
import subprocess
import sys
import threading
import time

MODES = ("ok", "dead", "hang", "error")
DEFAULT_STATE_DIR = "/run/fake-apiserver"


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def write_atomic(path, text):
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def sd_notify(msg):
    addr = os.environ.get("NOTIFY_SOCKET")
    if not addr:
        return
    if addr.startswith("@"):
        addr = "\0" + addr[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as s:
        s.connect(addr)
        s.sendall(msg.encode())


def make_cert(state_dir, name):
    crt, key = os.path.join(state_dir, "tls.crt"), os.path.join(state_dir, "tls.key")
    if not (os.path.exists(crt) and os.path.exists(key)):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-days", "30", "-subj", f"/CN={name}", "-addext",
                        f"subjectAltName=DNS:{name},DNS:localhost",
                        "-keyout", key, "-out", crt], check=True, capture_output=True)
    return crt, key


class State:
    """The current mode, shared by the control loop and the handlers."""

    def __init__(self, mode):
        self.mode = mode
        self.cond = threading.Condition()
        self.conns = set()  # open client sockets (dropped in mode dead)

    def set(self, mode):
        with self.cond:
            self.mode = mode
            self.cond.notify_all()

    def get(self):
        with self.cond:
            return self.mode

    def wait_not(self, mode):
        """Block while the mode is `mode`."""
        with self.cond:
            while self.mode == mode:
                self.cond.wait()

    def track(self, sock, add):
        with self.cond:
            (self.conns.add if add else self.conns.discard)(sock)

    def drop_all(self):
        with self.cond:
            conns = list(self.conns)
        for s in conns:
            try:
                # The plain socket's shutdown (also for an SSLSocket): the
                # handler thread blocked in a read gets EOF.
                socket.socket.shutdown(s, socket.SHUT_RDWR)
            except OSError:
                pass


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: a long-lived client connection through the VIP
    server_version = "fake-apiserver/1"
    timeout = 3600

    def log_message(self, fmt, *args):
        pass  # health checks arrive several times a second

    def log_error(self, fmt, *args):
        pass

    def _answer(self, code, body):
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Fake-Apiserver", self.server.name)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        st = self.server.state
        mode = st.get()
        if mode == "hang":
            # Read, never answered; dropped once the mode changes.
            st.wait_not("hang")
            self.close_connection = True
            return
        if mode == "dead":
            self.close_connection = True
            return
        path = self.path.split("?", 1)[0]
        if path == "/readyz":
            if mode == "error":
                self._answer(500, "[-]etcd failed: reason withheld\nreadyz check failed\n")
            else:
                self._answer(200, "ok")
        elif path == "/livez":
            self._answer(200, "ok")
        elif path == "/":
            self._answer(200, self.server.name + "\n")
        else:
            self._answer(404, "not found\n")


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr, state, ctx, name):
        self.state, self.ctx, self.name = state, ctx, name
        super().__init__(addr, Handler)

    def process_request_thread(self, request, client_address):
        # TLS in the connection's own thread: a client that connects and never
        # sends a ClientHello must not block the accept loop.
        self.state.track(request, True)
        try:
            request.settimeout(10)
            tls = self.ctx.wrap_socket(request, server_side=True)  # detaches request's descriptor
        except (OSError, ssl.SSLError):
            self.state.track(request, False)
            self.shutdown_request(request)
            return
        self.state.track(request, False)
        self.state.track(tls, True)
        try:
            tls.settimeout(Handler.timeout)
            self.finish_request(tls, client_address)
        except Exception:
            pass
        finally:
            self.state.track(tls, False)
            try:
                tls.close()
            except OSError:
                pass


def serve(args):
    os.makedirs(args.state_dir, exist_ok=True)
    crt, key = make_cert(args.state_dir, args.name)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(crt, key)

    mode_file = os.path.join(args.state_dir, "mode")
    applied_file = os.path.join(args.state_dir, "applied")
    write_atomic(mode_file, args.mode + "\n")  # a (re)start begins in the mode asked for
    write_atomic(os.path.join(args.state_dir, "pid"), f"{os.getpid()}\n")

    state = State(None)
    server = None
    server_thread = None

    def start_listening():
        nonlocal server, server_thread
        server = Server(("", args.port), state, ctx, args.name)
        server_thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        server_thread.start()

    def stop_listening():
        nonlocal server, server_thread
        if server:
            server.shutdown()
            server.server_close()
            server_thread.join()
            server = server_thread = None

    def apply(mode):
        old = state.get()
        if mode == old:
            return
        if mode == "dead":
            stop_listening()
            state.set(mode)
            state.drop_all()
        else:
            if server is None:
                start_listening()
            state.set(mode)
            if old == "hang":
                pass  # hung handlers wake up and close their connections
        t = time.monotonic()
        write_atomic(applied_file, f"{mode} {t:.6f}\n")
        log(f"mode {old} -> {mode} at monotonic {t:.6f}")

    def read_mode():
        try:
            with open(mode_file) as f:
                m = f.read().strip()
        except OSError:
            return None
        if m not in MODES:
            log(f"ignoring unknown mode {m!r} in {mode_file}")
            return None
        return m

    wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    signal.set_wakeup_fd(wake_w)
    stop = []
    signal.signal(signal.SIGUSR1, lambda *_: None)
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))

    apply(args.mode)
    log(f"fake apiserver {args.name} on :{args.port} (state in {args.state_dir})")
    sd_notify(f"READY=1\nSTATUS=mode {state.get()}")

    import select
    while not stop:
        try:
            select.select([wake_r], [], [], 0.2)
            os.read(wake_r, 512)
        except (BlockingIOError, InterruptedError):
            pass
        m = read_mode()
        if m and m != state.get():
            apply(m)
            sd_notify(f"STATUS=mode {m}")
    stop_listening()
    state.set("dead")
    state.drop_all()
    return 0


def set_mode(args):
    if args.mode not in MODES:
        raise SystemExit(f"unknown mode {args.mode!r} (one of {', '.join(MODES)})")
    mode_file = os.path.join(args.state_dir, "mode")
    applied_file = os.path.join(args.state_dir, "applied")
    write_atomic(mode_file, args.mode + "\n")
    try:
        with open(os.path.join(args.state_dir, "pid")) as f:
            os.kill(int(f.read()), signal.SIGUSR1)
    except (OSError, ValueError) as e:
        log(f"could not signal the server ({e}); it re-reads {mode_file} by itself")
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        try:
            with open(applied_file) as f:
                mode, t = f.read().split()
            if mode == args.mode:
                print(t)
                return 0
        except (OSError, ValueError):
            pass
        time.sleep(0.005)
    raise SystemExit(f"the server did not apply mode {args.mode} within {args.timeout} s")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--state-dir", default=DEFAULT_STATE_DIR)
    sub = ap.add_subparsers(dest="cmd")
    s = sub.add_parser("serve", help="run the server (the default)")
    for p in (ap, s):
        p.add_argument("--name", default=socket.gethostname(), help="answer to GET / (default: the hostname)")
        p.add_argument("--port", type=int, default=6443)
        p.add_argument("--mode", default="ok", choices=MODES, help="initial mode")
    m = sub.add_parser("set-mode", help="switch a running server's mode")
    m.add_argument("mode", choices=MODES)
    m.add_argument("--timeout", type=float, default=5.0)
    args = ap.parse_args(argv)
    if args.cmd == "set-mode":
        return set_mode(args)
    return serve(args)


if __name__ == "__main__":
    sys.exit(main())
