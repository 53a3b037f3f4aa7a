"""The one definition of the dedicated redirect Gateway.

Both the KRM function (when it adds a Gateway) and the Helm chart generator (when it renders the
chart's Gateway template and its default values) build the object from here, so the two cannot
drift apart.
"""

from __future__ import annotations

TYPE_CHECKING = False  # what follows is for annotations only, never needed at run time
if TYPE_CHECKING:
    from typing import Any


#: The server host that makes Envoy redirect every name no more specific virtual host claims.
CATCH_ALL_HOST = "*"
#: Protocol of every dedicated server: plain HTTP, redirected by Envoy before any route.
PROTOCOL = "HTTP"
#: apiVersion for a new dedicated Gateway when the bundle gives no better hint. v1beta1 is
#: served by every Istio release from 1.12 on (v1 only from 1.22).
DEFAULT_API_VERSION = "networking.istio.io/v1beta1"
DEFAULT_NAME = "http-to-https-redirect"
DEFAULT_NAMESPACE = "istio-system"
DEFAULT_PORTS = (80,)
DEFAULT_SELECTOR: dict[str, str] = {"istio": "ingressgateway"}


def port_name(port: int) -> str:
    """Name of the dedicated server on ``port``: ``http`` for 80, ``http-<port>`` otherwise."""
    return "http" if port == 80 else f"http-{port}"


def redirect_server(port: int) -> dict[str, Any]:
    """The dedicated server for one port: every host, redirected to https."""
    return {
        "port": {"number": port, "name": port_name(port), "protocol": PROTOCOL},
        "hosts": [CATCH_ALL_HOST],
        "tls": {"httpsRedirect": True},
    }


def dedicated_gateway(
    name: str,
    namespace: str,
    selector: dict[str, str] | None,
    ports: list[int] | tuple[int, ...],
    *,
    api_version: str = DEFAULT_API_VERSION,
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The dedicated Gateway: one catch-all redirect server per port, bound by no VirtualService.

    ``selector=None`` means the Gateway applies to every gateway workload, exactly like the
    selector-less Gateways it replaces.
    """
    metadata: dict[str, Any] = {"name": name, "namespace": namespace}
    if labels:
        metadata["labels"] = dict(labels)
    if annotations:
        metadata["annotations"] = dict(annotations)
    spec: dict[str, Any] = {}
    if selector is not None:
        spec["selector"] = dict(selector)
    spec["servers"] = [redirect_server(port) for port in sorted(set(ports))]
    return {"apiVersion": api_version, "kind": "Gateway", "metadata": metadata, "spec": spec}


# ---------------------------------------------------------------------------------------------
# The route shape: where a `*` redirect server would change another host's answer
# ---------------------------------------------------------------------------------------------
#: The one route of the redirect VirtualService: every request, redirected to https with 301.
#: ``HTTPRedirect.scheme`` exists since Istio 1.12.0 (istio/api#2088,
#: ``networking/v1alpha3/virtual_service.proto``); codes 0/301, 302, 303, 307, 308 are the ones
#: istiod turns into Envoy's (``route.go``: any other 3xx leaves the route without an action);
#: istiod turns it into Envoy's ``scheme_redirect`` and, the port not being set, drops the
#: request's port 80 (``pilot/pkg/networking/core/route/route.go`` ``ApplyRedirect``): the same
#: ``https://{host}{path}`` 301 as ``require_tls``. No match: a catch-all, which istiod sorts
#: after every other route of the virtual host (``SortVHostRoutes``), so the solver's exact
#: challenge path wins.
REDIRECT_ROUTE: dict[str, Any] = {
    "name": "https-redirect",
    "redirect": {"scheme": "https", "redirectCode": 301},
}
#: A route redirect is an Envoy route, not ``require_tls``: its apiVersion follows the Gateway's.
ROUTE_SUFFIX = "route"


def route_server(port: int, hosts: list[str]) -> dict[str, Any]:
    """A plain HTTP server for the redirected hosts (no ``tls`` block: not ``require_tls``)."""
    return {
        "port": {"number": port, "name": port_name(port), "protocol": PROTOCOL},
        "hosts": list(hosts),
    }


def route_gateway(
    name: str,
    namespace: str,
    selector: dict[str, str] | None,
    hosts_by_port: dict[int, list[str]],
    *,
    api_version: str = DEFAULT_API_VERSION,
    annotations: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The route shape's Gateway: per port, one plain server for the hosts that were redirected
    (``ns/host`` where the original server bound only that namespace's VirtualServices)."""
    metadata: dict[str, Any] = {"name": name, "namespace": namespace}
    if annotations:
        metadata["annotations"] = dict(annotations)
    spec: dict[str, Any] = {}
    if selector is not None:
        spec["selector"] = dict(selector)
    spec["servers"] = [route_server(port, hosts) for port, hosts in sorted(hosts_by_port.items())]
    return {"apiVersion": api_version, "kind": "Gateway", "metadata": metadata, "spec": spec}


def route_virtual_service(
    name: str,
    namespace: str,
    gateway: str,
    hosts: list[str],
    *,
    api_version: str = DEFAULT_API_VERSION,
    annotations: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The route shape's VirtualService: bound only to ``gateway`` (``ns/name``), one catch-all
    redirect route for ``hosts``."""
    metadata: dict[str, Any] = {"name": name, "namespace": namespace}
    if annotations:
        metadata["annotations"] = dict(annotations)
    return {"apiVersion": api_version, "kind": "VirtualService", "metadata": metadata,
            "spec": {"hosts": list(hosts), "gateways": [gateway],
                     "http": [dict(REDIRECT_ROUTE, redirect=dict(REDIRECT_ROUTE["redirect"]))]}}
