#!/usr/bin/env python3
"""Offline tests of the kubeadm double (no containers, no root, seconds):
config decoding and validation, flags, the YAML subset, Go durations, the CA
pin, JWS, kubeadm-certs encryption, fault injection and the invocation log.
The cluster test (test_kubeadm_double.py) checks the rest against real etcd,
systemd and HAProxy.

Run: python3 tests/doubles/test_kubeadm_double_unit.py [-v]"""

import base64
import contextlib
import hashlib
import hmac
import io
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True

from kdouble import config, flags, node, yamlish  # noqa: E402
from kdouble.gotypes import (  # noqa: E402
    KubeadmError,
    format_duration,
    parse_duration,
)

try:
    from kdouble import pki
except ImportError:  # python3-cryptography missing: those tests skip
    pki = None

V131, V130 = "v1.31.2", "v1.30.5"


def doc(kind, version="v1beta4", **fields):
    return dict({"apiVersion": f"kubeadm.k8s.io/{version}", "kind": kind}, **fields)


def text(*docs):
    return "\n---\n".join(json.dumps(d) for d in docs)


def init_cfg(*docs, version=V131, allow=False):
    d = config.load_documents(text(*docs), version, allow_deprecated=allow)
    return config.build_init(d, version, lambda: "raspberrypi", lambda: "10.0.0.1")


def join_cfg(*docs, version=V131):
    d = config.load_documents(text(*docs), version)
    return config.build_join(d, version, lambda: "raspberrypi", lambda: "10.0.0.1")


GOOD_INIT = doc("InitConfiguration", nodeRegistration={"name": "m1", "criSocket": "unix:///run/containerd/containerd.sock"},
                localAPIEndpoint={"advertiseAddress": "10.77.0.11", "bindPort": 6443},
                bootstrapTokens=[{"token": "abcdef.0123456789abcdef", "ttl": "15m"}],
                certificateKey="a" * 64)
GOOD_CLUSTER = doc("ClusterConfiguration", controlPlaneEndpoint="10.77.0.240:9000",
                   apiServer={"certSANs": ["10.77.0.240", "cluster.local"]},
                   networking={"podSubnet": "10.244.0.0/16", "serviceSubnet": "10.96.0.0/12"})
HASH = "sha256:" + "ab" * 32
GOOD_JOIN = doc("JoinConfiguration", nodeRegistration={"name": "w1"},
                discovery={"bootstrapToken": {"token": "abcdef.0123456789abcdef",
                                              "apiServerEndpoint": "10.77.0.240:9000", "caCertHashes": [HASH]}})


