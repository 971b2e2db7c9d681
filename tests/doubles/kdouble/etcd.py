"""A client for etcd 3.4's v3 JSON gateway (/v3/kv/*, /v3/cluster/*) over
mutual TLS. Keys and values travel base64-encoded; 64-bit numbers as strings."""

import base64
import http.client
import json
import socket
import ssl
import urllib.parse

from .api import ssl_context


class EtcdError(Exception):
    pass


class EtcdUnavailable(EtcdError):
    """No endpoint answered."""


def _b(s):
    return base64.b64encode(s.encode() if isinstance(s, str) else s).decode()


def _unb(s):
    return base64.b64decode(s or "")


def _prefix_end(prefix):
    b = bytearray(prefix.encode())
    for i in range(len(b) - 1, -1, -1):
        if b[i] < 0xFF:
            b[i] += 1
            return bytes(b[: i + 1])
    return b"\0"


class Etcd:
    def __init__(self, endpoints, cafile, certfile, keyfile, timeout=5.0):
        self.endpoints = [e for e in endpoints if e]
        self.timeout = timeout
        self.ctx = ssl_context(cafile=cafile, certfile=certfile, keyfile=keyfile)

    def _call(self, path, body):
        last = None
        for ep in self.endpoints:
            u = urllib.parse.urlsplit(ep)
            conn = http.client.HTTPSConnection(u.hostname, u.port or 2379, context=self.ctx, timeout=self.timeout)
            try:
                conn.request("POST", path, body=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
                resp = conn.getresponse()
                raw = resp.read()
            except (OSError, ssl.SSLError, socket.timeout, http.client.HTTPException) as e:
                last = e
                continue
            finally:
                conn.close()
            try:
                obj = json.loads(raw) if raw else {}
            except ValueError:
                obj = {"error": raw.decode(errors="replace")}
            if resp.status >= 400 or ("error" in obj and "header" not in obj):
                msg = obj.get("message") or obj.get("error") or f"HTTP {resp.status}"
                raise EtcdError(msg)
            return obj
        raise EtcdUnavailable(f"context deadline exceeded: no etcd endpoint answered ({', '.join(self.endpoints)}): "
                              f"{last}")

    # -- kv ----------------------------------------------------------------

    def get(self, key):
        """(value bytes, mod_revision) or (None, 0)."""
        r = self._call("/v3/kv/range", {"key": _b(key)})
        kvs = r.get("kvs") or []
        if not kvs:
            return None, 0
        return _unb(kvs[0].get("value")), int(kvs[0].get("mod_revision", 0))

    def get_json(self, key):
        v, _ = self.get(key)
        return json.loads(v) if v is not None else None

    def range_prefix(self, prefix):
        r = self._call("/v3/kv/range", {"key": _b(prefix), "range_end": _b(_prefix_end(prefix))})
        return [(_unb(kv["key"]).decode(), _unb(kv.get("value"))) for kv in r.get("kvs") or []]

    def put(self, key, value):
        if not isinstance(value, (bytes, str)):
            value = json.dumps(value, sort_keys=True)
        self._call("/v3/kv/put", {"key": _b(key), "value": _b(value)})

    def create(self, key, value):
        """Put only if absent; False when the key exists."""
        if not isinstance(value, (bytes, str)):
            value = json.dumps(value, sort_keys=True)
        r = self._call("/v3/kv/txn", {
            "compare": [{"key": _b(key), "target": "CREATE", "result": "EQUAL", "create_revision": "0"}],
            "success": [{"request_put": {"key": _b(key), "value": _b(value)}}],
        })
        return bool(r.get("succeeded"))

    def delete(self, key):
        r = self._call("/v3/kv/deleterange", {"key": _b(key)})
        return int(r.get("deleted", 0))

    def health(self):
        """A linearizable read: raises without quorum, True otherwise."""
        self._call("/v3/kv/range", {"key": _b("health"), "limit": "1"})
        return True

    # -- cluster -----------------------------------------------------------

    def members(self):
        r = self._call("/v3/cluster/member/list", {})
        return r.get("members") or []

    def member_add(self, peer_urls, learner=False):
        r = self._call("/v3/cluster/member/add", {"peerURLs": list(peer_urls), "isLearner": bool(learner)})
        return r.get("member") or {}, r.get("members") or []

    def member_promote(self, member_id):
        return self._call("/v3/cluster/member/promote", {"ID": str(member_id)})

    def member_remove(self, member_id):
        return self._call("/v3/cluster/member/remove", {"ID": str(member_id)})

    def status(self):
        return self._call("/v3/maintenance/status", {})
