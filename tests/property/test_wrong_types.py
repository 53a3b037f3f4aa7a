"""Wrong-typed fields in every kind the function reads, through the in-process entry points.

Each example takes a valid bundle (a Gateway with a redirect, a VirtualService, a Certificate,
issuers, an Ingress and its IngressClass, a gateway Deployment and Service, an IstioOperator)
and replaces the value at one random path with a value of another type (a list, a map, a
number, a boolean, null, a string). Whatever the change, in stream and KRM mode: no exception
escapes, the exit code is 0 or 1, KRM mode answers a ResourceList, stdout is never empty, and
every resource of the input is still in the output or reported deleted (MHR004/MHR006).
"""

from __future__ import annotations

import copy
import os
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from merge_https_redirects import yamlio
from merge_https_redirects.hosts import pipeline

BUNDLE: list[dict[str, Any]] = [
    {"apiVersion": "networking.istio.io/v1beta1", "kind": "Gateway",
     "metadata": {"name": "shop", "namespace": "shop", "annotations": {"a": "b"}},
     "spec": {"selector": {"istio": "ingressgateway"}, "servers": [
         {"port": {"number": 80, "name": "http", "protocol": "HTTP"},
          "hosts": ["shop.example.com"], "tls": {"httpsRedirect": True}},
         {"port": {"number": 443, "name": "https", "protocol": "HTTPS"},
          "hosts": ["shop.example.com"], "tls": {"mode": "SIMPLE", "credentialName": "c"}}]}},
    {"apiVersion": "networking.istio.io/v1beta1", "kind": "VirtualService",
     "metadata": {"name": "shop", "namespace": "shop"},
     "spec": {"hosts": ["shop.example.com"], "gateways": ["shop"], "http": [
         {"match": [{"uri": {"prefix": "/"}, "headers": {":path": {"prefix": "/"}},
                     "withoutHeaders": {"x": {"exact": "y"}}, "port": 80}],
          "route": [{"destination": {"host": "web", "port": {"number": 80}}}]}]}},
    {"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
     "metadata": {"name": "shop", "namespace": "shop"},
     "spec": {"secretName": "s", "dnsNames": ["shop.example.com"], "ipAddresses": ["10.0.0.1"],
              "issuerRef": {"name": "le", "kind": "ClusterIssuer"}}},
    {"apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer", "metadata": {"name": "le"},
     "spec": {"acme": {"server": "https://acme.example/dir", "privateKeySecretRef": {"name": "k"},
                       "solvers": [{"selector": {"dnsZones": ["example.com"]},
                                    "http01": {"ingress": {"class": "istio"}}}]}}},
    {"apiVersion": "cert-manager.io/v1", "kind": "Issuer",
     "metadata": {"name": "local", "namespace": "shop"}, "spec": {"selfSigned": {}}},
    {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
     "metadata": {"name": "web", "namespace": "shop",
                  "annotations": {"cert-manager.io/cluster-issuer": "le"}},
     "spec": {"ingressClassName": "istio", "tls": [{"hosts": ["web.example.com"],
                                                    "secretName": "w"}],
              "rules": [{"host": "web.example.com", "http": {"paths": [
                  {"path": "/", "pathType": "Prefix",
                   "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]}},
    {"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass", "metadata": {"name": "istio"},
     "spec": {"controller": "istio.io/ingress-controller"}},
    {"apiVersion": "apps/v1", "kind": "Deployment",
     "metadata": {"name": "gw", "namespace": "istio-system"},
     "spec": {"template": {"metadata": {"labels": {"istio": "ingressgateway"}},
                           "spec": {"containers": [{"name": "p", "image": "istio/proxyv2",
                                                    "ports": [{"name": "http2",
                                                               "containerPort": 8080}]}]}}}},
    {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "gw", "namespace": "istio-system"},
     "spec": {"selector": {"istio": "ingressgateway"},
              "ports": [{"name": "http2", "port": 80, "targetPort": "http2"}]}},
    {"apiVersion": "install.istio.io/v1alpha1", "kind": "IstioOperator",
     "metadata": {"name": "cp", "namespace": "istio-system"},
     "spec": {"components": {"ingressGateways": [{"name": "istio-ingressgateway",
                                                  "label": {"istio": "ingressgateway"}}]}}},
]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            out += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            out += _paths(child, (*prefix, i))
    return out


_ALL = [(i, path) for i, doc in enumerate(BUNDLE) for path in _paths(doc)]
_WRONG = st.sampled_from([[], ["x"], {}, {"k": "v"}, 0, 7, -1, True, False, None, "", "x",
                          "80", 1.5])


def _mutated(index: int, path: tuple[Any, ...], value: Any) -> list[dict[str, Any]]:
    docs = copy.deepcopy(BUNDLE)
    target: Any = docs[index]
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return docs


def _identity(doc: Any) -> tuple[str, str]:
    meta = doc.get("metadata") if isinstance(doc, dict) else None
    name = meta.get("name") if isinstance(meta, dict) else None
    return (str(doc.get("kind")) if isinstance(doc, dict) else "", str(name))


#: Examples per run: every path of the bundle times a few wrong values (the fuzz profile:
#: about every combination, twice over).
EXAMPLES = 12_000 if os.environ.get("HYPOTHESIS_PROFILE") == "fuzz" else 300


@settings(max_examples=EXAMPLES, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(where=st.sampled_from(_ALL), value=_WRONG, krm=st.booleans())
def test_wrong_typed_fields_never_crash_or_lose_a_resource(
    where: tuple[int, tuple[Any, ...]], value: Any, krm: bool,
) -> None:
    docs = _mutated(*where, value)
    if krm:
        text = yaml.safe_dump({"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList",
                               "items": docs}, sort_keys=False)
        run = pipeline.run_resource_list(yamlio.decode(text.encode()))
    else:
        text = yaml.safe_dump_all(docs, sort_keys=False)
        from merge_https_redirects.config import Config

        run = pipeline.run_stream(yamlio.decode(text.encode()), Config())
    assert run.exit_code in (0, 1)
    out = run.stdout
    assert out.strip()
    loaded = list(yaml.safe_load_all(out))
    if krm:
        (answer,) = loaded
        assert answer["kind"] == "ResourceList"
        loaded = answer["items"]
    present = {_identity(d) for d in loaded if d}
    deleted = {(r.resource.kind, r.resource.name) for r in run.results
               if r.rule.id in ("MHR004", "MHR006") and r.resource is not None}
    for doc in docs:
        assert _identity(doc) in present or _identity(doc) in deleted, _identity(doc)
