"""kubeadm configuration files: decoding (strict, typed, per API version),
defaulting and validation, with kubeadm's own error texts where it has them.

Strictness differs from `kubeadm init` on purpose: unknown and duplicate
fields are errors here (real init and join only warn; `kubeadm config
validate` errors), and on kubeadm >= 1.31 the deprecated v1beta3 API is
refused unless /etc/kubeadm-double/allow-deprecated-api exists. Everything
the double tolerates but real kubeadm would warn about is collected in
`warnings`, which the invocation log records.
"""

import ipaddress

from . import yamlish
from .gotypes import (
    DEFAULT_TOKEN_GROUP,
    DNS1123_SUBDOMAIN_MSG,
    TOKEN_GROUP_RE,
    TOKEN_RE_TEXT,
    TOKEN_USAGES,
    WILDCARD_DNS,
    KubeadmError,
    ValidationError,
    certificate_key_errors,
    invalid,
    is_dns1123_subdomain,
    is_valid_token,
    parse_duration,
    parse_ip,
    parse_version,
    required,
    split_host_port,
    valid_port,
    FieldError,
)

GROUP = "kubeadm.k8s.io"
KUBELET_GV = "kubelet.config.k8s.io/v1beta1"
KUBEPROXY_GV = "kubeproxy.config.k8s.io/v1alpha1"

DEFAULT_SERVICE_SUBNET = "10.96.0.0/12"
DEFAULT_DNS_DOMAIN = "cluster.local"
DEFAULT_BIND_PORT = 6443
DEFAULT_CERT_DIR = "/etc/kubernetes/pki"
DEFAULT_ETCD_DIR = "/var/lib/etcd"
DEFAULT_TOKEN_TTL = 24 * 3600.0
ENCRYPTION_ALGORITHMS = ("ECDSA-P256", "RSA-2048", "RSA-3072", "RSA-4096")

# Feature gates kubeadm knows, by the minor version they appeared in.
FEATURE_GATES = {
    "PublicKeysECDSA": (19, 30),  # (first, last) minor that knows it
    "RootlessControlPlane": (22, 99),
    "EtcdLearnerMode": (27, 99),
    "WaitForAllControlPlaneComponents": (30, 99),
    "ControlPlaneKubeletLocalMode": (31, 99),
    "NodeLocalCRISocket": (32, 99),
}


# -- schema ------------------------------------------------------------------
# A type is "string", "int", "bool", "duration" (a string Go parses),
# "any", ("list", T), ("map", T) or ("obj", GoTypeName, {field: T}).

S, I, B, D, ANY = "string", "int", "bool", "duration", "any"


def L(t):
    return ("list", t)


def M(t):
    return ("map", t)


def O(name, fields):
    return ("obj", name, fields)


ARG = O("Arg", {"name": S, "value": S})
ENVVAR = O("EnvVar", {"name": S, "value": S, "valueFrom": ANY})
TAINT = O("Taint", {"key": S, "value": S, "effect": S, "timeAdded": S})
HOSTPATH = O("HostPathMount", {"name": S, "hostPath": S, "mountPath": S, "readOnly": B, "pathType": S})
API_ENDPOINT = O("APIEndpoint", {"advertiseAddress": S, "bindPort": I})
PATCHES = O("Patches", {"directory": S})
TOKEN = O("BootstrapToken", {"token": S, "description": S, "ttl": D, "expires": S, "usages": L(S), "groups": L(S)})
TIMEOUTS = O("Timeouts", {k: D for k in ("controlPlaneComponentHealthCheck", "kubeletHealthCheck", "kubernetesAPICall",
                                         "etcdAPICall", "tlsBootstrap", "discovery", "upgradeManifests")})


