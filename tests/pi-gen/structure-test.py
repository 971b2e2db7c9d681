#!/usr/bin/env python3
"""Structure test of the pi-gen stage (pi-gen-stage/stage-piagent): no root, seconds.

1. pi-gen's rules: what pi-gen's build.sh runs, and how (read from RPi-Distro/pi-gen's build.sh and
   scripts/common): a stage is a directory with an executable prerun.sh, an optional EXPORT_IMAGE
   (sourced), and sub-stage directories run in name order; in a sub-stage, for NN = 00..99:
   NN-debconf, NN-packages-nr, NN-packages (apt-get install in the chroot), NN-patches (quilt),
   NN-run.sh (run on the build host, skipped unless executable), NN-run-chroot.sh (fed to bash in the
   chroot on stdin); files/ holds data. Anything else is silently ignored by pi-gen: an error here.
2. Every script: bash -n and shellcheck; set -euo pipefail (not in EXPORT_IMAGE, which pi-gen sources
   into its own shell); chroot scripts redirect the stdin of apt/dpkg/systemctl (pi-gen feeds the
   script itself on stdin).
3. The stage installs exactly what the image build (image/) installs, except what
   pi-gen-stage/differences.txt lists with a reason: the overlay files (same contents and modes), the
   package list, the units enabled/disabled/masked, the boot-partition files, /etc/piagent-image-release.
4. Every PIAGENT_* variable the stage reads is documented in pi-gen-stage/README.md and docs/pi-gen.md.

Usage: structure-test.py [REPO]   (default: the repository holding this file)
"""
import os
import re
import shutil
import stat
import subprocess
import sys

REPO = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "../.."))
STAGE_TOP = os.path.join(REPO, "pi-gen-stage")
STAGE = os.path.join(STAGE_TOP, "stage-piagent")
IMAGE = os.path.join(REPO, "image")

failures = []


def check(ok, what, detail=""):
    if ok:
        print(f"ok    {what}")
    else:
        print(f"FAIL  {what}" + (f": {detail}" if detail else ""))
        failures.append(what)
    return ok


def rel(p):
    return os.path.relpath(p, REPO)


def is_exec(p):
    return bool(os.stat(p).st_mode & stat.S_IXUSR)


def read(p):
    with open(p, encoding="utf-8") as f:
        return f.read()


def join_continuations(text):
    return re.sub(r"\\\n\s*", " ", text)


# ---------------------------------------------------------------------------------------------
# 1. pi-gen's layout rules
SUBSTAGE_DIR = re.compile(r"^[0-9]{2}-[a-z0-9][a-z0-9-]*$")
SUBSTAGE_ENTRY = re.compile(r"^([0-9]{2})-(debconf|packages-nr|packages|patches|run\.sh|run-chroot\.sh)$")
STAGE_FILES = {"prerun.sh", "EXPORT_IMAGE", "EXPORT_NOOBS"}

host_scripts, chroot_scripts, package_files, data_files = [], [], [], []

check(os.path.isdir(STAGE), "the stage directory exists", rel(STAGE))
entries = sorted(os.listdir(STAGE))
for e in entries:
    p = os.path.join(STAGE, e)
    if os.path.isdir(p):
        check(SUBSTAGE_DIR.match(e) is not None, f"sub-stage name {e} is NN-name (pi-gen runs sub-stages in name order)")
    elif e in ("SKIP", "SKIP_IMAGES"):
        check(False, f"no {e} in the stage", "pi-gen would skip the stage or its image")
    else:
        check(e in STAGE_FILES, f"{e} is a file pi-gen uses in a stage", "pi-gen ignores anything but prerun.sh, "
              "EXPORT_IMAGE, EXPORT_NOOBS and sub-stage directories")

prerun = os.path.join(STAGE, "prerun.sh")
if check(os.path.isfile(prerun), "prerun.sh exists"):
    check(is_exec(prerun), "prerun.sh is executable (pi-gen runs it only if it is)")
    check("copy_previous" in read(prerun), "prerun.sh starts from the previous stage (copy_previous)")
    host_scripts.append(prerun)
export_image = os.path.join(STAGE, "EXPORT_IMAGE")
if check(os.path.isfile(export_image), "EXPORT_IMAGE exists (pi-gen exports this stage as an image)"):
    check(not is_exec(export_image), "EXPORT_IMAGE is not executable (pi-gen sources it)")
    check(re.search(r"^\s*set\s", read(export_image), re.M) is None,
          "EXPORT_IMAGE changes no shell options (it is sourced into pi-gen's build.sh)")
    check(re.search(r"^\s*(export\s+)?IMG_SUFFIX=", read(export_image), re.M) is not None,
          "EXPORT_IMAGE names the image (IMG_SUFFIX)")

