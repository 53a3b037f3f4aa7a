"""cert-manager model: names, issuer lookup and solver selection (acmeorders selectors, Pick)."""

from __future__ import annotations

from typing import Any

import pytest

from merge_https_redirects.model.certmanager import find_issuer, names_needing_certificates
from merge_https_redirects.model.certmanager_issuers import (
    Selector,
    Solver,
    issuers_of,
    legacy_api_warning,
    read_solver,
    select_solver,
    selector_matches,
)

HTTP = Solver(0, "http01-ingress", None, ingress_class="istio")


def sel(labels: dict[str, str] | None = None, names: tuple[str, ...] = (),
        zones: tuple[str, ...] = ()) -> Selector:
    return Selector(tuple(sorted((labels or {}).items())), names, zones)


def solver(index: int, kind: str = "http01-ingress", selector: Selector | None = None) -> Solver:
    return Solver(index, kind, selector)  # type: ignore[arg-type]


@pytest.mark.parametrize(("solvers", "name", "labels", "expected"), [
    # no selector: the first one wins
    ([solver(0), solver(1)], "a.example.com", {}, 0),
    # any selector match beats no selector, whatever the order
    ([solver(0), solver(1, selector=sel(zones=("example.com",)))], "a.example.com", {}, 1),
    # dnsNames beats dnsZones beats matchLabels
    ([solver(0, selector=sel(labels={"team": "a"})),
      solver(1, selector=sel(zones=("example.com",))),
      solver(2, selector=sel(names=("a.example.com",)))], "a.example.com", {"team": "a"}, 2),
    ([solver(0, selector=sel(labels={"team": "a"})),
      solver(1, selector=sel(zones=("example.com",)))], "a.example.com", {"team": "a"}, 1),
    # the longest dnsZones match wins
    ([solver(0, selector=sel(zones=("example.com",))),
      solver(1, selector=sel(zones=("a.example.com",)))], "x.a.example.com", {}, 1),
    # equal zones: more matchLabels wins; equal everything: the earlier solver
    ([solver(0, selector=sel(zones=("example.com",))),
      solver(1, selector=sel(labels={"t": "a"}, zones=("example.com",)))],
     "a.example.com", {"t": "a"}, 1),
    ([solver(0, selector=sel(zones=("example.com",))),
      solver(1, selector=sel(zones=("example.com",)))], "a.example.com", {}, 0),
    # a selector that does not match is not eligible
    ([solver(0, selector=sel(names=("b.example.com",))), solver(1)], "a.example.com", {}, 1),
    ([solver(0, selector=sel(labels={"t": "b"}))], "a.example.com", {"t": "a"}, None),
    # a wildcard is offered DNS-01 only
    ([solver(0), solver(1, "dns01")], "*.example.com", {}, 1),
    ([solver(0)], "*.example.com", {}, None),
    # an IP address is offered no DNS-01 (RFC 8738)
    ([solver(0, "dns01"), solver(1)], "10.0.0.1", {}, 1),
    ([solver(0, "dns01")], "2001:db8::1", {}, None),
    # zone must match whole labels
    ([solver(0, selector=sel(zones=("example.com",)))], "badexample.com", {}, None),
])
def test_select_solver(solvers: list[Solver], name: str, labels: dict[str, str],
                       expected: int | None) -> None:
    chosen = select_solver(solvers, name, labels)
    assert (chosen.index if chosen else None) == expected


def test_selector_matches_counts() -> None:
    assert selector_matches(sel(zones=("example.com", "a.example.com")), {},
                            "x.a.example.com") == (True, 0, 0, 3)
    assert selector_matches(sel(labels={"a": "1", "b": "2"}), {"a": "1", "b": "2"},
                            "x.com") == (True, 2, 0, 0)
    assert selector_matches(sel(names=("x.com",)), {}, "x.com") == (True, 0, 1, 0)


def test_read_solver_kinds() -> None:
    assert read_solver(0, {"http01": {"ingress": {"class": "istio"}}}, "p").ingress_class == "istio"
    assert read_solver(0, {"http01": {"ingress": {"ingressClassName": "nginx"}}},
                       "p").ingress_class_name == "nginx"
    assert read_solver(0, {"http01": {"gatewayHTTPRoute": {}}}, "p").kind == "http01-gateway"
    dns = read_solver(0, {"dns01": {"cloudflare": {}}, "selector": {}}, "p")
    assert (dns.kind, dns.detail, dns.selector) == ("dns01", "cloudflare", Selector())
    assert read_solver(0, "junk", "p").kind == "unknown"


def certificate(api: str = "cert-manager.io/v1", **spec: Any) -> dict[str, Any]:
    return {"apiVersion": api, "kind": "Certificate",
            "metadata": {"name": "web", "namespace": "shop", "labels": {"team": "a"}},
            "spec": {"secretName": "web-tls",
                     "issuerRef": {"name": "le", "kind": "ClusterIssuer"}, **spec}}