def _schemas(v):
    beta4 = v == "v1beta4"
    extra_args = L(ARG) if beta4 else M(S)
    nodereg = {"name": S, "criSocket": S, "taints": L(TAINT), "kubeletExtraArgs": extra_args,
               "ignorePreflightErrors": L(S), "imagePullPolicy": S}
    if beta4:
        nodereg["imagePullSerial"] = B
    nodereg = O("NodeRegistrationOptions", nodereg)
    control_component = {"extraArgs": extra_args, "extraVolumes": L(HOSTPATH)}
    if beta4:
        control_component["extraEnvs"] = L(ENVVAR)
    apiserver = dict(control_component, certSANs=L(S))
    if not beta4:
        apiserver["timeoutForControlPlane"] = D
    local_etcd = {"imageRepository": S, "imageTag": S, "dataDir": S, "extraArgs": extra_args,
                  "serverCertSANs": L(S), "peerCertSANs": L(S)}
    if beta4:
        local_etcd["extraEnvs"] = L(ENVVAR)
    dns = {"imageRepository": S, "imageTag": S}
    if beta4:
        dns["disabled"] = B
    cluster = {
        "etcd": O("Etcd", {"local": O("LocalEtcd", local_etcd),
                           "external": O("ExternalEtcd", {"endpoints": L(S), "caFile": S, "certFile": S,
                                                          "keyFile": S})}),
        "networking": O("Networking", {"serviceSubnet": S, "podSubnet": S, "dnsDomain": S}),
        "kubernetesVersion": S,
        "controlPlaneEndpoint": S,
        "apiServer": O("APIServer", apiserver),
        "controllerManager": O("ControlPlaneComponent", dict(control_component)),
        "scheduler": O("ControlPlaneComponent", dict(control_component)),
        "dns": O("DNS", dns),
        "certificatesDir": S,
        "imageRepository": S,
        "featureGates": M(B),
        "clusterName": S,
    }
    if beta4:
        cluster.update({"proxy": O("Proxy", {"disabled": B}), "encryptionAlgorithm": S,
                        "certificateValidityPeriod": D, "caCertificateValidityPeriod": D})
    init = {"bootstrapTokens": L(TOKEN), "nodeRegistration": nodereg, "localAPIEndpoint": API_ENDPOINT,
            "certificateKey": S, "skipPhases": L(S), "patches": PATCHES}
    discovery = {
        "bootstrapToken": O("BootstrapTokenDiscovery", {"token": S, "apiServerEndpoint": S, "caCertHashes": L(S),
                                                        "unsafeSkipCAVerification": B}),
        "file": O("FileDiscovery", {"kubeConfigPath": S}),
        "tlsBootstrapToken": S,
    }
    if not beta4:
        discovery["timeout"] = D
    join = {"nodeRegistration": nodereg, "caCertPath": S, "discovery": O("Discovery", discovery),
            "controlPlane": O("JoinControlPlane", {"localAPIEndpoint": API_ENDPOINT, "certificateKey": S}),
            "skipPhases": L(S), "patches": PATCHES}
    out = {"InitConfiguration": init, "ClusterConfiguration": cluster, "JoinConfiguration": join}
    if beta4:
        for k in ("InitConfiguration", "JoinConfiguration"):
            out[k].update({"dryRun": B, "timeouts": TIMEOUTS})
        out["ResetConfiguration"] = {"certificatesDir": S, "cleanupTmpDir": B, "criSocket": S, "dryRun": B,
                                     "force": B, "ignorePreflightErrors": L(S), "skipPhases": L(S),
                                     "unmountFlags": L(S)}
    return out


SCHEMAS = {"v1beta3": _schemas("v1beta3"), "v1beta4": _schemas("v1beta4")}


class _Decoder:
    def __init__(self, gvk):
        self.gvk = gvk

    def fail(self, msg):
        g, v, k = self.gvk
        raise KubeadmError(f'error unmarshaling configuration schema.GroupVersionKind{{Group:"{g}", Version:"{v}", '
                           f'Kind:"{k}"}}: {msg}')

    def decode(self, value, typ, path, goname):
        if value is None:
            return None  # Go: a null leaves the zero value
        if typ == ANY:
            return value
        if typ in (S, D):
            if not isinstance(value, str):
                self.fail(f"json: cannot unmarshal {_jstype(value)} into Go struct field {goname}.{path} of type "
                          f"{'v1.Duration' if typ == D else 'string'}")
            if typ == D:
                try:
                    parse_duration(value)
                except ValueError as e:
                    self.fail(str(e))
            return value
        if typ == I:
            if isinstance(value, bool) or not isinstance(value, int):
                self.fail(f"json: cannot unmarshal {_jstype(value)} into Go struct field {goname}.{path} of type int32")
            return value
        if typ == B:
            if not isinstance(value, bool):
                self.fail(f"json: cannot unmarshal {_jstype(value)} into Go struct field {goname}.{path} of type bool")
            return value
        kind = typ[0]
        if kind == "list":
            if not isinstance(value, list):
                self.fail(f"json: cannot unmarshal {_jstype(value)} into Go struct field {goname}.{path} of type []"
                          f"{_goname(typ[1])}")
            return [self.decode(v, typ[1], path, goname) for v in value]
        if kind == "map":
            if not isinstance(value, dict):
                self.fail(f"json: cannot unmarshal {_jstype(value)} into Go struct field {goname}.{path} of type "
                          f"map[string]{_goname(typ[1])}")
            return {k: self.decode(v, typ[1], f"{path}.{k}" if path else k, goname) for k, v in value.items()}
        name, fields = typ[1], typ[2]
        if not isinstance(value, dict):
            self.fail(f"json: cannot unmarshal {_jstype(value)} into Go struct field {goname}.{path} of type "
                      f"v1beta.{name}")
        out = {}
        for k, v in value.items():
            sub = f"{path}.{k}" if path else k
            if k not in fields:
                self.fail(f'strict decoding error: unknown field "{sub}"')
            out[k] = self.decode(v, fields[k], sub, name)
        return out


