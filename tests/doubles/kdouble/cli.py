"""`kubeadm`, the test double: see docs/kubeadm-double.md."""

import json
import os
import shutil
import signal
import sys
import time

from . import config as cfgmod
from . import flags as flagmod
from . import node
from .gotypes import (
    DEFAULT_TOKEN_GROUP,
    TOKEN_ID_RE,
    TOKEN_RE,
    TOKEN_RE_TEXT,
    KubeadmError,
    certificate_key_errors,
    format_duration,
    parse_duration,
    parse_version,
    split_host_port,
    ValidationError,
)

LIBDIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STACK_HINT = "To see the stack trace of this error execute with --v=5 or higher"
UPLOAD_CERTS_TTL = 2 * 3600.0
SHARED_CERTS = {  # kubeadm-certs data key -> path under the certificates dir
    "ca.crt": "ca.crt", "ca.key": "ca.key", "sa.key": "sa.key", "sa.pub": "sa.pub",
    "front-proxy-ca.crt": "front-proxy-ca.crt", "front-proxy-ca.key": "front-proxy-ca.key",
    "etcd-ca.crt": "etcd/ca.crt", "etcd-ca.key": "etcd/ca.key",
}
KUBECONFIG_FILES = ("admin.conf", "super-admin.conf", "kubelet.conf", "bootstrap-kubelet.conf",
                    "controller-manager.conf", "scheduler.conf")


def out(msg=""):
    print(msg, flush=True)


def warn(run, msg):
    run.warnings.append(msg)
    print(f"W{time.strftime('%m%d %H:%M:%S')} {os.getpid()} {msg}", file=sys.stderr, flush=True)


class Run:
    """One invocation: parsed flags, faults, what the log records."""

    def __init__(self, parsed, faults):
        self.p, self.faults = parsed, faults
        self.warnings = []
        self.extra = {}


# -- helpers -------------------------------------------------------------------


def _load_docs(run, path, allow_experimental=False):
    try:
        with open(path) as f:
            text = f.read()
    except OSError as e:
        raise KubeadmError(f"unable to read config from {path!r} : open {path}: {e.strerror.lower()}") from None
    allow = node.read_setting("allow-deprecated-api") is not None or os.path.exists(
        os.path.join(node.ETC, "allow-deprecated-api"))
    docs = cfgmod.load_documents(text, node.version(), allow_deprecated=allow, allow_experimental=allow_experimental)
    return docs


def _pki():
    from . import pki

    return pki


def _endpoint(cluster, ip, port):
    cpe = cluster.get("controlPlaneEndpoint")
    if cpe:
        try:
            split_host_port(cpe)
            return cpe
        except ValueError:
            return f"{cpe}:{port}"
    return f"{ip}:{port}" if ":" not in ip else f"[{ip}]:{port}"


def _preflight(run, checks, ignore):
    """checks: [(name, error message or None, is_warning)]."""
    ignore = {i.lower() for i in ignore}
    errors = []
    for name, msg, warning in checks:
        if not msg:
            continue
        if warning or "all" in ignore or name.lower() in ignore:
            out(f"\t[WARNING {name}]: {msg}")
            run.warnings.append(f"[WARNING {name}]: {msg}")
        else:
            errors.append(f"\t[ERROR {name}]: {msg}")
    if errors:
        raise KubeadmError("error execution phase preflight: [preflight] Some fatal errors occurred:\n"
                           + "\n".join(errors)
                           + "\n[preflight] If you know what you are doing, you can make a check non-fatal with "
                             "`--ignore-preflight-errors=...`")


def _file_check(path):
    name = "FileAvailable-" + path.replace("/", "-")
    return (name, f"{path} already exists" if os.path.exists(path) else None, False)


def _dir_check(path):
    name = "DirAvailable-" + path.replace("/", "-")
    busy = os.path.isdir(path) and bool(os.listdir(path))
    return (name, f"{path} is not empty" if busy else None, False)


def _control_plane_checks(bind_port, etcd_dir):
    checks = [
        ("IsPrivilegedUser", None if os.geteuid() == 0 else "user is not running as root", False),
        ("NumCPU", None if (os.cpu_count() or 1) >= 2 else
         f"the number of available CPUs {os.cpu_count()} is less than the required 2", False),
        ("Mem", None if node.meminfo_mb() >= 1700 else
         f"the system RAM ({node.meminfo_mb()} MB) is less than the minimum 1700 MB", False),
    ]
    for port in (bind_port, 2379, 2380):
        checks.append((f"Port-{port}", f"Port {port} is in use" if node.port_in_use(port) else None, False))
    for m in ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd"):
        checks.append(_file_check(f"{node.MANIFESTS}/{m}.yaml"))
    checks.append(_dir_check(etcd_dir))
    return checks


def _pull_images(run, cluster, nodereg, ignore):
    """preflight.RunPullImagesCheck: every control-plane image present or pulled, else [ERROR ImagePull]."""
    from . import images

    out("[preflight] Pulling images required for setting up a Kubernetes cluster")
    out("[preflight] This might take a minute or two, depending on the speed of your internet connection")
    out("[preflight] You can also perform this action beforehand using 'kubeadm config images pull'")
    errors = images.pull_check(images.control_plane_images(cluster, node.version()),
                               nodereg.get("imagePullPolicy") or "IfNotPresent")
    _preflight(run, [("ImagePull", e, False) for e in errors], ignore)


def _write_pair(certdir, name, cert, key):
    pki = _pki()
    node.write_file(os.path.join(certdir, name + ".crt"), pki.cert_pem(cert), 0o644)
    node.write_file(os.path.join(certdir, name + ".key"), pki.key_pem(key), 0o600)


def _load_pair(certdir, name):
    pki = _pki()
    try:
        cert = pki.load_cert(node.read_file(os.path.join(certdir, name + ".crt")))
        key = pki.load_key(node.read_file(os.path.join(certdir, name + ".key")))
    except FileNotFoundError as e:
        raise KubeadmError(f"failure loading {name} certificate authority: couldn't load the certificate file "
                           f"{e.filename}: open {e.filename}: no such file or directory") from None
    return cert, key


def _first_service_ip(subnet):
    import ipaddress

    n = ipaddress.ip_network(subnet.split(",")[0].strip(), strict=False)
    return str(n.network_address + 1)


def _alg(cluster):
    """The key algorithm: /etc/kubeadm-double/key-algorithm (a speed knob
    for benchmarks: RSA keys take up to a second each on a busy machine)
    overrides the cluster's encryptionAlgorithm."""
    alg = node.read_setting("key-algorithm") or cluster.get("encryptionAlgorithm") or "RSA-2048"
    if alg not in cfgmod.ENCRYPTION_ALGORITHMS:
        raise KubeadmError(f"{node.ETC}/key-algorithm: unsupported algorithm {alg!r}; supported: "
                           + ", ".join(cfgmod.ENCRYPTION_ALGORITHMS))
    return alg


def _node_certs(certdir, cluster, node_name, ip, say=out):
    """The certificates each control-plane node makes for itself from the
    shared CAs (what `kubeadm join --control-plane` makes after downloading
    them)."""
    pki = _pki()
    alg = _alg(cluster)
    ca, ca_key = _load_pair(certdir, "ca")
    fp, fp_key = _load_pair(certdir, "front-proxy-ca")
    eca, eca_key = _load_pair(certdir, "etcd/ca")
    dns = [node_name, node.hostname(), "kubernetes", "kubernetes.default", "kubernetes.default.svc",
           "kubernetes.default.svc." + cluster["networking"]["dnsDomain"]]
    ips = [_first_service_ip(cluster["networking"]["serviceSubnet"]), ip, "127.0.0.1"]
    cpe = cluster.get("controlPlaneEndpoint")
    extra = [cpe.rsplit(":", 1)[0].strip("[]") if cpe and (":" in cpe) else cpe] if cpe else []
    extra += (cluster.get("apiServer") or {}).get("certSANs") or []
    for san in extra:
        (ips if pki_ip(san) else dns).append(san)
    say('[certs] Generating "apiserver" certificate and key')
    say(f"[certs] apiserver serving cert is signed for DNS names [{' '.join(_uniq(dns))}] and IPs "
        f"[{' '.join(_uniq(ips))}]")
    _write_pair(certdir, "apiserver", *pki.issue(ca, ca_key, "kube-apiserver", dns=dns, ips=ips, server=True,
                                                   algorithm=alg))
    say('[certs] Generating "front-proxy-client" certificate and key')
    _write_pair(certdir, "front-proxy-client", *pki.issue(fp, fp_key, "front-proxy-client", client=True,
                                                            algorithm=alg))
    edns, eips = [node_name, "localhost"], [ip, "127.0.0.1", "::1"]
    local = (cluster.get("etcd") or {}).get("local") or {}
    for n in ("server", "peer"):
        sans = list(local.get(f"{n}CertSANs") or [])
        d = edns + [s for s in sans if not pki_ip(s)]
        i = eips + [s for s in sans if pki_ip(s)]
        say(f'[certs] Generating "etcd/{n}" certificate and key')
        _write_pair(certdir, f"etcd/{n}", *pki.issue(eca, eca_key, node_name, dns=d, ips=i, server=True, client=True,
                                                      algorithm=alg))
    say('[certs] Generating "etcd/healthcheck-client" certificate and key')
    _write_pair(certdir, "etcd/healthcheck-client", *pki.issue(eca, eca_key, "kube-etcd-healthcheck-client",
                                                                 client=True, algorithm=alg))
    say('[certs] Generating "apiserver-etcd-client" certificate and key')
    _write_pair(certdir, "apiserver-etcd-client", *pki.issue(eca, eca_key, "kube-apiserver-etcd-client",
                                                               client=True, algorithm=alg))


