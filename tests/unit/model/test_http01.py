"""HTTP-01 verdicts: a golden case per verdict, results, regressions, explain, and the corpus."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from merge_https_redirects.check.report import check_results, explain_table
from merge_https_redirects.model.http01 import (
    CheckOptions,
    NameVerdict,
    check,
    gateway_workloads,
)
from merge_https_redirects.rewrite.proof import regressions

HOST = "shop.example.com"


def issuer(*solvers: dict[str, Any], kind: str = "ClusterIssuer",
           name: str = "letsencrypt") -> dict[str, Any]:
    return {"apiVersion": "cert-manager.io/v1", "kind": kind,
            "metadata": {"name": name, "namespace": "shop"},
            "spec": {"acme": {"server": "https://acme.example/directory",
                              "privateKeySecretRef": {"name": "le"},
                              "solvers": list(solvers)}}}


ISTIO_SOLVER = {"http01": {"ingress": {"class": "istio"}}}


def certificate(*names: str, issuer_name: str = "letsencrypt",
                kind: str = "ClusterIssuer") -> dict[str, Any]:
    return {"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
            "metadata": {"name": "shop", "namespace": "shop"},
            "spec": {"secretName": "shop-tls", "dnsNames": list(names),
                     "issuerRef": {"name": issuer_name, "kind": kind}}}


def site_gateway(redirect: bool = True, selector: dict[str, str] | None = None,
                 hosts: tuple[str, ...] = (HOST,)) -> dict[str, Any]:
    http: dict[str, Any] = {"port": {"number": 80, "name": "http", "protocol": "HTTP"},
                            "hosts": list(hosts)}
    if redirect:
        http["tls"] = {"httpsRedirect": True}
    return {"apiVersion": "networking.istio.io/v1beta1", "kind": "Gateway",
            "metadata": {"name": "shop", "namespace": "istio-system"},
            "spec": {"selector": selector or {"istio": "ingressgateway"}, "servers": [
                http,
                {"port": {"number": 443, "name": "https", "protocol": "HTTPS"},
                 "hosts": list(hosts), "tls": {"mode": "SIMPLE", "credentialName": "shop-tls"}},
            ]}}


def site_vs(host: str = HOST) -> dict[str, Any]:
    return {"apiVersion": "networking.istio.io/v1beta1", "kind": "VirtualService",
            "metadata": {"name": "shop", "namespace": "shop"},
            "spec": {"hosts": [host], "gateways": ["istio-system/shop"],
                     "http": [{"route": [{"destination": {"host": "web"}}]}]}}


def dedicated_gateway() -> dict[str, Any]:
    return {"apiVersion": "networking.istio.io/v1beta1", "kind": "Gateway",
            "metadata": {"name": "http-to-https-redirect", "namespace": "istio-system"},
            "spec": {"selector": {"istio": "ingressgateway"}, "servers": [
                {"port": {"number": 80, "name": "http", "protocol": "HTTP"}, "hosts": ["*"],
                 "tls": {"httpsRedirect": True}}]}}


def helm_gateway_deployment() -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "istio-ingress", "namespace": "istio-ingress"},
            "spec": {"template": {
                "metadata": {"labels": {"app": "istio-ingress", "istio": "ingress"},
                             "annotations": {"inject.istio.io/templates": "gateway"}},
                "spec": {"containers": [{"name": "istio-proxy", "image": "auto"}]}}}}


def only(verdicts: list[NameVerdict]) -> NameVerdict:
    assert len(verdicts) == 1, verdicts
    return verdicts[0]


# --- golden cases, one per verdict --------------------------------------------------------------


def test_pass_with_dedicated_redirect_gateway() -> None:
    bundle = [issuer(ISTIO_SOLVER), certificate(HOST), site_gateway(redirect=False), site_vs(),
              dedicated_gateway()]
    v = only(check(bundle))
    assert (v.verdict, v.issuer, v.solver) == (
        "pass", "ClusterIssuer/letsencrypt", "http01.ingress class=istio (spec.acme.solvers[0])")
    assert "reaches the solver" in v.cause
    assert "labels assumed" in v.cause
    assert v.field_path == "spec.dnsNames[0]"


def test_redirected_by_the_sites_own_gateway() -> None:
    bundle = [issuer(ISTIO_SOLVER), certificate(HOST), site_gateway(), site_vs()]
    v = only(check(bundle))
    assert v.verdict == "redirected"
    assert "Gateway istio-system/shop spec.servers[0]" in v.cause
    assert "VirtualService shop/shop" in v.cause


def test_unroutable_on_helm_gateway_labelled_istio_release() -> None:
    bundle = [issuer(ISTIO_SOLVER), certificate(HOST),
              site_gateway(redirect=False, selector={"istio": "ingress"}), site_vs(),
              helm_gateway_deployment()]
    v = only(check(bundle))
    assert v.verdict == "unroutable"
    assert "37329" in v.cause
    assert "Deployment istio-ingress/istio-ingress" in v.cause
    fixed = only(check(bundle, CheckOptions(ingress_selector={"istio": "ingress"})))
    assert fixed.verdict == "pass"


def test_solver_route_precedes_a_user_well_known_route() -> None:
    """Ingress-derived configuration sorts first and the solver's exact path is not a catch-all,
    so a user's ``/.well-known`` prefix route on the same host does not capture the challenge."""
    grab = site_vs()
    grab["spec"]["http"] = [{"match": [{"uri": {"prefix": "/.well-known"}}],
                             "route": [{"destination": {"host": "wk"}}]}]
    bundle = [issuer(ISTIO_SOLVER), certificate(HOST), site_gateway(redirect=False), grab]
    assert only(check(bundle)).verdict == "pass"


