#!/usr/bin/env python3
"""Counts the mDNS packets on one interface for a while and classifies them; prints one JSON document.

  ip netns exec <bridge ns> python3 tests/bench/mdns_capture.py --iface br0 --seconds 300

Run in the test bed's bridge namespace, on the bridge: every frame a node sends reaches the bridge device once
(multicast snooping is off). Each packet is counted under its source address and one kind:

  query/browse       a question for the service type (PTR _piagent._tcp.local): a browser asking
  query/resolve      a question for one service's SRV or TXT record: a resolver refreshing its cache
  query/host         a question for a host's A or AAAA record
  query/other        any other question (reverse lookups, _services._dns-sd._udp ...)
  response/service   an answer that carries service records (PTR, SRV, TXT of _piagent._tcp)
  response/host      an answer with host records only (A, AAAA, reverse PTR)
  response/other

Only UDP port 5353 over IPv4 and IPv6 counts; the VRRP adverts, HAProxy's checks and the exchange do not.
"""

import argparse
import json
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
TYPE_A, TYPE_PTR, TYPE_TXT, TYPE_AAAA, TYPE_SRV = 1, 12, 16, 28, 33
SERVICE = b"_piagent._tcp.local"


def read_name(msg, off, depth=0):
    """(name as bytes, offset after it); raises ValueError on junk."""
    labels = []
    end = None
    while True:
        if off >= len(msg) or depth > 20:
            raise ValueError("truncated name")
        n = msg[off]
        if n == 0:
            off += 1
            break
        if n & 0xC0 == 0xC0:
            ptr = ((n & 0x3F) << 8) | msg[off + 1]
            if end is None:
                end = off + 2
            off, depth = ptr, depth + 1
            continue
        labels.append(msg[off + 1:off + 1 + n])
        off += 1 + n
    return b".".join(labels), end if end is not None else off


TYPES = {TYPE_A: "A", TYPE_PTR: "PTR", TYPE_TXT: "TXT", TYPE_AAAA: "AAAA", TYPE_SRV: "SRV", 255: "ANY"}


def classify(msg, questions=None):
    """The kind of one mDNS message (see the module's doc); counts its records into questions: "Q SRV name"
    (a question), "K ..." (a known answer in a query), "R ..." (a record in a response)."""
    questions = {} if questions is None else questions
    _id, flags, qd, an, ns, ar = struct.unpack("!HHHHHH", msg[:12])
    off = 12
    if not flags & 0x8000:
        kinds = set()
        for _ in range(qd):
            name, off = read_name(msg, off)
            qtype, _qclass = struct.unpack("!HH", msg[off:off + 4])
            off += 4
            lname = name.lower()
            key = f"Q {TYPES.get(qtype, qtype)} {name.decode(errors='replace')}"
            questions[key] = questions.get(key, 0) + 1
            if qtype == TYPE_PTR and lname == SERVICE.lower():
                kinds.add("browse")
            elif qtype in (TYPE_SRV, TYPE_TXT) and lname.endswith(b"." + SERVICE.lower()):
                kinds.add("resolve")
            elif qtype in (TYPE_A, TYPE_AAAA, 255) and lname.endswith(b".local"):
                kinds.add("host")
            else:
                kinds.add("other")
        for _ in range(an):  # known answers
            name, off = read_name(msg, off)
            rtype, _rclass, ttl, rdlen = struct.unpack("!HHIH", msg[off:off + 10])
            off += 10 + rdlen
            key = f"K {TYPES.get(rtype, rtype)} {name.decode(errors='replace')}"
            questions[key] = questions.get(key, 0) + 1
        for k in ("browse", "resolve", "host", "other"):
            if k in kinds:
                return "query/" + k
        return "query/other"
    service = host = False
    for _ in range(an + ns + ar):
        name, off = read_name(msg, off)
        rtype, _rclass, _ttl, rdlen = struct.unpack("!HHIH", msg[off:off + 10])
        off += 10 + rdlen
        lname = name.lower()
        key = f"R {TYPES.get(rtype, rtype)} {name.decode(errors='replace')}"
        questions[key] = questions.get(key, 0) + 1
        if SERVICE.lower() in lname:
            service = True
        elif rtype in (TYPE_A, TYPE_AAAA, TYPE_PTR):
            host = True
    return "response/" + ("service" if service else "host" if host else "other")


def udp_payload(frame):
    """(source address, mDNS payload) of an Ethernet frame, or None."""
    if len(frame) < 14:
        return None
    ethertype = struct.unpack("!H", frame[12:14])[0]
    p = frame[14:]
    if ethertype == 0x0800 and len(p) >= 20:
        ihl = (p[0] & 0x0F) * 4
        if p[9] != 17:
            return None
        src = socket.inet_ntop(socket.AF_INET, p[12:16])
        udp = p[ihl:]
    elif ethertype == 0x86DD and len(p) >= 40:
        if p[6] != 17:  # no extension headers in mDNS
            return None
        src = socket.inet_ntop(socket.AF_INET6, p[8:24])
        udp = p[40:]
    else:
        return None
    if len(udp) < 8 or struct.unpack("!H", udp[2:4])[0] != 5353:
        return None
    return src, udp[8:]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--iface", default="br0")
    ap.add_argument("--seconds", type=float, required=True)
    args = ap.parse_args()
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((args.iface, 0))
    s.settimeout(0.5)
    by_src, kinds, questions, total = {}, {}, {}, 0
    t0 = time.monotonic()
    end = t0 + args.seconds
    while time.monotonic() < end:
        try:
            frame, addr = s.recvfrom(65535)
        except socket.timeout:
            continue
        if addr[2] == socket.PACKET_OUTGOING:
            continue
        got = udp_payload(frame)
        if not got:
            continue
        src, msg = got
        try:
            kind = classify(msg, questions)
        except (ValueError, struct.error, IndexError):
            kind = "junk"
        total += 1
        kinds[kind] = kinds.get(kind, 0) + 1
        per = by_src.setdefault(src, {})
        per[kind] = per.get(kind, 0) + 1
    json.dump({"seconds": time.monotonic() - t0, "total": total, "kinds": kinds, "by_source": by_src,
               "records": dict(sorted(questions.items(), key=lambda kv: -kv[1]))}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