def _jstype(v):
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    if isinstance(v, dict):
        return "object"
    return "null"


def _goname(t):
    if isinstance(t, tuple):
        return t[1] if t[0] == "obj" else ("[]" if t[0] == "list" else "map[string]") + _goname(t[1])
    return {S: "string", I: "int32", B: "bool", D: "v1.Duration", ANY: "interface {}"}[t]


# -- documents ---------------------------------------------------------------


# Which kubeadm.k8s.io versions a kubeadm minor reads, as cmd/kubeadm/app/apis/kubeadm/scheme/scheme.go registers
# them and validateSupportedVersion() in cmd/kubeadm/app/util/config/common.go sorts them (docs/kubeadm-double.md):
# v1beta3 from 1.22 (PR 101129), preferred until 1.30, deprecated (a warning) from 1.31 (PR 125029), removed in 1.36
# (PR 136016); v1beta4 registered as experimental in 1.28-1.30 (PR 118866: refused unless
# --allow-experimental-api, which only `config migrate/validate` have), preferred from 1.31. v1beta2 and older are
# "old" specs (refused with the kubeadm release to migrate with); the double models no schema for them.
PREFERRED, DEPRECATED, EXPERIMENTAL, OLD, UNKNOWN = "preferred", "deprecated", "experimental", "old", "unknown"
OLD_SPECS = {"v1alpha1": "v1.11", "v1alpha2": "v1.12", "v1alpha3": "v1.14", "v1beta1": "v1.15", "v1beta2": "v1.22"}


def api_status(kubeadm_version, version):
    """PREFERRED / DEPRECATED / EXPERIMENTAL / OLD / UNKNOWN for kubeadm.k8s.io/<version> on this kubeadm."""
    _, minor, _ = parse_version(kubeadm_version)
    if version in OLD_SPECS:
        return OLD
    if version == "v1beta3":
        if minor < 22:
            return UNKNOWN
        return PREFERRED if minor <= 30 else DEPRECATED if minor <= 35 else OLD
    if version == "v1beta4":
        if minor < 28:
            return UNKNOWN
        return EXPERIMENTAL if minor <= 30 else PREFERRED
    return UNKNOWN


def old_spec_release(kubeadm_version, version):
    """The kubeadm release an old spec's error message names (the last that reads it)."""
    if version == "v1beta3":
        return "v1.35"
    return OLD_SPECS.get(version, "v1.22")


def supported_versions(kubeadm_version):
    """The versions accepted without an error, preferred first."""
    out = [v for v in ("v1beta4", "v1beta3") if api_status(kubeadm_version, v) == PREFERRED]
    out += [v for v in ("v1beta4", "v1beta3") if api_status(kubeadm_version, v) == DEPRECATED]
    return tuple(out)


def preferred_version(kubeadm_version):
    versions = supported_versions(kubeadm_version)
    if not versions:
        raise KubeadmError(f"kubeadm {kubeadm_version}: the kubeadm test double models kubeadm 1.22 and later only")
    return versions[0]


class Documents:
    """The decoded documents of one file: {kind: (version, object)}."""

    def __init__(self):
        self.kinds = {}
        self.component = {}  # KubeletConfiguration / KubeProxyConfiguration
        self.warnings = []