def pki_ip(s):
    from .gotypes import parse_ip

    return parse_ip(s) is not None


def _uniq(items):
    seen, res = set(), []
    for i in items:
        if i not in seen:
            seen.add(i)
            res.append(i)
    return res


def _kubeconfig_file(certdir, name, server, cn, orgs, alg):
    pki = _pki()
    ca, ca_key = _load_pair(certdir, "ca")
    cert, key = pki.issue(ca, ca_key, cn, orgs, client=True, algorithm=alg)
    user = {"admin.conf": "kubernetes-admin", "super-admin.conf": "kubernetes-super-admin"}.get(name, cn)
    text = pki.kubeconfig(f"https://{server}", pki.cert_pem(ca), user=user, cert=pki.cert_pem(cert),
                          key=pki.key_pem(key))
    node.write_file(os.path.join(node.K8S, name), text, 0o600)
    out(f'[kubeconfig] Writing "{name}" kubeconfig file')


def _etcd_flags(name, ip, certdir, data_dir, initial_cluster, state):
    e = certdir + "/etcd"
    return [
        f"--name={name}", f"--data-dir={data_dir}",
        f"--listen-client-urls=https://127.0.0.1:2379,https://{ip}:2379",
        f"--advertise-client-urls=https://{ip}:2379",
        f"--listen-peer-urls=https://{ip}:2380", f"--initial-advertise-peer-urls=https://{ip}:2380",
        f"--initial-cluster={initial_cluster}", f"--initial-cluster-state={state}",
        "--listen-metrics-urls=http://127.0.0.1:2381",
        f"--cert-file={e}/server.crt", f"--key-file={e}/server.key", "--client-cert-auth=true",
        f"--trusted-ca-file={e}/ca.crt",
        f"--peer-cert-file={e}/peer.crt", f"--peer-key-file={e}/peer.key", "--peer-client-cert-auth=true",
        f"--peer-trusted-ca-file={e}/ca.crt", "--snapshot-count=10000", "--logger=zap", "--log-outputs=stderr",
    ]


def _manifest(name, command):
    """Static pod manifests in name only: kubeadm's preflight looks for them,
    systemd (not a kubelet) runs what they describe."""
    from . import yamlish

    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": name, "namespace": "kube-system",
                        "annotations": {"kubeadm-double/runs-as": f"{name}-double.service"}},
           "spec": {"hostNetwork": True, "containers": [{"name": name, "command": command}]}}
    node.write_file(os.path.join(node.MANIFESTS, name + ".yaml"), yamlish.dump(pod), 0o600)


def _unit(description, exec_args, after=None, notify=True, env=None):
    lines = ["# Written by the kubeadm test double: docs/kubeadm-double.md in the piagent sources.",
             "[Unit]", f"Description={description} (kubeadm test double)"]
    if after:
        lines += [f"After={after}", f"Wants={after}"]
    lines += ["", "[Service]", f"Type={'notify' if notify else 'simple'}", "NotifyAccess=main"]
    for k, v in (env or {}).items():
        lines.append(f"Environment={k}={v}")
    lines += ["ExecStart=" + " ".join(exec_args), "Restart=always", "RestartSec=1", "TimeoutStartSec=120",
              "LimitNOFILE=65536", "", "[Install]", "WantedBy=multi-user.target", ""]
    return "\n".join(lines)


def _py_unit(description, module, args, after=None):
    return _unit(description, ["/usr/bin/python3", "-m", f"kdouble.{module}"] + args, after=after,
                 env={"PYTHONPATH": LIBDIR})


def _etcd_unit(name, ip, certdir, data_dir, initial_cluster, state):
    args = _etcd_flags(name, ip, certdir, data_dir, initial_cluster, state)
    _manifest("etcd", ["etcd"] + args)
    env = {"ETCD_UNSUPPORTED_ARCH": "arm64"} if os.uname().machine in ("aarch64", "arm64") else None
    return {node.UNIT_ETCD: _unit("etcd", ["/usr/bin/etcd"] + args, env=env)}


def _etcd_client(certdir, endpoints, timeout=5.0):
    from .etcd import Etcd

    return Etcd(endpoints, f"{certdir}/etcd/ca.crt", f"{certdir}/apiserver-etcd-client.crt",
                f"{certdir}/apiserver-etcd-client.key", timeout=timeout)


