"""The route shape (issue 15): objects, namespaces, wildcards, annotations, the proof's choice,
idempotency and HTTP-01 on its output -- each judged by the routing simulation."""

from __future__ import annotations

from typing import Any

import pytest

from merge_https_redirects.config import Config
from merge_https_redirects.model import http01
from merge_https_redirects.rewrite.proof import after_values, merge, regressions
from merge_https_redirects.rewrite.resources import Outcome, Resource

GW = {"istio": "ingressgateway"}


def gateway(name: str, namespace: str, *servers: dict[str, Any],
            annotations: dict[str, str] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": namespace}
    if annotations:
        meta["annotations"] = annotations
    return {"apiVersion": "networking.istio.io/v1beta1", "kind": "Gateway", "metadata": meta,
            "spec": {"selector": dict(GW), "servers": list(servers)}}


def redirect(*hosts: str, port: int = 80) -> dict[str, Any]:
    return {"port": {"number": port, "name": "http", "protocol": "HTTP"}, "hosts": list(hosts),
            "tls": {"httpsRedirect": True}}


def plain(*hosts: str) -> dict[str, Any]:
    return {"port": {"number": 80, "name": "http", "protocol": "HTTP"}, "hosts": list(hosts)}


def https(*hosts: str) -> dict[str, Any]:
    return {"port": {"number": 443, "name": "https", "protocol": "HTTPS"}, "hosts": list(hosts),
            "tls": {"mode": "SIMPLE", "credentialName": "tls"}}


def virtual_service(name: str, namespace: str, hosts: list[str], gateways: list[str],
                    backend: str = "web") -> dict[str, Any]:
    return {"apiVersion": "networking.istio.io/v1beta1", "kind": "VirtualService",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"hosts": hosts, "gateways": gateways,
                     "http": [{"route": [{"destination": {"host": backend}}]}]}}


#: A plain '*' server with a default backend: the '*' redirect Gateway would take it over.
DEFAULT_BACKEND = [
    gateway("default", "istio-system", plain("*")),
    virtual_service("default-backend", "istio-system", ["*"], ["default"]),
]


def resources(docs: list[dict[str, Any]]) -> list[Resource]:
    out = []
    for i, doc in enumerate(docs):
        meta = doc["metadata"]
        out.append(Resource(
            position=i, api_version=doc["apiVersion"], kind=doc["kind"],
            name=meta["name"], namespace=meta.get("namespace", ""),
            annotations=meta.get("annotations", {}), load=lambda d=doc: d))
    return out


def run(docs: list[dict[str, Any]], **config: Any) -> tuple[Outcome, list[dict[str, Any]]]:
    res = resources(docs)
    outcome = merge(res, Config(**config))
    return outcome, after_values(res, outcome)


def ids(outcome: Outcome) -> list[str]:
    return [r.rule.id for r in outcome.results]


def added(outcome: Outcome, kind: str) -> list[dict[str, Any]]:
    return [d for d in outcome.added if d["kind"] == kind]


def test_auto_falls_back_to_routes_and_the_proof_accepts_them() -> None:
    docs = [*DEFAULT_BACKEND, gateway("shop", "shop", redirect("shop.example.com"),
                                      https("shop.example.com"))]
    outcome, after = run(docs)
    assert "MHR030" in ids(outcome)
    assert "MHR008" not in ids(outcome)
    assert "gateway shape" in next(r.message for r in outcome.results if r.rule.id == "MHR030")
    (route_gw,) = added(outcome, "Gateway")
    assert route_gw["spec"]["servers"] == [
        {"port": {"number": 80, "name": "http", "protocol": "HTTP"},
         "hosts": ["shop.example.com"]}]
    (vs,) = added(outcome, "VirtualService")
    assert vs["spec"]["gateways"] == [f"istio-system/{route_gw['metadata']['name']}"]
    assert vs["spec"]["http"] == [{"name": "https-redirect",
                                   "redirect": {"scheme": "https", "redirectCode": 301}}]
    assert regressions(docs, after) == []


def test_strategy_gateway_keeps_the_refusal_naming_the_host() -> None:
    docs = [*DEFAULT_BACKEND, gateway("shop", "shop", redirect("shop.example.com"),
                                      https("shop.example.com"))]
    outcome, _ = run(docs, strategy="gateway")
    assert "MHR008" in ids(outcome)
    assert not outcome.added
    message = next(r.message for r in outcome.results if r.rule.id == "MHR008")
    assert "merge-https-redirects-unrelated.invalid" in message or "would change" in message


def test_strategy_route_is_used_even_where_a_gateway_would_do() -> None:
    docs = [gateway("shop", "shop", redirect("shop.example.com"), https("shop.example.com"))]
    outcome, after = run(docs, strategy="route")
    assert "MHR030" in ids(outcome)
    assert "MHR002" not in ids(outcome)
    assert regressions(docs, after) == []


#: A site whose servers say ``./h``: only VirtualServices of ``shop`` bind to them
#: (``sanitizeServerHostNamespace``); its own VirtualService gives port 80 the virtual host that
#: the redirect server marks ``require_tls``.
NAMESPACED_SITE = [
    gateway("shop", "shop", redirect("./shop.example.com"), https("./shop.example.com")),
    virtual_service("shop", "shop", ["shop.example.com"], ["shop"]),
]


