"""HTTP-01 through cert-manager's gatewayHTTPRoute solver on Istio (issue 18): attachment,
allowedRoutes, ListenerSets, listener isolation, precedence, classes, and the goldens' output
against the Gateway API CRDs."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from merge_https_redirects.model import gateway_api as ga
from merge_https_redirects.model import gateway_api_routes as gr
from merge_https_redirects.model.http01 import NameVerdict, check
from merge_https_redirects.model.ingress import DEFAULT_INGRESS

HOST = "shop.example.com"
GOLDEN = Path(__file__).resolve().parents[2] / "golden"
SCHEMAS = Path(__file__).resolve().parents[4] / "shared" / "schemas"
REFS = [{"name": "web", "namespace": "infra", "sectionName": "http"}]


def issuer(refs: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    route: dict[str, Any] = {} if refs is None else {"parentRefs": refs}
    return {"apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer",
            "metadata": {"name": "le"},
            "spec": {"acme": {"server": "https://acme.example/directory",
                              "privateKeySecretRef": {"name": "le"},
                              "solvers": [{"http01": {"gatewayHTTPRoute": route}}]}}}


def certificate(name: str = HOST, ns: str = "shop",
                annotations: dict[str, str] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": "shop", "namespace": ns}
    if annotations:
        meta["annotations"] = annotations
    return {"apiVersion": "cert-manager.io/v1", "kind": "Certificate", "metadata": meta,
            "spec": {"secretName": "shop-tls", "dnsNames": [name],
                     "issuerRef": {"name": "le", "kind": "ClusterIssuer"}}}


def listener(name: str = "http", port: int = 80, protocol: str = "HTTP",
             hostname: str | None = None, allowed: dict[str, Any] | None = None,
             **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "protocol": protocol, "port": port, **extra}
    if hostname:
        out["hostname"] = hostname
    out["allowedRoutes"] = allowed if allowed is not None else {"namespaces": {"from": "All"}}
    return out


def gateway(*listeners: dict[str, Any], cls: str = "istio", name: str = "web",
            **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
            "metadata": {"name": name, "namespace": "infra"},
            "spec": {"gatewayClassName": cls, "listeners": list(listeners or [listener()]),
                     **spec}}


def route(name: str, rules: list[dict[str, Any]], hostnames: list[str] | None = None,
          ns: str = "infra", parents: list[dict[str, Any]] | None = None,
          created: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": ns}
    if created:
        meta["creationTimestamp"] = created
    spec: dict[str, Any] = {"parentRefs": parents or REFS, "rules": rules}
    if hostnames is not None:
        spec["hostnames"] = hostnames
    return {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
            "metadata": meta, "spec": spec}


REDIRECT = [{"filters": [{"type": "RequestRedirect",
                          "requestRedirect": {"scheme": "https", "statusCode": 301}}]}]


def backend(svc: str) -> list[dict[str, Any]]:
    return [{"name": svc, "port": 80}]


def only(items: list[Any]) -> NameVerdict:
    verdicts = check(items)
    assert len(verdicts) == 1, verdicts
    return verdicts[0]


def judge(*items: Any, refs: list[dict[str, Any]] | None = None, name: str = HOST,
          ns: str = "shop", annotations: dict[str, str] | None = None) -> NameVerdict:
    return only([issuer(REFS if refs is None else refs),
                 certificate(name, ns, annotations), *items])


# --------------------------------------------------------------------------------------------
# The solver route as cert-manager makes it


def test_solver_route_is_cert_managers() -> None:
    raw = gr.solver_route("shop", HOST, False, REFS, "cm-acme-http-solver-x", "/p", 8089)
    assert raw["metadata"]["namespace"] == "shop"
    assert raw["spec"]["hostnames"] == [HOST]
    (rule,) = raw["spec"]["rules"]
    assert rule["matches"] == [{"path": {"type": "Exact", "value": "/p"}}]
    assert rule["backendRefs"][0]["port"] == 8089
    ip = gr.solver_route("shop", "192.0.2.1", True, REFS, "s", "/p", 8089)
    assert "hostnames" not in ip["spec"]


def test_parent_ref_annotations_override_the_solver() -> None:
    refs, problem = gr.parent_refs_for(
        [{"name": "web", "namespace": "infra", "kind": "Gateway"}, {"name": "other"}],
        ("web", "Gateway", "infra"), "shop")
    assert problem is None
    assert refs == [{"name": "other"}, {"name": "web", "namespace": "infra", "kind": "Gateway"}]
    _, problem = gr.parent_refs_for(REFS, ("web", None, None), "shop")
    assert problem
    assert "only one" in problem
    refs, _ = gr.parent_refs_for([], ("web", "Gateway", None), "shop")
    assert refs == [{"name": "web", "namespace": "shop", "kind": "Gateway"}]


def test_annotations_reach_a_gateway_the_solver_does_not_name() -> None:
    v = judge(gateway(), route("r", REDIRECT), refs=[],
              annotations={"acme.cert-manager.io/http01-parentrefname": "web",
                           "acme.cert-manager.io/http01-parentrefkind": "Gateway",
                           "acme.cert-manager.io/http01-parentrefnamespace": "infra"})
    assert v.verdict == "pass", v.cause


def test_no_parent_refs_is_impossible() -> None:
    v = judge(gateway(), refs=[])
    assert (v.verdict, v.rule) == ("impossible", "MHR032")


def test_solver_selection_applies_to_gateway_solvers() -> None:
    iss = issuer(REFS)
    iss["spec"]["acme"]["solvers"].insert(0, {"selector": {"dnsNames": ["other.example.com"]},
                                              "dns01": {"cloudflare": {}}})
    assert only([iss, certificate(), gateway()]).verdict == "pass"
    iss["spec"]["acme"]["solvers"][0]["selector"]["dnsNames"] = [HOST]
    assert only([iss, certificate(), gateway()]).verdict == "out-of-scope"


def test_gateway_shim_names_and_parent() -> None:
    gw = gateway(listener(), listener("https", 443, "HTTPS", HOST, tls={
        "certificateRefs": [{"name": "shop-tls"}]}))
    gw["metadata"]["annotations"] = {"cert-manager.io/cluster-issuer": "le"}
    (v,) = check([issuer([]), gw])
    assert (v.subject.kind, v.name, v.verdict) == ("Gateway", HOST, "pass"), v.cause
    gw["metadata"]["annotations"]["cert-manager.io/ignore-tls-listeners"] = "https"
    assert check([issuer([]), gw]) == []


# --------------------------------------------------------------------------------------------
# Attachment


@pytest.mark.parametrize(("section", "port", "rule"), [
    ("nope", None, "MHR033"), ("https", None, "MHR034"), (None, 443, "MHR034"),
    (None, 8080, "MHR033")])
def test_section_name_and_port(section: str | None, port: int | None, rule: str) -> None:
    ref: dict[str, Any] = {"name": "web", "namespace": "infra"}
    if section:
        ref["sectionName"] = section
    if port:
        ref["port"] = port
    gw = gateway(listener(), listener("https", 443, "HTTPS", "*.example.com",
                                      tls={"certificateRefs": [{"name": "w"}]}))
    v = judge(gw, refs=[ref])
    assert (v.verdict, v.rule) == ("unroutable", rule), v.cause
    assert "Gateway infra/web" in v.cause


def test_port_of_the_http_listener_must_be_the_challenge_port() -> None:
    v = judge(gateway(listener(port=8080)))
    assert (v.verdict, v.rule) == ("unroutable", "MHR034")
    assert "port 8080" in v.cause


@pytest.mark.parametrize(("hostname", "ok"), [
    ("*.example.com", True), (HOST, True), ("*.com", True), ("*.example.org", False),
    ("example.com", False), ("other.example.com", False)])
def test_listener_hostname_must_intersect(hostname: str, ok: bool) -> None:
    v = judge(gateway(listener(hostname=hostname)))
    assert v.verdict == ("pass" if ok else "unroutable"), v.cause
    if not ok:
        assert v.rule == "MHR035"


def test_route_hostnames_intersect_both_ways() -> None:
    assert ga.hostnames_match("*.example.com", HOST)
    assert ga.hostnames_match(HOST, "*.example.com")
    assert ga.hostnames_match("*", "x.y")
    assert not ga.hostnames_match("*.example.com", "example.com")


def test_allowed_routes_same_is_the_default() -> None:
    v = judge(gateway(listener(allowed={})))
    assert (v.verdict, v.rule) == ("unroutable", "MHR036")
    assert "Same" in v.cause
    assert judge(gateway(listener(allowed={})), ns="infra").verdict == "pass"


SELECTOR = {"namespaces": {"from": "Selector",
                           "selector": {"matchLabels": {"shared-gateway": "true"}}}}


def namespace(name: str, **labels: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "labels": labels}}


def test_allowed_routes_selector_with_namespace_objects() -> None:
    assert judge(gateway(listener(allowed=SELECTOR)),
                 namespace("shop", **{"shared-gateway": "true"})).verdict == "pass"
    v = judge(gateway(listener(allowed=SELECTOR)), namespace("shop", team="x"))
    assert (v.verdict, v.rule) == ("unroutable", "MHR036")


def test_allowed_routes_selector_without_namespace_object_is_assumed_and_said() -> None:
    v = judge(gateway(listener(allowed=SELECTOR)))
    assert v.verdict == "pass"
    assert "Namespace shop is not in the input: assumed" in v.cause


def test_selector_on_the_name_label_needs_no_namespace_object() -> None:
    by_name = {"namespaces": {"from": "Selector", "selector": {"matchExpressions": [
        {"key": "kubernetes.io/metadata.name", "operator": "In", "values": ["infra"]}]}}}
    v = judge(gateway(listener(allowed=by_name)))
    assert (v.verdict, v.rule) == ("unroutable", "MHR036")


@pytest.mark.parametrize(("kinds", "protocol", "ok"), [
    ([{"kind": "HTTPRoute"}], "HTTP", True), ([{"kind": "GRPCRoute"}], "HTTP", False),
    (None, "TCP", False)])
def test_allowed_route_kinds(kinds: list[dict[str, str]] | None, protocol: str,
                             ok: bool) -> None:
    allowed: dict[str, Any] = {"namespaces": {"from": "All"}}
    if kinds:
        allowed["kinds"] = kinds
    v = judge(gateway(listener(protocol=protocol, allowed=allowed)))
    assert v.verdict == ("pass" if ok else "unroutable"), v.cause
    if not ok:
        assert v.rule == "MHR037"


def listener_set(ns: str = "shop", **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "ListenerSet",
            "metadata": {"name": "ls", "namespace": ns},
            "spec": {"parentRef": {"name": "web", "namespace": "infra"},
                     "listeners": [{"name": "http", "protocol": "HTTP", "hostname": HOST}],
                     **spec}}


LS_REF = [{"name": "ls", "kind": "ListenerSet", "namespace": "shop"}]


@pytest.mark.parametrize(("allowed", "ok"), [
    (None, False), ({"namespaces": {"from": "Same"}}, False),
    ({"namespaces": {"from": "All"}}, True), ({"namespaces": {"from": "None"}}, False)])
def test_listener_sets_and_allowed_listeners(allowed: dict[str, Any] | None, ok: bool) -> None:
    gw = gateway(listener("https", 443, "HTTPS", "*.example.com",
                          tls={"certificateRefs": [{"name": "w"}]}))
    if allowed is not None:
        gw["spec"]["allowedListeners"] = allowed
    v = judge(gw, listener_set(), refs=LS_REF)
    assert v.verdict == ("pass" if ok else "unroutable"), v.cause
    if not ok:
        assert v.rule == "MHR038"


def test_a_route_naming_the_gateway_does_not_attach_to_its_listener_sets() -> None:
    gw = gateway(listener("https", 443, "HTTPS", "*.example.com",
                          tls={"certificateRefs": [{"name": "w"}]}),
                 allowedListeners={"namespaces": {"from": "All"}})
    v = judge(gw, listener_set(), refs=[{"name": "web", "namespace": "infra"}])
    assert (v.verdict, v.rule) == ("unroutable", "MHR034"), v.cause


def test_listener_set_parent_missing_is_unknown() -> None:
    assert judge(listener_set(), refs=LS_REF).verdict == "unknown"
    assert judge(refs=LS_REF).verdict == "unknown"


# --------------------------------------------------------------------------------------------
# Classes and missing parents


def gateway_class(name: str, controller: str) -> dict[str, Any]:
    return {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "GatewayClass",
            "metadata": {"name": name}, "spec": {"controllerName": controller}}


def test_gateway_class_controller_decides() -> None:
    assert judge(gateway(cls="prod"),
                 gateway_class("prod", ga.ISTIO_CONTROLLER)).verdict == "pass"
    v = judge(gateway(cls="prod"), gateway_class("prod", "example.com/lb"))
    assert v.verdict == "out-of-scope"
    assert "'prod'" in v.cause
    assert "example.com/lb" in v.cause
    assert judge(gateway()).verdict == "pass"  # the built-in class istio
    unknown = judge(gateway(cls="prod"))
    assert unknown.verdict == "unknown"
    assert "'prod'" in unknown.cause


def test_missing_parent_gateway_is_unknown_never_a_pass() -> None:
    v = judge()
    assert v.verdict == "unknown"
    assert "Gateway infra/web is not in the input" in v.cause
    both = judge(gateway(), refs=[*REFS, {"name": "gone", "namespace": "infra"}])
    assert both.verdict == "unknown"
    assert "infra/gone" in both.cause


# --------------------------------------------------------------------------------------------
# Listener isolation and precedence


def test_listener_isolation() -> None:
    wildcard = listener("wild", hostname="*.example.com")
    exact = listener("exact", hostname=HOST, allowed={})
    v = judge(gateway(wildcard, exact), refs=[{"name": "web", "namespace": "infra",
                                               "sectionName": "wild"}])
    assert (v.verdict, v.rule) == ("unroutable", "MHR039")
    assert "listener exact" in v.cause
    other = judge(gateway(wildcard, exact), name="www.example.com",
                  refs=[{"name": "web", "namespace": "infra", "sectionName": "wild"}])
    assert other.verdict == "pass"
    isolated = ga.read_gateway(gateway(wildcard, exact))
    assert isolated is not None
    wild_l, exact_l = isolated.listeners
    assert ga.allowed_by_isolation(wild_l, [exact_l], HOST) == (False, exact_l)
    assert ga.allowed_by_isolation(exact_l, [wild_l], HOST) == (True, None)


def probe(items: list[dict[str, Any]], path: str, host: str = HOST) -> gr.Simulated:
    """``GET http://host/path`` on the pods of Gateway infra/web with the bundle's routes."""
    bundle = ga.Bundle.read(items)
    gw = bundle.gateways["infra/web"]
    return gr.simulate(gw, gr.port_listeners(gw, bundle, 80), bundle.routes, bundle,
                       gr.GatewayApiInput(items), host, path, 80, DEFAULT_INGRESS)


