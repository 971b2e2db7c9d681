#!/usr/bin/env python3
"""The flannel manifest the package ships (cni/flannel.yaml): what kube-flannel needs is there, the images are
pinned, and with the pod subnet filled in (as agent/node/cni.c does) net-conf.json is JSON naming that subnet.

Parsed twice: with PyYAML (python3-yaml, a real YAML parser; skipped without it) and with the kubeadm double's
YAML subset (tests/doubles/kdouble/yamlish.py: the cluster tier's kubectl must read what the agent applies)."""

import json
import os
import re
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "doubles"))
from kdouble import yamlish  # noqa: E402

MANIFEST = os.path.join(ROOT, "cni", "flannel.yaml")
PLACEHOLDER = "@POD_SUBNET@"  # CNI_POD_SUBNET_PLACEHOLDER in agent/node/cni.h
FLANNEL = "docker.io/flannel/flannel:v0.25.6"
CNI_PLUGIN = "docker.io/flannel/flannel-cni-plugin:v1.5.1-flannel2"
NAMESPACE = "kube-flannel"


def text():
    with open(MANIFEST, encoding="utf-8") as f:
        return f.read()


def render(t, subnet):
    return t.replace(PLACEHOLDER, subnet)


def objects(t):
    return yamlish.load_all(t)


def one(objs, kind):
    found = [o for o in objs if o["kind"] == kind]
    assert len(found) == 1, f"{len(found)} objects of kind {kind}"
    return found[0]


