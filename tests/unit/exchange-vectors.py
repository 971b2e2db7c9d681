#!/usr/bin/env python3
# Independent reference for the exchange protocol's known-answer vectors (python hmac/hashlib + cryptography).
import hmac, hashlib
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

def hkdf(ikm, salt, info, n=32):
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    out, t, i = b"", b"", 1
    while len(out) < n:
        t = hmac.new(prk, t + info + bytes([i]), hashlib.sha256).digest()
        out += t; i += 1
    return out[:n]

secret = b"0123456789abcdefghijklmnopqrstuvwxyzABCD"
sn = bytes(range(32)); cn = bytes(range(32, 64))
def lp(s): return bytes([len(s)]) + s
def transcript(op, node, role, result):
    return b"piagent-exchange\0" + bytes([1]) + sn + cn + lp(op) + lp(node) + lp(role) + lp(result)

mac_key = hkdf(secret, b"piagent-exchange-v1", b"request-mac")
print("mac_key", mac_key.hex())
t = transcript(b"join", b"worker-a1b2c3", b"worker", b"")
print("transcript", t.hex())
print("mac join", hmac.new(mac_key, t, hashlib.sha256).hexdigest())
t2 = transcript(b"joined", b"master-0a0b0c", b"control-plane", b"ok")
print("mac joined", hmac.new(mac_key, t2, hashlib.sha256).hexdigest())
t3 = transcript(b"vote", b"master-0a0b0c", b"", b"")
print("mac vote", hmac.new(mac_key, t3, hashlib.sha256).hexdigest())
ak = hkdf(secret, sn + cn, b"answer-seal")
print("answer_key", ak.hex())
iv = bytes([0x42]) * 12
plain = b'{"v":1,"op":"joined","server":"master-1"}'
ct = ChaCha20Poly1305(ak).encrypt(iv, plain, t)
print("sealed", (iv + ct).hex())
# RFC 8439 2.8.2 for the primitive
key = bytes(range(0x80, 0xa0)); nonce = bytes.fromhex("070000004041424344454647")
aad = bytes.fromhex("50515253c0c1c2c3c4c5c6c7")
pt = b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it."
print("rfc", ChaCha20Poly1305(key).encrypt(nonce, pt, aad).hex())