def load_documents(text, kubeadm_version, allow_deprecated=False, allow_experimental=False):
    try:
        raw_docs = yamlish.load_all(text)
    except yamlish.YAMLError as e:
        raise KubeadmError(f"error converting YAML to JSON: yaml: {e}") from None
    except ValueError as e:
        raise KubeadmError(f"error converting YAML to JSON: {e}") from None
    docs = []
    for d in raw_docs:
        if isinstance(d, dict) and d.get("apiVersion") == "v1" and d.get("kind") == "List":
            items = d.get("items")
            if not isinstance(items, list):
                raise KubeadmError("invalid configuration: a List must carry an 'items' array")
            docs.extend(items)
        else:
            docs.append(d)
    out = Documents()
    seen = set()
    for d in docs:
        if not isinstance(d, dict):
            raise KubeadmError("invalid configuration: every document must be an object (mapping)")
        api, kind = d.get("apiVersion"), d.get("kind")
        if not isinstance(api, str) or not isinstance(kind, str) or not api or not kind:
            raise KubeadmError(f"invalid configuration for GroupVersionKind {api or ''}, Kind={kind or ''}: kind and "
                               "apiVersion is mandatory information that must be specified")
        gvk_s = f"{api}, Kind={kind}"
        if gvk_s in seen:
            raise KubeadmError(f"invalid configuration: kind {kind!r} is specified twice in YAML file".replace("'", '"'))
        seen.add(gvk_s)
        group, _, version = api.rpartition("/")
        body = {k: v for k, v in d.items() if k not in ("apiVersion", "kind")}
        if group == GROUP:
            status = api_status(kubeadm_version, version)
            if status == OLD:
                raise KubeadmError(
                    f'your configuration file uses an old API spec: "{api}". Please use kubeadm '
                    f"{old_spec_release(kubeadm_version, version)} instead and run 'kubeadm config migrate --old-config "
                    "old.yaml --new-config new.yaml', which will write the new, similar spec using a newer API "
                    "version.")
            if status == EXPERIMENTAL and not allow_experimental:
                raise KubeadmError(f'experimental API spec: "{api}" is not allowed. You can use the '
                                   "--allow-experimental-api flag if the command supports it.")
            schemas = SCHEMAS.get(version)
            if status == UNKNOWN or schemas is None or kind not in schemas:
                raise KubeadmError(f'no kind "{kind}" is registered for version "{api}" in scheme '
                                   '"k8s.io/kubernetes/cmd/kubeadm/app/apis/kubeadm/scheme/scheme.go:31"')
            if status == DEPRECATED:
                msg = (f'your configuration file uses a deprecated API spec: "{api}". Please use \'kubeadm config '
                       "migrate --old-config old.yaml --new-config new.yaml', which will write the new, similar spec "
                       "using a newer API version.")
                if not allow_deprecated:
                    raise KubeadmError(f"{msg} (kubeadm {kubeadm_version} only warns; the kubeadm test double refuses "
                                       f"deprecated API versions: write {GROUP}/{preferred_version(kubeadm_version)})")
                out.warnings.append(msg)
            if any(k in out.kinds for k in [kind]):
                raise KubeadmError(f'invalid configuration: kind "{kind}" is specified twice in YAML file')
            obj = _Decoder((GROUP, version, kind)).decode(body, ("obj", kind, schemas[kind]), "", kind)
            out.kinds[kind] = (version, obj)
        elif (api, kind) in ((KUBELET_GV, "KubeletConfiguration"), (KUBEPROXY_GV, "KubeProxyConfiguration")):
            out.component[kind] = _component(kind, body)
        elif kind in ("KubeletConfiguration", "KubeProxyConfiguration"):
            raise KubeadmError(f'no kind "{kind}" is registered for version "{api}"')
        else:
            out.warnings.append(f"[config] WARNING: Ignored YAML document with GroupVersionKind {api}, Kind={kind}")
    return out


def _component(kind, body):
    """Component configs are large; the double checks the fields kubeadm and
    the kubelet fail on early and passes the rest through."""
    errs = []
    if kind == "KubeletConfiguration":
        cd = body.get("cgroupDriver")
        if cd is not None and cd not in ("systemd", "cgroupfs"):
            errs.append(FieldError("Unsupported", "cgroupDriver", cd, 'supported values: "cgroupfs", "systemd"'))
        for b in ("failSwapOn", "serverTLSBootstrap", "rotateCertificates"):
            if b in body and not isinstance(body[b], bool):
                raise KubeadmError(f"json: cannot unmarshal {_jstype(body[b])} into Go struct field "
                                   f"KubeletConfiguration.{b} of type bool")
    else:
        mode = body.get("mode")
        if mode is not None and mode not in ("", "iptables", "ipvs", "nftables", "kernelspace"):
            errs.append(FieldError("Unsupported", "KubeProxyConfiguration.Mode", mode,
                                   'supported values: "iptables", "ipvs", "nftables"'))
    if errs:
        raise ValidationError(errs)
    return body


