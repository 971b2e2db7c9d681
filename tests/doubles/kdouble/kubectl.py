"""`kubectl`, the test double: the few calls the agent and the tests make.

  kubectl [--kubeconfig F] get nodes [-o json|wide|name]
  kubectl [--kubeconfig F] get --raw /path
  kubectl [--kubeconfig F] delete node NAME...
  kubectl [--kubeconfig F] apply -f FILE|-    records the objects (kind, name,
                                              namespace, content hash, the
                                              object itself) in the double's
                                              registry; runs nothing
  kubectl version [--client] [-o json]

The kubeconfig is --kubeconfig, else $KUBECONFIG, else ~/.kube/config. Every
invocation is appended to /var/log/kubeadm-double.log with "tool": "kubectl".
"""

import hashlib
import json
import os
import sys
import time

from . import node, yamlish
from .gotypes import KubeadmError

USAGE = "kubectl (test double): get nodes | get --raw PATH | delete node NAME | apply -f FILE | version"


def _parse(argv):
    opts = {"kubeconfig": None, "output": "", "filename": [], "raw": None, "client": False}
    words = []
    i = 0
    valued = {"--kubeconfig": "kubeconfig", "-o": "output", "--output": "output", "-f": "filename",
              "--filename": "filename", "--raw": "raw"}
    while i < len(argv):
        a = argv[i]
        i += 1
        name, eq, val = a.partition("=")
        if name in valued:
            if not eq:
                if i >= len(argv):
                    raise KubeadmError(f"error: flag needs an argument: {name}")
                val = argv[i]
                i += 1
            key = valued[name]
            if key == "filename":
                opts[key].append(val)
            else:
                opts[key] = val
        elif a == "--client":
            opts["client"] = True
        elif a.startswith("-o") and len(a) > 2:
            opts["output"] = a[2:]
        elif a.startswith("-v=") or a.startswith("--v="):
            pass
        elif a.startswith("-"):
            raise KubeadmError(f"error: unknown flag: {a}\nSee 'kubectl --help' for usage.")
        else:
            words.append(a)
    return words, opts


def _client(opts):
    from . import api, pki

    path = opts["kubeconfig"] or os.environ.get("KUBECONFIG") or os.path.expanduser("~/.kube/config")
    if not os.path.exists(path):
        raise KubeadmError("The connection to the server localhost:8080 was refused - did you specify the right host "
                           "or port?")
    kc = pki.Kubeconfig.load(path)
    return api.from_kubeconfig(kc, timeout=10.0)


def _age(ts):
    try:
        s = int(node.now() - node.parse_rfc3339(ts))
    except ValueError:
        return "<unknown>"
    if s < 120:
        return f"{s}s"
    if s < 7200:
        return f"{s // 60}m"
    if s < 48 * 3600:
        return f"{s // 3600}h"
    return f"{s // 86400}d"