def rule(match: dict[str, Any], svc: str) -> dict[str, Any]:
    return {"matches": [match], "backendRefs": backend(svc)}


PATH = "/.well-known/acme-challenge/t"


@pytest.mark.parametrize(("a", "b", "winner"), [
    ({"path": {"type": "Exact", "value": PATH}},
     {"path": {"type": "PathPrefix", "value": "/.well-known/acme-challenge"}}, "a"),
    ({"path": {"type": "PathPrefix", "value": "/.well-known"}},
     {"path": {"type": "PathPrefix", "value": "/.well-known/acme-challenge"}}, "b"),
    ({"path": {"type": "PathPrefix", "value": "/.well-known"}},
     {"path": {"type": "PathPrefix", "value": "/.well-known"}, "method": "GET"}, "b"),
    ({"path": {"type": "PathPrefix", "value": "/.well-known"},
      "headers": [{"name": "host", "value": HOST}]},
     {"path": {"type": "PathPrefix", "value": "/.well-known"}}, "a"),
    ({"path": {"type": "PathPrefix", "value": "/.well-known"},
      "queryParams": [{"name": "x", "value": "1"}]},
     {"path": {"type": "PathPrefix", "value": "/"}}, "b"),
])
def test_precedence_of_matches(a: dict[str, Any], b: dict[str, Any], winner: str) -> None:
    """``sortHTTPRoutes``: Exact > PathPrefix, longer first, method, headers, query (a
    query-parameter match never takes the probe, which has none)."""
    items = [gateway(), route("ra", [rule(a, "a")], [HOST], created="2020-01-01T00:00:00Z"),
             route("rb", [rule(b, "b")], [HOST], created="2021-01-01T00:00:00Z")]
    sim = probe(items, PATH)
    assert sim.answer.destination == f"{winner}.infra.svc.cluster.local:80", sim.cause
    assert f"HTTPRoute infra/r{winner} spec.rules[0]" in sim.cause


