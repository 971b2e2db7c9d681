"""The double's kube-apiserver: HTTPS on :6443 with a certificate from the
cluster CA, state in the (real, replicated) etcd, so every control-plane
node's apiserver serves the same tokens, uploaded certificates and nodes.

What it serves, with real Kubernetes paths where there is one:
  /readyz /livez /healthz /version                         anonymous
  GET  /api/v1/namespaces/kube-public/configmaps/cluster-info
       anonymous; the kubeconfig plus one jws-kubeconfig-<id> detached
       signature per live signing token, computed on read (what the
       bootstrap signer and token cleaner controllers keep up to date)
  PUT  .../configmaps/cluster-info, .../configmaps/kubeadm-config   admin
  GET  .../kube-system/configmaps/kubeadm-config           admin, token, node
  GET/POST .../kube-system/secrets, DELETE .../secrets/<name>      admin
  GET  .../kube-system/secrets/kubeadm-certs   admin or bootstrap token; gone
       when its owner token (2 h TTL) has expired
  PUT  .../kube-system/secrets/kubeadm-certs               admin
  POST /apis/certificates.k8s.io/v1/certificatesigningrequests
       bootstrap token in group system:bootstrappers:kubeadm:default-node-token
       (kubeadm's auto-approval), signed at once by the cluster CA
  GET  /api/v1/nodes (admin), /api/v1/nodes/<name> (admin, token, node)
  PUT  /api/v1/nodes/<name>/status   the node itself: registers/heartbeats
  DELETE /api/v1/nodes/<name>        admin
  GET/POST/DELETE /double/v1/control-plane[/<name>]   admin: the control-plane
       members (advertise address, etcd URLs) joiners find etcd through
  GET/POST /double/v1/applied        admin: objects `kubectl apply` recorded

Identities: a client certificate from the cluster CA (O=system:masters or
kubeadm:cluster-admins: admin; CN=system:node:<n>, O=system:nodes: node n),
a bearer bootstrap token (checked: id, secret, expiry on the double's clock,
usage-bootstrap-authentication), or anonymous. A bad bearer token is a 401.
"""

import argparse
import base64
import http.server
import json
import socketserver
import ssl
import sys
import threading
import time
import urllib.parse

from . import node as nodemod
from . import pki
from .etcd import Etcd, EtcdError
from .gotypes import DEFAULT_TOKEN_GROUP, TOKEN_RE

K_CLUSTER_INFO = "/registry/configmaps/kube-public/cluster-info"
K_KUBEADM_CONFIG = "/registry/configmaps/kube-system/kubeadm-config"
K_SECRETS = "/registry/secrets/kube-system/"
K_TOKEN_PREFIX = K_SECRETS + "bootstrap-token-"
K_CERTS = K_SECRETS + "kubeadm-certs"
K_NODES = "/registry/minions/"
K_CP = "/registry/double/control-plane/"
K_APPLIED = "/registry/double/applied/"

ADMIN_GROUPS = ("system:masters", "kubeadm:cluster-admins")
MAX_BODY = 4 << 20


def token_fields(secret):
    data = secret.get("data") or {}
    out = {}
    for k, v in data.items():
        try:
            out[k] = base64.b64decode(v).decode()
        except (ValueError, UnicodeDecodeError):
            out[k] = ""
    return out


def token_live(fields, now):
    exp = fields.get("expiration")
    if not exp:
        return True
    try:
        return nodemod.parse_rfc3339(exp) > now
    except ValueError:
        return False


def _status(code, reason, message):
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason, "code": code}


class HTTPError(Exception):
    def __init__(self, code, reason, message):
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message


def not_found(resource, name):
    return HTTPError(404, "NotFound", f'{resource} "{name}" not found')


FORBIDDEN = HTTPError(403, "Forbidden", "forbidden")