substages = [e for e in entries if os.path.isdir(os.path.join(STAGE, e))]
check(len(substages) > 0, "the stage has sub-stages")
for s in substages:
    sd = os.path.join(STAGE, s)
    for e in sorted(os.listdir(sd)):
        p = os.path.join(sd, e)
        if e == "files" and os.path.isdir(p):
            for root, _, fs in os.walk(p):
                data_files.extend(os.path.join(root, f) for f in fs)
            continue
        if e == "SKIP":
            check(False, f"{s}: no SKIP file", "pi-gen would skip the sub-stage")
            continue
        m = SUBSTAGE_ENTRY.match(e)
        if not check(m is not None, f"{s}/{e} is an entry pi-gen runs",
                     "pi-gen ignores it: NN-debconf, NN-packages(-nr), NN-patches/, NN-run.sh, NN-run-chroot.sh, files/"):
            continue
        kind = m.group(2)
        if kind == "patches":
            check(os.path.isdir(p), f"{s}/{e} is a directory (quilt series)")
            continue
        check(os.path.isfile(p), f"{s}/{e} is a file")
        if kind == "run.sh":
            check(is_exec(p), f"{s}/{e} is executable (pi-gen skips a run.sh that is not)")
            host_scripts.append(p)
        elif kind == "run-chroot.sh":
            check(not is_exec(p), f"{s}/{e} is not executable (fed to bash in the chroot; never run on the build host)")
            chroot_scripts.append(p)
        else:
            check(not is_exec(p), f"{s}/{e} is not executable (data)")
            if kind.startswith("packages"):
                package_files.append(p)

# package files: pi-gen strips '#' comments and passes the words to apt-get install
PKG = re.compile(r"^[a-z0-9][a-z0-9+.-]+$")
stage_pkgs = []
for p in package_files:
    words = re.sub(r"#[^\n]*", "", read(p)).split()
    check(len(words) > 0, f"{rel(p)} names packages")
    bad = [w for w in words if not PKG.match(w)]
    check(not bad, f"{rel(p)}: every word is a Debian package name", " ".join(bad))
    stage_pkgs.extend(words)
dups = sorted({w for w in stage_pkgs if stage_pkgs.count(w) > 1})
check(not dups, "no package listed twice", " ".join(dups))

# text files: LF line ends, a final newline
for p in host_scripts + chroot_scripts + package_files + [export_image] + [
        f for f in data_files if not f.endswith(".deb")]:
    with open(p, "rb") as f:
        b = f.read()
    check(b"\r" not in b and b.endswith(b"\n"), f"{rel(p)}: LF line ends and a final newline")

# ---------------------------------------------------------------------------------------------
# 2. scripts
all_scripts = host_scripts + chroot_scripts + [export_image]
for p in all_scripts:
    r = subprocess.run(["bash", "-n", p], capture_output=True, text=True)
    check(r.returncode == 0, f"bash -n {rel(p)}", r.stderr.strip())
if check(shutil.which("shellcheck") is not None, "shellcheck is installed (tools/install-deps installs it)"):
    for p in all_scripts:
        args = ["shellcheck", "-x"] + (["-s", "bash"] if p in chroot_scripts or p == export_image else []) + [rel(p)]
        r = subprocess.run(args, cwd=REPO, capture_output=True, text=True)
        check(r.returncode == 0, f"shellcheck {rel(p)}", (r.stdout + r.stderr).strip())
for p in host_scripts:
    t = read(p)
    check(t.startswith("#!/bin/bash\n"), f"{rel(p)} starts with #!/bin/bash")
    check(re.search(r"^set -euo pipefail$", t, re.M) is not None, f"{rel(p)}: set -euo pipefail")
for p in chroot_scripts:
    t = read(p)
    check(t.startswith("# shellcheck shell=bash\n"), f"{rel(p)} declares its shell (bash, from on_chroot)")
    check(re.search(r"^set -euo pipefail$", t, re.M) is not None, f"{rel(p)}: set -euo pipefail")
    eaters = []
    for line in join_continuations(t).splitlines():
        s = line.strip()
        if re.match(r"^(apt-get|apt-mark|apt|dpkg|systemctl|debconf-set-selections)\b", s) and "</dev/null" not in s \
                and "<<" not in s:
            eaters.append(s)
    check(not eaters, f"{rel(p)}: apt/dpkg/systemctl read /dev/null, not the script on stdin", " | ".join(eaters))