def test_a_namespace_bound_host_gets_its_virtual_service_where_it_binds() -> None:
    """The route shape's server says ``shop/h`` and its VirtualService lives in ``shop``."""
    docs = [*DEFAULT_BACKEND, *NAMESPACED_SITE]
    outcome, after = run(docs)
    (route_gw,) = added(outcome, "Gateway")
    assert route_gw["spec"]["servers"][0]["hosts"] == ["shop/shop.example.com"]
    (vs,) = added(outcome, "VirtualService")
    assert vs["metadata"]["namespace"] == "shop"
    assert vs["spec"]["hosts"] == ["shop.example.com"]
    assert regressions(docs, after) == []


def test_a_virtual_service_in_the_wrong_namespace_would_be_caught() -> None:
    """The trap itself: the same objects with the VirtualService in istio-system do not bind
    (the host is ``shop/...``), and the simulation says the host changes."""
    docs = [*DEFAULT_BACKEND, *NAMESPACED_SITE]
    _, after = run(docs)
    wrong = []
    for doc in after:
        if doc["kind"] == "VirtualService" and doc["spec"].get("http", [{}])[0].get("redirect"):
            doc = {**doc, "metadata": {**doc["metadata"], "namespace": "istio-system"}}
        wrong.append(doc)
    assert regressions(docs, wrong) != []


def test_wildcard_redirect_hosts_keep_working() -> None:
    docs = [*DEFAULT_BACKEND, gateway("apps", "apps", redirect("*.apps.example.com"),
                                      https("*.apps.example.com"))]
    outcome, after = run(docs)
    assert "MHR030" in ids(outcome)
    (vs,) = added(outcome, "VirtualService")
    assert vs["spec"]["hosts"] == ["*.apps.example.com"]
    assert regressions(docs, after) == []


def test_an_app_catch_all_on_a_plain_server_stays_refused_in_both_shapes() -> None:
    """An app VirtualService bound to a plain '*' server names the redirected host: its own
    catch-all route would sort before a newer redirect route, and removing the redirect would
    expose the host: refused, with a reason per shape."""
    docs = [gateway("default", "istio-system", plain("*")),
            virtual_service("app", "istio-system", ["*", "shop.example.com"], ["default"]),
            gateway("shop", "shop", redirect("shop.example.com"), https("shop.example.com"))]
    outcome, _ = run(docs)
    assert not outcome.added
    message = next(r.message for r in outcome.results if r.rule.id == "MHR008")
    assert "gateway shape:" in message
    assert "route shape:" in message
    assert "shop.example.com" in message


def test_objects_carry_path_annotations_beside_the_source() -> None:
    annotations = {"config.kubernetes.io/path": "shop/gateway.yaml",
                   "internal.config.kubernetes.io/path": "shop/gateway.yaml"}
    docs = [*DEFAULT_BACKEND, gateway("shop", "shop", redirect("shop.example.com"),
                                      https("shop.example.com"), annotations=annotations)]
    outcome, _ = run(docs)
    paths = [(d["kind"], d["metadata"]["annotations"]["config.kubernetes.io/path"],
              d["metadata"]["annotations"]["config.kubernetes.io/index"]) for d in outcome.added]
    assert paths == [("Gateway", "shop/http-to-https-redirect-route.yaml", "0"),
                     ("VirtualService", "shop/http-to-https-redirect-route.yaml", "1")]


def test_the_output_is_a_fixed_point_and_its_challenges_pass() -> None:
    issuer = {"apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer",
              "metadata": {"name": "le"},
              "spec": {"acme": {"server": "https://acme.example/directory",
                                "privateKeySecretRef": {"name": "le"},
                                "solvers": [{"http01": {"ingress": {"class": "istio"}}}]}}}
    certificate = {"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
                   "metadata": {"name": "shop", "namespace": "shop"},
                   "spec": {"secretName": "tls", "dnsNames": ["shop.example.com"],
                            "issuerRef": {"name": "le", "kind": "ClusterIssuer"}}}
    docs = [*DEFAULT_BACKEND, issuer, certificate,
            gateway("shop", "shop", redirect("shop.example.com"), https("shop.example.com"))]
    before = http01.check(docs)
    assert [v.verdict for v in before] == ["redirected"]
    outcome, after = run(docs)
    assert "MHR030" in ids(outcome)
    assert [v.verdict for v in http01.check(after)] == ["pass"]
    again, _ = run(after)
    assert not again.added
    assert not again.changes


@pytest.mark.parametrize("strategy", ["auto", "gateway", "route", "routes"])
def test_strategy_values(strategy: str) -> None:
    from merge_https_redirects.config import ConfigProblems, parse_config

    doc = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
           "data": {"strategy": strategy}}
    if strategy == "routes":
        with pytest.raises(ConfigProblems, match="strategy"):
            parse_config(doc)
    else:
        assert parse_config(doc).strategy == strategy


def test_an_existing_route_shape_is_recognised_and_kept() -> None:
    """The function's own route objects are that workload's redirect: a later run that removes
    another host's redirect server reports them kept (MHR031) and adds a pair for the new host
    only (objects are never extended: the splice only removes)."""
    docs = [*DEFAULT_BACKEND, gateway("shop", "shop", redirect("shop.example.com"),
                                      https("shop.example.com"))]
    _, after = run(docs)
    later = [*after, gateway("blog", "blog", redirect("blog.example.com"))]
    outcome, final = run(later)
    assert ids(outcome).count("MHR031") == 1
    kept = next(r for r in outcome.results if r.rule.id == "MHR031")
    assert "shop.example.com" in kept.message
    (new_gw,) = added(outcome, "Gateway")
    assert new_gw["spec"]["servers"][0]["hosts"] == ["blog.example.com"]
    assert regressions(later, final) == []
