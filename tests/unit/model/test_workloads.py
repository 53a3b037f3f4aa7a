"""Gateway workloads: where the pod label sets come from, the worst case when nothing tells,
and the Service port translation (pilot/pkg/model/push_context.go mergeGateways,
pilot/pkg/model/gateway.go resolvePorts)."""

from __future__ import annotations

from typing import Any

import pytest

from merge_https_redirects.model.workloads import MAX_ASSUMED, Workload, collect, gateway_selectors

ISTIO = (("istio", "ingressgateway"),)
APP = (("app", "istio-ingressgateway"),)
BOTH = (("app", "istio-ingressgateway"), ("istio", "ingressgateway"))


def deployment(labels: dict[str, str], ns: str = "istio-system",
               ports: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "istio-proxy", "image": "istio/proxyv2:1.24.0"}
    if ports:
        container["ports"] = ports
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "gw", "namespace": ns},
            "spec": {"template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [container]}}}}


def service(selector: dict[str, str], *ports: tuple[int, Any], ns: str = "istio-system",
            labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "gw", "namespace": ns, "labels": labels or {}},
            "spec": {"selector": selector,
                     "ports": [{"port": p, "targetPort": t} for p, t in ports]}}


def gateway(selector: dict[str, str] | None) -> dict[str, Any]:
    spec: dict[str, Any] = {"servers": []}
    if selector is not None:
        spec["selector"] = selector
    return {"apiVersion": "networking.istio.io/v1", "kind": "Gateway",
            "metadata": {"name": "g"}, "spec": spec}


def test_assumed_workloads_are_every_union_of_compatible_selectors() -> None:
    values = [gateway(dict(ISTIO)), gateway(dict(APP)), gateway({"istio": "internal"}),
              gateway(None)]
    found = collect(values, selectors=gateway_selectors(values))
    assert all(w.assumed for w in found)
    assert {w.labels for w in found} == {
        ISTIO, APP, BOTH, (("istio", "internal"),),
        (("app", "istio-ingressgateway"), ("istio", "internal")),
        (),  # the selector-less Gateway reaches pods no selector names, too
    }


def test_too_many_selectors_keep_the_single_ones_and_the_widest_unions() -> None:
    selectors = [((f"k{i}", "v"),) for i in range(10)]  # 1023 unions
    found = collect([], selectors=selectors)
    assert len(found) <= 2 * (len(selectors) + 1)
    assert len(found) < MAX_ASSUMED
    labels = {w.labels for w in found}
    assert all(s in labels for s in selectors)
    widest = tuple(sorted([*((f"k{i}", "v") for i in range(10)), ("istio", "ingressgateway")]))
    assert widest in labels


def test_a_gateway_deployment_is_the_workload_with_its_services_ports() -> None:
    values = [deployment(dict(BOTH)), service(dict(BOTH), (80, 8080), (443, 8443)),
              service(dict(BOTH), (80, 9090)),  # a later Service: the first one wins
              service(dict(BOTH), (8081, 1), ns="elsewhere"),  # other namespace: ignored
              gateway({"istio": "unknown"})]  # no assumed workload beside the real ones
    (w,) = collect(values, selectors=gateway_selectors(values))
    assert (w.name, w.labels, w.assumed) == ("Deployment istio-system/gw", BOTH, False)
    assert w.resolve(80) == 8080
    assert w.resolve(443) == 8443
    assert w.resolve(8081) == 8081  # no Service port: as written


def test_named_target_ports_and_the_translation_opt_out() -> None:
    values = [deployment(dict(ISTIO), ports=[{"name": "http2", "containerPort": 8080}]),
              service(dict(ISTIO), (80, "http2"), (81, "missing"))]
    (w,) = collect(values)
    assert w.port_map == {80: 8080}
    opted_out = [deployment(dict(ISTIO)),
                 service(dict(ISTIO), (80, 8080), labels={
                     "experimental.istio.io/disable-gateway-port-translation": "true"})]
    (w,) = collect(opted_out)
    assert w.port_map == {}


def test_istio_operator_gateways() -> None:
    operator = {"apiVersion": "install.istio.io/v1alpha1", "kind": "IstioOperator",
                "metadata": {"name": "cp"}, "spec": {"components": {"ingressGateways": [
                    {"name": "istio-ingressgateway", "enabled": True},
                    {"name": "internal", "label": {"istio": "internal"},
                     "k8s": {"service": {"ports": [{"port": 80, "targetPort": 9080}]}}},
                    {"name": "off", "enabled": False, "label": {"istio": "off"}}]}}}
    found = collect([operator])
    assert [(w.labels, w.port_map) for w in found] == [
        (BOTH, {80: 8080, 443: 8443}), ((("istio", "internal"),), {80: 9080})]


def test_configured_labels_win() -> None:
    found = collect([deployment(dict(ISTIO))], configured=[APP, BOTH])
    assert [(w.name, w.labels) for w in found] == [("gatewayLabels[0]", APP),
                                                   ("gatewayLabels[1]", BOTH)]


@pytest.mark.parametrize(("selector", "reached"), [
    (None, True), ({}, True), ({"istio": "ingressgateway"}, True),
    ({"istio": "ingressgateway", "app": "x"}, False),
])
def test_selected_by(selector: dict[str, str] | None, reached: bool) -> None:
    assert Workload("w", BOTH).selected_by(selector) is reached
