"""Istio's Gateway and VirtualService as istiod reads them (``pilot/pkg/model``): their servers,
the selector test of ``mergeGateways`` (``push_context.go``: a selector must be a subset of the
pod labels) and the order of ``sortConfigByCreationTime`` (``config.go``: creation time, then
name, then namespace; Ingress-derived Gateways carry none and come first).
"""

from __future__ import annotations

import sys
from bisect import bisect_left
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from merge_https_redirects.model.host import (
    DEFAULT_NAMESPACE,
    _resolve_short_host,
    resolve_gateway_name,
    sanitize_server_hosts,
)
from merge_https_redirects.model.record import Record
from merge_https_redirects.model.values import as_dict as _dict
from merge_https_redirects.model.values import as_int as _int
from merge_https_redirects.model.values import as_list as _list
from merge_https_redirects.model.values import as_str as _str
from merge_https_redirects.model.values import as_str_items as _str_items
from merge_https_redirects.model.values import as_str_map as _str_map

#: ``protocol.Instance.IsHTTP`` in ``pkg/config/protocol/instance.go``.
HTTP_PROTOCOLS = frozenset({"HTTP", "HTTP2", "HTTP_PROXY", "GRPC", "GRPC-WEB"})


_KNOWN_PROTOCOLS = HTTP_PROTOCOLS | {"TCP", "UDP", "HTTPS", "TLS", "MONGO", "REDIS", "MYSQL"}