def test_precedence_ties_go_to_the_oldest_then_namespace_and_name() -> None:
    m = {"path": {"type": "PathPrefix", "value": "/.well-known"}}
    items = [gateway(), route("young", [rule(m, "young")], [HOST],
                              created="2022-01-01T00:00:00Z"),
             route("old", [rule(m, "old")], [HOST], created="2020-01-01T00:00:00Z")]
    assert probe(items, PATH).answer.destination.startswith("old.")  # type: ignore[union-attr]
    items = [gateway(), route("b", [rule(m, "b")], [HOST], ns="a"),
             route("a", [rule(m, "a")], [HOST], ns="b")]
    assert probe(items, PATH).answer.destination.startswith("b.a.")  # type: ignore[union-attr]


def test_hostname_specificity_beats_rule_order() -> None:
    """An exact hostname beats a wildcard one whatever the matches (Envoy's domain choice)."""
    exact = {"path": {"type": "PathPrefix", "value": "/"}}
    long = {"path": {"type": "Exact", "value": PATH}}
    items = [gateway(), route("wild", [rule(long, "wild")], ["*.example.com"]),
             route("own", [rule(exact, "own")], [HOST])]
    assert probe(items, PATH).answer.destination.startswith("own.")  # type: ignore[union-attr]


def test_a_redirect_route_does_not_capture_the_challenge() -> None:
    for hostnames in (None, [HOST], ["*.example.com"]):
        v = judge(gateway(), route("redirect", REDIRECT, hostnames))
        assert v.verdict == "pass", (hostnames, v.cause)