class Manifest(unittest.TestCase):
    def setUp(self):
        self.text = text()
        self.objs = objects(self.text)

    def test_pyyaml__same_objects_as_the_doubles_parser(self):
        try:
            import yaml
        except ImportError:
            self.skipTest("python3-yaml is not installed (tools/install-deps)")
        real = [d for d in yaml.safe_load_all(self.text) if d is not None]
        self.assertEqual(real, self.objs)

    def test_kinds__what_kube_flannel_needs(self):
        self.assertEqual(sorted(o["kind"] for o in self.objs),
                         ["ClusterRole", "ClusterRoleBinding", "ConfigMap", "DaemonSet", "Namespace", "ServiceAccount"])
        for o in self.objs:
            self.assertIn("apiVersion", o)
            self.assertTrue(o["metadata"]["name"])

    def test_namespace__kube_flannel_admits_privileged_pods(self):
        ns = one(self.objs, "Namespace")
        self.assertEqual(ns["metadata"]["name"], NAMESPACE)
        self.assertEqual(ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"], "privileged")
        for o in self.objs:
            if o["kind"] in ("ServiceAccount", "ConfigMap", "DaemonSet"):
                self.assertEqual(o["metadata"].get("namespace"), NAMESPACE, o["kind"])
            else:
                self.assertNotIn("namespace", o["metadata"], o["kind"])

    def test_rbac__nodes_and_pods_for_the_service_account(self):
        sa = one(self.objs, "ServiceAccount")
        role = one(self.objs, "ClusterRole")
        binding = one(self.objs, "ClusterRoleBinding")
        grants = {(res, verb) for rule in role["rules"] if rule["apiGroups"] == [""]
                  for res in rule["resources"] for verb in rule["verbs"]}
        for want in (("nodes", "get"), ("nodes", "list"), ("nodes", "watch"), ("nodes/status", "patch"),
                     ("pods", "get")):
            self.assertIn(want, grants)
        self.assertEqual(binding["roleRef"], {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                              "name": role["metadata"]["name"]})
        self.assertEqual(binding["subjects"], [{"kind": "ServiceAccount", "name": sa["metadata"]["name"],
                                                "namespace": NAMESPACE}])
        ds = one(self.objs, "DaemonSet")
        self.assertEqual(ds["spec"]["template"]["spec"]["serviceAccountName"], sa["metadata"]["name"])

    def test_placeholder__once__in_net_conf(self):
        self.assertEqual(self.text.count(PLACEHOLDER), 1)
        cm = one(self.objs, "ConfigMap")
        self.assertIn(PLACEHOLDER, cm["data"]["net-conf.json"])

    def test_net_conf__rendered__json_with_the_pod_subnet(self):
        for subnet in ("10.244.0.0/16", "10.32.0.0/12", "172.16.128.0/17"):
            cm = one(objects(render(self.text, subnet)), "ConfigMap")
            net = json.loads(cm["data"]["net-conf.json"])
            self.assertEqual(net["Network"], subnet)
            self.assertEqual(net["Backend"], {"Type": "vxlan"})

    def test_cni_conf__flannel_then_portmap(self):
        cm = one(self.objs, "ConfigMap")
        conf = json.loads(cm["data"]["cni-conf.json"])
        self.assertEqual([p["type"] for p in conf["plugins"]], ["flannel", "portmap"])
        self.assertTrue(conf["plugins"][1]["capabilities"]["portMappings"])
        self.assertTrue(conf["cniVersion"])

    def test_daemonset__linux_arm64_every_node(self):
        ds = one(self.objs, "DaemonSet")
        self.assertEqual(ds["apiVersion"], "apps/v1")
        self.assertEqual(ds["metadata"]["name"], "kube-flannel-ds")
        tmpl = ds["spec"]["template"]
        for k, v in ds["spec"]["selector"]["matchLabels"].items():
            self.assertEqual(tmpl["metadata"]["labels"].get(k), v)
        spec = tmpl["spec"]
        self.assertIs(spec["hostNetwork"], True)
        self.assertIn({"operator": "Exists", "effect": "NoSchedule"}, spec["tolerations"])
        terms = spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
        self.assertEqual(len(terms), 1)
        exprs = {e["key"]: e for e in terms[0]["matchExpressions"]}
        self.assertEqual((exprs["kubernetes.io/os"]["operator"], exprs["kubernetes.io/os"]["values"]), ("In", ["linux"]))
        self.assertEqual(exprs["kubernetes.io/arch"]["operator"], "In")
        self.assertIn("arm64", exprs["kubernetes.io/arch"]["values"])

    def test_daemonset__containers_and_volumes(self):
        spec = one(self.objs, "DaemonSet")["spec"]["template"]["spec"]
        init = {c["name"]: c for c in spec["initContainers"]}
        self.assertEqual(list(init), ["install-cni-plugin", "install-cni"])
        self.assertEqual(init["install-cni-plugin"]["image"], CNI_PLUGIN)
        self.assertEqual(init["install-cni"]["image"], FLANNEL)
        self.assertIn("/etc/cni/net.d/10-flannel.conflist", init["install-cni"]["args"])
        main, = spec["containers"]
        self.assertEqual((main["name"], main["image"]), ("kube-flannel", FLANNEL))
        self.assertEqual(main["command"], ["/opt/bin/flanneld"])
        self.assertIn("--ip-masq", main["args"])
        self.assertIn("--kube-subnet-mgr", main["args"])
        self.assertIn("NET_ADMIN", main["securityContext"]["capabilities"]["add"])
        env = {e["name"] for e in main["env"]}
        self.assertTrue({"POD_NAME", "POD_NAMESPACE"} <= env)

        volumes = {v["name"]: v for v in spec["volumes"]}
        mounts = {m["name"]: m["mountPath"] for c in spec["initContainers"] + spec["containers"]
                  for m in c["volumeMounts"]}
        self.assertEqual(set(mounts), set(volumes), "every volume mounted, every mount a volume")
        host = {n: v["hostPath"]["path"] for n, v in volumes.items() if "hostPath" in v}
        self.assertEqual(host["cni-plugin"], "/opt/cni/bin")
        self.assertEqual(host["cni"], "/etc/cni/net.d")
        self.assertEqual(host["run"], "/run/flannel")
        self.assertEqual(volumes["flannel-cfg"]["configMap"]["name"], one(self.objs, "ConfigMap")["metadata"]["name"])

    def test_images__pinned_to_one_release(self):
        spec = one(self.objs, "DaemonSet")["spec"]["template"]["spec"]
        images = {c["image"] for c in spec["initContainers"] + spec["containers"]}
        self.assertEqual(images, {FLANNEL, CNI_PLUGIN})
        for i in images:
            self.assertRegex(i, r"^docker\.io/flannel/[a-z-]+:v\d+\.\d+\.\d+(-flannel\d+)?$")

    def test_versions__stated_in_the_header_and_the_docs(self):
        flannel, plugin = FLANNEL.rsplit(":", 1)[1], CNI_PLUGIN.rsplit(":", 1)[1]
        header = self.text.split("\n---", 1)[0]
        self.assertIn(f"flannel {flannel}", header)
        self.assertIn(f"flannel-cni-plugin {plugin}", header)
        with open(os.path.join(ROOT, "docs", "configuration.md"), encoding="utf-8") as f:
            docs = f.read()
        self.assertIn(FLANNEL, docs)
        self.assertIn(CNI_PLUGIN, docs)

    def test_shipped__every_manifest_installed(self):
        with open(os.path.join(ROOT, "CMakeLists.txt"), encoding="utf-8") as f:
            cmake = f.read()
        for name in sorted(os.listdir(os.path.join(ROOT, "cni"))):
            self.assertTrue(re.search(rf"install\(FILES [^)]*cni/{re.escape(name)}\b", cmake), name)


if __name__ == "__main__":
    unittest.main(verbosity=2)