def test_unroutable_on_configured_workload_labels() -> None:
    bundle = [issuer(ISTIO_SOLVER), certificate(HOST), dedicated_gateway()]
    v = only(check(bundle, CheckOptions(workload_labels=((("app", "edge"),),))))
    assert v.verdict == "unroutable"
    assert "gatewayLabels[0] (app=edge)" in v.cause


def test_impossible_for_a_wildcard_with_http01_only() -> None:
    v = only(check([issuer(ISTIO_SOLVER), certificate("*.example.com")]))
    assert v.verdict == "impossible"
    assert "*.example.com" in v.cause


@pytest.mark.parametrize(("solver", "cause"), [
    ({"dns01": {"cloudflare": {}}}, "DNS-01"),
    ({"http01": {"ingress": {"ingressClassName": "nginx"}}}, "not of Istio's class"),
])
def test_out_of_scope_solvers(solver: dict[str, Any], cause: str) -> None:
    v = only(check([issuer(solver), certificate(HOST), site_gateway(), site_vs()]))
    assert v.verdict == "out-of-scope"
    assert cause in v.cause


def test_gateway_api_solver_without_parent_refs_is_impossible() -> None:
    """Issue 18: a gatewayHTTPRoute solver is judged now; without parentRefs cert-manager
    creates no challenge (``applyGatewayAPIAnnotationParentRefOverride``)."""
    v = only(check([issuer({"http01": {"gatewayHTTPRoute": {"parentRefs": []}}}),
                    certificate(HOST), site_gateway(), site_vs()]))
    assert (v.verdict, v.rule) == ("impossible", "MHR032")
    assert "no parentRefs" in v.cause


def test_missing_issuer_is_unknown_never_a_silent_pass() -> None:
    """Issue 16: a name whose issuer is not in the input is ``unknown`` -- an error in check
    mode (a warning with ``failOnUnknown: false``), counted in the summary."""
    v = only(check([certificate(HOST, issuer_name="nope", kind="Issuer")]))
    assert (v.verdict, v.issuer_missing) == ("unknown", True)
    assert v.issuer == "Issuer/nope (missing)"
    results = check_results([v])
    assert [(r.rule.id, r.level) for r in results] == [
        ("MHR026", "error"), ("MHR025", "warning"), ("MHR020", "info")]
    assert "1 unknown" in results[-1].message
    relaxed = check_results([v], fail_on_unknown=False)
    assert {(r.rule.id, r.level) for r in relaxed} >= {("MHR026", "warning")}