def test_a_redirect_route_answers_other_paths() -> None:
    sim = probe([gateway(), route("redirect", REDIRECT, [HOST])], "/")
    assert sim.answer.kind == "redirect"
    assert sim.answer.destination == "https://{host}{path} 301"
    assert "HTTPRoute infra/redirect spec.rules[0].matches[0]" in sim.cause


def test_a_longer_prefix_in_an_earlier_listener_captures_and_is_named() -> None:
    """Two listeners of port 80 whose routes share a virtual host: istiod does not re-sort
    across them, so a redirect on the challenge prefix attached to the older one answers
    first -- and the cause names it."""
    capture = [{"matches": [{"path": {"type": "PathPrefix",
                                      "value": "/.well-known/acme-challenge"}}],
                "filters": REDIRECT[0]["filters"]}]
    gw = gateway(listener("apps", hostname="*.example.com"), listener("other", hostname="*"))
    v = judge(gw, route("capture", capture, [HOST], parents=[
        {"name": "web", "namespace": "infra", "sectionName": "apps"}]),
        refs=[{"name": "web", "namespace": "infra", "sectionName": "apps"}])
    assert v.verdict == "pass", v.cause  # same listener and host: Exact sorts first
    ls = listener_set(ns="infra")
    ls["metadata"]["creationTimestamp"] = "2021-01-01T00:00:00Z"
    ls["spec"]["listeners"][0].update(allowedRoutes={"namespaces": {"from": "All"}})
    gw = gateway(listener(hostname="*.example.com"),
                 allowedListeners={"namespaces": {"from": "Same"}})
    gw["metadata"]["creationTimestamp"] = "2020-01-01T00:00:00Z"
    v = judge(gw, ls, route("capture", capture, [HOST]),
              refs=[{"name": "ls", "kind": "ListenerSet", "namespace": "infra"}])
    assert v.verdict == "redirected", v.cause
    assert "HTTPRoute infra/capture spec.rules[0].matches[0]" in v.cause


