#!/usr/bin/env python3
"""units/piagent.service lets the daemon open every socket family its code opens: each `socket(AF_...` in
agent/ must be in the unit's RestrictAddressFamilies= (a family left out fails only at run time, under
systemd, with EAFNOSUPPORT: the LB's ARP probe of the VIP, AF_PACKET, was lost that way). Families the unit
allows and no code opens directly are fine (libraries open them: libcurl, sd-bus, the journal).

usage: test_unit_families.py SOURCE_DIR"""

import os
import re
import sys


def unit_families(path: str) -> set[str]:
    allowed: set[str] = set()
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"\s*RestrictAddressFamilies=(.*)", line)
            if m:
                allowed.update(m.group(1).split())
    return allowed


def code_families(root: str) -> dict[str, list[str]]:
    used: dict[str, list[str]] = {}
    for folder, _, files in os.walk(os.path.join(root, "agent")):
        for name in sorted(files):
            if not name.endswith(".c"):
                continue
            path = os.path.join(folder, name)
            with open(path, encoding="utf-8") as f:
                for n, line in enumerate(f, 1):
                    for fam in re.findall(r"\bsocket\(\s*(AF_[A-Z0-9]+)", line):
                        used.setdefault(fam, []).append(f"{os.path.relpath(path, root)}:{n}")
    return used


def main() -> int:
    root = sys.argv[1]
    unit = os.path.join(root, "units", "piagent.service")
    allowed = unit_families(unit)
    used = code_families(root)
    if not allowed:
        print(f"{unit}: no RestrictAddressFamilies= line (this check needs one)")
        return 1
    if not used:
        print("no socket( call found under agent/: the check reads the wrong tree")
        return 1
    missing = {fam: where for fam, where in used.items() if fam not in allowed}
    for fam, where in sorted(missing.items()):
        print(f"{unit}: RestrictAddressFamilies= lacks {fam}, which {', '.join(where)} opens")
    print(f"families opened by the code: {', '.join(sorted(used))}; allowed: {', '.join(sorted(allowed))}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
