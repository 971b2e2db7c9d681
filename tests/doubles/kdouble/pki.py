"""Certificates and the secrets kubeadm moves around, done as kubeadm does them:
CA and leaf certificates (python3-cryptography), the CA public-key pin
(sha256 over the DER SubjectPublicKeyInfo), detached JWS signatures of the
cluster-info kubeconfig (HS256 keyed by the token secret), and the
kubeadm-certs payload (AES-GCM under the certificate key, nonce prepended)."""

import base64
import datetime
import hashlib
import hmac
import ipaddress
import json
import os
import secrets

from cryptography import x509
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from . import yamlish
from .gotypes import KubeadmError

ONE_YEAR = datetime.timedelta(days=365)
TEN_YEARS = datetime.timedelta(days=3650)


def _now():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


# -- keys --------------------------------------------------------------------


def new_key(algorithm="RSA-2048"):
    if algorithm == "ECDSA-P256":
        return ec.generate_private_key(ec.SECP256R1())
    if algorithm == "ECDSA-P384":
        return ec.generate_private_key(ec.SECP384R1())
    bits = int(algorithm.split("-")[1]) if algorithm.startswith("RSA-") else 2048
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption())


def public_pem(key):
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def load_key(pem):
    return serialization.load_pem_private_key(pem, password=None)


def cert_pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def load_cert(pem):
    return x509.load_pem_x509_certificate(pem)


def load_certs(pem):
    out = []
    marker = b"-----END CERTIFICATE-----"
    for chunk in pem.split(marker):
        if b"-----BEGIN CERTIFICATE-----" in chunk:
            out.append(x509.load_pem_x509_certificate(chunk + marker + b"\n"))
    return out


# -- certificates ------------------------------------------------------------


def _name(cn, orgs=()):
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in orgs]
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


def new_ca(cn, algorithm="RSA-2048", validity=TEN_YEARS):
    key = new_key(algorithm)
    now = _now()
    name = _name(cn)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + validity)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=True,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def issue(ca_cert, ca_key, cn, orgs=(), dns=(), ips=(), server=False, client=False, public_key=None,
          algorithm="RSA-2048", validity=ONE_YEAR):
    """A leaf certificate; returns (cert, key) — key is None when public_key
    was given (signing a CSR)."""
    key = None
    if public_key is None:
        key = new_key(algorithm)
        public_key = key.public_key()
    now = _now()
    usages = []
    if server:
        usages.append(ExtendedKeyUsageOID.SERVER_AUTH)
    if client:
        usages.append(ExtendedKeyUsageOID.CLIENT_AUTH)
    b = (
        x509.CertificateBuilder()
        .subject_name(_name(cn, orgs))
        .issuer_name(ca_cert.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(min(now + validity, _not_after(ca_cert)))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=True,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()), critical=False)
    )
    alt = [x509.DNSName(d) for d in _uniq(dns)] + [x509.IPAddress(ipaddress.ip_address(i)) for i in _uniq(ips)]
    if alt:
        b = b.add_extension(x509.SubjectAlternativeName(alt), critical=False)
    return b.sign(ca_key, hashes.SHA256()), key


def _not_after(cert):
    na = getattr(cert, "not_valid_after_utc", None)
    if na is None:
        na = cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)
    return na


def _uniq(items):
    seen, out = set(), []
    for i in items:
        if i and i not in seen:
            seen.add(i)
            out.append(i)
    return out


def sans(cert):
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return [], []
    return ext.get_values_for_type(x509.DNSName), [str(i) for i in ext.get_values_for_type(x509.IPAddress)]


def subject(cert):
    cn = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    orgs = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
    return (cn[0] if cn else ""), orgs


def new_csr(key, cn, orgs=()):
    return x509.CertificateSigningRequestBuilder().subject_name(_name(cn, orgs)).sign(key, hashes.SHA256())


def csr_pem(csr):
    return csr.public_bytes(serialization.Encoding.PEM)


def load_csr(pem):
    csr = x509.load_pem_x509_csr(pem)
    if not csr.is_signature_valid:
        raise ValueError("CSR signature is not valid")
    return csr


def verify_signed_by(cert, ca_cert):
    """True when ca_cert's key signed cert (RSA or ECDSA)."""
    from cryptography.hazmat.primitives.asymmetric import padding

    pub = ca_cert.public_key()
    try:
        if isinstance(pub, rsa.RSAPublicKey):
            pub.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), cert.signature_hash_algorithm)
        else:
            pub.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm))
    except Exception:
        return False
    return cert.issuer == ca_cert.subject


# -- the CA pin --------------------------------------------------------------


def spki_hash(cert):
    """kubeadm's pubkeypin.Hash: "sha256:" + hex(sha256(DER SubjectPublicKeyInfo))."""
    der = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return "sha256:" + hashlib.sha256(der).hexdigest()


class PinSet:
    """kubeadm's pubkeypin.Set, with its error texts."""

    SUPPORTED = "sha256"

    def __init__(self, hashes_=()):
        self.sha256 = set()
        for h in hashes_:
            self.allow(h)

    def allow(self, h):
        parts = h.split(":")
        if len(parts) != 2:
            raise KubeadmError(f'invalid hash, expected "format:hex-value". Known format(s) are: {self.SUPPORTED}')
        fmt, value = parts
        if fmt.lower() != "sha256":
            raise KubeadmError(f'unknown hash format "{fmt}". Known format(s) are: {self.SUPPORTED}')
        if len(value) // 2 != 32:
            raise KubeadmError(f"expected a 32 byte SHA-256 hash, found {len(value) // 2} bytes")
        try:
            bytes.fromhex(value)
        except ValueError as e:
            raise KubeadmError(f"could not decode SHA-256 from hex: encoding/hex: {e}") from None
        self.sha256.add(value.lower())

    def empty(self):
        return not self.sha256

    def check_any(self, certs):
        seen = []
        for c in certs:
            h = spki_hash(c)
            if h.split(":", 1)[1] in self.sha256:
                return
            seen.append(h)
        raise KubeadmError(f'none of the public keys "{":".join(seen)}" are pinned')


