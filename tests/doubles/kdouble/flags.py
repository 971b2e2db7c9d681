"""Command-line parsing the way kubeadm's cobra/pflag does it: subcommands,
--flag=value / --flag value / -f, bool flags, repeated or comma-separated
slices, unknown flags and mixing --config with other flags refused with
kubeadm's messages."""

from .gotypes import KubeadmError, parse_duration

BOOL, STR, INT, SLICE, DUR = "bool", "string", "int", "strings", "duration"

GLOBAL = {
    "v": (STR, "v"), "rootfs": (STR, None), "log-file": (STR, None), "log-file-max-size": (STR, None),
    "add-dir-header": (BOOL, None), "skip-headers": (BOOL, None), "skip-log-headers": (BOOL, None),
    "one-output": (BOOL, None), "help": (BOOL, "h"),
}

INIT = {
    "config": (STR, None), "apiserver-advertise-address": (STR, None), "apiserver-bind-port": (INT, None),
    "apiserver-cert-extra-sans": (SLICE, None), "cert-dir": (STR, None), "certificate-key": (STR, None),
    "control-plane-endpoint": (STR, None), "cri-socket": (STR, None), "feature-gates": (STR, None),
    "image-repository": (STR, None), "kubernetes-version": (STR, None), "node-name": (STR, None),
    "patches": (STR, None), "pod-network-cidr": (STR, None), "service-cidr": (STR, None),
    "service-dns-domain": (STR, None), "token": (STR, None), "token-ttl": (DUR, None),
    "ignore-preflight-errors": (SLICE, None), "skip-phases": (SLICE, None), "upload-certs": (BOOL, None),
    "dry-run": (BOOL, None), "skip-certificate-key-print": (BOOL, None), "skip-token-print": (BOOL, None),
}
UPLOAD_CERTS = {
    "config": (STR, None), "kubeconfig": (STR, None), "certificate-key": (STR, None), "upload-certs": (BOOL, None),
    "skip-certificate-key-print": (BOOL, None), "cert-dir": (STR, None),
}
JOIN = {
    "config": (STR, None), "apiserver-advertise-address": (STR, None), "apiserver-bind-port": (INT, None),
    "certificate-key": (STR, None), "control-plane": (BOOL, None), "cri-socket": (STR, None),
    "discovery-file": (STR, None), "discovery-token": (STR, None), "discovery-token-ca-cert-hash": (SLICE, None),
    "discovery-token-unsafe-skip-ca-verification": (BOOL, None), "dry-run": (BOOL, None),
    "ignore-preflight-errors": (SLICE, None), "node-name": (STR, None), "patches": (STR, None),
    "skip-phases": (SLICE, None), "tls-bootstrap-token": (STR, None), "token": (STR, None),
}
RESET = {
    "cert-dir": (STR, None), "cleanup-tmp-dir": (BOOL, None), "config": (STR, None), "cri-socket": (STR, None),
    "dry-run": (BOOL, None), "force": (BOOL, "f"), "ignore-preflight-errors": (SLICE, None),
    "kubeconfig": (STR, None), "skip-phases": (SLICE, None),
}
TOKEN = {"kubeconfig": (STR, None), "dry-run": (BOOL, None)}
TOKEN_CREATE = dict(TOKEN, **{
    "config": (STR, None), "certificate-key": (STR, None), "description": (STR, None), "groups": (SLICE, None),
    "print-join-command": (BOOL, None), "ttl": (DUR, None), "usages": (SLICE, None),
})
TOKEN_LIST = dict(TOKEN, **{"output": (STR, "o"), "allow-missing-template-keys": (BOOL, None),
                            "show-managed-fields": (BOOL, None)})