class ConfigTest(unittest.TestCase):
    def assertFails(self, fn, *fragments, code=None):
        with self.assertRaises(KubeadmError) as cm:
            fn()
        for f in fragments:
            self.assertIn(f, str(cm.exception))
        if code is not None:
            self.assertEqual(cm.exception.code, code, str(cm.exception))
        return cm.exception

    def test_init__good_v1beta4__defaults_filled(self):
        c = init_cfg(GOOD_INIT, GOOD_CLUSTER)
        self.assertEqual(c.node_name, "m1")
        self.assertEqual(c.advertise_address, "10.77.0.11")
        self.assertEqual(c.cluster["kubernetesVersion"], V131)
        self.assertEqual(c.cluster["networking"]["dnsDomain"], "cluster.local")
        self.assertEqual(c.cluster["etcd"]["local"]["dataDir"], "/var/lib/etcd")
        self.assertEqual(c.init["bootstrapTokens"][0]["usages"], ["signing", "authentication"])
        self.assertEqual(c.warnings, [])

    def test_init__json_list__accepted(self):
        lst = {"apiVersion": "v1", "kind": "List", "items": [GOOD_INIT, GOOD_CLUSTER]}
        d = config.load_documents(json.dumps(lst), V131)
        self.assertEqual(set(d.kinds), {"InitConfiguration", "ClusterConfiguration"})

    def test_init__yaml__accepted(self):
        y = ("apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nnodeRegistration:\n  name: m1\n"
             "  taints: []\nlocalAPIEndpoint:\n  advertiseAddress: 10.77.0.11\n  bindPort: 6443\n---\n"
             "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\ncontrolPlaneEndpoint: 10.77.0.240:9000\n"
             "apiServer:\n  certSANs:\n  - 10.77.0.240\n")
        d = config.load_documents(y, V131)
        c = config.build_init(d, V131, lambda: "x", lambda: "10.0.0.1")
        self.assertEqual(c.cluster["controlPlaneEndpoint"], "10.77.0.240:9000")

    def test_init__no_kind__refused(self):
        self.assertFails(lambda: init_cfg({"nodeRegistration": {}}), "kind and apiVersion is mandatory")

    def test_init__v1beta4_on_130__experimental(self):
        self.assertFails(lambda: init_cfg(GOOD_INIT, version=V130),
                         'experimental API spec: "kubeadm.k8s.io/v1beta4" is not allowed')

    def test_init__v1beta4_on_127__not_registered(self):
        self.assertFails(lambda: init_cfg(GOOD_INIT, version="v1.27.16"),
                         'no kind "InitConfiguration" is registered for version "kubeadm.k8s.io/v1beta4"')

    def test_api_status__per_minor(self):
        cases = {("v1.22.0", "v1beta3"): config.PREFERRED, ("v1.30.14", "v1beta3"): config.PREFERRED,
                 ("v1.31.0", "v1beta3"): config.DEPRECATED, ("v1.35.1", "v1beta3"): config.DEPRECATED,
                 ("v1.36.0", "v1beta3"): config.OLD, ("v1.21.9", "v1beta3"): config.UNKNOWN,
                 ("v1.27.3", "v1beta4"): config.UNKNOWN, ("v1.28.0", "v1beta4"): config.EXPERIMENTAL,
                 ("v1.30.14", "v1beta4"): config.EXPERIMENTAL, ("v1.31.0", "v1beta4"): config.PREFERRED,
                 ("v1.33.5", "v1beta4"): config.PREFERRED, ("v1.33.5", "v1beta2"): config.OLD}
        for (kv, v), want in cases.items():
            self.assertEqual(config.api_status(kv, v), want, f"{v} on kubeadm {kv}")
        self.assertEqual(config.preferred_version("v1.30.14"), "v1beta3")
        self.assertEqual(config.preferred_version("v1.33.5"), "v1beta4")

    def test_agent_goldens__accepted_by_their_release(self):
        """The configurations the agent renders (its unit tests' golden files) pass the double's strict decoding
        and validation at a release that prefers their API version."""
        data = os.path.join(HERE, "..", "unit", "data")
        for name, releases in (("kubeadm-init-v1beta3.json", ("v1.30.14",)),
                               ("kubeadm-init-v1beta4.json", ("v1.31.2", "v1.33.5")),
                               ("kubeadm-join-control-plane-v1beta4.json", ("v1.31.2", "v1.33.5"))):
            with open(os.path.join(data, name)) as f:
                t = f.read()
            for release in releases:
                # The agent writes the installed kubeadm's own version (unless cluster.txt names one).
                d = config.load_documents(t.replace('"kubernetesVersion":"v1.31.2"',
                                                    f'"kubernetesVersion":"{release}"'), release)
                if "JoinConfiguration" in d.kinds:
                    c = config.build_join(d, release, lambda: "x", lambda: "10.0.0.1")
                    self.assertEqual(c.timeout("controlPlaneComponentHealthCheck", 0), 600.0, name)
                else:
                    c = config.build_init(d, release, lambda: "x", lambda: "10.0.0.1")
                    self.assertEqual(c.timeout("controlPlaneComponentHealthCheck", 0), 600.0, name)

    def test_init__v1beta3_on_136__old_api(self):
        self.assertFails(lambda: init_cfg(doc("InitConfiguration", "v1beta3"), version="v1.36.0"),
                         'old API spec: "kubeadm.k8s.io/v1beta3"', "kubeadm v1.35")

    def test_config_validate__experimental_allowed_by_flag(self):
        d = config.load_documents(text(GOOD_INIT), V130, allow_experimental=True)
        self.assertIn("InitConfiguration", d.kinds)

    def test_init__v1beta3_on_130__accepted(self):
        c = init_cfg(doc("InitConfiguration", "v1beta3", nodeRegistration={"kubeletExtraArgs": {"v": "2"}}),
                     version=V130)
        self.assertEqual(c.api_version, "v1beta3")

    def test_init__v1beta3_on_131__refused_unless_allowed(self):
        self.assertFails(lambda: init_cfg(doc("InitConfiguration", "v1beta3")), "deprecated", "v1beta4")
        c = init_cfg(doc("InitConfiguration", "v1beta3"), allow=True)
        self.assertTrue(any("deprecated" in w for w in c.warnings))

    def test_init__v1beta2__old_api(self):
        self.assertFails(lambda: init_cfg(doc("InitConfiguration", "v1beta2")), "old API spec")

    def test_init__unknown_kind_in_group__refused(self):
        self.assertFails(lambda: init_cfg(doc("FooConfiguration")), 'no kind "FooConfiguration" is registered')

    def test_init__foreign_document__ignored_with_warning(self):
        c = init_cfg(GOOD_INIT, {"apiVersion": "example.com/v1", "kind": "Thing"})
        self.assertTrue(any("Ignored YAML document" in w for w in c.warnings))

    def test_init__join_document__ignored_with_warning(self):
        c = init_cfg(GOOD_INIT, GOOD_JOIN)
        self.assertTrue(any("Kind=JoinConfiguration" in w for w in c.warnings))

    def test_init__duplicate_kind__refused(self):
        self.assertFails(lambda: init_cfg(GOOD_INIT, GOOD_INIT), "specified twice")

    def test_init__unknown_field__strict_error(self):
        bad = doc("InitConfiguration", nodeRegistration={"nmae": "m1"})
        self.assertFails(lambda: init_cfg(bad), 'strict decoding error: unknown field "nodeRegistration.nmae"')

    def test_init__duplicate_json_field__refused(self):
        t = '{"apiVersion": "kubeadm.k8s.io/v1beta4", "kind": "InitConfiguration", "certificateKey": "a", ' \
            '"certificateKey": "b"}'
        self.assertFails(lambda: config.load_documents(t, V131), "duplicate")

    def test_init__wrong_types__unmarshal_errors(self):
        self.assertFails(lambda: init_cfg(doc("InitConfiguration", localAPIEndpoint={"bindPort": "6443"})),
                         "cannot unmarshal string", "bindPort", "int32")
        self.assertFails(lambda: init_cfg(doc("InitConfiguration", nodeRegistration={"kubeletExtraArgs": {"v": "2"}})),
                         "cannot unmarshal object")
        self.assertFails(lambda: init_cfg(doc("InitConfiguration", dryRun="yes")), "of type bool")
        self.assertFails(lambda: init_cfg(doc("ClusterConfiguration", apiServer={"certSANs": "x"})),
                         "cannot unmarshal string", "[]string")

    def test_init__v1beta4_field_in_v1beta3__unknown(self):
        self.assertFails(lambda: init_cfg(doc("ClusterConfiguration", "v1beta3", encryptionAlgorithm="RSA-2048"),
                                          version=V130), 'unknown field "encryptionAlgorithm"')

    def test_init__bad_token__not_of_the_form(self):
        bad = doc("InitConfiguration", bootstrapTokens=[{"token": "ABCDEF.0123456789abcdef"}])
        self.assertFails(lambda: init_cfg(bad), 'the bootstrap token "ABCDEF.0123456789abcdef" was not of the form')
        bad = doc("InitConfiguration", bootstrapTokens=[{"token": "abcdef.0123456789abcde"}])
        self.assertFails(lambda: init_cfg(bad), "was not of the form")

    def test_init__bad_token_fields__validation(self):
        bad = doc("InitConfiguration", bootstrapTokens=[{"token": "abcdef.0123456789abcdef", "usages": ["signin"],
                                                         "groups": ["system:nodes"]}])
        e = self.assertFails(lambda: init_cfg(bad), "invalid bootstrap token usage string: signin",
                             "must match the pattern", code=3)
        self.assertTrue(str(e).startswith("["), "two errors are aggregated like kubeadm: [a, b]")
        self.assertFails(lambda: init_cfg(doc("InitConfiguration", bootstrapTokens=[
            {"token": "abcdef.0123456789abcdef", "ttl": "1d"}])), "invalid duration")

    def test_init__certificate_key__64_hex(self):
        self.assertFails(lambda: init_cfg(doc("InitConfiguration", certificateKey="ab" * 16)),
                         "invalid certificate key size 16", code=3)
        self.assertFails(lambda: init_cfg(doc("InitConfiguration", certificateKey="zz" * 32)),
                         "certificate key decoding error", code=3)
        init_cfg(doc("InitConfiguration", certificateKey="0F" * 32))

    def test_init__node_name__rfc1123(self):
        self.assertFails(lambda: init_cfg(doc("InitConfiguration", nodeRegistration={"name": "Master_1"})),
                         'nodeRegistration.name: Invalid value: "Master_1": a lowercase RFC 1123 subdomain', code=3)

    def test_init__advertise_address__must_be_ip(self):
        self.assertFails(lambda: init_cfg(doc("InitConfiguration", localAPIEndpoint={"advertiseAddress": "m1.local"})),
                         "localAPIEndpoint.advertiseAddress", "must be a valid IP address", code=3)
        self.assertFails(lambda: init_cfg(doc("InitConfiguration", localAPIEndpoint={"bindPort": 70000})),
                         "port number is not valid", code=3)

    def test_init__control_plane_endpoint(self):
        for bad, frag in (("10.77.0.240:0", "port must be a valid number"), ("10.77.0.240:x", "port must be"),
                          ("bad_host:9000", "host must be a valid IP"), ("a:b:c", "too many colons")):
            self.assertFails(lambda: init_cfg(doc("ClusterConfiguration", controlPlaneEndpoint=bad)), frag, code=3)
        init_cfg(doc("ClusterConfiguration", controlPlaneEndpoint="vip.example"))  # port optional, as in kubeadm

    def test_init__networking(self):
        self.assertFails(lambda: init_cfg(doc("ClusterConfiguration", networking={"serviceSubnet": "10.0.0.0/8"})),
                         "service subnet is too large")
        self.assertFails(lambda: init_cfg(doc("ClusterConfiguration", networking={"podSubnet": "10.244.0.0/33"})),
                         "couldn't parse subnet")
        self.assertFails(lambda: init_cfg(doc("ClusterConfiguration", networking={"podSubnet": "10.244.0.0/26"})),
                         "smaller than the size of node subnet")
        self.assertFails(lambda: init_cfg(doc("ClusterConfiguration", networking={"dnsDomain": "Cluster"})),
                         "networking.dnsDomain")

    def test_init__cert_sans_features_algorithm(self):
        self.assertFails(lambda: init_cfg(doc("ClusterConfiguration", apiServer={"certSANs": ["not valid"]})),
                         "altname is not a valid IP address")
        self.assertFails(lambda: init_cfg(doc("ClusterConfiguration", featureGates={"NoSuchGate": True})),
                         "unrecognized feature-gate key: NoSuchGate")
        init_cfg(doc("ClusterConfiguration", featureGates={"ControlPlaneKubeletLocalMode": True}))
        self.assertFails(lambda: init_cfg(doc("ClusterConfiguration", "v1beta3",
                                              featureGates={"ControlPlaneKubeletLocalMode": True}), version=V130),
                         "unrecognized feature-gate key: ControlPlaneKubeletLocalMode")
        self.assertFails(lambda: init_cfg(doc("ClusterConfiguration", encryptionAlgorithm="DSA")),
                         'encryptionAlgorithm: Unsupported value: "DSA"')

    def test_init__kubernetes_version_skew(self):
        self.assertFails(lambda: init_cfg(doc("ClusterConfiguration", kubernetesVersion="v1.29.0")),
                         "only supports deploying clusters with the control plane version >= 1.30.0")
        c = init_cfg(doc("ClusterConfiguration", kubernetesVersion="v1.32.0"))
        self.assertTrue(any("greater than kubeadm version" in w for w in c.warnings))
        c = init_cfg(doc("ClusterConfiguration", kubernetesVersion="1.31.1"))
        self.assertEqual(c.cluster["kubernetesVersion"], "v1.31.1")

    def test_init__component_configs(self):
        kc = {"apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration", "cgroupDriver": "systemd"}
        c = init_cfg(GOOD_INIT, kc)
        self.assertEqual(c.component["KubeletConfiguration"]["cgroupDriver"], "systemd")
        kc["cgroupDriver"] = "system-d"
        self.assertFails(lambda: init_cfg(GOOD_INIT, kc), "cgroupDriver: Unsupported value")
        self.assertFails(lambda: init_cfg({"apiVersion": "kubelet.config.k8s.io/v1", "kind": "KubeletConfiguration"}),
                         "no kind")

    def test_init__external_etcd__unsupported(self):
        self.assertFails(lambda: init_cfg(doc("ClusterConfiguration", etcd={"external": {"endpoints": ["x"]}})),
                         "external etcd is not supported")

    def test_join__good(self):
        c = join_cfg(GOOD_JOIN)
        self.assertEqual(c.node_name, "w1")
        self.assertIsNone(c.control_plane)
        self.assertEqual(c.join["discovery"]["tlsBootstrapToken"], "abcdef.0123456789abcdef")

    def test_join__control_plane__defaults(self):
        j = dict(GOOD_JOIN, controlPlane={"certificateKey": "b" * 64})
        c = join_cfg(j)
        self.assertEqual(c.control_plane["localAPIEndpoint"], {"advertiseAddress": "10.0.0.1", "bindPort": 6443})

    def test_join__discovery_errors(self):
        self.assertFails(lambda: join_cfg(doc("JoinConfiguration")), "bootstrapToken or file must be set", code=3)
        both = doc("JoinConfiguration", discovery={"bootstrapToken": GOOD_JOIN["discovery"]["bootstrapToken"],
                                                   "file": {"kubeConfigPath": "/x"}})
        self.assertFails(lambda: join_cfg(both), "cannot both be set")
        bt = dict(GOOD_JOIN["discovery"]["bootstrapToken"])
        nohash = doc("JoinConfiguration", discovery={"bootstrapToken": dict(bt, caCertHashes=[])})
        self.assertFails(lambda: join_cfg(nohash), "without caCertHashes can be unsafe")
        join_cfg(doc("JoinConfiguration", discovery={"bootstrapToken": dict(bt, caCertHashes=[],
                                                                            unsafeSkipCAVerification=True)}))
        badtok = doc("JoinConfiguration", discovery={"bootstrapToken": dict(bt, token="abcdef0123456789abcdef")})
        self.assertFails(lambda: join_cfg(badtok), "discovery.bootstrapToken.token", "the bootstrap token is invalid")
        noport = doc("JoinConfiguration", discovery={"bootstrapToken": dict(bt, apiServerEndpoint="10.77.0.240")})
        self.assertFails(lambda: join_cfg(noport), "missing port in address")

    def test_join__bad_certificate_key(self):
        j = dict(GOOD_JOIN, controlPlane={"certificateKey": "xyz"})
        self.assertFails(lambda: join_cfg(j), "controlPlane.certificateKey", code=3)

    def test_join__v1beta4_has_no_discovery_timeout(self):
        j = json.loads(json.dumps(GOOD_JOIN))
        j["discovery"]["timeout"] = "5m"
        self.assertFails(lambda: join_cfg(j), 'unknown field "discovery.timeout"')
        j = json.loads(json.dumps(GOOD_JOIN))
        j["timeouts"] = {"discovery": "30s"}
        self.assertEqual(join_cfg(j).timeout("discovery", 300), 30.0)

    def test_join__init_documents__ignored_with_warning(self):
        c = join_cfg(GOOD_INIT, GOOD_JOIN)
        self.assertTrue(any("Kind=InitConfiguration" in w for w in c.warnings))
        self.assertFails(lambda: join_cfg(GOOD_INIT), "no JoinConfiguration kind")


