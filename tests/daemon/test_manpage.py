#!/usr/bin/env python3
"""docs/piagent.8 against the binary: every command `piagent --help` lists, every option each command's --help
lists, and every environment variable `piagent --help` lists (settings.c's table, the only place that reads the
environment) are in the man page, and the man page lists nothing the binary does not have. Also: no file of
the agent but settings.c reads the environment.

usage: test_manpage.py PIAGENT_BINARY SOURCE_DIR"""

import os
import re
import subprocess
import sys


def run_help(binary: str, *args: str) -> str:
    out = subprocess.run([binary, *args, "--help"], capture_output=True, text=True, timeout=10, check=True)
    return out.stdout


def section(lines: list[str], start: str, name: str) -> list[str]:
    """The lines after the first `start name` line up to the next line starting with start, or .SH."""
    out, inside = [], False
    for line in lines:
        if line.startswith(start) or line.startswith(".SH"):
            if inside:
                break
            inside = line.split(None, 1)[1:] == [name]
            continue
        if inside:
            out.append(line)
    return out


def tagged(lines: list[str]) -> list[str]:
    """The first line after every .TP: the tags of a tagged paragraph list."""
    return [lines[i + 1] for i, line in enumerate(lines[:-1]) if line.strip() == ".TP"]


def options_in(text: str) -> set[str]:
    return set(re.findall(r"(?<![\w-])--([a-z][a-z-]*)", text.replace("\\-", "-")))


def main() -> int:
    binary, source = sys.argv[1], sys.argv[2]
    problems = []
    with open(os.path.join(source, "docs", "piagent.8")) as f:
        man = f.read().splitlines()

    top = run_help(binary)
    commands = re.findall(r"^  ([a-z]+) ", top.split("Commands:")[1].split("\n\n")[0], re.M)
    variables = re.findall(r"^  ([A-Z][A-Z_]+) ", top.split("Environment:")[1], re.M)
    if len(commands) < 7 or len(variables) < 12:
        problems.append(f"--help lists too little: commands {commands}, variables {variables}")

    man_commands = [re.sub(r"^\.B\s+", "", t).strip() for t in tagged(section(man, ".SH", "COMMANDS"))]
    if sorted(man_commands) != sorted(commands):
        problems.append(f"COMMANDS: the man page has {sorted(man_commands)}, --help {sorted(commands)}")
    synopsis = "\n".join(section(man, ".SH", "SYNOPSIS"))
    for c in commands:
        if f".B piagent {c}" not in synopsis:
            problems.append(f"SYNOPSIS: no 'piagent {c}'")

    for c in commands:
        have = options_in(run_help(binary, c)) - {"help"}
        documented = options_in("\n".join(tagged(section(man, ".SS", c))))
        if have != documented:
            problems.append(f"OPTIONS of {c}: --help has {sorted(have)}, the man page {sorted(documented)}")
    if "--help" not in "\n".join(tagged(section(man, ".SS", "every command"))).replace("\\-", "-"):
        problems.append("OPTIONS: --help is not described")

    man_variables = [re.sub(r"^\.B\s+", "", t).strip() for t in tagged(section(man, ".SH", "ENVIRONMENT"))]
    if sorted(man_variables) != sorted(variables):
        problems.append(f"ENVIRONMENT: the man page has {sorted(man_variables)}, --help {sorted(variables)}")

    for root, _, files in os.walk(os.path.join(source, "agent")):
        for name in files:
            path = os.path.join(root, name)
            if name.endswith((".c", ".h")) and name != "settings.c":
                with open(path) as f:
                    if re.search(r"\b(secure_)?getenv\s*\(", f.read()):
                        problems.append(f"{os.path.relpath(path, source)} reads the environment: use settings.h")

    for p in problems:
        print(p, file=sys.stderr)
    print(f"{len(commands)} commands, {len(variables)} environment variables checked; {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