VERSION = {"output": (STR, "o")}
CONFIG_VALIDATE = {"config": (STR, None), "allow-experimental-api": (BOOL, None), "kubeconfig": (STR, None)}
CONFIG_IMAGES_LIST = {"config": (STR, None), "kubernetes-version": (STR, None), "image-repository": (STR, None),
                      "feature-gates": (STR, None), "output": (STR, "o"), "allow-missing-template-keys": (BOOL, None),
                      "show-managed-fields": (BOOL, None), "kubeconfig": (STR, None)}
CONFIG_IMAGES_PULL = {"config": (STR, None), "kubernetes-version": (STR, None), "image-repository": (STR, None),
                      "feature-gates": (STR, None), "cri-socket": (STR, None), "kubeconfig": (STR, None)}

# command path -> (log/fault key, flags, max positional args or None for any)
COMMANDS = {
    ("init",): ("init", INIT, 0),
    ("init", "phase", "upload-certs"): ("upload-certs", UPLOAD_CERTS, 0),
    ("join",): ("join", JOIN, 1),
    ("reset",): ("reset", RESET, 0),
    ("token", "create"): ("token-create", TOKEN_CREATE, 1),
    ("token", "list"): ("token-list", TOKEN_LIST, 0),
    ("token", "delete"): ("token-delete", TOKEN, None),
    ("token", "generate"): ("token-generate", TOKEN, 0),
    ("certs", "certificate-key"): ("certificate-key", {}, 0),
    ("version",): ("version", VERSION, 0),
    ("config", "validate"): ("config-validate", CONFIG_VALIDATE, 0),
    ("config", "images", "list"): ("config-images-list", CONFIG_IMAGES_LIST, 0),
    ("config", "images", "pull"): ("config-images-pull", CONFIG_IMAGES_PULL, 0),
}
GROUPS = {(): ("init", "join", "reset", "token", "certs", "version", "config", "help", "completion", "upgrade",
               "kubeconfig"),
          ("init",): ("phase",), ("init", "phase"): ("upload-certs", "preflight", "certs", "kubeconfig", "etcd",
                                                     "control-plane", "kubelet-start", "wait-control-plane",
                                                     "upload-config", "mark-control-plane", "bootstrap-token",
                                                     "kubelet-finalize", "addon", "show-join-command"),
          ("token",): ("create", "list", "delete", "generate"),
          ("certs",): ("certificate-key", "check-expiration", "renew", "generate-csr"),
          ("config",): ("validate", "print", "migrate", "images"), ("config", "images"): ("list", "pull")}

# kubeadm's cmdutil.ValidateMixedArguments allow-list.
MIX_ALLOWED = {"config", "ignore-preflight-errors", "dry-run", "kubeconfig", "node-name", "kubeconfig-dir",
               "upload-certs", "print-manifest", "feature-gates", "api-server-manifest",
               "controller-manager-manifest", "scheduler-manifest", "allow-missing-template-keys", "output",
               "show-managed-fields", "print-join-command", "rootfs", "v", "log-file", "yes"}


class Parsed:
    def __init__(self):
        self.path = ()
        self.key = None
        self.flags = {}  # name -> value, only flags given
        self.order = []  # names in the order given
        self.args = []

    def get(self, name, default=None):
        return self.flags.get(name, default)

    def has(self, name):
        return name in self.flags


def _all_value_flags():
    names = set()
    for spec in [GLOBAL] + [c[1] for c in COMMANDS.values()]:
        for n, (t, short) in spec.items():
            if t != BOOL:
                names.add("--" + n)
                if short:
                    names.add("-" + short)
    return names


def command_path(argv):
    """The subcommand words, skipping flags (first pass, as cobra's Find)."""
    value_flags = _all_value_flags()
    path, i = (), 0
    while i < len(argv):
        a = argv[i]
        if a == "--":
            break
        if a.startswith("-"):
            if "=" not in a and a in value_flags:
                i += 1
            i += 1
            continue
        children = GROUPS.get(path, ())
        if a in children:
            path += (a,)
            i += 1
            continue
        break
    return path