# --------------------------------------------------------------------------------------------
# Istio specifics


def classic_redirect(selector: dict[str, str] | None, hosts: list[str]) -> dict[str, Any]:
    spec: dict[str, Any] = {"servers": [{"port": {"number": 80, "name": "http",
                                                  "protocol": "HTTP"},
                                         "hosts": hosts, "tls": {"httpsRedirect": True}}]}
    if selector is not None:
        spec["selector"] = selector
    return {"apiVersion": "networking.istio.io/v1", "kind": "Gateway",
            "metadata": {"name": "legacy", "namespace": "infra"}, "spec": spec}


@pytest.mark.parametrize(("selector", "hosts", "verdict"), [
    ({"gateway.networking.k8s.io/gateway-name": "web"}, [HOST], "redirected"),
    ({"gateway.istio.io/managed": "istio.io-gateway-controller"}, ["*.example.com"],
     "pass"),  # own virtual host *.example.com: the exact one wins
    ({"istio": "ingressgateway"}, [HOST], "pass"),  # another workload
    (None, [HOST], "redirected"),  # no selector: every gateway workload
])
def test_classic_redirect_servers_on_the_same_pods_merge(
        selector: dict[str, str] | None, hosts: list[str], verdict: str) -> None:
    """istiod labels the pods it deploys for a Gateway API Gateway (kube-gateway.yaml) and
    merges classic Gateways selecting them into the same route configuration."""
    v = judge(gateway(), classic_redirect(selector, hosts))
    assert v.verdict == verdict, v.cause
    if verdict == "redirected":
        assert "Gateway infra/legacy spec.servers[0] has httpsRedirect" in v.cause