def test_the_issuers_setting_judges_certificates_of_issuers_kept_elsewhere() -> None:
    configured = issuer({"http01": {"ingress": {"class": "istio"}}}, kind="Issuer", name="nope")
    options = CheckOptions(issuers=(configured,))
    v = only(check([certificate(HOST, issuer_name="nope", kind="Issuer"), dedicated_gateway()],
                   options))
    assert v.verdict == "pass"
    bundle_copy = issuer({"dns01": {"cloudflare": {}}}, kind="Issuer", name="nope")
    v = only(check([bundle_copy, certificate(HOST, issuer_name="nope", kind="Issuer")], options))
    assert (v.verdict, v.cause) == ("out-of-scope", "solved by DNS-01")  # the bundle's copy wins


def test_solver_selection_decides_the_verdict() -> None:
    dns_for_shop = {"dns01": {"cloudflare": {}}, "selector": {"dnsNames": [HOST]}}
    bundle = [issuer(ISTIO_SOLVER, dns_for_shop), certificate(HOST, "api.example.com"),
              site_gateway(hosts=(HOST, "api.example.com")), site_vs(), site_vs("api.example.com")]
    verdicts = {v.name: v.verdict for v in check(bundle)}
    assert verdicts == {HOST: "out-of-scope", "api.example.com": "redirected"}