# -- effective configurations ---------------------------------------------


def _get(d, *path, default=None):
    for p in path:
        if not isinstance(d, dict) or d.get(p) is None:
            return default
        d = d[p]
    return d


def _args(v):
    """extraArgs as a dict whichever API version wrote them."""
    if isinstance(v, list):
        return {a.get("name"): a.get("value") for a in v}
    return dict(v or {})


def default_cluster(cluster, kubeadm_version, warnings):
    c = dict(cluster or {})
    c.setdefault("clusterName", "kubernetes")
    c.setdefault("certificatesDir", DEFAULT_CERT_DIR)
    net = dict(c.get("networking") or {})
    net.setdefault("serviceSubnet", DEFAULT_SERVICE_SUBNET)
    net.setdefault("dnsDomain", DEFAULT_DNS_DOMAIN)
    c["networking"] = net
    etcd = dict(c.get("etcd") or {})
    if "external" not in etcd or etcd.get("external") is None:
        local = dict(etcd.get("local") or {})
        local.setdefault("dataDir", DEFAULT_ETCD_DIR)
        etcd["local"] = local
    c["etcd"] = etcd
    c.setdefault("encryptionAlgorithm", "RSA-2048")
    kv = c.get("kubernetesVersion")
    if not kv or kv.startswith(("stable", "latest", "ci/", "release/")):
        if kv:
            warnings.append(f"could not fetch a Kubernetes version from the internet: unable to get URL "
                            f"\"https://dl.k8s.io/release/{kv}.txt\"; falling back to the local client version: "
                            f"{kubeadm_version}")
        c["kubernetesVersion"] = kubeadm_version
    elif not kv.startswith("v"):
        c["kubernetesVersion"] = "v" + kv
    return c


def validate_cluster(c, kubeadm_version, warnings):
    errs = []
    net = c["networking"]
    svc = net.get("serviceSubnet")
    for i, cidr in enumerate(svc.split(",")):
        try:
            n = ipaddress.ip_network(cidr.strip(), strict=False)
        except ValueError:
            errs.append(invalid("networking.serviceSubnet", svc, "couldn't parse subnet"))
            break
        if n.version == 4 and n.prefixlen < 12:
            errs.append(invalid("networking.serviceSubnet", svc,
                                "specified service subnet is too large; for 32-bit addresses, the mask must be >= 12"))
    pod = net.get("podSubnet")
    if pod:
        for cidr in pod.split(","):
            try:
                n = ipaddress.ip_network(cidr.strip(), strict=False)
            except ValueError:
                errs.append(invalid("networking.podSubnet", pod, "couldn't parse subnet"))
                break
            if n.version == 4 and n.prefixlen > 24:
                errs.append(invalid("networking.podSubnet", pod,
                                    f"the size of pod subnet with mask {n.prefixlen} is smaller than the size of node "
                                    "subnet with mask 24"))
    if not is_dns1123_subdomain(net.get("dnsDomain")):
        errs.append(invalid("networking.dnsDomain", net.get("dnsDomain"), DNS1123_SUBDOMAIN_MSG))
    cpe = c.get("controlPlaneEndpoint")
    if cpe:
        errs += endpoint_errors("controlPlaneEndpoint", cpe, port_required=False)
    for i, san in enumerate(_get(c, "apiServer", "certSANs", default=[])):
        if not (parse_ip(san) or is_dns1123_subdomain(san) or WILDCARD_DNS.match(san or "")):
            errs.append(invalid(f"apiServer.certSANs[{i}]", san,
                                "altname is not a valid IP address, DNS label or a DNS label with subdomain wildcards: "
                                + DNS1123_SUBDOMAIN_MSG))
    for fg, on in (c.get("featureGates") or {}).items():
        first_last = FEATURE_GATES.get(fg)
        _, minor, _ = parse_version(kubeadm_version)
        if not first_last or not first_last[0] <= minor <= first_last[1]:
            errs.append(invalid("featureGates", fg, f"unrecognized feature-gate key: {fg}"))
    alg = c.get("encryptionAlgorithm")
    if alg not in ENCRYPTION_ALGORITHMS:
        errs.append(FieldError("Unsupported", "encryptionAlgorithm", alg,
                               "supported values: " + ", ".join(f'"{a}"' for a in ENCRYPTION_ALGORITHMS)))
    if _get(c, "etcd", "external"):
        raise KubeadmError("external etcd is not supported by the kubeadm test double")
    dd = _get(c, "etcd", "local", "dataDir")
    if dd and not dd.startswith("/"):
        errs.append(invalid("etcd.local.dataDir", dd, "path must be absolute"))
    if not c["certificatesDir"].startswith("/"):
        errs.append(invalid("certificatesDir", c["certificatesDir"], "path must be absolute"))
    try:
        kmaj, kmin, _ = parse_version(c["kubernetesVersion"])
    except ValueError as e:
        errs.append(invalid("kubernetesVersion", c["kubernetesVersion"], str(e)))
    else:
        _, amin, _ = parse_version(kubeadm_version)
        if kmaj != 1 or kmin < amin - 1:
            raise KubeadmError(f"this version of kubeadm only supports deploying clusters with the control plane "
                               f"version >= 1.{amin - 1}.0. Current version: {c['kubernetesVersion']}")
        if kmin > amin:
            warnings.append(f"[WARNING KubernetesVersion]: Kubernetes version is greater than kubeadm version. "
                            f"Please consider to upgrade kubeadm. Kubernetes version: {c['kubernetesVersion']}. "
                            f"Kubeadm version: 1.{amin}.x")
    return errs


