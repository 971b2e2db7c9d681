#!/usr/bin/python3
"""What the project's scripts use from the build host, read from the scripts themselves.

A static scan, so that a command or Python module that a script starts using, and that
tools/deps.txt (what tools/install-deps installs) does not name, fails a test at once rather than on
the first fresh machine:

- shell scripts (tracked *.sh, and files whose first line names sh or bash or `shellcheck shell=`):
  parsed by shfmt (a real bash parser, `shfmt --to-json`); the first word of every simple command
  that is a literal is a command, unless it is a builtin, a keyword or a function defined in the
  scanned scripts. Wrappers are followed (`timeout 5 X`, `flock F X`, `env V=1 X`, `xargs X`,
  `ip netns exec NS X`, `unshare ... -- X`, `find -exec X`), and a literal `bash -c '...'` or
  `sh -c '...'` is parsed in turn. What runs inside another root file system is not the host's:
  the words after `chroot DIR`, `systemd-nspawn`, `capsh --chroot=` and `nsenter --root`, and the
  scripts that only ever run there (image/base/overlay/, NN-run-chroot.sh, packaging/debian/).
- Python files under tests/ and tools/: the literal argv lists given to subprocess.* or to the
  harnesses' _run() (directly, or through a variable assigned a literal list), shutil.which("X"),
  and every imported module that is neither in the standard library nor a module of this tree.
- CMake files: the first word after COMMAND (literal words only; `sh -c "..."` parsed as above).

Every finding carries its scope: "image" when it is used by what tools/build-image runs (tools/,
image/, packaging/, cmake/, the top-level CMakeLists.txt), else "test".

  scan.py [--repo DIR] [--json]          print what was found (command, scope, where)
  scan.py [--repo DIR] --check MANIFEST  fail (exit 1) naming every command or module that the
                                         manifest does not name, or names in a group too narrow
                                         for its scope; the manifest's format: tools/deps.txt
"""
import argparse
import ast
import json
import os
import re
import subprocess
import sys

BUILTINS = set("""
. : [ [[ alias bg bind break builtin caller cd command compgen complete compopt continue declare dirs disown
echo enable eval exec exit export false fc fg getopts hash help history jobs kill let local logout mapfile
popd printf pushd pwd read readarray readonly return set shift shopt source suspend test times trap true
type typeset ulimit umask unalias unset wait
""".split())
# mmdebstrap's hook commands (not programs: mmdebstrap runs them itself)
SPECIAL = {"sync-in", "sync-out", "copy-in", "copy-out", "upload", "download", "tar-in", "tar-out"}

# Files that run in another root file system (the image, a chroot, a package's maintainer scripts):
# their commands are that system's, not the build host's.
TARGET_SCRIPTS = [
    re.compile(r"^image/base/overlay/"),
    re.compile(r"(^|/)[0-9]{2}-run-chroot\.sh$"),
    re.compile(r"^packaging/debian/"),
    # the kubeadm/kubectl doubles run inside the cluster tier's containers; the host imports kdouble
    # only for its unit test (its imports are scanned, its commands are the containers')
    re.compile(r"^tests/doubles/(kubeadm|kubectl)$"),
    re.compile(r"^tests/doubles/kdouble/"),
    re.compile(r"^tests/cluster/fake_apiserver\.py$"),
]
IMAGE_SCOPE = re.compile(r"^(tools/build-image|tools/install-deps|image/|packaging/|cmake/|CMakeLists\.txt$)")