def is_subset(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    """``labels.Instance.SubsetOf``: every selector label is on the workload."""
    return all(labels.get(k) == v for k, v in selector.items())


def resource_identity(res: Mapping[str, Any]) -> tuple[str, str, str, str]:
    """``(apiVersion, kind, namespace, name)``; namespace ``default`` when unset (what
    ``kubectl apply`` would use), empty for cluster-scoped kinds is left to callers."""
    meta = _dict(res.get("metadata")) or {}
    return (
        _str(res.get("apiVersion")) or "",
        _str(res.get("kind")) or "",
        _str(meta.get("namespace")) or DEFAULT_NAMESPACE,
        _str(meta.get("name")) or "",
    )


def _group(api_version: str) -> str:
    return api_version.split("/", 1)[0] if "/" in api_version else ""


def _creation_key(res: Mapping[str, Any], derived: bool) -> tuple[int, int, datetime]:
    """Position in ``sortConfigByCreationTime``. Ingress-derived configs have no timestamp and
    sort first; a bundle resource without ``creationTimestamp`` does not exist yet, so it will be
    created after every resource that has one."""
    if derived:
        return (0, 0, datetime.min)
    meta = _dict(res.get("metadata")) or {}
    raw = meta.get("creationTimestamp")
    stamp: datetime | None = None
    if isinstance(raw, datetime):
        stamp = raw.replace(tzinfo=None)
    elif isinstance(raw, str):
        try:
            stamp = datetime.fromisoformat(raw.replace("Z", "+00:00")).replace(tzinfo=None)
        except ValueError:
            stamp = None
    if stamp is None:
        return (1, 1, datetime.min)
    return (1, 0, stamp)


class _Server(Record):
    index: int
    number: int | None
    protocol: str
    hosts: tuple[str, ...]
    has_tls: bool
    https_redirect: bool
    tls_mode: str
    bind: str

    __slots__ = (
        "bind", "has_tls", "hosts", "https_redirect", "index", "number", "protocol", "tls_mode"
    )
    _fields = (
        "index", "number", "protocol", "hosts", "has_tls", "https_redirect", "tls_mode", "bind",
    )

    def __init__(
            self, index: int, number: int | None, protocol: str, hosts: tuple[str, ...],
            has_tls: bool, https_redirect: bool, tls_mode: str, bind: str) -> None:
        self.index = index
        self.number = number
        self.protocol = protocol
        self.hosts = hosts
        self.has_tls = has_tls
        self.https_redirect = https_redirect
        self.tls_mode = tls_mode
        self.bind = bind


class _Gateway(Record):
    namespace: str
    name: str
    selector: dict[str, str] | None
    servers: tuple[_Server, ...]
    sort_key: tuple[Any, ...]
    derived: bool
    key: str  # "ns/name", made once (compared per server and route)

    __slots__ = ("derived", "key", "name", "namespace", "selector", "servers", "sort_key")
    _fields = ("namespace", "name", "selector", "servers", "sort_key", "derived", "key")

    def __init__(
            self, namespace: str, name: str, selector: dict[str, str] | None,
            servers: tuple[_Server, ...], sort_key: tuple[Any, ...], derived: bool = False) -> None:
        self.namespace = namespace
        self.name = name
        self.selector = selector
        self.servers = servers
        self.sort_key = sort_key
        self.derived = derived
        self.key = f"{namespace}/{name}"

    def with_sort_key(self, sort_key: tuple[Any, ...]) -> _Gateway:
        return _Gateway(self.namespace, self.name, self.selector, self.servers, sort_key,
                        self.derived)


class _VirtualService(Record):
    namespace: str
    name: str
    hosts: tuple[str, ...]
    gateways: tuple[str, ...]
    http: tuple[Any, ...]
    sort_key: tuple[Any, ...]
    ingress_semantics: bool
    #: ``exportTo`` as written (empty: exported everywhere, istiod's default ``*``)
    export_to: tuple[str, ...]

    __slots__ = (
        "export_to", "gateways", "hosts", "http", "ingress_semantics", "name", "namespace",
        "sort_key"
    )
    _fields = (
        "namespace", "name", "hosts", "gateways", "http", "sort_key", "ingress_semantics",
        "export_to",
    )

    def __init__(
            self, namespace: str, name: str, hosts: tuple[str, ...], gateways: tuple[str, ...],
            http: tuple[Any, ...], sort_key: tuple[Any, ...], ingress_semantics: bool = False,
            export_to: tuple[str, ...] = ()) -> None:
        self.namespace = namespace
        self.name = name
        self.hosts = hosts
        self.gateways = gateways
        self.http = http
        self.sort_key = sort_key
        self.ingress_semantics = ingress_semantics
        self.export_to = export_to

    def visible_to(self, proxy_namespace: str) -> bool:
        """Whether a gateway proxy in ``proxy_namespace`` sees this VirtualService
        (``exportTo``: ``*`` everywhere, ``.`` its own namespace, else the namespaces named;
        ``pilot/pkg/model/push_context.go`` ``VirtualServicesForGateway``). An unknown
        namespace ("") sees it."""
        return self.visibility(proxy_namespace) is not None

    def visibility(self, proxy_namespace: str) -> int | None:
        """``VirtualServicesForGateway`` lists VirtualServices private to the proxy's namespace
        (``.``) first, then those exported to it by name, then public ones: 0, 1, 2 (``None``:
        not visible)."""
        if not self.export_to or not proxy_namespace:
            return 2
        if "." in self.export_to and proxy_namespace == self.namespace:
            return 0
        if proxy_namespace in self.export_to:
            return 1
        return 2 if "*" in self.export_to else None

    @property
    def ref(self) -> str:
        return f"VirtualService {self.namespace}/{self.name}"


#: The port-80 server of an Ingress without TLS (most of them): one instance for all.
_PLAIN_HTTP_SERVER = _Server(0, 80, "HTTP", ("*",), False, False, "", "")


def _is_istio(res: Mapping[str, Any], kind: str) -> bool:
    if res.get("kind") != kind:  # the cheap test first: most resources are of other kinds
        return False
    return _group(_str(res.get("apiVersion")) or "") == "networking.istio.io"


def _read_gateway(res: Mapping[str, Any]) -> _Gateway | None:
    _, _, ns, name = resource_identity(res)
    spec = _dict(res.get("spec"))
    if not name or spec is None:
        return None
    raw_sel = spec.get("selector")
    selector = _str_map(raw_sel) if isinstance(raw_sel, dict) and raw_sel else None
    servers = []
    for i, raw in enumerate(_list(spec.get("servers"))):
        srv = _read_server(i, raw, ns)
        if srv is not None:
            servers.append(srv)
    return _Gateway(ns, name, selector, tuple(servers),
                    (*_creation_key(res, False), name, ns))


def _read_server(i: int, raw: object, namespace: str) -> _Server | None:
    d = _dict(raw)
    if d is None:
        return None
    port = _dict(d.get("port"))
    if port is None:  # istiod: "invalid server without port"
        return None
    tls = _dict(d.get("tls"))
    return _Server(
        index=i,
        number=_int(port.get("number")),
        protocol=sys.intern((_str(port.get("protocol")) or "").upper()),
        hosts=sanitize_server_hosts(_str_items(d.get("hosts")), namespace),
        has_tls=tls is not None,
        https_redirect=bool(tls is not None and tls.get("httpsRedirect") is True),
        tls_mode=sys.intern((_str(tls.get("mode")) or "").upper()) if tls is not None else "",
        bind=_str(d.get("bind")) or "",
    )


def _read_virtual_service(res: Mapping[str, Any]) -> _VirtualService | None:
    _, _, ns, name = resource_identity(res)
    spec = _dict(res.get("spec"))
    if not name or spec is None:
        return None
    hosts = tuple(_resolve_short_host(h, ns) for h in _str_items(spec.get("hosts")))
    gateways = tuple(dict.fromkeys(
        g if g == "mesh" else resolve_gateway_name(g, ns) for g in _str_items(spec.get("gateways"))
    ))
    return _VirtualService(ns, name, hosts, gateways, tuple(_list(spec.get("http"))),
                           (*_creation_key(res, False), name, ns),
                           export_to=tuple(_str_items(spec.get("exportTo"))))


class Readings:
    """The readings of Gateways and VirtualServices, by the identity of the value read, for
    the life of one run. The proof reads the bundle before and after the
    rewrite, and again in the other creation order: the values it did not change are the
    very same objects (never modified), so each is read once. Every value read is kept
    alive here, so an identity is never reused for another value."""

    __slots__ = ("_gateways", "_services", "ingress_sources", "routes")

    def __init__(self) -> None:
        #: the Ingress conversion's reading of a bundle's IngressClasses and Services, by
        #: the identities of those sources (kept with it)
        self.ingress_sources: dict[tuple[int, ...], tuple[object, Any]] = {}
        #: the routing model's routes of the VirtualServices read here (``RoutingInput``)
        self.routes: dict[tuple[Any, ...], Any] = {}
        self._gateways: dict[int, tuple[Mapping[str, Any], _Gateway | None]] = {}
        self._services: dict[int, tuple[Mapping[str, Any], _VirtualService | None]] = {}

    def gateway(self, res: Mapping[str, Any]) -> _Gateway | None:
        hit = self._gateways.get(id(res))
        if hit is None:
            hit = self._gateways[id(res)] = (res, _read_gateway(res))
        return hit[1]

    def virtual_service(self, res: Mapping[str, Any]) -> _VirtualService | None:
        hit = self._services.get(id(res))
        if hit is None:
            hit = self._services[id(res)] = (res, _read_virtual_service(res))
        return hit[1]

    def gateway_without_servers(self, before: Mapping[str, Any], after: Mapping[str, Any],
                                removed: Collection[int]) -> None:
        """Take as the reading of ``after`` -- ``before`` with the entries at ``removed`` of
        its ``spec.servers`` deleted -- the reading of ``before`` without those servers, each
        other at its new position (a server reads the same wherever it stands), when
        ``before`` was read."""
        hit = self._gateways.get(id(before))
        if hit is None or hit[1] is None or id(after) in self._gateways:
            return
        cut = sorted(removed)
        servers = []
        for srv in hit[1].servers:
            if srv.index in removed:
                continue
            shift = bisect_left(cut, srv.index)
            servers.append(srv if not shift else _Server(
                srv.index - shift, srv.number, srv.protocol, srv.hosts, srv.has_tls,
                srv.https_redirect, srv.tls_mode, srv.bind))
        gw = hit[1]
        self._gateways[id(after)] = (after, _Gateway(gw.namespace, gw.name, gw.selector,
                                                     tuple(servers), gw.sort_key, gw.derived))