def test_certificate_names_dedupe_common_name() -> None:
    reqs = names_needing_certificates([certificate(
        dnsNames=["a.example.com", "b.example.com", "a.example.com"], commonName="c.example.com")])
    assert [(r.name, r.field_path) for r in reqs] == [
        ("a.example.com", "spec.dnsNames[0]"), ("b.example.com", "spec.dnsNames[1]"),
        ("c.example.com", "spec.commonName")]
    assert reqs[0].issuer_label == "ClusterIssuer/le"
    assert reqs[0].order_labels == (("team", "a"),)
    assert reqs[0].warnings == ()


def test_issuer_kind_defaults_to_issuer_and_legacy_api_warns() -> None:
    cert = certificate("cert-manager.io/v1alpha2", dnsNames=["a.example.com"])
    cert["spec"]["issuerRef"] = {"name": "le"}
    (req,) = names_needing_certificates([cert])
    assert req.issuer_kind == "Issuer"
    assert req.warnings
    assert "removed in cert-manager 1.7" in req.warnings[0]


def test_ingress_shim_names_and_overrides() -> None:
    ing = {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
           "metadata": {"name": "web", "namespace": "shop", "annotations": {
               "cert-manager.io/cluster-issuer": "le",
               "acme.cert-manager.io/http01-edit-in-place": "true"}},
           "spec": {"tls": [{"hosts": ["a.example.com", "b.example.com"], "secretName": "t"},
                            {"hosts": ["a.example.com"]}]}}
    reqs = names_needing_certificates([ing])
    assert [(r.name, r.field_path) for r in reqs] == [
        ("a.example.com", "spec.tls[0].hosts[0]"), ("b.example.com", "spec.tls[0].hosts[1]")]
    assert reqs[0].subject.kind == "Ingress"
    assert reqs[0].override_name == "web"
    ing["metadata"]["annotations"] = {"certmanager.k8s.io/issuer": "le"}
    (first, _) = names_needing_certificates([ing])
    assert first.issuer_label == "Issuer/le"
    assert "cert-manager < 0.11" in first.warnings[0]


def test_ingress_without_annotation_needs_nothing() -> None:
    ing = {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
           "metadata": {"name": "web"}, "spec": {"tls": [{"hosts": ["a.example.com"]}]}}
    assert names_needing_certificates([ing]) == []


def test_find_issuer_namespaces() -> None:
    issuers = issuers_of([
        {"apiVersion": "cert-manager.io/v1", "kind": "Issuer",
         "metadata": {"name": "le", "namespace": "other"}, "spec": {"acme": {"solvers": []}}},
        {"apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer",
         "metadata": {"name": "le", "namespace": "ignored"},
         "spec": {"acme": {"solvers": [{"http01": {"ingress": {"class": "istio"}}}]}}},
    ])
    (cluster_req,) = names_needing_certificates([certificate(dnsNames=["a.x"])])
    found = find_issuer(issuers, cluster_req)
    assert found is not None
    assert found.kind == "ClusterIssuer"
    assert found.solvers[0].ingress_class
    cert = certificate(dnsNames=["a.x"])
    cert["spec"]["issuerRef"] = {"name": "le"}
    (ns_req,) = names_needing_certificates([cert])
    assert find_issuer(issuers, ns_req) is None  # the Issuer lives in another namespace


def test_legacy_v1alpha1_acme_config_acts_as_solvers() -> None:
    cert = certificate("certmanager.k8s.io/v1alpha1", dnsNames=["a.x", "b.x"], acme={"config": [
        {"http01": {"ingressClass": "istio"}, "domains": ["a.x"]},
        {"dns01": {"provider": "route53"}, "domains": ["b.x"]}]})
    reqs = names_needing_certificates([cert])
    assert reqs[0].legacy_solvers is not None
    chosen = [select_solver(reqs[0].legacy_solvers, r.name, {}) for r in reqs]
    assert [c.kind if c else None for c in chosen] == ["http01-ingress", "dns01"]
    assert "0.11" in reqs[0].warnings[0]


def test_legacy_api_warning() -> None:
    assert legacy_api_warning("cert-manager.io/v1", "Certificate") is None
    assert "0.11" in (legacy_api_warning("certmanager.k8s.io/v1alpha1", "Issuer") or "")
    assert "1.7" in (legacy_api_warning("cert-manager.io/v1beta1", "ClusterIssuer") or "")


def test_overrides_apply_to_ingress_solvers_only() -> None:
    assert HTTP.with_overrides(None, "nginx").ingress_class == "nginx"
    assert HTTP.with_overrides("web", None).ingress_name == "web"
    dns = Solver(0, "dns01")
    assert dns.with_overrides("web", "nginx") is dns


def test_ip_addresses_are_names_too() -> None:
    cert = {"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
            "metadata": {"name": "c", "namespace": "ns"},
            "spec": {"dnsNames": ["a.example.com"], "ipAddresses": ["10.0.0.1", "10.0.0.1"],
                     "issuerRef": {"name": "le", "kind": "ClusterIssuer"}}}
    assert [(r.name, r.field_path) for r in names_needing_certificates([cert])] == [
        ("a.example.com", "spec.dnsNames[0]"), ("10.0.0.1", "spec.ipAddresses[0]")]