def test_gateway_api_listeners_never_redirect_by_themselves() -> None:
    bundle = ga.Bundle.read([gateway()])
    (lst,) = bundle.gateways["infra/web"].listeners
    assert lst.internal_name == "web~istio-autogenerated-k8s-gateway~http"
    sim = probe([gateway()], "/")
    assert sim.answer.kind == "404"


def test_manual_deployment_uses_the_named_service_pods() -> None:
    gw = gateway(addresses=[{"type": "Hostname",
                             "value": "istio-ingressgateway.istio-system.svc.cluster.local"}])
    svc = {"apiVersion": "v1", "kind": "Service",
           "metadata": {"name": "istio-ingressgateway", "namespace": "istio-system"},
           "spec": {"selector": {"istio": "ingressgateway"},
                    "ports": [{"name": "http2", "port": 80, "targetPort": 8080}]}}
    v = judge(gw, svc, classic_redirect({"istio": "ingressgateway"}, [HOST]))
    assert v.verdict == "redirected", v.cause


# --------------------------------------------------------------------------------------------
# The goldens: explain and the emitted objects against the CRDs


def _crd_validators() -> dict[tuple[str, str], jsonschema.Draft7Validator]:
    out = {}
    for path in SCHEMAS.glob("kubernetes-sigs__gateway-api__*.yaml"):
        for crd in yaml.safe_load_all(path.read_text()):
            if not crd:
                continue
            for version in crd["spec"]["versions"]:
                api = f"{crd['spec']['group']}/{version['name']}"
                out[(api, crd["spec"]["names"]["kind"])] = jsonschema.Draft7Validator(
                    version["schema"]["openAPIV3Schema"])
    return out


GWAPI_GOLDENS = sorted(p for p in GOLDEN.glob("check-gwapi-*") if p.is_dir())


def test_gateway_api_goldens_exist() -> None:
    assert len(GWAPI_GOLDENS) >= 15


def test_golden_gateway_api_objects_validate_against_the_crds() -> None:
    if not SCHEMAS.is_dir():
        pytest.skip("../shared/schemas is absent")
    validators = _crd_validators()
    assert ("gateway.networking.k8s.io/v1", "HTTPRoute") in validators
    seen = 0
    for case in [*GWAPI_GOLDENS, GOLDEN / "gateway-api-untouched"]:
        for doc in yaml.safe_load_all((case / "expected.yaml").read_text()):
            if not doc or not str(doc.get("apiVersion", "")).startswith(ga.GROUP):
                continue
            if doc["kind"] == "GatewayClass":
                continue  # no GatewayClass CRD in ../shared/schemas
            errors = [e.message for e in validators[(doc["apiVersion"], doc["kind"])]
                      .iter_errors(doc)]
            assert not errors, (case.name, doc["kind"], errors)
            seen += 1
    assert seen >= 20


def test_solver_route_validates_against_the_crd() -> None:
    if not SCHEMAS.is_dir():
        pytest.skip("../shared/schemas is absent")
    raw = gr.solver_route("shop", HOST, False, REFS, "cm-acme-http-solver-abcde",
                          "/.well-known/acme-challenge/t", 8089)
    validator = _crd_validators()[("gateway.networking.k8s.io/v1", "HTTPRoute")]
    assert not [e.message for e in validator.iter_errors(raw)]


@pytest.mark.parametrize("case", ["check-gwapi-namespace-not-allowed",
                                  "check-gwapi-pass-redirect-route",
                                  "check-gwapi-classic-redirect"])
def test_explain_shows_gateway_api_names(case: str) -> None:
    from merge_https_redirects.check.mode import explain
    from merge_https_redirects.config import Config
    from merge_https_redirects.rewrite.resources import Resource

    docs = [d for d in yaml.safe_load_all((GOLDEN / case / "input.yaml").read_text()) if d]
    def loader(doc: dict[str, Any]) -> Any:
        return lambda: copy.deepcopy(doc)

    resources = [Resource(i, d["apiVersion"], d["kind"], d["metadata"]["name"],
                          d["metadata"].get("namespace", ""), {}, load=loader(d))
                 for i, d in enumerate(docs)]
    table, _ = explain(resources, Config(), set())
    row = next(line for line in table.splitlines() if line.startswith("| shop.example.com"))
    verdict = {"check-gwapi-namespace-not-allowed": "unroutable",
               "check-gwapi-pass-redirect-route": "pass",
               "check-gwapi-classic-redirect": "redirected"}[case]
    assert "http01.gatewayHTTPRoute" in row
    assert f"| {verdict} |" in row, row