def endpoint_errors(path, value, port_required=True):
    if port_required or (":" in value and not value.startswith("[")) or value.startswith("["):
        try:
            host, port = split_host_port(value)
        except ValueError as e:
            return [invalid(path, value, str(e))]
        if not valid_port(port):
            return [invalid(path, value, "port must be a valid number between 1 and 65535, inclusive")]
    else:
        host = value
    if not (parse_ip(host) or is_dns1123_subdomain(host)):
        return [invalid(path, value, "host must be a valid IP address or a valid RFC-1123 DNS subdomain")]
    return []


def nodereg_errors(nr, path="nodeRegistration"):
    errs = []
    name = nr.get("name")
    if not name:
        errs.append(required(f"{path}.name", "--node-name or .nodeRegistration.name in the config file is a required "
                                             "value. It seems like this value couldn't be automatically detected in "
                                             "your environment, please specify the desired value using the CLI or "
                                             "config file."))
    elif not is_dns1123_subdomain(name):
        errs.append(invalid(f"{path}.name", name, DNS1123_SUBDOMAIN_MSG))
    sock = nr.get("criSocket")
    if sock and not sock.startswith(("unix://", "npipe://")):
        if sock.startswith("/"):
            pass  # kubeadm warns and prepends unix://
        else:
            errs.append(invalid(f"{path}.criSocket", sock, "URL scheme  is not supported"))
    pol = nr.get("imagePullPolicy")
    if pol and pol not in ("Always", "IfNotPresent", "Never"):
        errs.append(FieldError("Unsupported", f"{path}.imagePullPolicy", pol,
                               'supported values: "Always", "IfNotPresent", "Never"'))
    for i, t in enumerate(nr.get("taints") or []):
        if not t.get("key"):
            errs.append(required(f"{path}.taints[{i}].key"))
        if t.get("effect") not in ("NoSchedule", "PreferNoSchedule", "NoExecute"):
            errs.append(FieldError("Unsupported", f"{path}.taints[{i}].effect", t.get("effect"),
                                   'supported values: "NoExecute", "NoSchedule", "PreferNoSchedule"'))
    return errs


def api_endpoint_errors(ep, path):
    errs = []
    addr = ep.get("advertiseAddress")
    if addr and not parse_ip(addr):
        errs.append(invalid(f"{path}.advertiseAddress", addr, "must be a valid IP address"))
    port = ep.get("bindPort")
    if port is not None and not 0 < port < 65536:
        errs.append(invalid(f"{path}.bindPort", port, "port number is not valid"))
    return errs


