"""The chart's values from Gateways (:func:`chart_values`), and the Gateway template's context
derived from :mod:`merge_https_redirects.model.dedicated`: the one definition the function and
the chart share (the generator refuses to run when that definition changes shape in a way the
template cannot follow).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from merge_https_redirects import yamlio
from merge_https_redirects.model import dedicated

DEFAULT_CHART_NAME = "http-to-https-redirect"

# The Helm template names ports "<prefix><number>" except for a short table of special ports.
_MAX_SPECIAL_PORT_NAMES = 16


_PROBE_PORTS = (1, 80, 443, 8080, 65535)


_MAX_PORT = 65535


Gateway = dict[str, Any]



#: Annotations that kpt and kustomize add to track items; they are not part of the Gateway.
TOOLING_ANNOTATIONS = frozenset(
    {
        "config.kubernetes.io/index",
        "config.kubernetes.io/path",
        "config.kubernetes.io/id",
        "config.k8s.io/id",
        "kustomize.config.k8s.io/id",
    }
)


TOOLING_ANNOTATION_PREFIXES = ("internal.config.kubernetes.io/",)


class ChartError(Exception):
    """A chart cannot be written; the message is one line, fit for the command line."""


@dataclass(frozen=True)
class ChartGateway:
    """One entry of the chart's ``gateways`` value (everything ``dedicated_gateway()`` takes)."""

    name: str
    namespace: str
    selector: dict[str, str] | None
    ports: tuple[int, ...]
    api_version: str = dedicated.DEFAULT_API_VERSION
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None

    def render(self) -> Gateway:
        """The Gateway object, built by the one definition in :mod:`dedicated`."""
        return dedicated.dedicated_gateway(
            self.name,
            self.namespace,
            self.selector,
            list(self.ports),
            api_version=self.api_version,
            labels=self.labels,
            annotations=self.annotations,
        )


def default_chart_gateways() -> list[Gateway]:
    """The default chart's Gateway: ``http-to-https-redirect`` in ``istio-system`` for
    ``istio: ingressgateway``, port 80."""
    return [
        dedicated.dedicated_gateway(
            dedicated.DEFAULT_NAME,
            dedicated.DEFAULT_NAMESPACE,
            dict(dedicated.DEFAULT_SELECTOR),
            list(dedicated.DEFAULT_PORTS),
        )
    ]


def is_tooling_annotation(key: str) -> bool:
    return key in TOOLING_ANNOTATIONS or key.startswith(TOOLING_ANNOTATION_PREFIXES)