def _wait(what, fn, timeout, interval=0.5):
    """Polls fn() until it returns truthy; KubeadmError with the last error."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            v = fn()
            if v:
                return v
        except Exception as e:  # noqa: BLE001 - every failure means "not yet"
            last = e
        if time.monotonic() >= deadline:
            raise KubeadmError(f"{what}: context deadline exceeded" + (f": {last}" if last else ""))
        time.sleep(interval)


def _apiserver_unit(certdir, ip, port):
    args = [
        f"--advertise-address={ip}", f"--secure-port={port}",
        f"--tls-cert-file={certdir}/apiserver.crt", f"--tls-private-key-file={certdir}/apiserver.key",
        f"--client-ca-file={certdir}/ca.crt", f"--cluster-signing-cert-file={certdir}/ca.crt",
        f"--cluster-signing-key-file={certdir}/ca.key", "--etcd-servers=https://127.0.0.1:2379",
        f"--etcd-cafile={certdir}/etcd/ca.crt", f"--etcd-certfile={certdir}/apiserver-etcd-client.crt",
        f"--etcd-keyfile={certdir}/apiserver-etcd-client.key",
    ]
    _manifest("kube-apiserver", ["kube-apiserver"] + args)
    for m in ("kube-controller-manager", "kube-scheduler"):
        _manifest(m, [m, "--kubeconfig=/etc/kubernetes/" + m.split("-", 1)[1].replace("-", "") + ".conf"])
    return {node.UNIT_APISERVER: _py_unit("kube-apiserver", "apiserver", args, after=node.UNIT_ETCD)}


def _local_ready(certdir, ip, port, timeout):
    from . import api

    ca = node.read_file(f"{certdir}/ca.crt")
    c = api.Client(f"{ip}:{port}" if ":" not in ip else f"[{ip}]:{port}", api.ssl_context(ca_pem=ca), timeout=3)

    def ok():
        code, _ = c.raw_get("/readyz")
        return code == 200

    _wait("the local API server did not become ready", ok, timeout)


def _admin(path=None, timeout=10.0):
    from . import api

    path = path or os.path.join(node.K8S, "admin.conf")
    try:
        kc = _pki().Kubeconfig.load(path)
    except FileNotFoundError:
        raise KubeadmError(f"failed to load admin kubeconfig: open {path}: no such file or directory") from None
    return api.from_kubeconfig(kc, timeout=timeout), kc


def _token_kubeconfig(p):
    """The kubeconfig `kubeadm token` uses: cmdutil.GetKubeConfigPath() (cmd/kubeadm/app/cmd/util/cmdutil.go).
    Its --kubeconfig flag only *shows* admin.conf as its default (options.AddKubeConfigFlag sets DefValue);
    unset, client-go's loading rules decide: the first existing file of $KUBECONFIG (if set) or of
    $HOME/.kube/config, then admin.conf; if none exists, the first of them."""
    if p.get("kubeconfig"):
        return p.get("kubeconfig")
    env = os.environ.get("KUBECONFIG")
    chain = []
    for f in (env.split(os.pathsep) if env else [os.path.join(os.environ.get("HOME", ""), ".kube", "config")]):
        if f and f not in chain:
            chain.append(f)
    chain.append(os.path.join(node.K8S, "admin.conf"))
    return next((f for f in chain if os.path.exists(f)), chain[0])


def _token_secret(token, ttl_s, usages, groups, description, now=None):
    pki = _pki()
    tid, secret = token.split(".")
    data = {"token-id": tid, "token-secret": secret}
    if ttl_s:
        data["expiration"] = node.rfc3339((now or node.now()) + ttl_s)
    for u in usages:
        data[f"usage-bootstrap-{u}"] = "true"
    if groups:
        data["auth-extra-groups"] = ",".join(groups)
    if description:
        data["description"] = description
    return {"apiVersion": "v1", "kind": "Secret", "type": "bootstrap.kubernetes.io/token",
            "metadata": {"name": f"bootstrap-token-{tid}", "namespace": "kube-system"},
            "data": {k: pki.b64(v.encode()) for k, v in data.items()}}


def _create_token(client, secret):
    from . import api

    path = "/api/v1/namespaces/kube-system/secrets"
    try:
        client.post(path, secret)
    except api.ApiError as e:
        if e.status != 409:
            raise
        # kubeadm's UpdateOrCreateTokens(failIfExists=false): replace it.
        client.delete(f"{path}/{secret['metadata']['name']}", ok_404=True)
        client.post(path, secret)


def upload_certs(client, certdir, key):
    """kubeadm's copycerts.UploadCerts: a TTL token (2 h, no usages) owns the
    encrypted kubeadm-certs Secret."""
    pki = _pki()
    ttl_token = pki.new_token()
    _create_token(client, _token_secret(ttl_token, UPLOAD_CERTS_TTL, [], [],
                                        "Proxy for managing TTL for the kubeadm-certs secret"))
    data = {}
    for name, rel in SHARED_CERTS.items():
        try:
            raw = node.read_file(os.path.join(certdir, rel))
        except FileNotFoundError:
            continue
        data[name] = pki.b64(pki.encrypt(raw, key))
    tid = ttl_token.split(".")[0]
    secret = {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
              "metadata": {"name": "kubeadm-certs", "namespace": "kube-system",
                           "ownerReferences": [{"apiVersion": "v1", "kind": "Secret",
                                                "name": f"bootstrap-token-{tid}", "controller": True,
                                                "blockOwnerDeletion": True}]},
              "data": data}
    client.put("/api/v1/namespaces/kube-system/secrets/kubeadm-certs", secret)


def _ca_hash(certdir):
    pki = _pki()
    return pki.spki_hash(pki.load_cert(node.read_file(os.path.join(certdir, "ca.crt"))))


# -- init ----------------------------------------------------------------------


def _init_flags(p):
    init, cluster = {}, {}
    nr, ep, net = {}, {}, {}
    if p.has("node-name"):
        nr["name"] = p.get("node-name")
    if p.has("cri-socket"):
        nr["criSocket"] = p.get("cri-socket")
    if p.has("apiserver-advertise-address"):
        ep["advertiseAddress"] = p.get("apiserver-advertise-address")
    if p.has("apiserver-bind-port"):
        ep["bindPort"] = p.get("apiserver-bind-port")
    if p.has("certificate-key"):
        init["certificateKey"] = p.get("certificate-key")
    if p.has("token") or p.has("token-ttl"):
        t = {}
        if p.has("token"):
            t["token"] = p.get("token")
        else:
            t["token"] = _pki().new_token()
        if p.has("token-ttl"):
            t["ttl"] = p.get("token-ttl")
        init["bootstrapTokens"] = [t]
    if nr:
        init["nodeRegistration"] = nr
    if ep:
        init["localAPIEndpoint"] = ep
    for flag, key in (("pod-network-cidr", "podSubnet"), ("service-cidr", "serviceSubnet"),
                      ("service-dns-domain", "dnsDomain")):
        if p.has(flag):
            net[key] = p.get(flag)
    if net:
        cluster["networking"] = net
    for flag, key in (("control-plane-endpoint", "controlPlaneEndpoint"), ("kubernetes-version", "kubernetesVersion"),
                      ("cert-dir", "certificatesDir"), ("image-repository", "imageRepository")):
        if p.has(flag):
            cluster[key] = p.get(flag)
    if p.has("apiserver-cert-extra-sans"):
        cluster["apiServer"] = {"certSANs": p.get("apiserver-cert-extra-sans")}
    if p.has("feature-gates"):
        fg = {}
        for item in p.get("feature-gates").split(","):
            k, _, v = item.partition("=")
            fg[k.strip()] = v.strip().lower() == "true"
        cluster["featureGates"] = fg
    return {"init": init, "cluster": cluster}


def cmd_init(run):
    p, faults = run.p, run.faults
    pki = _pki()
    docs = _load_docs(run, p.get("config")) if p.has("config") else None
    cfg = cfgmod.build_init(docs, node.version(), node.hostname, node.default_address,
                            None if docs else _init_flags(p))
    for w in cfg.warnings:
        warn(run, w)
    cluster, init = cfg.cluster, cfg.init
    name, ip, port = cfg.node_name, cfg.advertise_address, cfg.bind_port
    certdir, etcd_dir = cfg.cert_dir, cfg.etcd_dir
    skip = set(p.get("skip-phases", [])) | set(init.get("skipPhases") or [])
    ignore = list(p.get("ignore-preflight-errors", [])) + list(init["nodeRegistration"].get("ignorePreflightErrors")
                                                                or [])
    alg = _alg(cluster)
    endpoint = _endpoint(cluster, ip, port)
    run.extra.update({"node_name": name, "endpoint": endpoint, "api_version": cfg.api_version})
    out(f"[init] Using Kubernetes version: {cluster['kubernetesVersion']}")
    out("[preflight] Running pre-flight checks")
    faults.phase("preflight")
    if "preflight" not in skip:
        _preflight(run, _control_plane_checks(port, etcd_dir) + [_file_check(f"{node.K8S}/kubelet.conf")], ignore)
        _pull_images(run, cluster, init["nodeRegistration"], ignore)
    if p.get("dry-run") or init.get("dryRun"):
        out("[dryrun] Would perform the init; the double stops here")
        return 0

    faults.phase("certs")
    out(f'[certs] Using certificateDir folder "{certdir}"')
    out('[certs] Generating "ca" certificate and key')
    _write_pair(certdir, "ca", *pki.new_ca("kubernetes", alg))
    out('[certs] Generating "front-proxy-ca" certificate and key')
    _write_pair(certdir, "front-proxy-ca", *pki.new_ca("front-proxy-ca", alg))
    out('[certs] Generating "etcd/ca" certificate and key')
    _write_pair(certdir, "etcd/ca", *pki.new_ca("etcd-ca", alg))
    _node_certs(certdir, cluster, name, ip)
    out('[certs] Generating "sa" key and public key')
    sa = pki.new_key(alg)
    node.write_file(f"{certdir}/sa.key", pki.key_pem(sa), 0o600)
    node.write_file(f"{certdir}/sa.pub", pki.public_pem(sa), 0o644)

    faults.phase("kubeconfig")
    out(f'[kubeconfig] Using kubeconfig folder "{node.K8S}"')
    _kubeconfig_file(certdir, "admin.conf", endpoint, "kubernetes-admin", ["kubeadm:cluster-admins"], alg)
    _kubeconfig_file(certdir, "super-admin.conf", endpoint, "kubernetes-super-admin", ["system:masters"], alg)
    _kubeconfig_file(certdir, "kubelet.conf", endpoint, f"system:node:{name}", ["system:nodes"], alg)

    faults.phase("etcd")
    out(f'[etcd] Creating static Pod manifest for local etcd in "{node.MANIFESTS}"')
    units = _etcd_unit(name, ip, certdir, etcd_dir, f"{name}=https://{ip}:2380", "new")
    out(f'[control-plane] Using manifest folder "{node.MANIFESTS}"')
    out('[control-plane] Creating static Pod manifest for "kube-apiserver"')
    units.update(_apiserver_unit(certdir, ip, port))
    units.update(_kubelet_unit(name, ip))
    node.install_units(units)
    node.start_unit(node.UNIT_ETCD)
    faults.phase("control-plane")
    node.start_unit(node.UNIT_APISERVER)
    node.save_state({"role": "control-plane", "init": True, "nodeName": name, "advertiseAddress": ip,
                     "bindPort": port, "certificatesDir": certdir, "etcdDataDir": etcd_dir, "endpoint": endpoint,
                     "complete": False})

    faults.phase("kubelet-start")
    out("[kubelet-start] Starting the kubelet")
    node.start_unit(node.UNIT_KUBELET)

    timeout = cfg.timeout("controlPlaneComponentHealthCheck",
                          node.float_setting("api-timeout-s", 240.0))
    out(f'[wait-control-plane] Waiting for the kubelet to boot up the control plane as static Pods from directory '
        f'"{node.MANIFESTS}"')
    faults.phase("wait-control-plane", "error execution phase wait-control-plane: could not initialize a "
                                       "Kubernetes cluster")
    t0 = time.monotonic()
    out(f"[api-check] Waiting for a healthy API server. This can take up to {format_duration(timeout)}")
    try:
        _local_ready(certdir, ip, port, timeout)
        client, _kc = _admin()

        def healthy():
            code, _ = client.raw_get("/healthz")
            return code == 200

        _wait(f"API server at https://{endpoint}", healthy, max(1.0, timeout - (time.monotonic() - t0)))
    except KubeadmError as e:
        raise KubeadmError(f"[api-check] The API server is not healthy after {format_duration(timeout)}\n\n"
                           f"Unfortunately, an error has occurred: {e}\n\n"
                           "error execution phase wait-control-plane: could not initialize a Kubernetes cluster") \
            from None
    out(f"[api-check] The API server is healthy after {time.monotonic() - t0:.6f}s")

    faults.phase("upload-config")
    out('[upload-config] Storing the configuration used in ConfigMap "kubeadm-config" in the "kube-system" Namespace')
    cc = dict(cluster, apiVersion=f"{cfgmod.GROUP}/{cfg.api_version}", kind="ClusterConfiguration")
    client.put("/api/v1/namespaces/kube-system/configmaps/kubeadm-config",
               {"apiVersion": "v1", "kind": "ConfigMap", "data": {"ClusterConfiguration": json.dumps(cc)}})

    key = None
    if p.get("upload-certs") and "upload-certs" not in skip:
        faults.phase("upload-certs")
        key = init.get("certificateKey") or pki.new_certificate_key()
        out('[upload-certs] Storing the certificates in Secret "kubeadm-certs" in the "kube-system" Namespace')
        upload_certs(client, certdir, key)
        if not p.get("skip-certificate-key-print"):
            out("[upload-certs] Using certificate key:")
            out(key)
    else:
        out("[upload-certs] Skipping phase. Please see --upload-certs")

    faults.phase("mark-control-plane")
    out(f"[mark-control-plane] Marking the node {name} as control-plane by adding the labels: "
        "[node-role.kubernetes.io/control-plane node.kubernetes.io/exclude-from-external-load-balancers]")
    _register_control_plane(client, name, ip, port)
    _heartbeat_now(name, ip)

    faults.phase("bootstrap-token")
    tokens = init["bootstrapTokens"] or [{"token": pki.new_token(), "ttl": "24h0m0s",
                                          "usages": ["signing", "authentication"], "groups": [DEFAULT_TOKEN_GROUP]}]
    out(f"[bootstrap-token] Using token: {tokens[0]['token']}")
    out("[bootstrap-token] Configuring bootstrap tokens, cluster-info ConfigMap, RBAC Roles")
    for t in tokens:
        _create_token(client, _token_secret(t["token"], parse_duration(t["ttl"]), t["usages"], t["groups"],
                                            t.get("description")))
    out('[bootstrap-token] Creating the "cluster-info" ConfigMap in the "kube-public" namespace')
    ca_pem = node.read_file(f"{certdir}/ca.crt")
    client.put("/api/v1/namespaces/kube-public/configmaps/cluster-info",
               {"apiVersion": "v1", "kind": "ConfigMap",
                "data": {"kubeconfig": pki.kubeconfig(f"https://{endpoint}", ca_pem)}})
    out("[kubelet-finalize] Updating \"/etc/kubernetes/kubelet.conf\" to point to a rotatable kubelet client "
        "certificate and key")
    out("[addons] Applied essential addon: CoreDNS")
    out("[addons] Applied essential addon: kube-proxy")
    ca_hash = _ca_hash(certdir)
    node.save_state({"role": "control-plane", "init": True, "nodeName": name, "advertiseAddress": ip,
                     "bindPort": port, "certificatesDir": certdir, "etcdDataDir": etcd_dir, "endpoint": endpoint,
                     "complete": True, "caCertHash": ca_hash})
    run.extra["ca_cert_hash"] = ca_hash
    tok = tokens[0]["token"] if not p.get("skip-token-print") else "<value withheld>"
    out("\nYour Kubernetes control-plane has initialized successfully!\n")
    out("To start using your cluster, you need to run the following as a regular user:\n")
    out("  mkdir -p $HOME/.kube\n  sudo cp -i /etc/kubernetes/admin.conf $HOME/.kube/config\n"
        "  sudo chown $(id -u):$(id -g) $HOME/.kube/config\n")
    out("You should now deploy a pod network to the cluster.\n"
        "Run \"kubectl apply -f [podnetwork].yaml\" with one of the options listed at:\n"
        "  https://kubernetes.io/docs/concepts/cluster-administration/addons/\n")
    if key:
        kshow = key if not p.get("skip-certificate-key-print") else "<value withheld>"
        out("You can now join any number of control-plane nodes running the following command on each as root:\n")
        out(f"  kubeadm join {endpoint} --token {tok} \\\n\t--discovery-token-ca-cert-hash {ca_hash} \\\n"
            f"\t--control-plane --certificate-key {kshow}\n")
        out("Please note that the certificate-key gives access to cluster sensitive data, keep it secret!\n"
            "As a safeguard, uploaded-certs will be deleted in two hours; If necessary, you can use\n"
            "\"kubeadm init phase upload-certs --upload-certs\" to reload certs afterward.\n")
    out("Then you can join any number of worker nodes by running the following on each as root:\n")
    out(f"kubeadm join {endpoint} --token {tok} \\\n\t--discovery-token-ca-cert-hash {ca_hash} ")
    return 0


def _register_control_plane(client, name, ip, port, etcd=True):
    """The double's record of a control-plane node: what kubeadm reads from the mirror pods' annotations (the
    kube-apiserver's advertise address and port; etcd's client URL once etcd runs here)."""
    body = {"advertiseAddress": ip, "bindPort": port}
    if etcd:
        body.update({"etcdClientURL": f"https://{ip}:2379", "etcdPeerURL": f"https://{ip}:2380"})
    client.post(f"/double/v1/control-plane/{name}", body)


def _kubelet_unit(name, ip):
    args = [f"--node-name={name}", f"--node-ip={ip}" if ip else "--node-ip="]
    return {node.UNIT_KUBELET: _py_unit("kubelet", "kubelet", args)}


def _heartbeat_now(name, ip):
    from . import kubelet

    kc = _pki().Kubeconfig.load(os.path.join(node.K8S, "kubelet.conf"))
    kubelet.heartbeat(kc, name, ip, node.version())


# -- join ----------------------------------------------------------------------


def _join_flags(p):
    j = {}
    bt = {}
    tok = p.get("discovery-token") or p.get("token")
    if tok is not None:
        bt["token"] = tok
    if p.args:
        bt["apiServerEndpoint"] = p.args[0]
    if p.has("discovery-token-ca-cert-hash"):
        bt["caCertHashes"] = p.get("discovery-token-ca-cert-hash")
    if p.has("discovery-token-unsafe-skip-ca-verification"):
        bt["unsafeSkipCAVerification"] = p.get("discovery-token-unsafe-skip-ca-verification")
    disc = {}
    if p.has("discovery-file"):
        disc["file"] = {"kubeConfigPath": p.get("discovery-file")}
    else:
        disc["bootstrapToken"] = bt
    tls = p.get("tls-bootstrap-token") or p.get("token")
    if tls:
        disc["tlsBootstrapToken"] = tls
    j["discovery"] = disc
    nr = {}
    if p.has("node-name"):
        nr["name"] = p.get("node-name")
    if p.has("cri-socket"):
        nr["criSocket"] = p.get("cri-socket")
    if nr:
        j["nodeRegistration"] = nr
    if p.get("control-plane"):
        ep = {}
        if p.has("apiserver-advertise-address"):
            ep["advertiseAddress"] = p.get("apiserver-advertise-address")
        if p.has("apiserver-bind-port"):
            ep["bindPort"] = p.get("apiserver-bind-port")
        cp = {"localAPIEndpoint": ep}
        if p.has("certificate-key"):
            cp["certificateKey"] = p.get("certificate-key")
        j["controlPlane"] = cp
    return j


def _discover(run, bt, pins, timeout):
    """kubeadm's token discovery: cluster-info fetched without trust, its JWS
    verified with the token, the CA pinned, fetched again over verified TLS."""
    from . import api

    pki = _pki()
    endpoint = bt["apiServerEndpoint"]
    m = TOKEN_RE.match(bt["token"])
    tid, secret = m.group(1), m.group(2)
    path = "/api/v1/namespaces/kube-public/configmaps/cluster-info"

    def fetch(client):
        deadline = time.monotonic() + timeout
        last = None
        while True:
            try:
                return client.get(path)
            except (OSError, api.ApiError) as e:
                last = e
            if time.monotonic() >= deadline:
                raise KubeadmError(f"couldn't validate the identity of the API Server: failed to request the "
                                   f"cluster-info ConfigMap: Get \"https://{endpoint}{path}?timeout=10s\": {last}")
            out(f"[discovery] Failed to request cluster-info, will try again: {last}")
            time.sleep(min(5.0, max(0.1, deadline - time.monotonic())))

    wrap = "couldn't validate the identity of the API Server: "
    insecure = fetch(api.Client(endpoint, api.ssl_context(insecure=True), timeout=10))
    data = insecure.get("data") or {}
    content = data.get("kubeconfig")
    if not content:
        raise KubeadmError(wrap + "there is no kubeconfig key in the cluster-info ConfigMap. This API Server isn't set "
                                  "up for token bootstrapping, can't connect")
    jws = data.get("jws-kubeconfig-" + tid)
    if not jws:
        raise KubeadmError(wrap + f'token id "{tid}" is invalid for this cluster or it has expired. Use "kubeadm '
                                  'token create" on the control-plane node to create a new valid token')
    if not pki.jws_valid(jws, content, tid, secret):
        raise KubeadmError(wrap + "failed to verify JWS signature of received cluster info object, can't trust this "
                                  "API Server")
    kc = pki.Kubeconfig(content)
    if pins.empty():
        out("[discovery] WARNING: using token-based discovery without caCertHashes can be unsafe")
        return kc, content
    try:
        cas = pki.load_certs(kc.ca_pem or b"")
    except ValueError as e:
        raise KubeadmError(wrap + f"failed to parse cluster CA from the cluster-info ConfigMap: {e}") from None
    try:
        pins.check_any(cas)
    except KubeadmError as e:
        raise KubeadmError(wrap + f"cluster CA found in cluster-info ConfigMap is invalid: {e}") from None
    secure = fetch(api.Client(endpoint, api.ssl_context(ca_pem=kc.ca_pem), timeout=10))
    if (secure.get("data") or {}).get("kubeconfig") != content:
        raise KubeadmError(wrap + "the second kubeconfig from the cluster-info ConfigMap (using validated TLS) was "
                                  "different from the first")
    return kc, content


def cmd_join(run):
    from . import api

    p, faults = run.p, run.faults
    pki = _pki()
    docs = _load_docs(run, p.get("config")) if p.has("config") else None
    if docs and p.args:
        warn(run, "[join] WARNING: the endpoint argument is ignored when --config is given")
    cfg = cfgmod.build_join(docs, node.version(), node.hostname, node.default_address,
                            None if docs else _join_flags(p))
    for w in cfg.warnings:
        warn(run, w)
    j, bt, cp = cfg.join, cfg.bootstrap, cfg.control_plane
    name = cfg.node_name
    ignore = list(p.get("ignore-preflight-errors", [])) + list(j["nodeRegistration"].get("ignorePreflightErrors")
                                                                or [])
    skip = set(p.get("skip-phases", [])) | set(j.get("skipPhases") or [])
    ca_path = j.get("caCertPath") or f"{cfgmod.DEFAULT_CERT_DIR}/ca.crt"
    run.extra.update({"node_name": name, "endpoint": bt["apiServerEndpoint"], "control_plane": cp is not None,
                      "api_version": cfg.api_version})
    out("[preflight] Running pre-flight checks")
    faults.phase("preflight")
    if "preflight" not in skip:
        checks = [("IsPrivilegedUser", None if os.geteuid() == 0 else "user is not running as root", False),
                  _file_check(f"{node.K8S}/kubelet.conf"), _file_check(f"{node.K8S}/bootstrap-kubelet.conf"),
                  _file_check(ca_path)]
        if cp is not None:
            checks += _control_plane_checks(cp["localAPIEndpoint"]["bindPort"], cfgmod.DEFAULT_ETCD_DIR)
        _preflight(run, checks, ignore)
    try:
        pins = pki.PinSet(bt.get("caCertHashes") or [])
    except KubeadmError as e:
        raise KubeadmError(f"error execution phase preflight: couldn't validate the identity of the API Server: "
                           f"invalid discovery token CA certificate hash: {e}") from None
    timeout = cfg.timeout("discovery", node.float_setting("discovery-timeout-s", 300.0))
    faults.phase("discovery")
    try:
        cluster_kc, _content = _discover(run, bt, pins, timeout)
    except KubeadmError as e:
        raise KubeadmError(f"error execution phase preflight: {e}") from None
    ca_pem = cluster_kc.ca_pem
    server = cluster_kc.host_port()
    tls_token = j["discovery"].get("tlsBootstrapToken") or bt["token"]
    tclient = api.Client(server, api.ssl_context(ca_pem=ca_pem), token=tls_token, timeout=10)
    out("[preflight] Reading configuration from the cluster...")
    out("[preflight] FYI: You can look at this config file with 'kubectl -n kube-system get cm kubeadm-config -o yaml'")
    try:
        cm = tclient.get("/api/v1/namespaces/kube-system/configmaps/kubeadm-config")
        cluster = json.loads(cm["data"]["ClusterConfiguration"])
    except (OSError, api.ApiError, KeyError, ValueError) as e:
        raise KubeadmError(f"error execution phase preflight: unable to fetch the kubeadm-config ConfigMap: {e}") \
            from None
    for k in ("apiVersion", "kind"):
        cluster.pop(k, None)
    certdir = cluster.get("certificatesDir") or cfgmod.DEFAULT_CERT_DIR
    if cp is not None:
        _join_control_plane_prepare(run, cfg, cluster, certdir, tclient)

    # kubelet-start: kubeadm writes the bootstrap kubeconfig and the CA first,
    # so a failure from here on leaves state that `kubeadm reset` must clean.
    node.write_file(f"{node.K8S}/bootstrap-kubelet.conf",
                    pki.kubeconfig(f"https://{server}", ca_pem, user="tls-bootstrap-token-user",
                                   cert=b"", key=b""), 0o600)
    if not os.path.exists(ca_path):
        node.write_file(ca_path, ca_pem, 0o644)
    ip = cp["localAPIEndpoint"]["advertiseAddress"] if cp is not None else _maybe_address(server)
    node.save_state({"role": "control-plane" if cp is not None else "worker", "init": False, "nodeName": name,
                     "advertiseAddress": ip, "bindPort": cp["localAPIEndpoint"]["bindPort"] if cp else None,
                     "certificatesDir": certdir, "etcdDataDir": _etcd_dir(cluster) if cp else None,
                     "endpoint": server, "complete": False})
    try:
        out("[kubelet-start] Writing kubelet configuration to file \"/var/lib/kubelet/config.yaml\"")
        _write_kubelet_config(cfg.component.get("KubeletConfiguration"))
        out("[kubelet-start] Starting the kubelet")
        out("[kubelet-start] Waiting for the kubelet to perform the TLS Bootstrap")
        faults.phase("kubelet-start", "error execution phase kubelet-start: timed out waiting for the condition")
        try:
            existing = tclient.get(f"/api/v1/nodes/{name}", ok_404=True)
        except (OSError, api.ApiError) as e:
            raise KubeadmError(f'error execution phase kubelet-start: cannot get Node "{name}": {e}') from None
        if existing:
            for c in (existing.get("status") or {}).get("conditions") or []:
                if c.get("type") == "Ready" and c.get("status") == "True":
                    raise KubeadmError(f'error execution phase kubelet-start: a Node with name "{name}" and status '
                                       '"Ready" already exists in the cluster. You must delete the existing Node or '
                                       'change the name of this new joining Node')
        key = pki.new_key(_alg(cluster))
        csr = pki.new_csr(key, f"system:node:{name}", ["system:nodes"])
        try:
            resp = tclient.post("/apis/certificates.k8s.io/v1/certificatesigningrequests",
                                {"apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest",
                                 "spec": {"request": pki.b64(pki.csr_pem(csr)),
                                          "signerName": "kubernetes.io/kube-apiserver-client-kubelet",
                                          "usages": ["digital signature", "client auth"]}})
        except (OSError, api.ApiError) as e:
            raise KubeadmError(f"error execution phase kubelet-start: the TLS Bootstrap failed: {e}") from None
        import base64

        cert = base64.b64decode(resp["status"]["certificate"])
        node.write_file(f"{node.K8S}/kubelet.conf",
                        pki.kubeconfig(f"https://{server}", ca_pem, user="default-auth", cert=cert,
                                       key=pki.key_pem(key)), 0o600)
        _heartbeat_now(name, ip)
        node.install_units(_kubelet_unit(name, ip))
        node.start_unit(node.UNIT_KUBELET)
        if cp is not None:
            # The kubelet now runs the kube-apiserver static pod written at control-plane-prepare, and its mirror
            # pod announces the endpoint: from here on `kubeadm reset` finds this control-plane node.
            client, _ = _admin()
            _wait("error execution phase kubelet-start: registering the kube-apiserver mirror pod",
                  lambda: _register_control_plane(client, name, ip, cp["localAPIEndpoint"]["bindPort"],
                                                  etcd=False) or True, 60.0)
    finally:
        try:
            os.unlink(f"{node.K8S}/bootstrap-kubelet.conf")
        except FileNotFoundError:
            pass

    if cp is not None:
        _join_control_plane(run, cfg, cluster, certdir, server)
    st = node.load_state() or {}
    st["complete"] = True
    st["caCertHash"] = pki.spki_hash(pki.load_certs(ca_pem)[0])
    node.save_state(st)
    if cp is not None:
        out("\nThis node has joined the cluster and a new control plane instance was created:\n")
        out("* Certificate signing request was sent to apiserver and approval was received.\n"
            "* The Kubelet was informed of the new secure connection details.\n"
            "* Control plane label and taint were applied to the new node.\n"
            "* The Kubernetes control plane instances scaled up.\n"
            "* A new etcd member was added to the local/stacked etcd cluster.\n")
        out("To start administering your cluster from this node, you need to run the following as a regular user:\n\n"
            "\tmkdir -p $HOME/.kube\n\tsudo cp -i /etc/kubernetes/admin.conf $HOME/.kube/config\n"
            "\tsudo chown $(id -u):$(id -g) $HOME/.kube/config\n")
        out("Run 'kubectl get nodes' to see this node join the cluster.\n")
    else:
        out("\nThis node has joined the cluster:\n"
            "* Certificate signing request was sent to apiserver and a response was received.\n"
            "* The Kubelet was informed of the new secure connection details.\n\n"
            "Run 'kubectl get nodes' on the control-plane to see this node join the cluster.\n")
    return 0


def _maybe_address(endpoint):
    """A worker's address for its Node: the default route's, else the one
    this node reaches the API endpoint from (the test bed has no default
    route)."""
    try:
        return node.default_address()
    except KubeadmError:
        pass
    import socket

    try:
        host, port = split_host_port(endpoint)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect((host, int(port)))
            return s.getsockname()[0]
    except (OSError, ValueError):
        return ""


def _etcd_dir(cluster):
    return ((cluster.get("etcd") or {}).get("local") or {}).get("dataDir") or cfgmod.DEFAULT_ETCD_DIR


def _write_kubelet_config(kc):
    from . import yamlish

    doc = dict(kc or {}, apiVersion=cfgmod.KUBELET_GV, kind="KubeletConfiguration")
    node.write_file("/var/lib/kubelet/config.yaml", yamlish.dump(doc), 0o644)


def _join_control_plane_prepare(run, cfg, cluster, certdir, tclient):
    from . import api

    pki = _pki()
    faults = run.faults
    cp = cfg.control_plane
    name = cfg.node_name
    ip = cp["localAPIEndpoint"]["advertiseAddress"]
    out("[preflight] Running pre-flight checks before initializing the new control plane instance")
    if not cluster.get("controlPlaneEndpoint"):
        raise KubeadmError("error execution phase preflight: \nOne or more conditions for hosting a new control plane "
                           "instance is not satisfied.\n\nunable to add a new control plane instance to a cluster that "
                           "doesn't have a stable controlPlaneEndpoint address\n\nPlease ensure that:\n* The cluster "
                           "has a stable controlPlaneEndpoint address.\n* The certificates that must be shared among "
                           "control plane instances are provided.\n")
    if "preflight" not in set(run.p.get("skip-phases", [])) | set(cfg.join.get("skipPhases") or []):
        ignore = list(run.p.get("ignore-preflight-errors", [])) + list(
            cfg.join["nodeRegistration"].get("ignorePreflightErrors") or [])
        full = cfgmod.default_cluster(cluster, node.version(), [])
        _pull_images(run, full, cfg.join["nodeRegistration"], ignore)
    faults.phase("control-plane-prepare")
    key = cp.get("certificateKey")
    phase = "error execution phase control-plane-prepare/download-certs: error downloading certs: "
    if key:
        out('[download-certs] Downloading the certificates in Secret "kubeadm-certs" in the "kube-system" Namespace')
        try:
            s = tclient.get("/api/v1/namespaces/kube-system/secrets/kubeadm-certs", ok_404=True)
        except (OSError, api.ApiError) as e:
            raise KubeadmError(phase + f"error downloading the secret: {e}") from None
        if s is None:
            raise KubeadmError(phase + 'error downloading the secret: Secret "kubeadm-certs" was not found in the '
                                       '"kube-system" Namespace. This Secret might have expired. Please, run `kubeadm '
                                       'init phase upload-certs --upload-certs` on a control plane to generate a new '
                                       'one')
        import base64

        files = {}
        for k, v in (s.get("data") or {}).items():
            try:
                files[k] = pki.decrypt(base64.b64decode(v), key)
            except KubeadmError as e:
                raise KubeadmError(phase + f"error decoding secret data with provided key: {e}") from None
        for k, data in files.items():
            rel = SHARED_CERTS.get(k)
            if rel:
                node.write_file(os.path.join(certdir, rel), data, 0o600 if rel.endswith(".key") else 0o644)
    else:
        missing = [rel for rel in SHARED_CERTS.values() if not os.path.exists(os.path.join(certdir, rel))]
        if missing:
            raise KubeadmError("error execution phase preflight: \nOne or more conditions for hosting a new control "
                               "plane instance is not satisfied.\n\n[failure loading certificate for CA: couldn't "
                               f"load the certificate file {certdir}/{missing[0]}: open {certdir}/{missing[0]}: no "
                               "such file or directory]\n\nPlease ensure that:\n* The cluster has a stable "
                               "controlPlaneEndpoint address.\n* The certificates that must be shared among control "
                               "plane instances are provided.\n")
    out(f'[certs] Using certificateDir folder "{certdir}"')
    _node_certs(certdir, cluster, name, ip)
    out("[certs] Valid certificates and keys now exist in \"" + certdir + "\"")
    out('[certs] Using the existing "sa" key')
    alg = _alg(cluster)
    endpoint = cluster["controlPlaneEndpoint"]
    _kubeconfig_file(certdir, "admin.conf", _endpoint(cluster, ip, cp["localAPIEndpoint"]["bindPort"]),
                     "kubernetes-admin", ["kubeadm:cluster-admins"], alg)
    run.extra["control_plane_endpoint"] = endpoint
    faults.phase("check-etcd")
    out("[check-etcd] Checking that the etcd cluster is healthy")
    client, _ = _admin()
    try:
        cps = client.get("/double/v1/control-plane")["items"]
    except (OSError, api.ApiError) as e:
        raise KubeadmError(f"error execution phase check-etcd: could not list the etcd endpoints: {e}") from None
    endpoints = [c["etcdClientURL"] for c in cps if c.get("etcdClientURL") and c.get("name") != name]
    if not endpoints:
        raise KubeadmError("error execution phase check-etcd: no etcd endpoints found in the cluster")
    etcd = _etcd_client(certdir, endpoints)
    try:
        etcd.health()
    except Exception as e:  # noqa: BLE001
        raise KubeadmError(f"error execution phase check-etcd: etcd cluster is not healthy: {e}") from None
    run.etcd_endpoints = endpoints


def _learner_mode(cluster):
    fg = cluster.get("featureGates") or {}
    if "EtcdLearnerMode" in fg:
        return bool(fg["EtcdLearnerMode"])
    _, minor, _ = parse_version(node.version())
    return minor >= 29


def _join_control_plane(run, cfg, cluster, certdir, server):
    from .etcd import EtcdError

    faults = run.faults
    cp = cfg.control_plane
    name = cfg.node_name
    ip, port = cp["localAPIEndpoint"]["advertiseAddress"], cp["localAPIEndpoint"]["bindPort"]
    peer = f"https://{ip}:2380"
    etcd = _etcd_client(certdir, run.etcd_endpoints)
    learner = _learner_mode(cluster)
    data_dir = _etcd_dir(cluster)
    faults.phase("etcd-join")
    out("[etcd] Announced new etcd member joining to the existing etcd cluster")
    phase = "error execution phase control-plane-join/etcd: error creating local etcd static pod manifest file: "
    member, members = None, None
    for m in etcd.members():
        if peer in (m.get("peerURLs") or []):
            member, members = m, etcd.members()  # a retry after a failure: reuse it, as kubeadm does
    delay, last = 0.5, None
    for _step in range(8):  # kubeadm's addRemoveBackoff: 8 steps from 500 ms, factor 1.5
        if member is not None:
            break
        try:
            member, members = etcd.member_add([peer], learner=learner)
        except EtcdError as e:
            last = e
            time.sleep(delay)
            delay *= 1.5
    if member is None:
        raise KubeadmError(phase + str(last))
    new_id = member.get("ID")
    parts = []
    for m in members:
        n = name if m.get("ID") == new_id else (m.get("name") or "")
        for u in m.get("peerURLs") or []:
            parts.append(f"{n}={u}")
    out('[etcd] Creating static Pod manifest for "etcd"')
    st = node.load_state() or {}
    st.update({"etcdMemberID": new_id})
    node.save_state(st)
    units = _etcd_unit(name, ip, certdir, data_dir, ",".join(parts), "existing")
    units.update(_apiserver_unit(certdir, ip, port))
    node.install_units(units)
    node.start_unit(node.UNIT_ETCD)
    faults.phase("etcd-promote")
    if learner:
        out(f"[etcd] Promoting the learner {new_id} after it caught up")
        deadline = time.monotonic() + cfg.timeout("etcdAPICall", 120.0)
        while True:
            try:
                etcd.member_promote(new_id)
                break
            except EtcdError as e:
                if "not found" in str(e).lower() and "learner" in str(e).lower():
                    break  # already promoted (a retry)
                if time.monotonic() >= deadline:
                    raise KubeadmError(phase + f"failed to promote the learner member: {e}") from None
                time.sleep(0.5)
    local = _etcd_client(certdir, ["https://127.0.0.1:2379"])
    out("[etcd] Waiting for the new etcd member to join the cluster. This can take up to 40s")
    _wait("error execution phase control-plane-join/etcd: the local etcd member is not healthy", local.health,
          cfg.timeout("etcdAPICall", 120.0))
    admin, _ = _admin()
    _wait("error execution phase control-plane-join/etcd: registering the etcd mirror pod",
          lambda: _register_control_plane(admin, name, ip, port) or True, 60.0)
    faults.phase("control-plane-join")
    out('[control-plane] Creating static Pod manifest for "kube-apiserver"')
    node.start_unit(node.UNIT_APISERVER)
    _local_ready(certdir, ip, port, cfg.timeout("controlPlaneComponentHealthCheck",
                                                node.float_setting("api-timeout-s", 240.0)))
    faults.phase("mark-control-plane")
    out(f"[mark-control-plane] Marking the node {name} as control-plane by adding the labels: "
        "[node-role.kubernetes.io/control-plane node.kubernetes.io/exclude-from-external-load-balancers]")
    client, _ = _admin()
    _wait("error execution phase control-plane-join/mark-control-plane",
          lambda: _register_control_plane(client, name, ip, port) or True, 60.0)


# -- reset ---------------------------------------------------------------------


def cmd_reset(run):
    p, faults = run.p, run.faults
    if not p.get("force"):
        out("W: [reset] The reset process will revert changes made to this host by 'kubeadm init' or 'kubeadm join'")
        sys.stdout.write("[reset] Are you sure you want to proceed? [y/N]: ")
        sys.stdout.flush()
        answer = sys.stdin.readline().strip().lower()
        if answer not in ("y", "yes"):
            raise KubeadmError("aborted reset operation")
    st = node.load_state() or {}
    certdir = p.get("cert-dir") or st.get("certificatesDir") or cfgmod.DEFAULT_CERT_DIR
    etcd_dir = st.get("etcdDataDir") or cfgmod.DEFAULT_ETCD_DIR
    run.extra["node_name"] = st.get("nodeName")
    out("[preflight] Running pre-flight checks")
    faults.phase("preflight")
    cfg = _reset_cluster_config(run, p, st)
    faults.phase("remove-etcd-member")
    # kubeadm's remove-etcd-member phase (cmd/kubeadm/app/cmd/phases/reset/removeetcdmember.go): the member is
    # removed only with the configuration fetched from the cluster, which needs admin.conf, a reachable API, this
    # node's Node object and its kube-apiserver (getAPIEndpoint): a worker, or a node whose join never got that
    # far, removes nothing. The data directory is emptied either way.
    if cfg is None:
        warn(run, "[reset] No kubeadm config, using etcd pod spec to get data directory")
    else:
        client, name, endpoints = cfg
        _wait("removing the control-plane record",
              lambda: client.delete(f"/double/v1/control-plane/{name}", ok_404=True) or True, 10.0)
        try:
            _remove_etcd_member(st, certdir, endpoints)
        except Exception as e:  # noqa: BLE001 - kubeadm warns and goes on
            warn(run, f"[reset] Failed to remove etcd member: {e}, please manually remove this etcd member using "
                      "etcdctl")
    faults.phase("cleanup-node")
    out("[reset] Stopping the kubelet service")
    node.remove_units(node.UNITS)
    dirs = [node.MANIFESTS, "/var/lib/kubelet", certdir]
    if os.path.isdir(etcd_dir) and os.listdir(etcd_dir):
        out(f"[reset] Deleting contents of the etcd data directory: {etcd_dir}")
        _empty_dir(etcd_dir)
    out(f"[reset] Deleting contents of directories: [{' '.join(dirs)}]")
    for d in dirs:
        _empty_dir(d)
    files = [f"{node.K8S}/{f}" for f in KUBECONFIG_FILES]
    out(f"[reset] Deleting files: [{' '.join(files)}]")
    for f in files:
        try:
            os.unlink(f)
        except FileNotFoundError:
            pass
    shutil.rmtree(node.STATE_DIR, ignore_errors=True)
    out("\nThe reset process does not clean CNI configuration. To do so, you must remove /etc/cni/net.d\n\n"
        "The reset process does not reset or clean up iptables rules or IPVS tables.\n"
        "If you wish to reset iptables, you must do so manually by using the \"iptables\" command.\n\n"
        "The reset process does not clean your kubeconfig files and you must remove them manually.\n"
        "Please, check the contents of the $HOME/.kube/config file.")
    return 0


def _reset_cluster_config(run, p, st):
    """What kubeadm reset's FetchInitConfigurationFromCluster needs (cmd/kubeadm/app/util/config/cluster.go):
    (admin client, node name, other members' etcd client URLs), or None with kubeadm's warning. The node name
    comes from kubelet.conf, the API endpoint from this node's kube-apiserver (here: its control-plane record)."""
    from . import api

    kubeconfig = p.get("kubeconfig") or os.path.join(node.K8S, "admin.conf")
    if not os.path.exists(kubeconfig):
        return None  # "Could not obtain a client set from the kubeconfig file" (klog V(1): not printed)
    name = st.get("nodeName")
    try:
        client, _ = _admin(kubeconfig, timeout=5.0)
        _wait("failed to get config map", lambda: client.get(
            "/api/v1/namespaces/kube-system/configmaps/kubeadm-config"), 10.0)
        if not name or not os.path.exists(os.path.join(node.K8S, "kubelet.conf")):
            raise KubeadmError("failed to get node registration: failed to get node name from kubelet config: open "
                               f"{node.K8S}/kubelet.conf: no such file or directory")
        try:
            client.get(f"/api/v1/nodes/{name}")
        except api.ApiError as e:
            raise KubeadmError(f"failed to get node registration: failed to get corresponding node: {e}") from None
        records = _wait("listing the control plane", lambda: client.get("/double/v1/control-plane")["items"], 10.0)
        if not any(c.get("name") == name and c.get("advertiseAddress") for c in records):
            raise KubeadmError(f"failed to getAPIEndpoint: could not retrieve API endpoints for node \"{name}\" using "
                               "pod annotations: no pods with label component=kube-apiserver on this node")
    except (KubeadmError, OSError, api.ApiError) as e:
        warn(run, f"[reset] Unable to fetch the kubeadm-config ConfigMap from cluster: {e}")
        return None
    endpoints = [c["etcdClientURL"] for c in records if c.get("etcdClientURL") and c.get("name") != name]
    return client, name, endpoints


def _empty_dir(d):
    if not os.path.isdir(d):
        return
    for e in os.listdir(d):
        path = os.path.join(d, e)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass


def _remove_etcd_member(st, certdir, cluster_endpoints):
    ip = st.get("advertiseAddress")
    if not ip or not os.path.exists(f"{certdir}/apiserver-etcd-client.crt"):
        out("[reset] No etcd client certificate found: not removing an etcd member")
        return
    peer = f"https://{ip}:2380"
    etcd = _etcd_client(certdir, cluster_endpoints + [f"https://{ip}:2379", "https://127.0.0.1:2379"], timeout=5.0)
    members = etcd.members()
    me = next((m for m in members if peer in (m.get("peerURLs") or [])), None)
    if me is None:
        out(f"[reset] No etcd member with peer URL {peer} found")
        return
    if len(members) == 1:
        out("[reset] This is the only remaining etcd member in the etcd cluster, skip removing it")
        return
    others = [u for m in members if m is not me for u in (m.get("clientURLs") or [])]
    etcd = _etcd_client(certdir, others + [f"https://{ip}:2379"], timeout=5.0)
    out(f"[reset] Removing info for node \"{st.get('nodeName')}\" from the etcd cluster (member {me.get('ID')})")
    # kubeadm's RemoveMember retries with addRemoveBackoff: etcd's strict
    # reconfiguration check refuses to remove a member of a cluster whose
    # members have not all been connected for 5 s ("unhealthy cluster").
    from .etcd import EtcdError

    delay = 0.5
    for step in range(8):
        try:
            etcd.member_remove(me["ID"])
            return
        except EtcdError as e:
            if "member not found" in str(e):
                return
            if step == 7:
                raise
            time.sleep(delay)
            delay *= 1.5


# -- token, upload-certs, certs, version, config ------------------------------


def cmd_token_create(run):
    from . import api

    p = run.p
    pki = _pki()
    token, ttl, usages, groups, desc = None, DEFAULT_TTL, ["signing", "authentication"], [DEFAULT_TOKEN_GROUP], None
    if p.has("config"):
        docs = _load_docs(run, p.get("config"))
        cfg = cfgmod.build_init(docs, node.version(), node.hostname, lambda: "0.0.0.0")
        for w in cfg.warnings:
            warn(run, w)
        if cfg.init["bootstrapTokens"]:
            t = cfg.init["bootstrapTokens"][0]
            token, ttl, usages, groups = t["token"], parse_duration(t["ttl"]), t["usages"], t["groups"]
            desc = t.get("description")
    if p.args:
        token = p.args[0]
    if token is not None and not TOKEN_RE.match(token):
        raise KubeadmError(f'the bootstrap token "{token}" was not of the form "{TOKEN_RE_TEXT}"')
    if p.has("ttl"):
        ttl = parse_duration(p.get("ttl"))
    if p.has("usages"):
        usages = p.get("usages")
        for u in usages:
            if u not in ("signing", "authentication"):
                raise KubeadmError(f"invalid bootstrap token usage string: {u}, valid usages are: "
                                   "signing,authentication")
    if p.has("groups"):
        groups = p.get("groups")
    if p.has("description"):
        desc = p.get("description")
    key = p.get("certificate-key")
    if key:
        errs = certificate_key_errors(key, "certificateKey")
        if errs:
            raise ValidationError(errs)
    token = token or pki.new_token()
    client, kc = _admin(_token_kubeconfig(p))
    try:
        _create_token(client, _token_secret(token, ttl, usages, groups, desc))
    except (OSError, api.ApiError) as e:
        raise KubeadmError(f"failed to create or update bootstrap token with name bootstrap-token-"
                           f"{token.split('.')[0]}: {e}") from None
    if p.get("print-join-command"):
        h = pki.spki_hash(pki.load_certs(kc.ca_pem)[0])
        cmd = f"kubeadm join {kc.host_port()} --token {token} --discovery-token-ca-cert-hash {h} "
        if key:
            cmd += f"--control-plane --certificate-key {key}"
        out(cmd)
    else:
        out(token)
    return 0


DEFAULT_TTL = cfgmod.DEFAULT_TOKEN_TTL


def cmd_token_list(run):
    from . import api
    from .apiserver import token_fields

    p = run.p
    client, _ = _admin(_token_kubeconfig(p))
    try:
        items = client.get("/api/v1/namespaces/kube-system/secrets?fieldSelector=type%3Dbootstrap.kubernetes.io"
                           "%2Ftoken")["items"]
    except (OSError, api.ApiError) as e:
        raise KubeadmError(f"failed to list bootstrap tokens: {e}") from None
    rows = []
    now = node.now()
    for s in items:
        f = token_fields(s)
        usages = sorted(k[len("usage-bootstrap-"):] for k, v in f.items()
                        if k.startswith("usage-bootstrap-") and v == "true")
        exp = f.get("expiration")
        ttl = "<forever>" if not exp else _short_duration(node.parse_rfc3339(exp) - now)
        rows.append({"token": f"{f.get('token-id')}.{f.get('token-secret')}", "ttl": ttl, "expires": exp or "<never>",
                     "usages": usages, "description": f.get("description", ""),
                     "groups": [g for g in f.get("auth-extra-groups", "").split(",") if g]})
    fmt = p.get("output", "text")
    if fmt == "json":
        for r in rows:
            out(json.dumps({"kind": "BootstrapToken", "apiVersion": "output.kubeadm.k8s.io/v1alpha3",
                            "token": r["token"], "description": r["description"], "ttl": r["ttl"],
                            "expires": r["expires"], "usages": r["usages"], "groups": r["groups"]}, indent=4))
        return 0
    if fmt not in ("text", ""):
        raise KubeadmError(f'unable to match a printer suitable for the output format "{fmt}", allowed formats are: '
                           "json,text")
    out(f"{'TOKEN':<26}{'TTL':<12}{'EXPIRES':<23}{'USAGES':<25}{'DESCRIPTION':<59}EXTRA GROUPS")
    for r in rows:
        out(f"{r['token']:<26}{r['ttl']:<12}{r['expires']:<23}{','.join(r['usages']) or '<none>':<25}"
            f"{r['description'] or '<none>':<59}{','.join(r['groups']) or '<none>'}")
    return 0


def _short_duration(s):
    s = max(0, int(s))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 48 * 3600:
        return f"{s // 3600}h"
    return f"{s // 86400}d"


def cmd_token_delete(run):
    from . import api

    p = run.p
    if not p.args:
        raise KubeadmError("missing argument; 'token delete' is missing token of form \"" + TOKEN_RE_TEXT
                           + "\" or \"^([a-z0-9]{6})$\"")
    client, _ = _admin(_token_kubeconfig(p))
    for a in p.args:
        tid = a.split(".")[0]
        if not (TOKEN_RE.match(a) or TOKEN_ID_RE.match(a)):
            raise KubeadmError(f'given token didn\'t match pattern "{TOKEN_RE_TEXT}" or "^([a-z0-9]{{6}})$"')
        try:
            client.delete(f"/api/v1/namespaces/kube-system/secrets/bootstrap-token-{tid}")
        except (OSError, api.ApiError) as e:
            raise KubeadmError(f'failed to delete bootstrap token "{tid}": {e}') from None
        out(f'bootstrap token "{tid}" deleted')
    return 0


def cmd_token_generate(run):
    out(_pki().new_token())
    return 0


def cmd_upload_certs(run):
    from . import api

    p = run.p
    pki = _pki()
    if not p.get("upload-certs"):
        out("[upload-certs] Skipping phase. Please see --upload-certs")
        return 0
    certdir, key = cfgmod.DEFAULT_CERT_DIR, None
    if p.has("config"):
        docs = _load_docs(run, p.get("config"))
        cfg = cfgmod.build_init(docs, node.version(), node.hostname, lambda: "0.0.0.0")
        for w in cfg.warnings:
            warn(run, w)
        run.extra["api_version"] = cfg.api_version
        certdir, key = cfg.cert_dir, cfg.init.get("certificateKey")
    if p.has("cert-dir"):
        certdir = p.get("cert-dir")
    key = p.get("certificate-key") or key or pki.new_certificate_key()
    errs = certificate_key_errors(key, "certificateKey")
    if errs:
        raise ValidationError(errs)
    client, _ = _admin(p.get("kubeconfig"))
    out('[upload-certs] Storing the certificates in Secret "kubeadm-certs" in the "kube-system" Namespace')
    try:
        upload_certs(client, certdir, key)
    except (OSError, api.ApiError) as e:
        raise KubeadmError(f"error execution phase upload-certs: error uploading certs: {e}") from None
    if not p.get("skip-certificate-key-print"):
        out("[upload-certs] Using certificate key:")
        out(key)
    return 0


def cmd_certificate_key(run):
    out(_pki().new_certificate_key())
    return 0


def cmd_version(run):
    v = node.version()
    try:
        major, minor, _ = parse_version(v)
    except ValueError:
        raise KubeadmError(f"{node.ETC}/version: {v!r} is not a version") from None
    info = {"major": str(major), "minor": str(minor), "gitVersion": v, "gitCommit": "0" * 40,
            "gitTreeState": "clean", "buildDate": "2024-10-22T20:33:26Z", "goVersion": "go1.22.8",
            "compiler": "gc", "platform": "linux/" + ("arm64" if os.uname().machine == "aarch64" else "amd64")}
    fmt = run.p.get("output", "")
    if fmt == "short":
        out(v)
    elif fmt == "json":
        out(json.dumps({"clientVersion": info}, indent=2))
    elif fmt == "yaml":
        from . import yamlish

        sys.stdout.write(yamlish.dump({"clientVersion": info}))
    elif fmt == "":
        fields = ", ".join(f'{k[0].upper()}{k[1:]}:"{val}"' for k, val in info.items())
        out(f"kubeadm version: &version.Info{{{fields}}}")
    else:
        raise KubeadmError(f'invalid output format: {fmt}')
    return 0


def cmd_config_validate(run):
    p = run.p
    if not p.has("config"):
        raise KubeadmError("the --config flag is mandatory")
    docs = _load_docs(run, p.get("config"), allow_experimental=bool(p.get("allow-experimental-api")))
    if "JoinConfiguration" in docs.kinds:
        cfgmod.build_join(docs, node.version(), node.hostname, lambda: "0.0.0.0")
    else:
        cfgmod.build_init(docs, node.version(), node.hostname, lambda: "0.0.0.0")
    for w in docs.warnings:
        warn(run, w)
    out("ok")
    return 0


def _images_cluster(run):
    """The ClusterConfiguration `kubeadm config images` works from: --config, or the flags over the defaults
    (kubernetesVersion defaults to the client version: the double has no internet to resolve stable-1)."""
    p = run.p
    if p.has("config"):
        docs = _load_docs(run, p.get("config"))
        flags_init = {"cluster": {k: p.get(f) for f, k in (("kubernetes-version", "kubernetesVersion"),
                                                          ("image-repository", "imageRepository")) if p.has(f)}}
        cfg = cfgmod.build_init(docs, node.version(), node.hostname, lambda: "0.0.0.0", flags_init)
        for w in cfg.warnings:
            warn(run, w)
        return cfg.cluster
    cluster = {}
    if p.has("kubernetes-version"):
        cluster["kubernetesVersion"] = p.get("kubernetes-version")
    if p.has("image-repository"):
        cluster["imageRepository"] = p.get("image-repository")
    warnings = []
    cluster = cfgmod.default_cluster(cluster, node.version(), warnings)
    errs = cfgmod.validate_cluster(cluster, node.version(), warnings)
    if errs:
        raise ValidationError(errs)
    for w in warnings:
        warn(run, w)
    return cluster


def cmd_config_images_list(run):
    from . import images

    imgs = images.control_plane_images(_images_cluster(run), node.version())
    fmt = run.p.get("output", "text")
    if fmt == "json":
        out(json.dumps({"kind": "Images", "apiVersion": "output.kubeadm.k8s.io/v1alpha3", "images": imgs}, indent=4))
    elif fmt in ("text", ""):
        for i in imgs:
            out(i)
    else:
        raise KubeadmError(f'unable to match a printer suitable for the output format "{fmt}", allowed formats are: '
                           "json,text")
    return 0


def cmd_config_images_pull(run):
    from . import images

    for image in images.control_plane_images(_images_cluster(run), node.version()):
        err = images.pull(image)
        if err:
            raise KubeadmError(err)
        out(f"[config/images] Pulled {image}")
    return 0


HANDLERS = {
    "init": cmd_init, "join": cmd_join, "reset": cmd_reset, "token-create": cmd_token_create,
    "token-list": cmd_token_list, "token-delete": cmd_token_delete, "token-generate": cmd_token_generate,
    "upload-certs": cmd_upload_certs, "certificate-key": cmd_certificate_key, "version": cmd_version,
    "config-validate": cmd_config_validate, "config-images-list": cmd_config_images_list,
    "config-images-pull": cmd_config_images_pull,
}

USAGE = """kubeadm (test double): easily bootstrap a secure Kubernetes cluster

Usage:
  kubeadm [command]

Available Commands:
  certs       certificate-key
  config      validate, images list, images pull
  init        Run this command in order to set up the Kubernetes control plane
  join        Run this on any machine you wish to join an existing cluster
  reset       Performs a best effort revert of changes made to this host by 'kubeadm init' or 'kubeadm join'
  token       create, list, delete, generate
  version     Print the version of kubeadm

This is the piagent test double (tests/doubles); see docs/kubeadm-double.md.
"""


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    t0 = time.time()
    record = {"tool": "kubeadm", "argv": argv, "pid": os.getpid(), "time": node.rfc3339(t0), "t": t0,
              "command": None, "host": node.hostname()}
    code, run = 1, None

    def on_signal(signum, _frame):
        raise SystemExit(128 + signum)

    for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(s, on_signal)
    try:
        try:
            record["command"] = flagmod.COMMANDS.get(flagmod.command_path(argv), (None,))[0]
            parsed = flagmod.parse(argv)
            record["command"] = parsed.key
            if parsed.key == "help" or parsed.get("help"):
                sys.stdout.write(USAGE)
                code = 0
                return code
            faults = node.Faults(parsed.key, node.previous_invocations(parsed.key))
            run = Run(parsed, faults)
            faults.start()
            code = HANDLERS[parsed.key](run)
        except KubeadmError as e:
            code = e.code
            record["error"] = str(e)
            record["injected"] = e.injected
            print(str(e) + "\n" + STACK_HINT, file=sys.stderr, flush=True)
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 1
            record["error"] = f"terminated by signal {code - 128}" if code > 128 else None
        except Exception as e:  # noqa: BLE001 - a bug in the double: say so, loudly
            import traceback

            traceback.print_exc()
            code = 1
            record["error"] = f"internal error in the kubeadm double: {type(e).__name__}: {e}"
    finally:
        record["exit"] = code
        record["duration_s"] = round(time.time() - t0, 3)
        if run is not None:
            record["warnings"] = run.warnings
            record["phases"] = dict(run.faults.marks)
            record.update(run.extra)
        node.log_invocation(record)
    return code