def token_errors(tokens, path="bootstrapTokens"):
    errs = []
    for i, t in enumerate(tokens):
        p = f"{path}[{i}]"
        tok = t.get("token")
        if tok is None:
            errs.append(required(f"{p}.token"))
        elif not is_valid_token(tok):
            raise KubeadmError(f'the bootstrap token "{tok}" was not of the form "{TOKEN_RE_TEXT}"')
        for u in t.get("usages") or []:
            if u not in TOKEN_USAGES:
                errs.append(invalid(f"{p}.usages", t.get("usages"),
                                    f'invalid bootstrap token usage string: {u}, valid usages are: '
                                    f'{",".join(TOKEN_USAGES)}'))
        for g in t.get("groups") or []:
            if not TOKEN_GROUP_RE.match(g):
                errs.append(invalid(f"{p}.groups", t.get("groups"),
                                    f'group "{g}" must match the pattern "\\Asystem:bootstrappers:[a-z0-9:-]{{0,255}}'
                                    '[a-z0-9]\\z"'))
        if t.get("ttl") is not None and parse_duration(t["ttl"]) < 0:
            errs.append(invalid(f"{p}.ttl", t["ttl"], "the ttl must not be negative"))
    return errs


class InitConfig:
    """What `kubeadm init` acts on, defaulted and validated."""

    def __init__(self, init, cluster, component, warnings, version):
        self.init, self.cluster, self.component, self.warnings = init, cluster, component, warnings
        self.api_version = version

    @property
    def node_name(self):
        return self.init["nodeRegistration"]["name"]

    @property
    def advertise_address(self):
        return self.init["localAPIEndpoint"]["advertiseAddress"]

    @property
    def bind_port(self):
        return self.init["localAPIEndpoint"]["bindPort"]

    @property
    def cert_dir(self):
        return self.cluster["certificatesDir"]

    @property
    def etcd_dir(self):
        return self.cluster["etcd"]["local"]["dataDir"]

    def timeout(self, name, default):
        t = _get(self.init, "timeouts", name)
        if t is None and name == "controlPlaneComponentHealthCheck":
            t = _get(self.cluster, "apiServer", "timeoutForControlPlane")
        return parse_duration(t) if t is not None else default


def build_init(docs, kubeadm_version, node_name_default, address_default, flags_init=None):
    """docs: Documents (or None for flags only); flags_init: a partial
    InitConfiguration/ClusterConfiguration from command-line flags."""
    warnings = list(docs.warnings) if docs else []
    if docs and "JoinConfiguration" in docs.kinds:
        warnings.append(f"[config] WARNING: Ignored YAML document with GroupVersionKind {GROUP}/"
                        f"{docs.kinds['JoinConfiguration'][0]}, Kind=JoinConfiguration")
    version = preferred_version(kubeadm_version)
    init, cluster = {}, {}
    if docs:
        if "InitConfiguration" in docs.kinds:
            version, init = docs.kinds["InitConfiguration"]
        if "ClusterConfiguration" in docs.kinds:
            cluster = docs.kinds["ClusterConfiguration"][1]
        if not ({"InitConfiguration", "ClusterConfiguration"} & set(docs.kinds)):
            raise KubeadmError("no InitConfiguration or ClusterConfiguration kind was found in the YAML file")
    if flags_init:
        init, cluster = _merge(init, flags_init.get("init", {})), _merge(cluster, flags_init.get("cluster", {}))
    init = dict(init)
    nr = dict(init.get("nodeRegistration") or {})
    if not nr.get("name"):
        nr["name"] = node_name_default()
    init["nodeRegistration"] = nr
    ep = dict(init.get("localAPIEndpoint") or {})
    if ep.get("bindPort") in (None, 0):
        ep["bindPort"] = DEFAULT_BIND_PORT
    errs = api_endpoint_errors(ep, "localAPIEndpoint")
    if not ep.get("advertiseAddress"):
        ep["advertiseAddress"] = address_default()
    init["localAPIEndpoint"] = ep
    tokens = [dict(t) for t in (init.get("bootstrapTokens") or [])]
    errs += token_errors(tokens)
    for t in tokens:
        t.setdefault("ttl", "24h0m0s")
        t.setdefault("usages", ["signing", "authentication"])
        t.setdefault("groups", [DEFAULT_TOKEN_GROUP])
    init["bootstrapTokens"] = tokens
    errs += nodereg_errors(nr)
    errs += certificate_key_errors(init.get("certificateKey"), "certificateKey")
    cluster = default_cluster(cluster, kubeadm_version, warnings)
    errs += validate_cluster(cluster, kubeadm_version, warnings)
    if errs:
        raise ValidationError(errs)
    return InitConfig(init, cluster, docs.component if docs else {}, warnings, version)