# --------------------------------------------------------------------------------------------
# Review findings: parentRef shapes, listener conflicts, unknown pods, refusal reasons,
# assumptions, Istio's other classes, allowedRoutes.kinds groups


@pytest.mark.parametrize(("refs", "annotations"), [
    (REFS, {"acme.cert-manager.io/http01-parentrefname": "",
            "acme.cert-manager.io/http01-parentrefkind": ""}),
    ([{"namespace": "infra"}], None),
    ([{"name": "", "namespace": "infra"}], None),
    ([{"name": 5, "namespace": "infra"}], None),
    ([{"name": "web", "namespace": "infra", "port": "80"}], None),
    ([{"name": "web", "namespace": "infra", "sectionName": ["http"]}], None),
])
def test_a_parent_ref_the_api_server_rejects_is_impossible_never_a_crash(
        refs: list[dict[str, Any]], annotations: dict[str, str] | None) -> None:
    """``applyGatewayAPIAnnotationParentRefOverride`` tests the annotations' presence: empty
    ones add a parentRef with name "", which the API server rejects with the HTTPRoute."""
    v = judge(gateway(), refs=refs, annotations=annotations)
    assert (v.verdict, v.rule) == ("impossible", "MHR032"), v.cause
    assert "is invalid" in v.cause
    assert "API server rejects" in v.cause


@pytest.mark.parametrize("raw", ["web", 7, None, ["web"], {"name": "web", "port": True}])
def test_parent_refs_of_any_shape_are_refused_with_a_reason(raw: object) -> None:
    refs, problem = gr.parent_refs_for([raw], (None, None, None), "shop")
    assert refs == []
    assert problem is not None
    assert "parentRefs[0]" in problem


def _conflict_setup(ls_hostname: str | None, gw_hostname: str | None = None
                    ) -> list[dict[str, Any]]:
    gw = gateway(listener(hostname=gw_hostname),
                 allowedListeners={"namespaces": {"from": "All"}})
    ls = listener_set()
    ls["spec"]["listeners"][0].update(port=80, allowedRoutes={"namespaces": {"from": "All"}})
    if ls_hostname is None:
        del ls["spec"]["listeners"][0]["hostname"]
    else:
        ls["spec"]["listeners"][0]["hostname"] = ls_hostname
    return [gw, ls]


@pytest.mark.parametrize(("ls_host", "gw_host", "ok"), [
    (None, None, False), (HOST, HOST, False), (HOST, None, True), (None, HOST, True)])
def test_a_listener_set_listener_conflicting_with_the_gateway_takes_no_route(
        ls_host: str | None, gw_host: str | None, ok: bool) -> None:
    """``ComputeGatewayListenerConflicts``: same port and hostname (both unset: ``*``) as a
    Gateway listener -- the ListenerSet's listener is skipped (``ListenerSetCollection``)."""
    v = judge(*_conflict_setup(ls_host, gw_host), refs=LS_REF)
    if ok:
        assert v.verdict == "pass", v.cause
    else:
        assert (v.verdict, v.rule) == ("unroutable", "MHR040"), v.cause
        assert "conflicts with the earlier Gateway infra/web listener http" in v.cause
        assert "HostnameConflict" in v.cause


def test_listener_sets_conflict_in_creation_order() -> None:
    gw = gateway(listener("https", 443, "HTTPS", "*.example.com",
                          tls={"certificateRefs": [{"name": "w"}]}),
                 allowedListeners={"namespaces": {"from": "All"}})
    old, new = listener_set(), listener_set()
    old["metadata"].update(name="old", creationTimestamp="2020-01-01T00:00:00Z")
    new["metadata"].update(name="new", creationTimestamp="2021-01-01T00:00:00Z")
    for ls in (old, new):
        ls["spec"]["listeners"][0]["allowedRoutes"] = {"namespaces": {"from": "All"}}
    v = judge(gw, new, old, refs=[{"name": "new", "kind": "ListenerSet", "namespace": "shop"}])
    assert (v.verdict, v.rule) == ("unroutable", "MHR040"), v.cause
    assert "ListenerSet shop/old listener http" in v.cause
    assert judge(gw, new, old, refs=[{"name": "old", "kind": "ListenerSet",
                                      "namespace": "shop"}]).verdict == "pass"