def test_edit_in_place_ingress_shim() -> None:
    ing = {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
           "metadata": {"name": "web", "namespace": "shop", "annotations": {
               "kubernetes.io/ingress.class": "istio",
               "cert-manager.io/cluster-issuer": "letsencrypt",
               "acme.cert-manager.io/http01-edit-in-place": "true"}},
           "spec": {"tls": [{"hosts": [HOST], "secretName": "t"}],
                    "rules": [{"host": HOST, "http": {"paths": [
                        {"path": "/", "pathType": "Prefix",
                         "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]}}
    v = only(check([issuer(ISTIO_SOLVER), ing, dedicated_gateway()]))
    assert (v.subject.kind, v.solver, v.verdict) == (
        "Ingress", "http01.ingress name=web (spec.acme.solvers[0])", "pass")
    assert "web-istio-autogenerated-k8s-ingress" in v.cause


def test_gateway_workloads_sources() -> None:
    assert gateway_workloads([])[0].assumed
    (w,) = gateway_workloads([helm_gateway_deployment()])
    assert w.label_map == {"app": "istio-ingress", "istio": "ingress"}
    assert not w.assumed
    (c,) = gateway_workloads([], CheckOptions(workload_labels=((("istio", "x"),),)))
    assert c.label_map == {"istio": "x"}


# --- results -----------------------------------------------------------------------------------


def test_check_results_for_failures_and_summary() -> None:
    bundle = [issuer(ISTIO_SOLVER), certificate(HOST, "ok.example.com"), site_gateway(),
              site_vs()]
    results = check_results(check(bundle))
    errors = [r for r in results if r.level == "error"]
    assert len(errors) == 1
    krm = errors[0].to_krm()
    assert krm["severity"] == "error"
    assert krm["tags"]["rule"] == "MHR021"
    assert HOST in krm["message"]
    assert "redirected" in krm["message"]
    assert krm["resourceRef"] == {"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
                                  "name": "shop", "namespace": "shop"}
    summary = [r for r in results if r.rule.id == "MHR020"]
    assert len(summary) == 1
    assert "1 name(s) pass (ok.example.com), 1 fail" in summary[0].message


def test_check_results_legacy_warning() -> None:
    old = issuer(ISTIO_SOLVER)
    old["apiVersion"] = "cert-manager.io/v1alpha2"
    results = check_results(check([old, certificate(HOST), dedicated_gateway()]))
    assert [r.rule.id for r in results if r.level == "warning"] == ["MHR012"]


# --- merge-mode safety ---------------------------------------------------------------------------


def _rewritten(before: list[dict[str, Any]]) -> list[dict[str, Any]]:
    after = copy.deepcopy(before)
    for res in after:
        if res["kind"] == "Gateway":
            res["spec"]["servers"] = [s for s in res["spec"]["servers"]
                                      if not s.get("tls", {}).get("httpsRedirect")]
    return [*after, dedicated_gateway()]


def test_regressions_empty_for_the_dedicated_gateway_rewrite() -> None:
    before = [issuer(ISTIO_SOLVER), certificate(HOST), site_gateway(), site_vs()]
    after = _rewritten(before)
    v_before, v_after = check(before), check(after)
    assert [v.verdict for v in v_before] == ["redirected"]
    assert [v.verdict for v in v_after] == ["pass"]
    assert regressions(before, after) == []


def test_regressions_report_lost_redirect_and_lost_pass() -> None:
    before = [issuer(ISTIO_SOLVER), certificate(HOST), site_gateway(), site_vs(),
              dedicated_gateway()]
    broken = [issuer(ISTIO_SOLVER), certificate(HOST), site_gateway(redirect=False), site_vs()]
    problems = regressions(before, broken)
    assert any(f"http://{HOST}/ on port 80 would change from redirect" in p
               and "to route to" in p for p in problems)
    passing = [issuer(ISTIO_SOLVER), certificate(HOST), dedicated_gateway()]
    redirected = [*passing, site_gateway(), site_vs()]
    lost = regressions(passing, redirected)
    assert any(f"the HTTP-01 challenge of {HOST} (Certificate shop/shop) passes today and "
               "would be redirected" in p for p in lost)


def test_an_ip_address_is_served_by_the_catch_all_virtual_host() -> None:
    """Its solver Ingress has no host: the challenge lands in ``*``, the virtual host the
    dedicated redirect Gateway marks ``require_tls`` -- the rewrite would break it."""
    ip_cert = certificate()
    ip_cert["spec"]["ipAddresses"] = ["192.0.2.10"]
    before = [issuer(ISTIO_SOLVER), ip_cert, site_gateway(), site_vs()]
    after = _rewritten(before)
    assert [(v.name, v.verdict) for v in check(before)] == [("192.0.2.10", "pass")]
    (lost,) = [v for v in check(after) if v.verdict != "pass"]
    assert lost.field_path == "spec.ipAddresses[0]"
    assert "virtual host * requires TLS" in lost.cause
    assert any("the HTTP-01 challenge of 192.0.2.10 (Certificate shop/shop) passes today and "
               "would be redirected" in p for p in regressions(before, after))


# --- explain -------------------------------------------------------------------------------------


def test_explain_table() -> None:
    before = [issuer(ISTIO_SOLVER), certificate(HOST), site_gateway(), site_vs()]
    table = explain_table(check(before), check(_rewritten(before)))
    lines = table.splitlines()
    assert lines[0] == "| name | resource | issuer | solver | before | after | cause |"
    assert lines[2].startswith(f"| {HOST} | Certificate shop/shop | ClusterIssuer/letsencrypt | ")
    assert "| redirected | pass | before: virtual host" in lines[2]
    assert len(lines) == 3


# --- the shared corpus ---------------------------------------------------------------------------


def _corpus_bundles(shared_dir: Path) -> list[tuple[str, list[Any]]]:
    out = []
    for path in sorted((shared_dir / "corpus").iterdir()):
        if path.name == "INDEX.tsv" or ("neonKUBE" in path.name
                                        and path.name.endswith("gateway-cluster.yaml")):
            continue
        try:
            docs = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8"))
                    if d is not None]
        except (yaml.YAMLError, UnicodeDecodeError):
            continue
        out.append((path.name, docs))
    return out


def test_corpus_through_check_and_explain(shared_dir: Path) -> None:
    bundles = _corpus_bundles(shared_dir)
    assert len(bundles) > 40
    everything: list[Any] = []
    named = 0
    for _name, docs in bundles:
        everything.extend(docs)
        verdicts = check(docs)
        named += len(verdicts)
        assert explain_table(verdicts, verdicts).startswith("| name |")
        assert check_results(verdicts)[-1].rule.id in ("MHR020", "MHR024")
    assert named > 0
    combined = check(everything)
    table = explain_table(combined, combined)
    assert "api.shipperizer.org" in table
    assert regressions(everything, everything) == []


# --- issue 16: cert-manager's annotations, invalid solvers, the default IngressClass ----------

ISTIO_CLASS = {"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
               "metadata": {"name": "istio"},
               "spec": {"controller": "istio.io/ingress-controller"}}


def _annotated(cert: dict[str, Any], **annotations: str) -> dict[str, Any]:
    cert["metadata"]["annotations"] = {f"acme.cert-manager.io/{k.replace('_', '-')}": v
                                       for k, v in annotations.items()}
    return cert


def test_ingressclassname_override_annotation_is_read() -> None:
    """``http01-override-ingress-ingressclassname`` replaces the solver's class
    (``applyIngressParameterAnnotationOverrides``): an nginx solver now goes through Istio."""
    cert = _annotated(certificate(HOST), http01_override_ingress_ingressclassname="istio")
    v = only(check([issuer({"http01": {"ingress": {"class": "nginx"}}}), cert, ISTIO_CLASS,
                    dedicated_gateway()]))
    assert v.verdict == "pass", v.cause
    assert "ingressClassName=istio" in v.solver


def test_more_than_one_override_annotation_creates_no_challenge() -> None:
    cert = _annotated(certificate(HOST), http01_override_ingress_class="istio",
                      http01_override_ingress_name="shop")
    v = only(check([issuer(ISTIO_SOLVER), cert, dedicated_gateway()]))
    assert v.verdict == "impossible"
    assert "more than one" in v.cause


def test_a_solver_with_class_and_name_is_refused_by_cert_manager() -> None:
    v = only(check([issuer({"http01": {"ingress": {"class": "istio", "name": "shop"}}}),
                    certificate(HOST), dedicated_gateway()]))
    assert v.verdict == "impossible"
    assert "only one of 'ingressClassName', 'name' or 'class'" in v.cause


def test_shim_ingressclassname_annotation_becomes_the_override() -> None:
    ingress = {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
               "metadata": {"name": "web", "namespace": "shop", "annotations": {
                   "cert-manager.io/cluster-issuer": "letsencrypt",
                   "acme.cert-manager.io/http01-ingress-ingressclassname": "istio"}},
               "spec": {"ingressClassName": "nginx", "tls": [{"hosts": [HOST],
                                                              "secretName": "web-tls"}]}}
    v = only(check([issuer({"http01": {"ingress": {"class": "nginx"}}}), ingress, ISTIO_CLASS,
                    dedicated_gateway()]))
    assert v.verdict == "pass", v.cause


def test_a_solver_without_class_gets_the_default_ingress_class() -> None:
    """No class and no name: Kubernetes' DefaultIngressClass admission gives the solver
    Ingress the class annotated as default; Istio's, so the challenge goes through Istio."""
    no_class = issuer({"http01": {"ingress": {}}})
    default_istio = {**ISTIO_CLASS, "metadata": {
        "name": "istio", "annotations": {"ingressclass.kubernetes.io/is-default-class": "true"}}}
    v = only(check([no_class, certificate(HOST), default_istio, dedicated_gateway()]))
    assert v.verdict == "pass", v.cause
    v = only(check([no_class, certificate(HOST), ISTIO_CLASS, dedicated_gateway()]))
    assert v.verdict == "out-of-scope"  # no default class: not Istio's


def test_a_virtual_service_not_exported_to_the_gateway_namespace_does_not_bind() -> None:
    """``exportTo: ["."]`` in shop: gateway pods in istio-system do not see it
    (``VirtualServicesForGateway``); exported to istio-system, or everywhere, they do."""
    from merge_https_redirects.model.routing import build_route_config

    plain = {"apiVersion": "networking.istio.io/v1beta1", "kind": "Gateway",
             "metadata": {"name": "shop", "namespace": "istio-system"},
             "spec": {"selector": {"istio": "ingressgateway"}, "servers": [
                 {"port": {"number": 80, "name": "http", "protocol": "HTTP"},
                  "hosts": [HOST]}]}}

    def app(export_to: list[str] | None) -> dict[str, Any]:
        spec: dict[str, Any] = {"hosts": [HOST], "gateways": ["istio-system/shop"],
                                "http": [{"route": [{"destination": {"host": "web"}}]}]}
        if export_to is not None:
            spec["exportTo"] = export_to
        return {"apiVersion": "networking.istio.io/v1beta1", "kind": "VirtualService",
                "metadata": {"name": "app", "namespace": "shop"}, "spec": spec}

    def answer(export_to: list[str] | None, proxy_namespace: str) -> str:
        config = build_route_config([plain, app(export_to)], {"istio": "ingressgateway"},
                                    proxy_namespace=proxy_namespace)
        return config.answer(HOST, "/").kind

    assert answer(None, "istio-system") == "route"
    assert answer(["*"], "istio-system") == "route"
    assert answer(["istio-system"], "istio-system") == "route"
    assert answer(["."], "istio-system") == "404"
    assert answer(["."], "shop") == "route"
    assert answer(["."], "") == "route"  # the pods' namespace unknown: counted as exported