def parse(argv):
    p = Parsed()
    path = command_path(argv)
    p.path = path
    if path not in COMMANDS:
        if path in GROUPS or path == ():
            word = next((a for a in argv if not a.startswith("-") and a not in path), None)
            if word is not None:
                parent = " ".join(("kubeadm",) + path)
                raise KubeadmError(f'unknown command "{word}" for "{parent}"')
            if any(a in ("-h", "--help") for a in argv) or not path:
                p.key = "help"
                return p
            raise KubeadmError(f'"{" ".join(("kubeadm",) + path)}" needs a subcommand: '
                               f'{", ".join(GROUPS.get(path, ()))}')
        raise KubeadmError(f'"kubeadm {" ".join(path)}" is not implemented by the kubeadm test double')
    key, spec, max_args = COMMANDS[path]
    p.key = key
    spec = dict(GLOBAL, **spec)
    shorts = {s: n for n, (_t, s) in spec.items() if s}
    words = list(path)
    i = 0
    while i < len(argv):
        a = argv[i]
        i += 1
        if a == "--":
            p.args.extend(argv[i:])
            break
        if a.startswith("--"):
            name, eq, val = a[2:].partition("=")
            if name not in spec:
                raise KubeadmError(f"unknown flag: --{name}")
            typ = spec[name][0]
            if not eq:
                if typ == BOOL:
                    val = "true"
                elif i < len(argv):
                    val = argv[i]
                    i += 1
                else:
                    raise KubeadmError(f"flag needs an argument: --{name}")
            _set(p, name, typ, val, f"--{name}")
        elif a.startswith("-") and len(a) > 1:
            c = a[1]
            if c not in shorts:
                raise KubeadmError(f"unknown shorthand flag: '{c}' in {a}")
            name = shorts[c]
            typ = spec[name][0]
            rest = a[2:]
            if rest.startswith("="):
                rest = rest[1:]
            if typ == BOOL:
                if rest:
                    raise KubeadmError(f"unknown shorthand flag: '{rest[0]}' in {a}")
                val = "true"
            elif rest:
                val = rest
            elif i < len(argv):
                val = argv[i]
                i += 1
            else:
                raise KubeadmError(f"flag needs an argument: '{c}' in -{c}")
            _set(p, name, typ, val, f"-{c}")
        elif words and a == words[0]:
            words.pop(0)
        else:
            p.args.append(a)
    if max_args is not None and len(p.args) > max_args:
        if max_args == 0:
            raise KubeadmError(f'unknown command "{p.args[0]}" for "kubeadm {" ".join(path)}"')
        raise KubeadmError(f"accepts at most {max_args} arg(s), received {len(p.args)}")
    if key in ("init", "join", "token-create", "upload-certs") and "config" in p.flags:
        mixed = [n for n in p.order if n not in MIX_ALLOWED and not n.startswith("skip-") and n not in GLOBAL]
        if mixed:
            raise KubeadmError(f"can not mix '--config' with arguments [{' '.join(mixed)}]")
    return p


def _set(p, name, typ, val, shown):
    if typ == BOOL:
        if val.lower() in ("true", "1", "t"):
            v = True
        elif val.lower() in ("false", "0", "f"):
            v = False
        else:
            raise KubeadmError(f'invalid argument "{val}" for "{shown}" flag: strconv.ParseBool: parsing "{val}": '
                               "invalid syntax")
    elif typ == INT:
        try:
            v = int(val)
        except ValueError:
            raise KubeadmError(f'invalid argument "{val}" for "{shown}" flag: strconv.ParseInt: parsing "{val}": '
                               "invalid syntax") from None
    elif typ == DUR:
        try:
            parse_duration(val)
        except ValueError as e:
            raise KubeadmError(f'invalid argument "{val}" for "{shown}" flag: {e}') from None
        v = val
    elif typ == SLICE:
        v = p.flags.get(name, []) + [x for x in val.split(",") if x != ""]
    else:
        v = val
    p.flags[name] = v
    if name not in p.order:
        p.order.append(name)
