#!/usr/bin/env python3
"""The offline path's import (issue 13, point 4): packaging/import-images.sh, as piagent-images.service runs it
at boot, against a real containerd (its own root, state and socket under WORK_DIR) with image archives built
here (no registry is reachable): an OCI image layout and a docker-archive (`docker save`'s format) both end up in
containerd's k8s.io namespace under their names, unpacked, and move to imported/; a broken archive is named in
the output, stays for the next boot and fails the run, without stopping the others; a second run imports nothing
twice.

usage: test_import.py IMPORT_SCRIPT WORK_DIR"""

import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import time

SKIP = 77
ARCH = {"x86_64": "amd64", "aarch64": "arm64"}.get(os.uname().machine, os.uname().machine)


def expect(cond, msg):
    if not cond:
        raise AssertionError(msg)


def tar_bytes(files):
    """A tar of {name: bytes}, deterministic."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def sha(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def image_parts(text):
    layer = tar_bytes({"hello.txt": text.encode()})
    config = json.dumps({"architecture": ARCH, "os": "linux", "config": {"Cmd": ["/hello"]},
                         "rootfs": {"type": "layers", "diff_ids": [sha(layer)]}}).encode()
    return layer, config


def oci_archive(path, name, text):
    """An OCI image layout in a tar (skopeo's oci-archive:, `ctr images export`): blobs, index.json naming it."""
    layer, config = image_parts(text)
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha(config), "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": sha(layer), "size": len(layer)}],
    }).encode()
    index = json.dumps({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha(manifest), "size": len(manifest),
        "annotations": {"io.containerd.image.name": name, "org.opencontainers.image.ref.name": name.split(":")[-1]},
    }]}).encode()
    files = {"oci-layout": b'{"imageLayoutVersion":"1.0.0"}', "index.json": index}
    for blob in (layer, config, manifest):
        files["blobs/sha256/" + sha(blob)[7:]] = blob
    with open(path, "wb") as f:
        f.write(tar_bytes(files))


def docker_archive(path, name, text):
    """`docker save`'s format: manifest.json with RepoTags, the config, one tar per layer."""
    layer, config = image_parts(text)
    cfg = sha(config)[7:] + ".json"
    files = {cfg: config, "l1/layer.tar": layer,
             "manifest.json": json.dumps([{"Config": cfg, "RepoTags": [name], "Layers": ["l1/layer.tar"]}]).encode()}
    with open(path, "wb") as f:
        f.write(tar_bytes(files))


def main():
    script, work = sys.argv[1], os.path.abspath(sys.argv[2])
    if not shutil.which("containerd") or not shutil.which("ctr"):
        print("SKIP: containerd and ctr are not installed (tools/install-deps installs them)")
        return SKIP
    if os.geteuid() != 0:
        print("SKIP: containerd needs root")
        return SKIP
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    sock = os.path.join(work, "containerd.sock")
    conf = os.path.join(work, "config.toml")
    with open(conf, "w") as f:
        f.write(f'version = 2\nroot = "{work}/root"\nstate = "{work}/state"\n'
                f'[grpc]\n  address = "{sock}"\n[ttrpc]\n  address = "{sock}.ttrpc"\n'
                # Only what an import needs: no CRI (no kubelet here), no other daemons' sockets.
                'disabled_plugins = ["io.containerd.grpc.v1.cri"]\n')
    log = open(os.path.join(work, "containerd.log"), "w")
    daemon = subprocess.Popen(["containerd", "--config", conf], stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    env = dict(os.environ, CONTAINERD_ADDRESS=sock, CONTAINERD_SNAPSHOTTER="native")
    try:
        for _ in range(100):
            if subprocess.run(["ctr", "version"], env=env, capture_output=True).returncode == 0:
                break
            time.sleep(0.1)
        else:
            raise AssertionError("containerd did not answer on its socket within 10 s")

        images = os.path.join(work, "images")
        os.makedirs(images)
        oci_archive(os.path.join(images, "pause.tar"), "registry.k8s.io/pause:3.10", "pause")
        docker_archive(os.path.join(images, "flannel.tar"), "docker.io/flannel/flannel:v0.26.1", "flannel")
        with open(os.path.join(images, "broken.tar"), "wb") as f:
            f.write(b"not an archive\n" * 64)

        p = subprocess.run([script, images], env=env, capture_output=True, text=True, timeout=60)
        print(p.stdout, p.stderr, sep="")
        expect(p.returncode == 1, f"exit status {p.returncode} with a broken archive (want 1)")
        expect("broken.tar: import failed, kept for the next boot" in p.stdout, "the broken archive is not named")
        expect(os.path.exists(os.path.join(images, "broken.tar")), "the broken archive was not kept")
        for name in ("pause.tar", "flannel.tar"):
            expect(f"{name} imported in" in p.stdout, f"{name}: not said imported")
            expect(os.path.exists(os.path.join(images, "imported", name)) and
                   not os.path.exists(os.path.join(images, name)), f"{name} did not move to imported/")

        listed = subprocess.run(["ctr", "-n", "k8s.io", "images", "ls", "-q"], env=env, capture_output=True,
                                text=True, check=True).stdout.split()
        for want in ("registry.k8s.io/pause:3.10", "docker.io/flannel/flannel:v0.26.1"):
            expect(want in listed, f"{want} not in containerd's k8s.io namespace: {listed}")
        other = subprocess.run(["ctr", "-n", "default", "images", "ls", "-q"], env=env, capture_output=True,
                               text=True, check=True).stdout.split()
        expect(not other, f"images in the default namespace, where kubelet does not look: {other}")
        # Unpacked: a snapshot for the layer exists (kubelet can start a container from it at once).
        snaps = subprocess.run(["ctr", "-n", "k8s.io", "snapshots", "--snapshotter", "native", "ls"], env=env,
                               capture_output=True, text=True, check=True).stdout.strip().splitlines()
        expect(len(snaps) >= 3, f"not unpacked: snapshots {snaps}")  # header + one per distinct layer

        # The next boot: the broken one fails again, the imported ones are not imported twice.
        os.remove(os.path.join(images, "broken.tar"))
        p = subprocess.run([script, images], env=env, capture_output=True, text=True, timeout=60)
        expect(p.returncode == 0 and "no image archives (*.tar)" in p.stdout, f"second run: {p.returncode} {p.stdout}")
        print("import-images: OCI and docker archives in k8s.io (unpacked), a broken one named and kept, nothing "
              "imported twice")
        return 0
    finally:
        os.killpg(daemon.pid, signal.SIGTERM)
        try:
            daemon.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(daemon.pid, signal.SIGKILL)
            daemon.wait()
        log.close()
        subprocess.run(["umount", "-R", os.path.join(work, "state")], capture_output=True)


if __name__ == "__main__":
    sys.exit(main())
