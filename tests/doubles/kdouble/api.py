"""HTTPS client for the double's apiserver (and etcd's JSON gateway)."""

import http.client
import json
import os
import shutil
import ssl
import tempfile

from .gotypes import split_host_port


class ApiError(Exception):
    def __init__(self, status, message, reason=""):
        super().__init__(message)
        self.status, self.message, self.reason = status, message, reason


def ssl_context(ca_pem=None, cert_pem=None, key_pem=None, insecure=False, cafile=None, certfile=None, keyfile=None):
    if insecure:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    else:
        ctx = ssl.create_default_context(cafile=cafile, cadata=ca_pem.decode() if ca_pem else None)
    if certfile:
        ctx.load_cert_chain(certfile, keyfile)
    elif cert_pem:
        d = tempfile.mkdtemp(prefix="kubeadm-double-", dir="/run" if os.access("/run", os.W_OK) else None)
        try:
            c, k = os.path.join(d, "c"), os.path.join(d, "k")
            for p, data in ((c, cert_pem), (k, key_pem)):
                fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
            ctx.load_cert_chain(c, k)
        finally:
            shutil.rmtree(d, ignore_errors=True)
    return ctx


class Client:
    """One apiserver endpoint ("host:port"); auth by client certificate in
    the context, or by bearer token."""

    def __init__(self, endpoint, ctx, token=None, timeout=10.0):
        host, port = split_host_port(endpoint)
        self.endpoint, self.host, self.port = endpoint, host, int(port)
        self.ctx, self.token, self.timeout = ctx, token, timeout

    def request(self, method, path, body=None, ok_404=False):
        conn = http.client.HTTPSConnection(self.host, self.port, context=self.ctx, timeout=self.timeout)
        headers = {"Accept": "application/json", "User-Agent": "kubeadm-double"}
        if self.token:
            headers["Authorization"] = "Bearer " + self.token
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            conn.request(method, path, body=data, headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
        finally:
            conn.close()
        try:
            obj = json.loads(raw) if raw else {}
        except ValueError:
            obj = {"message": raw.decode(errors="replace").strip()}
        if resp.status == 404 and ok_404:
            return None
        if resp.status >= 400:
            msg = obj.get("message") if isinstance(obj, dict) else None
            raise ApiError(resp.status, msg or f"the server responded with status {resp.status}",
                           obj.get("reason", "") if isinstance(obj, dict) else "")
        return obj

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def put(self, path, body):
        return self.request("PUT", path, body)

    def post(self, path, body):
        return self.request("POST", path, body)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def raw_get(self, path):
        """(status, body text) without raising on HTTP errors."""
        conn = http.client.HTTPSConnection(self.host, self.port, context=self.ctx, timeout=self.timeout)
        try:
            conn.request("GET", path, headers={"User-Agent": "kubeadm-double"})
            resp = conn.getresponse()
            return resp.status, resp.read().decode(errors="replace")
        finally:
            conn.close()


def from_kubeconfig(kc, timeout=10.0):
    ctx = ssl_context(ca_pem=kc.ca_pem, cert_pem=kc.cert_pem, key_pem=kc.key_pem)
    return Client(kc.host_port(), ctx, timeout=timeout)