# ---------------------------------------------------------------------------------------------
# 3. the same as the image build, except the listed differences
diffs = {}
DIFF = re.compile(r"^(image-only|stage-only|adapted)\s+(file|package|enable|disable|mask|bootfile)\s+(\S+)\s+--\s+(\S.*)$")
for n, line in enumerate(read(os.path.join(STAGE_TOP, "differences.txt")).splitlines(), 1):
    if not line.strip() or line.startswith("#"):
        continue
    m = DIFF.match(line)
    if check(m is not None, f"differences.txt:{n} is '<kind> <what> <name> -- <reason>'", line):
        key = (m.group(1), m.group(2))
        diffs.setdefault(key, set()).add(m.group(3))


def listed(kind, what):
    return diffs.get((kind, what), set())


# 3a. overlay files
overlay = os.path.join(IMAGE, "base/overlay")
image_files = set()
for root, _, fs in os.walk(overlay):
    image_files.update(os.path.relpath(os.path.join(root, f), overlay) for f in fs)
stage_files = {}
for s in substages:
    fr = os.path.join(STAGE, s, "files/rootfs")
    for root, _, fs in os.walk(fr):
        for f in fs:
            stage_files[os.path.relpath(os.path.join(root, f), fr)] = os.path.join(root, f)
img_only_files = listed("image-only", "file")
check(not (set(stage_files) & img_only_files), "no overlay file is both installed and listed image-only",
      " ".join(sorted(set(stage_files) & img_only_files)))
check(not (img_only_files - image_files), "every image-only file exists in image/base/overlay",
      " ".join(sorted(img_only_files - image_files)))
check(not (set(stage_files) - image_files), "the stage installs no file the image does not",
      " ".join(sorted(set(stage_files) - image_files)))
missing = image_files - set(stage_files) - img_only_files
check(not missing, "every image overlay file is installed by the stage or listed image-only", " ".join(sorted(missing)))
for f, p in sorted(stage_files.items()):
    ip = os.path.join(overlay, f)
    if os.path.isfile(ip):
        with open(p, "rb") as a, open(ip, "rb") as b:
            check(a.read() == b.read(), f"/{f}: same contents as image/base/overlay")
        check(is_exec(p) == is_exec(ip), f"/{f}: same mode as image/base/overlay")

# 3b. packages
image_pkgs = re.sub(r"#[^\n]*", "", read(os.path.join(IMAGE, "base/packages.txt"))).split()
img_only_pkgs = listed("image-only", "package")
check(not (set(stage_pkgs) & img_only_pkgs), "no package is both installed and listed image-only",
      " ".join(sorted(set(stage_pkgs) & img_only_pkgs)))
check(not (img_only_pkgs - set(image_pkgs)), "every image-only package is in image/base/packages.txt",
      " ".join(sorted(img_only_pkgs - set(image_pkgs))))
check(not (set(stage_pkgs) - set(image_pkgs)), "the stage installs no package the image does not",
      " ".join(sorted(set(stage_pkgs) - set(image_pkgs))))
missing = set(image_pkgs) - set(stage_pkgs) - img_only_pkgs
check(not missing, "every image package is installed by the stage or listed image-only", " ".join(sorted(missing)))

# 3c. units: systemctl [--root=...] enable|disable|mask UNIT...
UNIT_CMD = re.compile(r"systemctl(?:\s+--root=\S+)?\s+(enable|disable|mask)\s+([^\n;&|<>)]+)")


def unit_actions(paths):
    acts = set()
    for p in paths:
        for m in UNIT_CMD.finditer(join_continuations(read(p))):
            for u in m.group(2).split():
                acts.add((m.group(1), u))
    return acts


image_acts = unit_actions([os.path.join(IMAGE, "base/hooks/customize.sh"), os.path.join(IMAGE, "build.sh")])
stage_acts = unit_actions(host_scripts + chroot_scripts)
check(("enable", "piagent.service") in image_acts, "the parser finds the image's units (piagent.service enabled)")
img_only_acts = {(w, u) for (k, w), us in diffs.items() if k == "image-only" and w in ("enable", "disable", "mask")
                 for u in us}
stage_only_acts = {(w, u) for (k, w), us in diffs.items() if k == "stage-only" for u in us}
check(not (img_only_acts - image_acts), "every image-only unit action is done by the image",
      str(sorted(img_only_acts - image_acts)))
check(not (stage_only_acts - stage_acts), "every stage-only unit action is done by the stage",
      str(sorted(stage_only_acts - stage_acts)))
check(not (stage_only_acts & image_acts), "no stage-only unit action is done by the image too",
      str(sorted(stage_only_acts & image_acts)))
check(not ((stage_acts - stage_only_acts) - image_acts), "the stage enables/disables/masks no unit the image does not",
      str(sorted((stage_acts - stage_only_acts) - image_acts)))