class State:
    def __init__(self, args):
        self.args = args
        self.etcd = Etcd(args.etcd_servers.split(","), args.etcd_cafile, args.etcd_certfile, args.etcd_keyfile,
                         timeout=3.0)
        self.ready_lock = threading.Lock()
        self.ready_at, self.ready_ok, self.ready_err = 0.0, False, ""
        with open(args.cluster_signing_cert_file, "rb") as f:
            self.ca_pem = f.read()
        self.ca_cert = pki.load_cert(self.ca_pem)
        with open(args.cluster_signing_key_file, "rb") as f:
            self.ca_key = pki.load_key(f.read())

    def ready(self):
        with self.ready_lock:
            if time.monotonic() - self.ready_at < 0.3:
                return self.ready_ok, self.ready_err
        try:
            self.etcd.health()
            ok, err = True, ""
        except EtcdError as e:
            ok, err = False, str(e)
        with self.ready_lock:
            self.ready_at, self.ready_ok, self.ready_err = time.monotonic(), ok, err
        return ok, err

    def grace(self):
        return nodemod.float_setting("node-grace-s", 40.0)

    def tokens(self, now, live_only=True):
        out = []
        for _k, v in self.etcd.range_prefix(K_TOKEN_PREFIX):
            try:
                s = json.loads(v)
            except ValueError:
                continue
            f = token_fields(s)
            if not live_only or token_live(f, now):
                out.append((s, f))
        return out

    def token(self, token_id):
        s = self.etcd.get_json(K_TOKEN_PREFIX + token_id)
        return (s, token_fields(s)) if s else (None, None)


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "kube-apiserver-double"
    protocol_version = "HTTP/1.0"
    state: State = None

    # -- plumbing ----------------------------------------------------------

    def log_message(self, fmt, *args):
        pass

    def _log(self, code):
        path = self.path.split("?", 1)[0]
        if path in ("/readyz", "/livez", "/healthz") and code == 200:
            return
        who = getattr(self, "who", ("anonymous", None))
        print(f"{self.command} {path} {code} from {self.client_address[0]} as {who[0]}"
              f"{(':' + who[1]) if who[1] else ''}", file=sys.stderr, flush=True)

    def _send(self, code, obj=None, text=None):
        body = (text if text is not None else json.dumps(obj, sort_keys=True)).encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain; charset=utf-8" if text is not None else "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self._log(code)

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            raise HTTPError(413, "RequestEntityTooLarge", "request entity too large")
        raw = self.rfile.read(n) if n else b""
        try:
            return json.loads(raw) if raw else {}
        except ValueError:
            raise HTTPError(400, "BadRequest", "the request body is not JSON") from None

    def _identity(self):
        cert = self.connection.getpeercert()
        if cert:
            cn, orgs = "", []
            for rdn in cert.get("subject", ()):
                for k, v in rdn:
                    if k == "commonName":
                        cn = v
                    elif k == "organizationName":
                        orgs.append(v)
            if any(g in ADMIN_GROUPS for g in orgs):
                return ("admin", cn)
            if cn.startswith("system:node:") and "system:nodes" in orgs:
                return ("node", cn[len("system:node:"):])
            return ("user", cn)
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            tok = auth[len("Bearer "):].strip()
            m = TOKEN_RE.match(tok)
            if m:
                s, f = self.state.token(m.group(1))
                if (s and token_live(f, nodemod.now()) and f.get("usage-bootstrap-authentication") == "true"
                        and _eq(f.get("token-secret", ""), m.group(2))):
                    groups = [g for g in (f.get("auth-extra-groups") or "").split(",") if g]
                    return ("token", m.group(1), groups)
            raise HTTPError(401, "Unauthorized", "Unauthorized")
        return ("anonymous", None)

    def _require(self, *kinds):
        if self.who[0] not in kinds:
            raise HTTPError(403, "Forbidden", f'{self._user()} cannot {self.command} "{self.path.split("?")[0]}"')

    def _user(self):
        k = self.who[0]
        if k == "token":
            return f'User "system:bootstrap:{self.who[1]}"'
        if k == "anonymous":
            return 'User "system:anonymous"'
        if k == "node":
            return f'User "system:node:{self.who[1]}"'
        return f'User "{self.who[1]}"'

    def _handle(self):
        self.who = ("anonymous", None)
        try:
            self.who = self._identity()
            code, obj = self.route()
            if isinstance(obj, str):
                self._send(code, text=obj)
            else:
                self._send(code, obj)
        except HTTPError as e:
            self._send(e.code, _status(e.code, e.reason, e.message))
        except EtcdError as e:
            self._send(500, _status(500, "InternalError", f"etcdserver: {e}"))
        except (BrokenPipeError, ConnectionResetError):
            pass

    do_GET = do_PUT = do_POST = do_DELETE = _handle

    # -- routes ------------------------------------------------------------

    def route(self):
        url = urllib.parse.urlsplit(self.path)
        path, m = url.path.rstrip("/") or "/", self.command
        st = self.state
        if path in ("/livez", "/healthz/ping"):
            return 200, "ok"
        if path in ("/readyz", "/healthz"):
            ok, err = st.ready()
            if ok:
                return 200, "ok"
            return 500, f"[-]etcd failed: {err}\n{path[1:]} check failed\n"
        if path == "/version":
            major, minor = st.args.version.lstrip("v").split(".")[:2]
            return 200, {"major": major, "minor": minor, "gitVersion": st.args.version, "platform": "linux/amd64"}
        p = path.split("/")
        if path.startswith("/api/v1/namespaces/"):
            if len(p) == 7 and p[5] == "configmaps":
                return self.configmap(p[4], p[6])
            if len(p) == 6 and p[5] == "secrets" and p[4] == "kube-system":
                return self.secrets()
            if len(p) == 7 and p[5] == "secrets" and p[4] == "kube-system":
                return self.secret(p[6])
            raise not_found("resource", path)
        if path == "/api/v1/nodes":
            self._require("admin")
            return 200, {"apiVersion": "v1", "kind": "NodeList", "items": self.nodes()}
        if path.startswith("/api/v1/nodes/"):
            return self.node(p[4], p[5] if len(p) > 5 else None)
        if path == "/apis/certificates.k8s.io/v1/certificatesigningrequests" and m == "POST":
            return self.csr()
        if path.startswith("/double/v1/control-plane"):
            self._require("admin")
            return self.control_plane(p[4] if len(p) > 4 else None)
        if path == "/double/v1/applied":
            self._require("admin")
            return self.applied()
        raise HTTPError(404, "NotFound", "the server could not find the requested resource")

    def configmap(self, ns, name):
        key = {("kube-public", "cluster-info"): K_CLUSTER_INFO,
               ("kube-system", "kubeadm-config"): K_KUBEADM_CONFIG}.get((ns, name))
        if key is None:
            raise not_found("configmaps", name)
        if self.command == "PUT":
            self._require("admin")
            body = self._body()
            body.setdefault("metadata", {}).update({"name": name, "namespace": ns})
            self.state.etcd.put(key, body)
            return 200, body
        if self.command != "GET":
            raise HTTPError(405, "MethodNotAllowed", "method not allowed")
        if name == "kubeadm-config":
            self._require("admin", "token", "node")
        cm = self.state.etcd.get_json(key)
        if cm is None:
            raise not_found("configmaps", name)
        if name == "cluster-info":
            content = (cm.get("data") or {}).get("kubeconfig", "")
            data = {"kubeconfig": content}
            for _s, f in self.state.tokens(nodemod.now()):
                if f.get("usage-bootstrap-signing") == "true" and f.get("token-id") and f.get("token-secret"):
                    data["jws-kubeconfig-" + f["token-id"]] = pki.jws_detached(content, f["token-id"],
                                                                               f["token-secret"])
            cm = dict(cm, data=data)
        return 200, cm

    def secrets(self):
        self._require("admin")
        st = self.state
        if self.command == "GET":
            return 200, {"apiVersion": "v1", "kind": "SecretList", "items": [s for s, _ in st.tokens(nodemod.now())]}
        if self.command != "POST":
            raise HTTPError(405, "MethodNotAllowed", "method not allowed")
        body = self._body()
        name = (body.get("metadata") or {}).get("name", "")
        f = token_fields(body)
        if body.get("type") != "bootstrap.kubernetes.io/token" or name != "bootstrap-token-" + f.get("token-id", "?"):
            raise HTTPError(422, "Invalid", f'Secret "{name}" is invalid: only bootstrap token secrets are served here')
        body.setdefault("metadata", {})["namespace"] = "kube-system"
        body["metadata"]["creationTimestamp"] = nodemod.rfc3339(nodemod.now())
        old, of = st.token(f["token-id"])
        if old and not token_live(of, nodemod.now()):
            st.etcd.delete(K_TOKEN_PREFIX + f["token-id"])  # what the token cleaner would have done
        if not st.etcd.create(K_TOKEN_PREFIX + f["token-id"], body):
            raise HTTPError(409, "AlreadyExists", f'secrets "{name}" already exists')
        return 201, body

    def secret(self, name):
        st = self.state
        if name == "kubeadm-certs":
            if self.command == "PUT":
                self._require("admin")
                body = self._body()
                body.setdefault("metadata", {}).update({"name": name, "namespace": "kube-system"})
                st.etcd.put(K_CERTS, body)
                return 200, body
            if self.command != "GET":
                raise HTTPError(405, "MethodNotAllowed", "method not allowed")
            self._require("admin", "token")
            s = st.etcd.get_json(K_CERTS)
            if s is None or not self._owner_live(s):
                raise not_found("secrets", name)
            return 200, s
        if not name.startswith("bootstrap-token-"):
            raise not_found("secrets", name)
        self._require("admin")
        if self.command == "GET":
            s, f = st.token(name[len("bootstrap-token-"):])
            if not s or not token_live(f, nodemod.now()):
                raise not_found("secrets", name)
            return 200, s
        if self.command == "DELETE":
            if not st.etcd.delete(K_SECRETS + name):
                raise not_found("secrets", name)
            return 200, _status(200, "", "deleted") | {"status": "Success"}
        raise HTTPError(405, "MethodNotAllowed", "method not allowed")

    def _owner_live(self, secret):
        """kubeadm-certs lives as long as the token it is owned by (2 h)."""
        for ref in (secret.get("metadata") or {}).get("ownerReferences") or []:
            if ref.get("kind") == "Secret" and ref.get("name", "").startswith("bootstrap-token-"):
                s, f = self.state.token(ref["name"][len("bootstrap-token-"):])
                return bool(s) and token_live(f, nodemod.now())
        return True

    # -- nodes -------------------------------------------------------------

    def _node_view(self, rec, cps, now):
        name = rec["name"]
        hb = rec.get("heartbeat", 0)
        ready = now - hb <= self.state.grace()
        labels = {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux"}
        labels.update(rec.get("labels") or {})
        if name in cps:
            labels["node-role.kubernetes.io/control-plane"] = ""
            labels["node.kubernetes.io/exclude-from-external-load-balancers"] = ""
        cond = {"type": "Ready", "status": "True" if ready else "Unknown",
                "lastHeartbeatTime": nodemod.rfc3339(hb),
                "reason": "KubeletReady" if ready else "NodeStatusUnknown",
                "message": "kubelet is posting ready status" if ready else "Kubelet stopped posting node status."}
        return {"apiVersion": "v1", "kind": "Node",
                "metadata": {"name": name, "labels": labels, "creationTimestamp": nodemod.rfc3339(rec.get("created", 0))},
                "spec": {"taints": [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]
                         if name in cps else []},
                "status": {"addresses": [{"type": "InternalIP", "address": rec.get("address", "")},
                                         {"type": "Hostname", "address": name}],
                           "conditions": [cond],
                           "nodeInfo": {"kubeletVersion": rec.get("kubeletVersion", "")}}}

    def _cps(self):
        return {k[len(K_CP):]: json.loads(v) for k, v in self.state.etcd.range_prefix(K_CP)}

    def nodes(self):
        now, cps = nodemod.now(), self._cps()
        return [self._node_view(json.loads(v), cps, now) for _k, v in self.state.etcd.range_prefix(K_NODES)]

    def node(self, name, sub):
        st = self.state
        if sub == "status" and self.command == "PUT":
            if not (self.who[0] == "admin" or (self.who[0] == "node" and self.who[1] == name)):
                raise HTTPError(403, "Forbidden", f'{self._user()} cannot update node "{name}" status')
            body = self._body()
            rec = st.etcd.get_json(K_NODES + name) or {"name": name, "created": nodemod.now()}
            rec["heartbeat"] = nodemod.now()
            for k in ("address", "kubeletVersion"):
                if body.get(k):
                    rec[k] = body[k]
            st.etcd.put(K_NODES + name, rec)
            return 200, self._node_view(rec, self._cps(), nodemod.now())
        if sub is not None:
            raise not_found("nodes", f"{name}/{sub}")
        if self.command == "DELETE":
            self._require("admin")
            if not st.etcd.delete(K_NODES + name):
                raise not_found("nodes", name)
            return 200, {"kind": "Status", "status": "Success"}
        self._require("admin", "token", "node")
        rec = st.etcd.get_json(K_NODES + name)
        if rec is None:
            raise not_found("nodes", name)
        return 200, self._node_view(rec, self._cps(), nodemod.now())

    def csr(self):
        body = self._body()
        if self.who[0] == "token":
            if DEFAULT_TOKEN_GROUP not in self.who[2]:
                raise HTTPError(403, "Forbidden", f"{self._user()} is not in group {DEFAULT_TOKEN_GROUP}: the CSR "
                                                  "would not be auto-approved")
        elif self.who[0] not in ("admin", "node"):
            self._require("admin", "token", "node")
        try:
            csr = pki.load_csr(base64.b64decode((body.get("spec") or {}).get("request", "")))
        except (ValueError, TypeError) as e:
            raise HTTPError(422, "Invalid", f"CertificateSigningRequest is invalid: {e}") from None
        cn, orgs = pki.subject(csr)
        if not cn.startswith("system:node:") or orgs != ["system:nodes"]:
            raise HTTPError(403, "Forbidden", "only kubelet client certificates (CN=system:node:<name>, "
                                              "O=system:nodes) are signed")
        if self.who[0] == "node" and cn != "system:node:" + self.who[1]:
            raise FORBIDDEN
        cert, _ = pki.issue(self.state.ca_cert, self.state.ca_key, cn, orgs, client=True, public_key=csr.public_key())
        return 201, {"apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest",
                     "metadata": {"name": "csr-" + cn.split(":")[-1]},
                     "spec": body.get("spec"),
                     "status": {"conditions": [{"type": "Approved", "status": "True",
                                                "reason": "AutoApproved"}],
                                "certificate": pki.b64(pki.cert_pem(cert))}}

    def control_plane(self, name):
        st = self.state
        if name is None:
            if self.command != "GET":
                raise HTTPError(405, "MethodNotAllowed", "method not allowed")
            return 200, {"items": [dict(v, name=k) for k, v in sorted(self._cps().items())]}
        if self.command == "POST" or self.command == "PUT":
            body = self._body()
            st.etcd.put(K_CP + name, {k: body.get(k) for k in ("advertiseAddress", "bindPort", "etcdClientURL",
                                                                 "etcdPeerURL")})
            return 200, body
        if self.command == "DELETE":
            st.etcd.delete(K_CP + name)
            return 200, {"kind": "Status", "status": "Success"}
        raise HTTPError(405, "MethodNotAllowed", "method not allowed")

    def applied(self):
        st = self.state
        if self.command == "GET":
            return 200, {"items": [json.loads(v) for _k, v in st.etcd.range_prefix(K_APPLIED)]}
        body = self._body()
        out = []
        for o in body.get("objects") or []:
            md = o.get("metadata") or {}
            key = f"{K_APPLIED}{o.get('kind')}/{md.get('namespace') or '-'}/{md.get('name')}"
            old = st.etcd.get_json(key)
            st.etcd.put(key, o)
            out.append("configured" if old else "created")
        return 200, {"results": out}


def _eq(a, b):
    import hmac

    return hmac.compare_digest(a.encode(), b.encode())


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, addr, handler, ctx):
        self.ctx = ctx
        super().__init__(addr, handler)

    def finish_request(self, request, client_address):
        request.settimeout(10)
        try:
            tls = self.ctx.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        try:
            self.RequestHandlerClass(tls, client_address, self)
        except (ssl.SSLError, OSError):
            pass
        finally:
            try:
                tls.close()
            except OSError:
                pass


