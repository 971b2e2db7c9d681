"""Go and Kubernetes value formats the double must read and print like kubeadm:
durations, versions, field errors, names, addresses, bootstrap tokens."""

import ipaddress
import re

# -- errors ------------------------------------------------------------------


class KubeadmError(Exception):
    """Printed on stderr as kubeadm prints errors; exit code 1 unless told."""

    def __init__(self, msg, code=1, injected=False):
        super().__init__(msg)
        self.code = code
        self.injected = injected


def _go_quote(v):
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    return str(v)


class FieldError:
    """k8s.io/apimachinery/pkg/util/validation/field.Error."""

    def __init__(self, kind, path, value=None, detail=""):
        self.kind, self.path, self.value, self.detail = kind, path, value, detail

    def __str__(self):
        if self.kind == "Invalid":
            body = f"Invalid value: {_go_quote(self.value)}"
            return f"{self.path}: {body}: {self.detail}" if self.detail else f"{self.path}: {body}"
        if self.kind == "Required":
            return f"{self.path}: Required value" + (f": {self.detail}" if self.detail else "")
        if self.kind == "Unsupported":
            return f"{self.path}: Unsupported value: {_go_quote(self.value)}: {self.detail}"
        if self.kind == "Forbidden":
            return f"{self.path}: Forbidden: {self.detail}"
        return f"{self.path}: {self.kind}: {self.detail}"


def invalid(path, value, detail):
    return FieldError("Invalid", path, value, detail)


def required(path, detail=""):
    return FieldError("Required", path, None, detail)


class ValidationError(KubeadmError):
    """An aggregate of field errors: kubeadm exits 3 (ValidationExitCode)."""

    def __init__(self, errors):
        self.errors = list(errors)
        msgs = [str(e) for e in self.errors]
        super().__init__(msgs[0] if len(msgs) == 1 else "[" + ", ".join(msgs) + "]", code=3)


# -- durations (Go time.ParseDuration / Duration.String) --------------------

_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_DUR_PART = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)")


def parse_duration(s):
    """Seconds (float); ValueError with Go's message when invalid."""
    if not isinstance(s, str):
        raise ValueError(f"time: invalid duration {_go_quote(str(s))}")
    orig, sign = s, 1.0
    if s[:1] in ("+", "-"):
        sign = -1.0 if s[0] == "-" else 1.0
        s = s[1:]
    if s == "0":
        return 0.0
    if not s:
        raise ValueError(f"time: invalid duration {_go_quote(orig)}")
    pos, total = 0, 0.0
    while pos < len(s):
        m = _DUR_PART.match(s, pos)
        if not m:
            if re.match(r"(\d+\.?\d*|\.\d+)$", s[pos:]):
                raise ValueError(f"time: missing unit in duration {_go_quote(orig)}")
            raise ValueError(f"time: invalid duration {_go_quote(orig)}")
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    return sign * total


def format_duration(seconds):
    """Go's Duration.String() for whole-nanosecond values."""
    ns = int(round(seconds * 1e9))
    if ns == 0:
        return "0s"
    neg = ns < 0
    ns = abs(ns)
    if ns < 1_000_000_000:
        for unit, size in (("ms", 1_000_000), ("µs", 1_000), ("ns", 1)):
            if ns >= size:
                v = ns / size
                s = f"{v:.9f}".rstrip("0").rstrip(".")
                return ("-" if neg else "") + s + unit
    h, rem = divmod(ns, 3600 * 10**9)
    m, rem = divmod(rem, 60 * 10**9)
    sec = rem / 1e9
    s = f"{sec:.9f}".rstrip("0").rstrip(".") + "s"
    out = ""
    if h:
        out = f"{h}h{m}m{s}"
    elif m:
        out = f"{m}m{s}"
    else:
        out = s
    return ("-" if neg else "") + out


# -- versions ----------------------------------------------------------------

_VERSION = re.compile(r"v?(\d+)\.(\d+)\.(\d+)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")


def parse_version(s):
    """(major, minor, patch); ValueError like k8s.io/apimachinery/pkg/util/version."""
    m = _VERSION.match(s or "")
    if not m:
        raise ValueError(f'could not parse "{s}" as version')
    return int(m.group(1)), int(m.group(2)), int(m.group(3))


# -- names and addresses -----------------------------------------------------

DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS1123_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
    "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation "
    "is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
WILDCARD_DNS = re.compile(r"\*\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def is_dns1123_subdomain(s):
    return isinstance(s, str) and len(s) <= 253 and bool(DNS1123_SUBDOMAIN.match(s))


def parse_ip(s):
    try:
        return ipaddress.ip_address(s)
    except (ValueError, TypeError):
        return None


def split_host_port(s):
    """net.SplitHostPort: (host, port string) or ValueError with Go's wording."""
    if not isinstance(s, str):
        raise ValueError("missing port in address")
    if s.startswith("["):
        end = s.find("]")
        if end < 0:
            raise ValueError(f"address {s}: missing ']' in address")
        host, rest = s[1:end], s[end + 1 :]
        if not rest.startswith(":"):
            raise ValueError(f"address {s}: missing port in address")
        return host, rest[1:]
    if ":" not in s:
        raise ValueError(f"address {s}: missing port in address")
    host, port = s.rsplit(":", 1)
    if ":" in host:
        raise ValueError(f"address {s}: too many colons in address")
    return host, port


def valid_port(p):
    try:
        n = int(p)
    except (TypeError, ValueError):
        return False
    return 0 < n < 65536 and str(n) == str(p).lstrip("+")


# -- bootstrap tokens and keys -----------------------------------------------

TOKEN_RE = re.compile(r"^([a-z0-9]{6})\.([a-z0-9]{16})$")
TOKEN_RE_TEXT = r"^([a-z0-9]{6})\.([a-z0-9]{16})$"
TOKEN_ID_RE = re.compile(r"^[a-z0-9]{6}$")
TOKEN_GROUP_RE = re.compile(r"\Asystem:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]\Z")
TOKEN_USAGES = ("signing", "authentication")
DEFAULT_TOKEN_GROUP = "system:bootstrappers:kubeadm:default-node-token"
CERTIFICATE_KEY_SIZE = 32


def is_valid_token(s):
    return isinstance(s, str) and bool(TOKEN_RE.match(s))


def certificate_key_errors(key, path):
    """kubeadm's ValidateCertificateKey."""
    if not key:
        return []
    try:
        raw = bytes.fromhex(key)
    except ValueError as e:
        return [invalid(path, key, f"certificate key decoding error: encoding/hex: {e}")]
    if len(raw) != CERTIFICATE_KEY_SIZE:
        return [invalid(path, key, f"invalid certificate key size {len(raw)}, the key must be an AES key of size "
                                   f"{CERTIFICATE_KEY_SIZE}")]
    return []