class FlagsTest(unittest.TestCase):
    def fails(self, argv, fragment):
        with self.assertRaises(KubeadmError) as cm:
            flags.parse(argv)
        self.assertIn(fragment, str(cm.exception))

    def test_parse__forms(self):
        p = flags.parse(["init", "--config=/x", "--upload-certs", "--skip-phases", "addon/kube-proxy", "-v", "5"])
        self.assertEqual(p.key, "init")
        self.assertEqual(p.get("config"), "/x")
        self.assertTrue(p.get("upload-certs"))
        self.assertEqual(p.get("skip-phases"), ["addon/kube-proxy"])
        p = flags.parse(["reset", "-f"])
        self.assertTrue(p.get("force"))
        p = flags.parse(["--v=2", "token", "create", "--ttl", "10m", "--print-join-command", "abcdef.0123456789abcdef"])
        self.assertEqual((p.key, p.args, p.get("ttl")), ("token-create", ["abcdef.0123456789abcdef"], "10m"))
        p = flags.parse(["init", "phase", "upload-certs", "--upload-certs", "--certificate-key", "k"])
        self.assertEqual(p.key, "upload-certs")
        p = flags.parse(["join", "10.0.0.1:6443", "--token", "t", "--discovery-token-ca-cert-hash", "a,b",
                         "--discovery-token-ca-cert-hash", "c"])
        self.assertEqual(p.get("discovery-token-ca-cert-hash"), ["a", "b", "c"])
        self.assertEqual(flags.parse(["version", "-o", "short"]).get("output"), "short")
        self.assertEqual(flags.parse(["version", "-oshort"]).get("output"), "short")

    def test_parse__refusals(self):
        self.fails(["init", "--foo"], "unknown flag: --foo")
        self.fails(["reset", "-x"], "unknown shorthand flag: 'x' in -x")
        self.fails(["init", "--config"], "flag needs an argument: --config")
        self.fails(["init", "--upload-certs=maybe"], 'invalid argument "maybe"')
        self.fails(["init", "--apiserver-bind-port", "x"], "strconv.ParseInt")
        self.fails(["token", "create", "--ttl", "1d"], "invalid duration")
        self.fails(["foo"], 'unknown command "foo" for "kubeadm"')
        self.fails(["init", "extra"], 'unknown command "extra"')
        self.fails(["join", "a:1", "b:2"], "accepts at most 1 arg(s)")
        self.fails(["init", "phase", "etcd"], "not implemented by the kubeadm test double")

    def test_parse__config_mixing_like_kubeadm(self):
        self.fails(["join", "--config", "/x", "--control-plane"], "can not mix '--config' with arguments [control-plane]")
        self.fails(["join", "--config", "/x", "--certificate-key", "k", "--token", "t"],
                   "can not mix '--config' with arguments [certificate-key token]")
        self.fails(["init", "--config", "/x", "--pod-network-cidr", "10.0.0.0/16"], "can not mix")
        flags.parse(["init", "--config", "/x", "--upload-certs", "--skip-phases", "x", "--ignore-preflight-errors",
                     "all", "--node-name", "n", "--v=5"])
        flags.parse(["join", "--config", "/x", "--skip-phases=preflight", "--dry-run"])