missing = image_acts - stage_acts - img_only_acts
check(not missing, "every unit the image enables/disables/masks, the stage does too (or it is listed)",
      str(sorted(missing)))

# 3d. boot-partition files
bootfiles = os.path.join(IMAGE, "bootfiles")
stage_boot = os.path.join(STAGE, "04-boot-files/files")
image_boot_set = set(os.listdir(bootfiles))
stage_boot_set = set(os.listdir(stage_boot)) if os.path.isdir(stage_boot) else set()
img_only_boot = listed("image-only", "bootfile")
check(not (img_only_boot - image_boot_set), "every image-only boot file exists in image/bootfiles",
      " ".join(sorted(img_only_boot - image_boot_set)))
check(image_boot_set - img_only_boot == stage_boot_set,
      "the stage has the image's boot-partition files (but the ones listed image-only)",
      f"image {sorted(image_boot_set)}, image-only {sorted(img_only_boot)}, stage {sorted(stage_boot_set)}")
adapted = listed("adapted", "bootfile")
check(not (adapted - image_boot_set), "every adapted boot file exists in image/bootfiles", " ".join(sorted(adapted)))
for f in sorted(image_boot_set & stage_boot_set):
    a, b = read(os.path.join(bootfiles, f)), read(os.path.join(stage_boot, f))
    if f in adapted:
        pa, pb = a.split("\n\n"), b.split("\n\n")
        same = len(pa) == len(pb) and sum(x != y for x, y in zip(pa, pb)) <= 1
        check(same and a != b, f"boot file {f}: adapted in exactly one paragraph")
    else:
        check(a == b, f"boot file {f}: identical to image/bootfiles/{f}")
check("secret=@SECRET@" in read(os.path.join(stage_boot, "cluster.txt.in")), "cluster.txt.in has secret=@SECRET@")

# 3e. /etc/piagent-image-release: the same keys
REL = re.compile(r"^(PIAGENT_IMAGE_[A-Z_]+)=", re.M)
image_keys = set(REL.findall(read(os.path.join(IMAGE, "build.sh"))))
stage_keys = set()
for p in host_scripts + chroot_scripts:
    stage_keys.update(REL.findall(read(p)))
check(image_keys and image_keys == stage_keys, "/etc/piagent-image-release has the image's keys",
      f"image {sorted(image_keys)}, stage {sorted(stage_keys)}")

# 3f. the kernel command line: the stage ends cmdline.txt with the image's extra words
extra = read(os.path.join(overlay, "etc/default/raspi-extra-cmdline")).split()
cmd_script = read(os.path.join(STAGE, "03-node-settings/00-run.sh"))
check(all(f"out+=({w})" in cmd_script for w in extra),
      "03-node-settings ends cmdline.txt with the image's raspi-extra-cmdline words", " ".join(extra))

# 3g. the default Kubernetes minor version: the same as the image's recipe (image/k8s-debs.sh)
m_stage = re.search(r"PIAGENT_K8S_MINOR:-(v1\.[0-9]+)\}", read(os.path.join(STAGE, "01-kubernetes/00-run.sh")))
m_image = re.search(r"^default_minor=(v1\.[0-9]+)$", read(os.path.join(IMAGE, "k8s-debs.sh")), re.M)
check(m_stage is not None and m_image is not None and m_stage.group(1) == m_image.group(1),
      "the stage's default Kubernetes minor (PIAGENT_K8S_MINOR) is image/k8s-debs.sh's",
      f"stage {m_stage and m_stage.group(1)}, image {m_image and m_image.group(1)}")
for doc in (os.path.join(STAGE_TOP, "README.md"), os.path.join(REPO, "docs/pi-gen.md"), os.path.join(REPO, "docs/image.md")):
    if m_image:
        check(f"`{m_image.group(1)}`" in read(doc), f"{rel(doc)} names the default minor {m_image.group(1)}")

# ---------------------------------------------------------------------------------------------
# 4. every variable documented
variables = set()
for p in host_scripts + chroot_scripts + [export_image]:
    variables.update(re.findall(r"\bPIAGENT_[A-Z0-9_]+\b", read(p)))
variables -= {v for v in variables if v.startswith("PIAGENT_IMAGE_")}
for doc in (os.path.join(STAGE_TOP, "README.md"), os.path.join(REPO, "docs/pi-gen.md")):
    if check(os.path.isfile(doc), f"{rel(doc)} exists"):
        t = read(doc)
        undocumented = sorted(v for v in variables if v not in t)
        check(not undocumented, f"{rel(doc)} documents every PIAGENT_* variable of the stage", " ".join(undocumented))
        check("STAGE_LIST" in t, f"{rel(doc)} says how to put the stage into STAGE_LIST")

print()
if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
print("pi-gen stage structure: all checks passed")
