"""Classic redirect Gateways on the pods of a Gateway API Gateway are left alone: the proof does
not simulate Gateway API listeners (rewrite/gateway_api_pods.py). Refused exactly where the
pods meet, never elsewhere."""

from __future__ import annotations

from typing import Any

import pytest
from test_route_strategy import gateway, https, redirect, run

from merge_https_redirects.model.http01 import check


def api_gateway(name: str, namespace: str, *, port: int = 80, protocol: str = "HTTP",
                addresses: list[dict[str, str]] | None = None,
                class_name: str = "istio") -> dict[str, Any]:
    spec: dict[str, Any] = {"gatewayClassName": class_name,
                            "listeners": [{"name": "l", "protocol": protocol, "port": port}]}
    if addresses is not None:
        spec["addresses"] = addresses
    return {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
            "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def selectorless(gw: dict[str, Any]) -> dict[str, Any]:
    del gw["spec"]["selector"]
    return gw


def _ids(outcome: Any) -> list[str]:
    return [r.rule.id for r in outcome.results]


def test_a_selector_less_redirect_gateway_on_istio_deployed_pods_is_refused() -> None:
    docs = [selectorless(gateway("shop", "shop", redirect("shop.example.com"))),
            api_gateway("web", "web")]
    outcome, after = run(docs)
    assert "MHR008" in _ids(outcome)
    assert not outcome.changes
    assert not outcome.added
    message = next(r.message for r in outcome.results if r.rule.id == "MHR008")
    assert "Gateway API Gateway web/web" in message
    assert "no selector" in message
    assert after == docs


def test_skip_turns_it_into_a_warning() -> None:
    docs = [selectorless(gateway("shop", "shop", redirect("shop.example.com"))),
            api_gateway("web", "web")]
    outcome, _ = run(docs, on_conflict="skip")
    assert "MHR009" in _ids(outcome)
    assert "MHR008" not in _ids(outcome)
    assert not outcome.changes


def test_a_manual_gateway_on_the_ingress_pods_is_refused() -> None:
    service = {"apiVersion": "v1", "kind": "Service",
               "metadata": {"name": "istio-ingressgateway", "namespace": "istio-system"},
               "spec": {"selector": {"istio": "ingressgateway"},
                        "ports": [{"port": 80, "targetPort": 8080}]}}
    docs = [gateway("shop", "shop", redirect("shop.example.com")), service,
            api_gateway("web", "istio-system", addresses=[
                {"type": "Hostname", "value": "istio-ingressgateway.istio-system.svc"}])]
    outcome, _ = run(docs)
    assert "MHR008" in _ids(outcome)
    assert "istio=ingressgateway is a subset" in " ".join(r.message for r in outcome.results)


def test_unknown_pods_of_a_manual_gateway_are_the_worst_case() -> None:
    docs = [gateway("shop", "shop", redirect("shop.example.com")),
            api_gateway("web", "istio-system", addresses=[
                {"type": "Hostname", "value": "elsewhere.istio-system.svc.cluster.local"}])]
    outcome, _ = run(docs)
    message = next(r.message for r in outcome.results if r.rule.id == "MHR008")
    assert "its pods are not known" in message
    assert "add that Service to the input" in message


@pytest.mark.parametrize(("case", "docs"), [
    ("pods apart", [gateway("shop", "shop", redirect("shop.example.com"),
                            https("shop.example.com")),
                    api_gateway("web", "web")]),
    ("no listener on 80", [selectorless(gateway("shop", "shop", redirect("shop.example.com"))),
                           api_gateway("web", "web", port=8080)]),
    ("HTTPS listener", [selectorless(gateway("shop", "shop", redirect("shop.example.com"))),
                        api_gateway("web", "web", port=80, protocol="HTTPS")]),
    ("another controller", [selectorless(gateway("shop", "shop", redirect("shop.example.com"))),
                            api_gateway("web", "web", class_name="nginx"),
                            {"apiVersion": "gateway.networking.k8s.io/v1",
                             "kind": "GatewayClass", "metadata": {"name": "nginx"},
                             "spec": {"controllerName": "nginx.org/gateway-controller"}}]),
])
def test_no_needless_refusal(case: str, docs: list[dict[str, Any]]) -> None:
    outcome, after = run(docs)
    assert "MHR008" not in _ids(outcome), case
    assert outcome.changes, case
    assert {"MHR001", "MHR004"} & set(_ids(outcome)), case
    # the classic redirect moved; every HTTP-01 name still judged as before (none here)
    assert check(after) == check(docs)


def test_group_is_the_gateway_api_models() -> None:
    """The early check names the Gateway API group without importing its model (start-up)."""
    from merge_https_redirects.model import gateway_api
    from merge_https_redirects.rewrite import gateway_api_pods

    assert gateway_api_pods.GROUP == gateway_api.GROUP


def test_rewrite_without_gateway_api_does_not_import_its_model() -> None:
    import subprocess
    import sys

    code = ("import sys; from merge_https_redirects.rewrite import transform; "
            "print(sorted(m for m in sys.modules if m.startswith("
            "'merge_https_redirects.model.gateway')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