class YamlTest(unittest.TestCase):
    def test_load__kubeconfig_shape(self):
        y = ("apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: QUJD\n"
             "    server: https://10.77.0.240:9000\n  name: \"\"\ncontexts: null\ncurrent-context: \"\"\n"
             "kind: Config\npreferences: {}\nusers: null\n")
        d = yamlish.load(y)
        self.assertEqual(d["clusters"][0]["cluster"]["server"], "https://10.77.0.240:9000")
        self.assertEqual(d["preferences"], {})
        self.assertIsNone(d["users"])

    def test_load__scalars_like_go_yaml_v2(self):
        d = yamlish.load("a: yes\nb: off\nc: 010\nd: '010'\ne: 1.5\nf: ~\ng: \"x\\ty\"\nh: it's\n"
                         "i: [1, two, \"3\"]\nj: {k: v}\n# comment\nk: v # trailing\n")
        self.assertEqual(d, {"a": True, "b": False, "c": 10, "d": "010", "e": 1.5, "f": None, "g": "x\ty",
                             "h": "it's", "i": [1, "two", "3"], "j": {"k": "v"}, "k": "v"})

    def test_load__sequences_and_blocks(self):
        d = yamlish.load("items:\n- name: a\n  value: 1\n-   name: b\nlist:\n  - x\n  - - p\n    - y\n"
                         "lit: |\n  one\n   two\n\n  # kept\nfold: >-\n  a\n  b\n")
        self.assertEqual(d["items"], [{"name": "a", "value": 1}, {"name": "b"}])
        self.assertEqual(d["list"], ["x", ["p", True]])  # go-yaml v2: y is a bool
        self.assertEqual(d["lit"], "one\n two\n\n# kept\n")
        self.assertEqual(d["fold"], "a b")

    def test_load__refusals(self):
        for bad in ("a: 1\na: 2\n", "a:\n\t- x\n", "a: &x 1\n", "a: *x\n", "a: !!str 1\n", "a: [1, 2\n",
                    "a: 'unterminated\n"):
            with self.assertRaises(yamlish.YAMLError, msg=bad):
                yamlish.load(bad)

    def test_documents__split_and_empty_skipped(self):
        docs = yamlish.load_all("---\na: 1\n---\n# only a comment\n---\n{\"b\": 2}\n...\n")
        self.assertEqual(docs, [{"a": 1}, {"b": 2}])

    def test_dump__round_trip(self):
        obj = {"s": "https://x:1", "n": 1, "b": True, "e": "", "l": [{"a": "yes"}, ["x"]], "m": {}, "z": None,
               "q": "a: b", "t": "0123"}
        self.assertEqual(yamlish.load(yamlish.dump(obj)), obj)