def main(argv=None):
    ap = argparse.ArgumentParser(prog="kube-apiserver-double")
    ap.add_argument("--advertise-address", required=True)
    ap.add_argument("--bind-address", default="0.0.0.0")
    ap.add_argument("--secure-port", type=int, default=6443)
    ap.add_argument("--tls-cert-file", required=True)
    ap.add_argument("--tls-private-key-file", required=True)
    ap.add_argument("--client-ca-file", required=True)
    ap.add_argument("--cluster-signing-cert-file", required=True)
    ap.add_argument("--cluster-signing-key-file", required=True)
    ap.add_argument("--etcd-servers", required=True)
    ap.add_argument("--etcd-cafile", required=True)
    ap.add_argument("--etcd-certfile", required=True)
    ap.add_argument("--etcd-keyfile", required=True)
    ap.add_argument("--version", default=nodemod.version())
    args = ap.parse_args(argv)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.tls_cert_file, args.tls_private_key_file)
    ctx.load_verify_locations(args.client_ca_file)
    ctx.verify_mode = ssl.CERT_OPTIONAL
    Handler.state = State(args)
    srv = Server((args.bind_address, args.secure_port), Handler, ctx)
    print(f"kube-apiserver-double {args.version}: serving on {args.bind_address}:{args.secure_port}, etcd "
          f"{args.etcd_servers}", file=sys.stderr, flush=True)
    nodemod.sd_notify("READY=1")
    try:
        srv.serve_forever(poll_interval=0.5)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