class Scan:
    def __init__(self, repo):
        self.repo = repo
        self.found = []  # (name, kind, scope, where): kind "cmd" or "py"
        self.functions = set()
        self.errors = []
        self._pending = []  # (cmd, scope, where), filtered against functions at the end
        self.arrays = {}  # NAME -> [(words, rel, line)]: NAME=(cmd args...) assignments, not appends
        self.array_calls = []  # (NAME, rel, line): "${NAME[@]}" in command position

    def scope(self, rel):
        return "image" if IMAGE_SCOPE.match(rel) else "test"

    def add_cmd(self, name, rel, line):
        if not name or name in BUILTINS or name in SPECIAL:
            return
        if "/" in name:
            # a path: the repository's own scripts ("$here/x", ./00-run.sh) are not host tools; an
            # absolute path names the host tool by its file name
            if not name.startswith("/"):
                return
            name = os.path.basename(name)
        if not re.match(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$", name):
            return
        self._pending.append((name, self.scope(rel), f"{rel}:{line}"))

    def add_module(self, mod, rel, line):
        self.found.append((mod, "py", self.scope(rel), f"{rel}:{line}"))

    def finish(self):
        # "${ARGV[@]}" ...: the command is the first word of what ARGV=(...) assignments hold
        for name, rel, line in self.array_calls:
            for words, arel, aline in self.arrays.get(name, []):
                if words and words[0] is not None:
                    self.add_cmd(words[0], rel, line)
        for name, scope, where in self._pending:
            if name not in self.functions:
                self.found.append((name, "cmd", scope, where))


# ------------------------------------------------------------------------------------------------
# shell


def word_lit(w):
    """The literal value of a shfmt Word, or None when any part of it is expanded at run time."""
    out = ""
    for p in w.get("Parts", []):
        t = p.get("Type")
        if t in ("Lit", "SglQuoted"):
            out += p.get("Value", "")
        elif t == "DblQuoted":
            for q in p.get("Parts", []):
                if q.get("Type") != "Lit":
                    return None
                out += q.get("Value", "")
        else:
            return None
    return out


def line_of(node):
    return node.get("Pos", {}).get("Line", 0)


class ShellScanner:
    def __init__(self, scan, rel, line_base=0):
        self.scan = scan
        self.rel = rel
        self.base = line_base

    def parse(self, text):
        r = subprocess.run(["shfmt", "--to-json"], input=text, capture_output=True, text=True)
        if r.returncode != 0:
            self.scan.errors.append(f"{self.rel}: shfmt cannot parse it: {r.stderr.strip()}")
            return None
        return json.loads(r.stdout)

    def run(self, text):
        tree = self.parse(text)
        if tree is not None:
            self.walk(tree, host=True)

    def walk(self, node, host):
        if isinstance(node, list):
            for n in node:
                self.walk(n, host)
            return
        if not isinstance(node, dict):
            return
        t = node.get("Type")
        if t == "FuncDecl":
            self.scan.functions.add(node["Name"]["Value"])
        if t == "CallExpr":
            for a in node.get("Assigns", []) or []:
                if a.get("Array") is not None and not a.get("Append"):
                    words = [word_lit(e.get("Value", {})) for e in a["Array"].get("Elems", [])]
                    self.scan.arrays.setdefault(a["Name"]["Value"], []).append((words, self.rel, line_of(a)))
            args = node.get("Args") or []
            if args and host:
                parts = args[0].get("Parts", [])
                if len(parts) == 1 and parts[0].get("Type") == "DblQuoted":
                    parts = parts[0].get("Parts", [])
                if len(parts) == 1 and parts[0].get("Type") == "ParamExp" and \
                        word_lit(parts[0].get("Index") or {}) == "@":
                    self.scan.array_calls.append((parts[0]["Param"]["Value"], self.rel, line_of(args[0]) + self.base))
            self.call(node, host)
            # assignments and the words' own expansions ($(...)) run on the host as well
            for a in node.get("Assigns", []) or []:
                self.walk(a, host)
            for w in node.get("Args", []) or []:
                self.walk(w.get("Parts", []), host)
            return
        for k, v in node.items():
            if k in ("Pos", "End"):
                continue
            if isinstance(v, (dict, list)):
                self.walk(v, host)

    def call(self, node, host):
        args = node.get("Args") or []
        words = [word_lit(a) for a in args]
        lines = [line_of(a) + self.base for a in args]
        self.command(words, lines, args, 0, host)

    def command(self, words, lines, args, i, host):
        """words[i] is in command position."""
        while i < len(words):
            w = words[i]
            if w is None:
                return
            if host:
                self.scan.add_cmd(w, self.rel, lines[i])
            nxt = self.wrapped(w, words, i)
            if nxt is None:
                self.inline_script(w, words, lines, args, i, host)
                return
            j, host_after = nxt
            host = host and host_after
            i = j

    def wrapped(self, w, words, i):
        """For a wrapper command at words[i]: (index of the wrapped command, whether it still runs on
        the host); None when words[i] wraps nothing."""
        rest = words[i + 1:]

        def first_non_option(start, takes_value=()):
            k = start
            while k < len(words):
                x = words[k]
                if x is None:
                    return None
                if x == "--":
                    return k + 1
                if x.startswith("-"):
                    if x in takes_value:
                        k += 2
                    else:
                        k += 1
                    continue
                return k
            return None

        if w in ("exec", "command", "nohup", "setsid", "nice", "sudo", "stdbuf", "time"):
            k = first_non_option(i + 1, takes_value=("-n",))
            return (k, True) if k is not None else None
        if w == "timeout":
            k = first_non_option(i + 1, takes_value=("-s", "-k", "--signal", "--kill-after"))
            return (k + 1, True) if k is not None else None  # skip the duration
        if w == "flock":
            k = first_non_option(i + 1, takes_value=("-w", "-E", "--timeout", "--conflict-exit-code"))
            if k is None:
                return None
            # flock FILE CMD (flock FD: no command)
            return (k + 1, True) if k + 1 < len(words) else None
        if w == "env":
            k = i + 1
            while k < len(words) and words[k] is not None and (words[k].startswith("-") or "=" in words[k]):
                k += 1
            return (k, True) if k < len(words) else None
        if w == "xargs":
            k = first_non_option(i + 1, takes_value=("-n", "-P", "-I", "-d", "-L", "-s", "-E", "-a"))
            return (k, True) if k is not None else None
        if w == "ip" and rest[:2] == ["netns", "exec"] and len(rest) > 3:
            return (i + 4, True)
        if w == "unshare":
            k = first_non_option(i + 1, takes_value=("--propagation", "--setgroups", "-S", "-G", "--wd", "-w"))
            return (k, True) if k is not None else None
        if w == "chroot":
            k = first_non_option(i + 1, takes_value=("--userspec", "--groups"))
            return (k + 1, False) if k is not None else None  # the command after the directory
        if w in ("systemd-nspawn", "capsh", "nsenter"):
            return None  # what follows runs in the container: not the host's
        if w == "find":
            for k in range(i + 1, len(words)):
                if words[k] in ("-exec", "-execdir", "-ok") and k + 1 < len(words):
                    return (k + 1, True)
            return None
        return None

    def inline_script(self, w, words, lines, args, i, host):
        """`bash -c 'LITERAL'` / `sh -c ...`: parse the literal as a script of its own."""
        if w not in ("bash", "sh", "dash") or not host:
            return
        for k in range(i + 1, len(words)):
            x = words[k]
            if x is None:
                return
            if x in ("-c", "-ec", "-euc", "-eu", "-ceu") or (x.startswith("-") and "c" in x[1:]):
                if k + 1 < len(words) and words[k + 1] is not None:
                    sub = ShellScanner(self.scan, self.rel, lines[k + 1] - 1)
                    sub.run(words[k + 1])
                return
            if not x.startswith("-"):
                return  # bash FILE: one of the repository's scripts


def is_shell(path, rel):
    if rel.endswith(".sh"):
        return True
    try:
        with open(path, "rb") as f:
            first = f.readline(200)
    except OSError:
        return False
    return bool(re.match(rb"^#!\s*(/usr)?/bin/(env\s+)?(ba|da)?sh\b", first) or first.startswith(b"# shellcheck shell="))


# ------------------------------------------------------------------------------------------------
# Python

RUNNERS = {"run", "Popen", "check_output", "check_call", "call"}
HOST_WRAPPERS = {"_run", "run"}


def first_str(node):
    if isinstance(node, (ast.List, ast.Tuple)) and node.elts:
        e = node.elts[0]
        if isinstance(e, ast.Constant) and isinstance(e.value, str):
            return e.value, node.lineno
    return None


def argv_words(node, lists):
    """The words of an argv expression ([..] + name + [..], with names bound to literal lists), None
    for a word that is not a literal string; None when its start is unknown."""
    if isinstance(node, (ast.List, ast.Tuple)):
        return [e.value if isinstance(e, ast.Constant) and isinstance(e.value, str) else None for e in node.elts]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = argv_words(node.left, lists), argv_words(node.right, lists)
        if left is None:
            return None
        return left + (right if right is not None else [None])
    if isinstance(node, ast.Name) and node.id in lists:
        return argv_words(lists[node.id], {k: v for k, v in lists.items() if k != node.id})
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "list" and node.args:
        return argv_words(node.args[0], lists)
    return None


def scan_python(scan, rel, text, local_modules, host):
    try:
        tree = ast.parse(text)
    except SyntaxError as e:
        scan.errors.append(f"{rel}: not Python: {e}")
        return
    stdlib = set(sys.stdlib_module_names)
    for n in ast.walk(tree):
        mods = []
        if isinstance(n, ast.Import):
            mods = [(a.name, n.lineno) for a in n.names]
        elif isinstance(n, ast.ImportFrom) and n.level == 0 and n.module:
            mods = [(n.module, n.lineno)]
        for m, ln in mods:
            top = m.split(".")[0]
            if top not in stdlib and top not in local_modules:
                scan.add_module(top, rel, ln)
    if not host:
        return
    calls = []
    lists = {}  # names bound to literal lists (or sums of them) anywhere in the file
    for n in ast.walk(tree):
        if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name) and \
                isinstance(n.value, (ast.List, ast.BinOp)):
            lists[n.targets[0].id] = n.value
    for n in ast.walk(tree):
        if not isinstance(n, ast.Call) or not n.args:
            continue
        f = n.func
        name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else None
        is_sub = isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == "subprocess" \
            and name in RUNNERS
        if is_sub or (isinstance(f, ast.Name) and name in HOST_WRAPPERS):
            calls.append((n.args[0], n.lineno))
        if isinstance(f, ast.Attribute) and name == "which" and isinstance(f.value, ast.Name) \
                and f.value.id == "shutil":
            a = n.args[0]
            if isinstance(a, ast.Constant) and isinstance(a.value, str):
                scan.add_cmd(a.value, rel, n.lineno)
    # for tool in ("ip", ...): ... shutil.which(tool)
    for n in ast.walk(tree):
        if isinstance(n, ast.For) and isinstance(n.iter, (ast.Tuple, ast.List)) and isinstance(n.target, ast.Name):
            body = ast.dump(ast.Module(body=n.body, type_ignores=[]))
            if "attr='which'" in body and f"id='{n.target.id}'" in body:
                for e in n.iter.elts:
                    if isinstance(e, ast.Constant) and isinstance(e.value, str):
                        scan.add_cmd(e.value, rel, n.lineno)
    for expr, ln in calls:
        words = argv_words(expr, lists)
        if words:
            ShellScanner(scan, rel).command(words, [ln] * len(words), None, 0, True)