class DurationTest(unittest.TestCase):
    def test_parse(self):
        for s, v in (("24h", 86400), ("1h30m", 5400), ("90s", 90), ("0", 0), ("0s", 0), ("1.5h", 5400),
                     ("500ms", 0.5), ("-1m", -60), ("2h45m30.5s", 9930.5)):
            self.assertAlmostEqual(parse_duration(s), v, msg=s)
        for s in ("", "5", "1d", "h", "1hh", "ten"):
            with self.assertRaises(ValueError, msg=s):
                parse_duration(s)

    def test_format_like_go(self):
        for v, s in ((86400, "24h0m0s"), (90, "1m30s"), (0, "0s"), (0.5, "500ms"), (7200, "2h0m0s"), (1.5, "1.5s"),
                     (240, "4m0s")):
            self.assertEqual(format_duration(v), s)


@unittest.skipIf(pki is None, "python3-cryptography is not installed")
class CryptoTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ca, cls.ca_key = pki.new_ca("kubernetes", "ECDSA-P256")

    def test_spki_hash__matches_openssl(self):
        h = pki.spki_hash(self.ca)
        with tempfile.NamedTemporaryFile(suffix=".crt") as f:
            f.write(pki.cert_pem(self.ca))
            f.flush()
            try:
                p = subprocess.run(f"openssl x509 -pubkey -noout -in {f.name} | openssl pkey -pubin -outform der | "
                                   "sha256sum", shell=True, capture_output=True, text=True, check=True)
            except (subprocess.CalledProcessError, FileNotFoundError):
                self.skipTest("openssl not available")
        self.assertEqual(h, "sha256:" + p.stdout.split()[0])

    def test_pins__like_pubkeypin(self):
        h = pki.spki_hash(self.ca)
        pki.PinSet([h]).check_any([self.ca])
        pki.PinSet([h.upper().replace("SHA256", "sha256")]).check_any([self.ca])  # hex case-insensitive
        other, _ = pki.new_ca("other", "ECDSA-P256")
        with self.assertRaises(KubeadmError) as cm:
            pki.PinSet([pki.spki_hash(other)]).check_any([self.ca])
        self.assertIn(f'none of the public keys "{h}" are pinned', str(cm.exception))
        for bad, frag in (("abc", "invalid hash, expected \"format:hex-value\""), ("md5:" + "a" * 32,
                          'unknown hash format "md5"'), ("sha256:" + "a" * 62, "expected a 32 byte SHA-256 hash"),
                          ("sha256:" + "g" * 64, "could not decode SHA-256 from hex")):
            with self.assertRaises(KubeadmError) as cm:
                pki.PinSet([bad])
            self.assertIn(frag, str(cm.exception))

    def test_jws__detached_hs256(self):
        content = "apiVersion: v1\nkind: Config\n"
        jws = pki.jws_detached(content, "abcdef", "0123456789abcdef")
        header, empty, sig = jws.split(".")
        self.assertEqual(empty, "")
        self.assertEqual(json.loads(base64.urlsafe_b64decode(header + "==")), {"alg": "HS256", "kid": "abcdef"})
        payload = base64.urlsafe_b64encode(content.encode()).rstrip(b"=")
        want = hmac.new(b"0123456789abcdef", header.encode() + b"." + payload, hashlib.sha256).digest()
        self.assertEqual(base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4)), want)
        self.assertTrue(pki.jws_valid(jws, content, "abcdef", "0123456789abcdef"))
        self.assertFalse(pki.jws_valid(jws, content, "abcdef", "0123456789abcdeg"))
        self.assertFalse(pki.jws_valid(jws, content + " ", "abcdef", "0123456789abcdef"))
        self.assertFalse(pki.jws_valid(jws, content, "abcdeg", "0123456789abcdef"))

    def test_kubeadm_certs__aes_gcm(self):
        key = pki.new_certificate_key()
        blob = pki.encrypt(b"secret CA key", key)
        self.assertEqual(len(blob), 12 + len(b"secret CA key") + 16)
        self.assertEqual(pki.decrypt(blob, key), b"secret CA key")
        with self.assertRaises(KubeadmError) as cm:
            pki.decrypt(blob, pki.new_certificate_key())
        self.assertEqual(str(cm.exception), "cipher: message authentication failed")
        with self.assertRaises(KubeadmError):
            pki.decrypt(blob[:-1] + bytes([blob[-1] ^ 1]), key)

    def test_issue__sans_and_chain(self):
        cert, key = pki.issue(self.ca, self.ca_key, "kube-apiserver", dns=["m1", "m1"], ips=["10.77.0.240", "127.0.0.1"],
                              server=True, algorithm="ECDSA-P256")
        dns, ips = pki.sans(cert)
        self.assertEqual(dns, ["m1"])
        self.assertEqual(set(ips), {"10.77.0.240", "127.0.0.1"})
        self.assertTrue(pki.verify_signed_by(cert, self.ca))
        other, _ = pki.new_ca("x", "ECDSA-P256")
        self.assertFalse(pki.verify_signed_by(cert, other))

    def test_kubeconfig__round_trip(self):
        cert, key = pki.issue(self.ca, self.ca_key, "kubernetes-admin", ["kubeadm:cluster-admins"], client=True,
                              algorithm="ECDSA-P256")
        text_ = pki.kubeconfig("https://10.77.0.240:9000", pki.cert_pem(self.ca), user="kubernetes-admin",
                               cert=pki.cert_pem(cert), key=pki.key_pem(key))
        kc = pki.Kubeconfig(text_)
        self.assertEqual(kc.host_port(), "10.77.0.240:9000")
        self.assertEqual(kc.ca_pem, pki.cert_pem(self.ca))
        self.assertEqual(kc.cert_pem, pki.cert_pem(cert))
        anon = pki.Kubeconfig(pki.kubeconfig("https://10.77.0.240:9000", pki.cert_pem(self.ca)))
        self.assertIsNone(anon.cert_pem)

    def test_token__format(self):
        from kdouble.gotypes import TOKEN_RE

        for _ in range(20):
            self.assertTrue(TOKEN_RE.match(pki.new_token()))
        self.assertEqual(len(bytes.fromhex(pki.new_certificate_key())), 32)


