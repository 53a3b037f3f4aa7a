"""Classic Gateways on the pods of a Gateway API Gateway: the rewrite leaves them as they are.

istiod merges every classic ``networking.istio.io`` Gateway whose selector is a subset of a
pod's labels into that pod's route configuration (``pilot/pkg/model/push_context.go``
``mergeGateways``), the pods that serve a Gateway API Gateway included: the internal Gateways
and VirtualServices its listeners and HTTPRoutes become (``pilot/pkg/config/kube/gateway/
conversion.go``) share ``http.80`` with the classic servers there. The rewrite's proof
simulates classic Gateways only. On such pods, removing a classic port-80 redirect server would
let an HTTPRoute for the same host answer plain HTTP (a host exposed), and a new ``*`` redirect
would make the ``*`` virtual host of a hostname-less route require TLS -- changes the proof
cannot see. So every gateway workload reached by a classic Gateway with redirect servers that
also reaches the pods of an Istio Gateway API Gateway listening on a rewritten port is refused,
with the reason naming both (``MHR008``; ``onConflict: skip``: ``MHR009``).

The pods are the ones istiod deploys for the Gateway (``model.gateway_api_routes.pod_labels``:
``gateway.networking.k8s.io/gateway-name`` and the rest of ``kube-gateway.yaml``'s labels), or,
for a Gateway whose address names an existing Service, the pods that Service selects. When that
Service is not in the input its pods are unknown: every classic redirect Gateway may reach
them, and the reason says to add the Service.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from merge_https_redirects.model.workloads import Workload
from merge_https_redirects.rewrite.plan import GatewayEntry, is_redirect

TYPE_CHECKING = False  # the Gateway API model is imported only for bundles that use the API
if TYPE_CHECKING:
    from merge_https_redirects.model import gateway_api as ga

#: ``gateway_api.GROUP``, the API group of Gateway API resources (checked by a unit test).
GROUP = "gateway.networking.k8s.io"


class _Pods:
    __slots__ = ("gateway", "labels", "unknown")

    def __init__(self, gateway: ga.Gateway, labels: Mapping[str, str], unknown: str) -> None:
        self.gateway = gateway
        self.labels = labels
        self.unknown = unknown


def _listening(values: Sequence[Mapping[str, Any]], ports: Sequence[int]) -> list[_Pods]:
    """Istio's Gateway API Gateways with an HTTP listener (their own or an accepted
    ListenerSet's) on one of ``ports``, with the labels of their pods."""
    from merge_https_redirects.model import gateway_api as ga
    from merge_https_redirects.model.gateway_api_routes import pod_labels, port_listeners

    bundle = ga.Bundle.read(values)
    out = []
    for gw in sorted(bundle.gateways.values(), key=lambda g: g.key):
        if bundle.controller(gw.class_name) != ga.ISTIO_CONTROLLER:
            continue
        if not any(port_listeners(gw, bundle, port) for port in ports):
            continue
        labels, unknown = pod_labels(gw, bundle)
        out.append(_Pods(gw, labels, unknown))
    return out


def refusals(values: Sequence[Mapping[str, Any]], gateways: Sequence[GatewayEntry],
             workloads: Sequence[Workload], ports: Sequence[int]) -> dict[int, str]:
    """Workload index -> why, for every workload a classic redirect Gateway on the pods of a
    Gateway API Gateway reaches (see the module docstring)."""
    if not any(v.get("apiVersion", "").startswith(f"{GROUP}/") for v in values
               if isinstance(v.get("apiVersion"), str)):
        return {}
    listening = _listening(values, ports)
    if not listening:
        return {}
    from merge_https_redirects.model.gateway import is_subset

    out: dict[int, str] = {}
    for entry in gateways:
        if not any(is_redirect(s, ports) for s in entry.view.servers):
            continue
        selector = dict(entry.view.selector or ())
        for pods in listening:
            if not pods.unknown and not is_subset(selector, pods.labels):
                continue
            if pods.unknown:
                where = f"(its pods are not known: {pods.unknown}; add that Service to the input)"
            elif selector:
                where = ("(its selector " + ", ".join(f"{k}={v}" for k, v in sorted(
                    selector.items())) + " is a subset of their labels)")
            else:
                where = "(it has no selector: it applies to every gateway pod)"
            why = (f"Gateway {entry.view.namespace}/{entry.view.name} has port-80 redirect "
                   f"servers and applies to the pods of Gateway API Gateway "
                   f"{pods.gateway.key} too {where}: istiod merges both into one route "
                   "configuration, and the proof does not simulate Gateway API listeners, so "
                   "moving the redirect could expose or redirect that Gateway's hosts")
            for n, workload in enumerate(workloads):
                if workload.selected_by(entry.view.selector):
                    out.setdefault(n, why)
            break
    return out