# -- detached JWS (k8s.io/cluster-bootstrap/token/jws) ----------------------


def _b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def jws_detached(content, token_id, token_secret):
    """header..signature over content (a str), HS256 keyed by the secret."""
    header = json.dumps({"alg": "HS256", "kid": token_id}, separators=(",", ":"), sort_keys=True).encode()
    h = _b64url(header)
    signing_input = (h + "." + _b64url(content.encode())).encode()
    sig = hmac.new(token_secret.encode(), signing_input, hashlib.sha256).digest()
    return h + ".." + _b64url(sig)


def jws_valid(detached, content, token_id, token_secret):
    """DetachedTokenIsValid: recompute and compare in constant time."""
    try:
        expected = jws_detached(content, token_id, token_secret)
    except Exception:
        return False
    return hmac.compare_digest(expected.encode(), (detached or "").encode())


# -- kubeadm-certs encryption (cmd/kubeadm/app/util/crypto) ------------------


def encrypt(data, key_hex):
    key = bytes.fromhex(key_hex)
    nonce = os.urandom(12)
    return nonce + AESGCM(key).encrypt(nonce, data, None)


def decrypt(blob, key_hex):
    key = bytes.fromhex(key_hex)
    if len(blob) < 12:
        raise KubeadmError("the data is too short")
    try:
        return AESGCM(key).decrypt(blob[:12], blob[12:], None)
    except InvalidTag:
        raise KubeadmError("cipher: message authentication failed") from None


def new_certificate_key():
    return secrets.token_hex(32)


def new_token():
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    pick = lambda n: "".join(secrets.choice(alphabet) for _ in range(n))  # noqa: E731
    return f"{pick(6)}.{pick(16)}"


# -- kubeconfig ----------------------------------------------------------------


def b64(data):
    return base64.b64encode(data).decode()


def kubeconfig(server, ca_pem, user=None, cert=None, key=None, cluster_name="kubernetes"):
    """A kubeconfig document as kubeadm writes it (YAML text)."""
    cfg = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster_name, "cluster": {"server": server, "certificate-authority-data": b64(ca_pem)}}],
        "preferences": {},
    }
    if user:
        ctx = f"{user}@{cluster_name}"
        cfg["contexts"] = [{"name": ctx, "context": {"cluster": cluster_name, "user": user}}]
        cfg["current-context"] = ctx
        cfg["users"] = [{"name": user, "user": {"client-certificate-data": b64(cert), "client-key-data": b64(key)}}]
    else:
        cfg.update({"contexts": None, "current-context": "", "users": None})
        cfg["clusters"][0]["name"] = ""
    return yamlish.dump(cfg)


class Kubeconfig:
    """The parts of a kubeconfig the double uses (current context)."""

    def __init__(self, text, path=None):
        try:
            d = yamlish.load(text)
        except ValueError as e:
            raise KubeadmError(f"failed to load admin kubeconfig: {e}") from None
        if not isinstance(d, dict) or not d.get("clusters"):
            raise KubeadmError(f"invalid kubeconfig{(' ' + path) if path else ''}: no clusters")
        ctx_name = d.get("current-context")
        cluster_name, user_name = None, None
        for c in d.get("contexts") or []:
            if c.get("name") == ctx_name:
                cluster_name = (c.get("context") or {}).get("cluster")
                user_name = (c.get("context") or {}).get("user")
        cluster = None
        for c in d["clusters"]:
            if cluster_name is None or c.get("name") == cluster_name:
                cluster = c.get("cluster") or {}
                break
        if cluster is None:
            raise KubeadmError(f"invalid kubeconfig: cluster {cluster_name!r} not found")
        self.server = cluster.get("server", "")
        ca = cluster.get("certificate-authority-data")
        self.ca_pem = base64.b64decode(ca) if ca else None
        if not self.ca_pem and cluster.get("certificate-authority"):
            with open(cluster["certificate-authority"], "rb") as f:
                self.ca_pem = f.read()
        self.cert_pem = self.key_pem = None
        for u in d.get("users") or []:
            if u.get("name") == user_name:
                user = u.get("user") or {}
                if user.get("client-certificate-data"):
                    self.cert_pem = base64.b64decode(user["client-certificate-data"])
                    self.key_pem = base64.b64decode(user["client-key-data"])
                elif user.get("client-certificate"):
                    with open(user["client-certificate"], "rb") as f:
                        self.cert_pem = f.read()
                    with open(user["client-key"], "rb") as f:
                        self.key_pem = f.read()
        self.raw = d

    @classmethod
    def load(cls, path):
        try:
            with open(path) as f:
                return cls(f.read(), path)
        except FileNotFoundError:
            raise KubeadmError(f"failed to load admin kubeconfig: open {path}: no such file or directory") from None

    def host_port(self):
        s = self.server
        if s.startswith("https://"):
            s = s[len("https://"):]
        return s.rstrip("/")