class CommandTest(unittest.TestCase):
    """The kubeadm entry point, offline: settings, faults, the log."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.etc = os.path.join(self.tmp.name, "etc")
        os.mkdir(self.etc)
        self.log = os.path.join(self.tmp.name, "kubeadm-double.log")
        self._saved = (node.ETC, node.LOG)
        node.ETC, node.LOG = self.etc, self.log

    def tearDown(self):
        node.ETC, node.LOG = self._saved
        self.tmp.cleanup()

    def kubeadm(self, *argv):
        from kdouble import cli

        o, e = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(o), contextlib.redirect_stderr(e):
            code = cli.main(list(argv))
        return code, o.getvalue(), e.getvalue()

    def setting(self, name, value):
        with open(os.path.join(self.etc, name), "w") as f:
            f.write(value + "\n")

    def records(self):
        with open(self.log) as f:
            return [json.loads(line) for line in f]

    def test_version__configurable(self):
        self.assertEqual(self.kubeadm("version", "-o", "short")[:2], (0, "v1.31.2\n"))
        self.setting("version", "v1.30.5")
        self.assertEqual(self.kubeadm("version", "-o", "short")[1], "v1.30.5\n")
        code, out, _ = self.kubeadm("version", "-o", "json")
        self.assertEqual(json.loads(out)["clientVersion"]["minor"], "30")

    def test_config_images_list__per_version(self):
        from kdouble import images

        self.setting("version", "v1.30.14")
        code, out, _ = self.kubeadm("config", "images", "list")
        self.assertEqual(code, 0)
        self.assertEqual(out.split(), [
            "registry.k8s.io/kube-apiserver:v1.30.14", "registry.k8s.io/kube-controller-manager:v1.30.14",
            "registry.k8s.io/kube-scheduler:v1.30.14", "registry.k8s.io/kube-proxy:v1.30.14",
            f"registry.k8s.io/coredns/coredns:{images.COREDNS[30]}", "registry.k8s.io/pause:3.9",
            f"registry.k8s.io/etcd:{images.ETCD[30]}"])
        self.setting("version", "v1.33.5")
        code, out, _ = self.kubeadm("config", "images", "list", "-o", "json")
        self.assertIn("registry.k8s.io/pause:3.10", json.loads(out)["images"])
        code, _, err = self.kubeadm("config", "images", "list", "--kubernetes-version", "v1.31.0")
        self.assertEqual(code, 1)
        self.assertIn("control plane version >= 1.32.0", err)

    def test_config_images_pull__registry_unreachable(self):
        from kdouble import images

        store = os.path.join(self.tmp.name, "images")
        saved, images.IMAGES = images.IMAGES, store
        try:
            self.setting("registry", "unreachable")
            code, _, err = self.kubeadm("config", "images", "pull")
            self.assertEqual(code, 1)
            self.assertIn("failed to pull image registry.k8s.io/kube-apiserver:v1.31.2", err)
            self.assertIn("lookup registry.k8s.io: no such host", err)
            self.assertEqual(images.present(), set())
            self.setting("registry", "reachable")
            self.assertEqual(self.kubeadm("config", "images", "pull")[0], 0)
            self.assertIn("registry.k8s.io/pause:3.10", images.present())
            # What is there is not pulled again (IfNotPresent); Never pulls nothing; Always pulls all.
            self.setting("registry", "unreachable")
            want = images.control_plane_images({"kubernetesVersion": "v1.31.2", "etcd": {"local": {}}}, "v1.31.2")
            self.assertEqual(images.pull_check(want, "IfNotPresent"), [])
            self.assertEqual(images.pull_check(want + ["x.example/y:1"], "Never"), [])
            self.assertEqual(len(images.pull_check(want, "Always")), len(want))
        finally:
            images.IMAGES = saved

    def test_token_kubeconfig__client_go_precedence(self):
        from kdouble import cli

        admin = os.path.join(node.K8S, "admin.conf")
        home = os.path.join(self.tmp.name, "home")
        os.makedirs(os.path.join(home, ".kube"))
        p = flags.parse(["token", "create"])
        env = {k: os.environ.get(k) for k in ("HOME", "KUBECONFIG")}
        try:
            os.environ.pop("KUBECONFIG", None)
            os.environ["HOME"] = home
            self.assertEqual(cli._token_kubeconfig(p), admin if os.path.exists(admin) else
                             os.path.join(home, ".kube", "config"))
            with open(os.path.join(home, ".kube", "config"), "w") as f:
                f.write("apiVersion: v1\n")
            self.assertEqual(cli._token_kubeconfig(p), os.path.join(home, ".kube", "config"))
            other = os.path.join(self.tmp.name, "other.conf")
            os.environ["KUBECONFIG"] = f"{self.tmp.name}/missing.conf:{other}"
            self.assertEqual(cli._token_kubeconfig(p), admin if os.path.exists(admin) else
                             f"{self.tmp.name}/missing.conf")
            with open(other, "w") as f:
                f.write("apiVersion: v1\n")
            self.assertEqual(cli._token_kubeconfig(p), other)
            self.assertEqual(cli._token_kubeconfig(flags.parse(["token", "create", "--kubeconfig", admin])), admin)
        finally:
            for k, v in env.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v

    def test_mem__setting(self):
        self.setting("mem-mb", "906")
        self.assertEqual(node.meminfo_mb(), 906)

    def test_config_validate__exit_codes(self):
        path = os.path.join(self.tmp.name, "c.json")
        with open(path, "w") as f:
            f.write(text(GOOD_INIT, GOOD_CLUSTER))
        self.assertEqual(self.kubeadm("config", "validate", "--config", path)[0], 0)
        with open(path, "w") as f:
            f.write(text(doc("InitConfiguration", nodeRegistration={"name": "Bad_Name"})))
        code, _, err = self.kubeadm("config", "validate", "--config", path)
        self.assertEqual(code, 3)
        self.assertIn("RFC 1123", err)
        self.assertIn("To see the stack trace of this error execute with --v=5 or higher", err)
        code, _, err = self.kubeadm("config", "validate", "--config", path + ".missing")
        self.assertEqual(code, 1)
        self.assertIn("no such file or directory", err)

    def test_log__one_line_per_invocation(self):
        self.kubeadm("version", "-o", "short")
        self.kubeadm("init", "--bogus")
        r = self.records()
        self.assertEqual([x["command"] for x in r], ["version", "init"])
        self.assertEqual([x["exit"] for x in r], [0, 1])
        self.assertEqual(r[1]["argv"], ["init", "--bogus"])
        self.assertIn("unknown flag: --bogus", r[1]["error"])
        for x in r:
            self.assertEqual(x["tool"], "kubeadm")
            self.assertIn("time", x)
            self.assertIn("duration_s", x)

    def test_fail__first_n_after_the_file_appears(self):
        self.kubeadm("version")  # before the file: not counted
        time.sleep(0.05)
        self.setting("fail", "# comment\nversion=2, certificate-key=1")
        results = [self.kubeadm("version")[0] for _ in range(3)]
        self.assertEqual(results, [1, 1, 0])
        r = self.records()
        self.assertTrue(r[1]["injected"] and r[2]["injected"])
        self.assertIn("injected by", r[1]["error"])
        self.assertEqual(self.kubeadm("certs", "certificate-key")[0], 1)
        code, out, _ = self.kubeadm("certs", "certificate-key")
        self.assertEqual(code, 0)
        self.assertRegex(out.strip(), r"^[0-9a-f]{64}$")

    def test_delay__per_command(self):
        self.setting("delay-ms", "version=1500")
        t = time.monotonic()
        self.kubeadm("version")
        self.assertGreaterEqual(time.monotonic() - t, 1.5)
        t = time.monotonic()
        self.kubeadm("token", "generate")
        self.assertLess(time.monotonic() - t, 1.5)

    def test_faults__phase_keys_and_defaults(self):
        self.setting("fail", "init=1\njoin.etcd-join=1")
        f = node.Faults("init", 0)
        f.start()
        f.phase("certs")
        with self.assertRaises(KubeadmError) as cm:
            f.phase("wait-control-plane", "error execution phase wait-control-plane: could not initialize")
        self.assertTrue(cm.exception.injected)
        self.assertIn("could not initialize", str(cm.exception))
        j = node.Faults("join", 0)
        j.phase("kubelet-start")  # join=N would fail here; only join.etcd-join is set
        with self.assertRaises(KubeadmError):
            j.phase("etcd-join")
        node.Faults("join", 1).phase("etcd-join")  # the second join passes

    def test_key_algorithm__setting_overrides_config(self):
        from kdouble import cli

        self.assertEqual(cli._alg({"encryptionAlgorithm": "RSA-3072"}), "RSA-3072")
        self.assertEqual(cli._alg({}), "RSA-2048")
        self.setting("key-algorithm", "ECDSA-P256")
        self.assertEqual(cli._alg({"encryptionAlgorithm": "RSA-3072"}), "ECDSA-P256")
        self.setting("key-algorithm", "DSA-1024")
        with self.assertRaises(KubeadmError):
            cli._alg({})

    def test_clock_offset(self):
        self.setting("clock-offset-s", "7200")
        self.assertAlmostEqual(node.now() - time.time(), 7200, delta=1)

    def test_token_create__refuses_bad_token_before_network(self):
        code, _, err = self.kubeadm("token", "create", "ABCDEF.0123456789abcdef")
        self.assertEqual(code, 1)
        self.assertIn("was not of the form", err)


if __name__ == "__main__":
    unittest.main()