class JoinConfig:
    def __init__(self, join, component, warnings, version):
        self.join, self.component, self.warnings, self.api_version = join, component, warnings, version

    @property
    def node_name(self):
        return self.join["nodeRegistration"]["name"]

    @property
    def control_plane(self):
        return self.join.get("controlPlane")

    @property
    def bootstrap(self):
        return self.join["discovery"].get("bootstrapToken")

    def timeout(self, name, default):
        t = _get(self.join, "timeouts", name)
        if t is None and name == "discovery":
            t = _get(self.join, "discovery", "timeout")
        return parse_duration(t) if t is not None else default


def build_join(docs, kubeadm_version, node_name_default, address_default, flags_join=None):
    warnings = list(docs.warnings) if docs else []
    version = preferred_version(kubeadm_version)
    join = {}
    if docs:
        for k in ("InitConfiguration", "ClusterConfiguration"):
            if k in docs.kinds:
                warnings.append(f"[config] WARNING: Ignored YAML document with GroupVersionKind {GROUP}/"
                                f"{docs.kinds[k][0]}, Kind={k}")
        if "JoinConfiguration" not in docs.kinds:
            raise KubeadmError("no JoinConfiguration kind was found in the YAML file")
        version, join = docs.kinds["JoinConfiguration"]
    if flags_join:
        join = _merge(join, flags_join)
    join = dict(join)
    nr = dict(join.get("nodeRegistration") or {})
    if not nr.get("name"):
        nr["name"] = node_name_default()
    join["nodeRegistration"] = nr
    errs = nodereg_errors(nr)
    disc = dict(join.get("discovery") or {})
    join["discovery"] = disc
    bt, f = disc.get("bootstrapToken"), disc.get("file")
    if bt is None and f is None:
        errs.append(invalid("discovery", "", "bootstrapToken or file must be set"))
    elif bt is not None and f is not None:
        errs.append(invalid("discovery", "", "bootstrapToken and file cannot both be set"))
    if f is not None and bt is None:
        raise KubeadmError("file-based discovery is not supported by the kubeadm test double")
    if bt is not None:
        bt = dict(bt)
        disc["bootstrapToken"] = bt
        p = "discovery.bootstrapToken"
        if not bt.get("caCertHashes") and not bt.get("unsafeSkipCAVerification"):
            errs.append(invalid(p, "", "using token-based discovery without caCertHashes can be unsafe. Set "
                                       "unsafeSkipCAVerification as true in your kubeadm config file or pass "
                                       "--discovery-token-unsafe-skip-ca-verification flag to continue"))
        if not is_valid_token(bt.get("token")):
            errs.append(invalid(f"{p}.token", bt.get("token") or "", "the bootstrap token is invalid"))
        ep = bt.get("apiServerEndpoint")
        if not ep:
            errs.append(invalid(f"{p}.apiServerEndpoints", "", "address : missing port in address"))
        else:
            errs += endpoint_errors(f"{p}.apiServerEndpoints", ep)
        if not disc.get("tlsBootstrapToken"):
            disc["tlsBootstrapToken"] = bt.get("token")
    if disc.get("tlsBootstrapToken") and not is_valid_token(disc["tlsBootstrapToken"]):
        errs.append(invalid("discovery.tlsBootstrapToken", disc["tlsBootstrapToken"], "the bootstrap token is invalid"))
    cp = join.get("controlPlane")
    if cp is not None:
        cp = dict(cp)
        ep = dict(cp.get("localAPIEndpoint") or {})
        if ep.get("bindPort") in (None, 0):
            ep["bindPort"] = DEFAULT_BIND_PORT
        errs += api_endpoint_errors(ep, "controlPlane.localAPIEndpoint")
        if not ep.get("advertiseAddress"):
            ep["advertiseAddress"] = address_default()
        cp["localAPIEndpoint"] = ep
        errs += certificate_key_errors(cp.get("certificateKey"), "controlPlane.certificateKey")
        join["controlPlane"] = cp
    if errs:
        raise ValidationError(errs)
    return JoinConfig(join, docs.component if docs else {}, warnings, version)


def _merge(base, over):
    out = dict(base or {})
    for k, v in (over or {}).items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out