# ------------------------------------------------------------------------------------------------
# CMake


def scan_cmake(scan, rel, text):
    for m in re.finditer(r"\bCOMMAND\s+(\S+)((?:\s+-\S+)*)\s*(\"(?:[^\"\\]|\\.)*\")?", text):
        cmd = m.group(1)
        line = text.count("\n", 0, m.start()) + 1
        if cmd.startswith("${") or cmd.startswith("$<") or cmd.startswith('"'):
            continue
        scan.add_cmd(cmd, rel, line)
        if cmd in ("sh", "bash") and m.group(3) and "c" in (m.group(2) or ""):
            body = m.group(3)[1:-1].replace('\\"', '"').replace("\\\\", "\\")
            ShellScanner(scan, rel, line - 1).run(body)


# ------------------------------------------------------------------------------------------------


def tracked_files(repo):
    r = subprocess.run(["git", "-C", repo, "ls-files", "-z"], capture_output=True, check=False)
    if r.returncode == 0:
        return sorted(f for f in r.stdout.decode().split("\0") if f)
    out = []  # not a git checkout (a copy): every file
    for root, dirs, files in os.walk(repo):
        dirs[:] = [d for d in dirs if not d.startswith(".git") and not d.startswith("build")]
        out += [os.path.relpath(os.path.join(root, f), repo) for f in files]
    return sorted(out)