def get_nodes(opts):
    items = _client(opts).get("/api/v1/nodes")["items"]
    fmt = opts["output"]
    if fmt == "json":
        print(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}, indent=4))
        return 0
    if fmt == "name":
        for n in items:
            print("node/" + n["metadata"]["name"])
        return 0
    rows = []
    for n in items:
        md, status = n["metadata"], n.get("status") or {}
        ready = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), {})
        roles = sorted(k.split("/", 1)[1] for k in md.get("labels") or {} if k.startswith("node-role.kubernetes.io/"))
        ip = next((a["address"] for a in status.get("addresses") or [] if a.get("type") == "InternalIP"), "<none>")
        rows.append([md["name"], "Ready" if ready.get("status") == "True" else "NotReady", ",".join(roles) or "<none>",
                     _age(md.get("creationTimestamp", "")), (status.get("nodeInfo") or {}).get("kubeletVersion", ""),
                     ip or "<none>"])
    head = ["NAME", "STATUS", "ROLES", "AGE", "VERSION"] + (["INTERNAL-IP"] if fmt == "wide" else [])
    if not rows:
        print("No resources found", file=sys.stderr)
        return 0
    table = [head] + [r[: len(head)] for r in rows]
    widths = [max(len(str(r[i])) for r in table) for i in range(len(head))]
    for r in table:
        print("   ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip())
    return 0


def apply(opts):
    if not opts["filename"]:
        raise KubeadmError("error: must specify one of -f and -k")
    objects = []
    for fn in opts["filename"]:
        text = sys.stdin.read() if fn == "-" else open(fn).read()
        try:
            docs = yamlish.load_all(text)
        except ValueError as e:
            raise KubeadmError(f"error: error parsing {fn}: {e}") from None
        for d in docs:
            items = d.get("items") if isinstance(d, dict) and d.get("kind") == "List" else [d]
            for o in items or []:
                if not isinstance(o, dict) or not o.get("apiVersion") or not o.get("kind"):
                    raise KubeadmError(f"error: error validating \"{fn}\": error validating data: [apiVersion not set, "
                                       "kind not set]")
                md = o.get("metadata") or {}
                if not md.get("name"):
                    raise KubeadmError(f'error: error when retrieving current configuration of: Resource: '
                                       f'"{o["kind"]}", Name: "" from server for: "{fn}": resource name may not be '
                                       'empty')
                objects.append({"apiVersion": o["apiVersion"], "kind": o["kind"],
                                "metadata": {"name": md["name"], "namespace": md.get("namespace")},
                                "sha256": hashlib.sha256(json.dumps(o, sort_keys=True).encode()).hexdigest(),
                                "file": fn, "object": o})
    res = _client(opts).post("/double/v1/applied", {"objects": objects})
    for o, r in zip(objects, res.get("results") or []):
        group = o["apiVersion"].split("/")[0] if "/" in o["apiVersion"] else ""
        kind = o["kind"].lower() + (f".{group}" if group else "")
        print(f"{kind}/{o['metadata']['name']} {r}")
    return 0


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    t0 = time.time()
    record = {"tool": "kubectl", "argv": argv, "pid": os.getpid(), "time": node.rfc3339(t0), "t": t0,
              "host": node.hostname()}
    code = 1
    try:
        words, opts = _parse(argv)
        record["command"] = "kubectl-" + "-".join(words[:2]) if words else "kubectl"
        if words[:2] == ["get", "nodes"] or words[:2] == ["get", "node"] or words[:2] == ["get", "no"]:
            code = get_nodes(opts)
        elif words == ["get"] and opts["raw"]:
            c = _client(opts)
            status, body = c.raw_get(opts["raw"])
            sys.stdout.write(body if body.endswith("\n") or not body else body + "\n")
            code = 0 if status < 400 else 1
        elif len(words) >= 3 and words[0] == "delete" and words[1] in ("node", "nodes", "no"):
            c = _client(opts)
            for name in words[2:]:
                c.delete(f"/api/v1/nodes/{name}")
                print(f'node "{name}" deleted')
            code = 0
        elif words[:1] == ["apply"]:
            code = apply(opts)
        elif words[:1] == ["version"]:
            v = node.version()
            if opts["output"] == "json":
                print(json.dumps({"clientVersion": {"gitVersion": v}}, indent=2))
            else:
                print(f"Client Version: {v}")
            code = 0
        else:
            print(USAGE, file=sys.stderr)
            code = 1
    except KubeadmError as e:
        print(str(e), file=sys.stderr)
        record["error"] = str(e)
        code = 1
    except Exception as e:  # noqa: BLE001 - API and connection errors
        from .api import ApiError

        msg = f"Error from server ({e.reason}): {e}" if isinstance(e, ApiError) else \
            f"Unable to connect to the server: {e}"
        print(msg, file=sys.stderr)
        record["error"] = msg
        code = 1
    finally:
        record["exit"] = code
        record["duration_s"] = round(time.time() - t0, 3)
        node.log_invocation(record)
    return code
