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