MANUAL = {"addresses": [{"type": "Hostname",
                         "value": "istio-ingressgateway.istio-system.svc.cluster.local"}]}


def test_unknown_pods_with_a_classic_redirect_that_may_select_them_is_unknown() -> None:
    v = judge(gateway(**MANUAL), classic_redirect({"istio": "ingressgateway"}, [HOST]))
    assert v.verdict == "unknown", v.cause
    assert "Gateway infra/web is deployed manually" in v.cause
    assert "istio-ingressgateway.istio-system.svc.cluster.local" in v.cause
    assert "Gateway infra/legacy spec.servers[0] (selector istio=ingressgateway)" in v.cause
    assert judge(gateway(**MANUAL), classic_redirect({"istio": "ingressgateway"}, ["*"])
                 ).verdict == "unknown"
    # a redirect for another host cannot apply: the pass stands, on a stated assumption
    v = judge(gateway(**MANUAL), classic_redirect({"istio": "ingressgateway"},
                                                  ["other.example.org"]))
    assert v.verdict == "pass", v.cause
    assert any("assumed that no classic Gateway" in a for a in v.assumed)


def test_the_http_listeners_own_refusal_is_the_reason() -> None:
    https = listener("https", 443, "HTTPS", tls={"certificateRefs": [{"name": "w"}]})
    v = judge(gateway(listener(allowed={"namespaces": {"from": "Same"}}), https),
              refs=[{"name": "web", "namespace": "infra"}])
    assert (v.verdict, v.rule) == ("unroutable", "MHR036"), v.cause
    assert "listener http allowedRoutes.namespaces from Same" in v.cause
    v = judge(gateway(listener(hostname="other.example.org"), https),
              refs=[{"name": "web", "namespace": "infra"}])
    assert (v.verdict, v.rule) == ("unroutable", "MHR035"), v.cause


def _results(items: list[dict[str, Any]]) -> list[Any]:
    from merge_https_redirects.check.mode import gateway_assumptions

    return gateway_assumptions(check(items))


def test_a_pass_on_an_assumption_is_reported_in_check_mode() -> None:
    items = [issuer(REFS), certificate(), gateway(listener(allowed=SELECTOR))]
    (found,) = _results(items)
    assert (found.rule.id, found.level) == ("MHR041", "warning")
    assert "Namespace shop is not in the input: assumed to match" in found.message
    items = [issuer(REFS), certificate(), gateway(**MANUAL)]
    (found,) = _results(items)
    assert "Gateway infra/web is deployed manually" in found.message
    assert _results([issuer(REFS), certificate(), gateway()]) == []


def test_check_mode_and_explain_carry_the_assumption() -> None:
    from merge_https_redirects.check.mode import check_mode, explain
    from merge_https_redirects.config import Config
    from merge_https_redirects.rewrite.resources import Resource

    docs = [issuer(REFS), certificate(), gateway(listener(allowed=SELECTOR))]
    resources = [Resource(i, d["apiVersion"], d["kind"], d["metadata"]["name"],
                          d["metadata"].get("namespace", ""), {},
                          load=(lambda d=d: copy.deepcopy(d))) for i, d in enumerate(docs)]
    assert [r.rule.id for r in check_mode(resources, Config()).results
            if r.rule.id == "MHR041"] == ["MHR041"]
    _, notes = explain(resources, Config(), set())
    assert [r.rule.id for r in notes] == ["MHR041"]


@pytest.mark.parametrize(("cls", "why"), [("istio-waypoint", "waypoint"),
                                          ("istio-remote", "remote gateway")])
def test_istios_other_builtin_classes_are_out_of_scope(cls: str, why: str) -> None:
    v = judge(gateway(cls=cls))
    assert v.verdict == "out-of-scope", v.cause
    assert f"GatewayClass {cls!r}" in v.cause
    assert why in v.cause


def test_an_empty_route_kind_group_is_the_core_group() -> None:
    allowed = {"namespaces": {"from": "All"}, "kinds": [{"group": "", "kind": "HTTPRoute"}]}
    v = judge(gateway(listener(allowed=allowed)))
    assert (v.verdict, v.rule) == ("unroutable", "MHR037"), v.cause
    allowed["kinds"] = [{"group": ga.GROUP, "kind": "HTTPRoute"}]
    assert judge(gateway(listener(allowed=allowed))).verdict == "pass"