def scan_repo(repo):
    scan = Scan(repo)
    files = tracked_files(repo)
    local_modules = {os.path.splitext(os.path.basename(f))[0] for f in files if f.endswith(".py")}
    local_modules |= {f.split("/")[-2] for f in files if f.endswith("/__init__.py")}
    for rel in files:
        path = os.path.join(repo, rel)
        if not os.path.isfile(path) or rel.startswith("agent/"):
            continue
        target = any(p.search(rel) for p in TARGET_SCRIPTS)
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        if rel.endswith(".py") or (rel.startswith(("tests/", "tools/")) and text.startswith("#!") and
                                   "python3" in text.split("\n", 1)[0]):
            scan_python(scan, rel, text, local_modules, host=not target)
        elif rel.endswith("CMakeLists.txt") or rel.endswith(".cmake"):
            scan_cmake(scan, rel, text)
        elif is_shell(path, rel) and not target:
            ShellScanner(scan, rel).run(text)
    scan.finish()
    return scan


# ------------------------------------------------------------------------------------------------
# the manifest (tools/deps.txt)


def read_manifest(path):
    """{package: (group, [items])}; an item is a command, a /file or py:module."""
    pk = {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            words = line.split()
            if len(words) < 2 or words[1] not in ("image", "test"):
                raise SystemExit(f"{path}:{n}: want 'PACKAGE image|test [ITEM...]', got: {line}")
            pk[words[0]] = (words[1], words[2:])
    return pk


def check(scan, manifest_path):
    pk = read_manifest(manifest_path)
    provider = {}  # item -> [(package, group)]
    for p, (g, items) in pk.items():
        for it in items:
            provider.setdefault(it, []).append((p, g))
    fails = []
    seen = set()
    for name, kind, scope, where in sorted(scan.found):
        item = name if kind == "cmd" else f"py:{name}"
        if (item, scope) in seen:
            continue
        seen.add((item, scope))
        prov = provider.get(item)
        what = "command" if kind == "cmd" else "Python module"
        if not prov:
            fails.append(f"{where}: {what} '{name}' is used, but {os.path.relpath(manifest_path, scan.repo)} "
                         f"names no package for it: add it to the line of the Debian package that provides it "
                         f"(dpkg -S, apt-file search)")
        elif scope == "image" and not any(g == "image" for _, g in prov):
            fails.append(f"{where}: {what} '{name}' is used by the image build, but its package "
                         f"({', '.join(p for p, _ in prov)}) is in group 'test' only: tools/build-image would "
                         f"not install it; make it 'image'")
    used = {(n if k == "cmd" else f"py:{n}") for n, k, _, _ in scan.found}
    unused = sorted(it for it in provider if not it.startswith("/") and it not in used and not it.startswith("!"))
    return fails, unused


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repo", default=os.path.abspath(os.path.join(os.path.dirname(__file__), "../..")))
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--check", metavar="MANIFEST")
    a = ap.parse_args()
    scan = scan_repo(a.repo)
    for e in scan.errors:
        print(f"FAIL  {e}")
    if a.check:
        fails, unused = check(scan, a.check)
        cmds = {n for n, k, _, _ in scan.found if k == "cmd"}
        mods = {n for n, k, _, _ in scan.found if k == "py"}
        print(f"scanned: {len(cmds)} commands, {len(mods)} Python modules used by the host scripts")
        for u in unused:
            # not an error: the C build's tools (compilers, pkg-config...) are named there by hand
            print(f"note  {u}: named in the manifest, not found by the scan (used by the build, or stale?)")
        for f in fails:
            print(f"FAIL  {f}")
        if fails or scan.errors:
            print(f"{len(fails) + len(scan.errors)} problem(s)")
            return 1
        print("every command and module the scripts use is in the manifest")
        return 0
    if a.json:
        json.dump([{"name": n, "kind": k, "scope": s, "where": w} for n, k, s, w in sorted(scan.found)],
                  sys.stdout, indent=1)
        print()
    else:
        by = {}
        for n, k, s, w in sorted(scan.found):
            by.setdefault((k, n), {}).setdefault(s, []).append(w)
        for (k, n), d in sorted(by.items()):
            print(f"{k:3} {n:28} " + "  ".join(f"{s}: {', '.join(ws[:3])}{' ...' if len(ws) > 3 else ''}"
                                                for s, ws in sorted(d.items())))
    return 1 if scan.errors else 0


if __name__ == "__main__":
    sys.exit(main())