def _string_map(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ChartError(f"{where} must map strings to strings")
    return dict(value)


def _first_difference(got: Any, want: Any, path: str = "") -> str:
    """Where two plain values first differ, as a dotted path (``""`` when equal)."""
    if isinstance(got, Mapping) and isinstance(want, Mapping):
        for key in list(want) + [k for k in got if k not in want]:
            if key not in got or key not in want:
                return f"{path}.{key}".lstrip(".")
            found = _first_difference(got[key], want[key], f"{path}.{key}")
            if found:
                return found
        return ""
    if isinstance(got, list) and isinstance(want, list):
        if len(got) != len(want):
            return path.lstrip(".") or "."
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            found = _first_difference(g, w, f"{path}[{i}]")
            if found:
                return found
        return ""
    if type(got) is not type(want) or got != want:
        return path.lstrip(".") or "."
    return ""


def chart_gateway(gateway: Mapping[str, Any], where: str = "gateway") -> ChartGateway:
    """The chart entry of a dedicated Gateway object (kpt/kustomize tracking annotations dropped).

    Raises :class:`ChartError` when the object is not exactly what ``dedicated_gateway()`` builds
    from its own name, namespace, selector, ports, labels and annotations: the chart could not
    render it, and a chart that renders something else would be a second, drifting copy.
    """
    if not isinstance(gateway, Mapping):
        raise ChartError(f"{where} is not a mapping")
    metadata = gateway.get("metadata")
    spec = gateway.get("spec")
    if not isinstance(metadata, Mapping) or not isinstance(spec, Mapping):
        raise ChartError(f"{where} needs metadata and spec mappings")
    name, namespace = metadata.get("name"), metadata.get("namespace")
    if not isinstance(name, str) or not name or not isinstance(namespace, str) or not namespace:
        raise ChartError(f"{where} needs metadata.name and metadata.namespace")
    where = f"{where} ({namespace}/{name})"
    api_version = gateway.get("apiVersion")
    if not isinstance(api_version, str) or not api_version:
        raise ChartError(f"{where} has no apiVersion")
    labels = _string_map(metadata.get("labels") or {}, f"{where} metadata.labels")
    annotations = {
        key: value
        for key, value in _string_map(
            metadata.get("annotations") or {}, f"{where} metadata.annotations"
        ).items()
        if not is_tooling_annotation(key)
    }
    selector = spec.get("selector")
    if selector is not None:
        selector = _string_map(selector, f"{where} spec.selector")
    servers = spec.get("servers")
    if not isinstance(servers, list) or not servers:
        raise ChartError(f"{where} has no servers")
    ports: list[int] = []
    for index, server in enumerate(servers):
        port = server.get("port") if isinstance(server, Mapping) else None
        number = port.get("number") if isinstance(port, Mapping) else None
        if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= _MAX_PORT:
            raise ChartError(f"{where} spec.servers[{index}].port.number is not a port number")
        ports.append(number)
    entry = ChartGateway(
        name=name,
        namespace=namespace,
        selector=selector,
        ports=tuple(sorted(ports)),
        api_version=api_version,
        labels=labels or None,
        annotations=annotations or None,
    )
    # Compare with tooling annotations dropped and servers in port order (the chart sorts them,
    # as dedicated_gateway() does).
    got: dict[str, Any] = {**gateway, "metadata": {**metadata}, "spec": {**spec}}
    if annotations:
        got["metadata"]["annotations"] = annotations
    else:
        got["metadata"].pop("annotations", None)
    if not labels:
        got["metadata"].pop("labels", None)
    got["spec"]["servers"] = sorted(servers, key=lambda s: s["port"]["number"])
    difference = _first_difference(got, entry.render())
    if difference:
        raise ChartError(
            f"{where} is not a dedicated redirect Gateway the chart can render "
            f"(it differs at {difference})"
        )
    return entry


def _shared_api_version(entries: Sequence[ChartGateway]) -> str:
    """The chart-wide ``apiVersion`` value: the one most Gateways use."""
    if not entries:
        return dedicated.DEFAULT_API_VERSION
    counts = Counter(entry.api_version for entry in entries)
    best = max(counts.values())
    tied = sorted(version for version, count in counts.items() if count == best)
    return dedicated.DEFAULT_API_VERSION if dedicated.DEFAULT_API_VERSION in tied else tied[0]


def chart_values(gateways: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The chart's values for ``gateways`` (dedicated Gateway objects), in ``values.yaml`` order."""
    entries = [chart_gateway(gw, f"gateways[{i}]") for i, gw in enumerate(gateways)]
    seen: set[tuple[str, str]] = set()
    for entry in entries:
        key = (entry.namespace, entry.name)
        if key in seen:
            raise ChartError(f"Gateway {entry.namespace}/{entry.name} is listed twice")
        seen.add(key)
    shared = _shared_api_version(entries)
    items: list[dict[str, Any]] = []
    for entry in entries:
        item: dict[str, Any] = {
            "name": entry.name,
            "namespace": entry.namespace,
            "selector": entry.selector,
            "ports": list(entry.ports),
        }
        if entry.api_version != shared:
            item["apiVersion"] = entry.api_version
        if entry.labels:
            item["labels"] = dict(entry.labels)
        if entry.annotations:
            item["annotations"] = dict(entry.annotations)
        items.append(item)
    return {
        "enabled": True, "apiVersion": shared, "labels": {}, "annotations": {}, "gateways": items
    }


def _indented(obj: Any, indent: int) -> str:
    pad = " " * indent
    return "\n".join(pad + line for line in yamlio.dumps(obj, wide=True).rstrip("\n").split("\n"))


def gateway_template_context() -> dict[str, Any]:
    """What ``templates/gateway.yaml.j2`` needs from :mod:`dedicated`.

    Raises :class:`ChartError` when ``dedicated`` changed in a way the Helm template cannot
    express, so the change is noticed at generation time instead of drifting silently.
    """
    fix = "update templates/chart/templates/gateway.yaml.j2 and merge_https_redirects/chart.py"
    names = {port: dedicated.port_name(port) for port in range(1, _MAX_PORT + 1)}
    prefixes = Counter(
        name.removesuffix(str(port)) for port, name in names.items() if name.endswith(str(port))
    )
    if not prefixes:
        raise ChartError(f"dedicated.port_name() no longer ends names with the port: {fix}")
    prefix = prefixes.most_common(1)[0][0]
    special = {port: name for port, name in names.items() if name != f"{prefix}{port}"}
    if len(special) > _MAX_SPECIAL_PORT_NAMES:
        raise ChartError(
            f"dedicated.port_name() has {len(special)} exceptions to '{prefix}<port>': {fix}"
        )
    statics: set[str] = set()
    for port in _PROBE_PORTS:
        server = dedicated.redirect_server(port)
        server_port = server.get("port")
        if (
            not isinstance(server_port, dict)
            or server_port.get("number") != port
            or server_port.get("name") != names[port]
        ):
            raise ChartError(f"dedicated.redirect_server() changed its port block: {fix}")
        port_static = {k: v for k, v in server_port.items() if k not in ("number", "name")}
        server_static = {k: v for k, v in server.items() if k != "port"}
        statics.add(json.dumps([port_static, server_static], sort_keys=True))
    if len(statics) != 1:
        raise ChartError(
            f"dedicated.redirect_server() now depends on the port beyond its number and name: "
            f"{fix}"
        )
    kind = _check_gateway_shape(fix)
    return {
        "kind": kind,
        "port_name_prefix": prefix,
        "special_port_names": " ".join(
            f"{json.dumps(str(port))} {json.dumps(name)}" for port, name in sorted(special.items())
        ),
        "port_static": _indented(port_static, 8) if port_static else "",
        "server_static": _indented(server_static, 6) if server_static else "",
    }


def _check_gateway_shape(fix: str) -> str:
    """The Gateway's ``kind``, after checking ``dedicated_gateway()`` builds what the Helm
    template renders: metadata name/namespace/labels/annotations (empty ones left out), an
    optional selector (``None`` left out, ``{}`` kept), and sorted, de-duplicated servers."""
    servers = [dedicated.redirect_server(80), dedicated.redirect_server(8080)]
    full = dedicated.dedicated_gateway(
        "probe", "probe-ns", {"app": "gw"}, [8080, 80, 8080],
        api_version="probe.example/v1", labels={"l": "1"}, annotations={"a": "1"},
    )
    kind = full.get("kind")
    if not isinstance(kind, str):
        raise ChartError(f"dedicated.dedicated_gateway() builds no kind: {fix}")
    expected_full = {
        "apiVersion": "probe.example/v1",
        "kind": kind,
        "metadata": {
            "name": "probe", "namespace": "probe-ns",
            "labels": {"l": "1"}, "annotations": {"a": "1"},
        },
        "spec": {"selector": {"app": "gw"}, "servers": servers},
    }
    bare = dedicated.dedicated_gateway("probe", "probe-ns", None, [80], labels={}, annotations={})
    expected_bare = {
        "apiVersion": dedicated.DEFAULT_API_VERSION,
        "kind": kind,
        "metadata": {"name": "probe", "namespace": "probe-ns"},
        "spec": {"servers": servers[:1]},
    }
    empty_selector = dedicated.dedicated_gateway("probe", "probe-ns", {}, [80])
    for got, want in ((full, expected_full), (bare, expected_bare)):
        difference = _first_difference(got, want)
        if difference:
            raise ChartError(f"dedicated.dedicated_gateway() changed at {difference}: {fix}")
    if empty_selector.get("spec", {}).get("selector") != {}:
        raise ChartError(f"dedicated.dedicated_gateway() no longer keeps an empty selector: {fix}")
    return kind
