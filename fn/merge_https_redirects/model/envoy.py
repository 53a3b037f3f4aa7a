"""Envoy's side of the model: a route configuration's virtual hosts and routes, and how Envoy
answers ``GET http://HOST/PATH`` with them.

Upstream: ``envoyproxy/envoy`` ``api/envoy/config/route/v3/route_components.proto`` (a virtual host
is chosen by exact domain, then the longest suffix wildcard, then the longest prefix wildcard,
then ``*``; the port in the Host header is ignored, ``IgnorePortInHostMatching``;
``require_tls`` answers with a redirect before any route is looked at) and
``source/common/router/config_impl.cc`` (header and path matching).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Literal

from merge_https_redirects.model.gateway import _VirtualService
from merge_https_redirects.model.record import Record

AnswerKind = Literal["redirect", "route", "404"]


class Answer(Record):
    """What the gateway does with ``GET http://HOST/PATH``."""

    kind: AnswerKind
    virtual_host: str | None
    destination: str | None
    cause: str

    __slots__ = ("cause", "destination", "kind", "virtual_host")
    _fields = ("kind", "virtual_host", "destination", "cause")

    def __init__(
            self, kind: AnswerKind, virtual_host: str | None, destination: str | None,
            cause: str) -> None:
        self.kind = kind
        self.virtual_host = virtual_host
        self.destination = destination
        self.cause = cause


class StringMatch(Record):
    """An Istio ``StringMatch``; ``present`` is what istiod makes of an empty match or regex
    ``*`` (``canBeConvertedToPresentMatch``)."""

    kind: Literal["exact", "prefix", "regex", "present"]
    value: str

    __slots__ = ("kind", "value")
    _fields = ("kind", "value")

    def __init__(
            self, kind: Literal["exact", "prefix", "regex", "present"], value: str = "") -> None:
        self.kind = kind
        self.value = value

    def matches(self, value: str | None) -> bool:
        if value is None:
            return False
        if self.kind == "present":
            return True
        if self.kind == "exact":
            return value == self.value
        if self.kind == "prefix":
            return value.startswith(self.value)
        return _regex_full_match(self.value, value)


#: The request the model answers: a plain ``GET`` over HTTP/1.1 carrying no header but
#: ``Host`` (Envoy's ``:authority``); pseudo-headers are what Envoy matches header matchers on.
PSEUDO_HEADERS = (":path", ":authority", ":method", ":scheme")


class HeaderCondition(Record):
    """One Envoy ``HeaderMatcher`` istiod builds (``translateHeaderMatch``): ``invert`` for
    ``withoutHeaders``. ``name`` is lower-cased; ``host`` is Envoy's alias of ``:authority``."""

    name: str
    match: StringMatch
    invert: bool

    __slots__ = ("invert", "match", "name")
    _fields = ("name", "match", "invert")

    def __init__(self, name: str, match: StringMatch, invert: bool = False) -> None:
        self.name = name
        self.match = match
        self.invert = invert

    def matches(self, headers: Mapping[str, str]) -> bool:
        value = headers.get(self.name)
        if value is None:
            # Envoy ``HeaderUtility::matchHeaders``: a missing header fails a matcher, except an
            # inverted ``present`` one; istiod sets ``treat_missing_header_as_empty`` on the
            # other inverted ones, which then test "".
            if self.match.kind == "present" or not self.invert:
                return self.invert
            value = ""
        return self.match.matches(value) != self.invert

    def describe(self) -> str:
        return ("!" if self.invert else "") + self.name


class RouteMatch(Record):
    """The Envoy ``RouteMatch`` istiod builds from one ``HTTPMatchRequest``."""

    path_kind: Literal["prefix", "exact", "path_separated_prefix", "regex"]
    path: str
    case_sensitive: bool
    headers: tuple[HeaderCondition, ...]
    #: query-parameter matchers: a request without a query string never satisfies them
    query: tuple[str, ...]

    __slots__ = ("case_sensitive", "headers", "path", "path_kind", "query")
    _fields = ("path_kind", "path", "case_sensitive", "headers", "query")

    def __init__(
            self,
            path_kind: Literal["prefix", "exact", "path_separated_prefix", "regex"] = "prefix",
            path: str = "/", case_sensitive: bool = True,
            headers: tuple[HeaderCondition, ...] = (), query: tuple[str, ...] = ()) -> None:
        self.path_kind = path_kind
        self.path = path
        self.case_sensitive = case_sensitive
        self.headers = headers
        self.query = query

    @property
    def catch_all(self) -> bool:
        """``IsCatchAllRoute``: prefix ``/`` (or regex ``.*``) and no header/query matcher."""
        path_all = (
            (self.path_kind in ("prefix", "path_separated_prefix") and self.path == "/")
            or (self.path_kind == "regex" and self.path in ("*", ".*"))
        )
        return path_all and not self.headers and not self.query

    def matches(self, host: str, path: str) -> bool:
        if self.query:
            return False  # the probes carry no query parameters
        request_path = path.split("?", 1)[0] or "/"
        if self.headers:
            headers = {":path": path, ":authority": host, "host": host, ":method": "GET",
                       ":scheme": "http"}
            if not all(h.matches(headers) for h in self.headers):
                return False
        want, got = self.path, request_path
        if not self.case_sensitive:
            want, got = want.lower(), got.lower()
        if self.path_kind == "exact":
            return got == want
        if self.path_kind == "prefix":
            return got.startswith(want)
        if self.path_kind == "path_separated_prefix":
            return got == want or got.startswith(want + "/")
        return _regex_full_match(self.path, request_path, ignore_case=not self.case_sensitive)

    def describe(self) -> str:
        names = {"prefix": "prefix", "exact": "exact", "path_separated_prefix": "prefix",
                 "regex": "regex"}
        text = f"{names[self.path_kind]} {self.path}"
        extra = [h.describe() for h in self.headers] + [f"query {q}" for q in self.query]
        return text + (f" [{', '.join(extra)}]" if extra else "")


class Route(Record):
    """One Envoy route of a virtual host, with where it came from."""

    match: RouteMatch
    action: Literal["route", "redirect", "direct_response"]
    destination: str
    #: where it came from: the VirtualService's ref, ``spec.http`` index, ``match`` index
    #: (formatted only when a cause is written: a large bundle has a route per name)
    source: tuple[str, int, int | None]

    __slots__ = ("action", "destination", "match", "source")
    _fields = ("match", "action", "destination", "source")

    def __init__(
            self, match: RouteMatch, action: Literal["route", "redirect", "direct_response"],
            destination: str, source: tuple[str, int, int | None]) -> None:
        self.match = match
        self.action = action
        self.destination = destination
        self.source = source

    @property
    def origin(self) -> str:
        """E.g. ``VirtualService shop/web spec.http[0].match[1]``."""
        ref, http_index, match_index = self.source
        where = f"{ref} spec.http[{http_index}]"
        return where if match_index is None else f"{where}.match[{match_index}]"

    @property
    def catch_all(self) -> bool:
        return self.match.catch_all


class VirtualHost(Record):
    """One virtual host of ``http.<port>``; ``redirect_causes`` name the Gateway servers that set
    ``require_tls`` (in the order istiod met them)."""

    domain: str
    routes: tuple[Route, ...]
    require_tls: bool
    redirected_by: tuple[RedirectCause, ...]
    blackhole: bool

    __slots__ = ("blackhole", "domain", "redirected_by", "require_tls", "routes")
    _fields = ("domain", "routes", "require_tls", "redirected_by", "blackhole")

    def __init__(
            self, domain: str, routes: tuple[Route, ...], require_tls: bool,
            redirected_by: tuple[RedirectCause, ...] = (), blackhole: bool = False) -> None:
        self.domain = domain
        self.routes = routes
        self.require_tls = require_tls
        self.redirected_by = redirected_by
        self.blackhole = blackhole

    @property
    def redirect_causes(self) -> tuple[str, ...]:
        return tuple(str(c) for c in self.redirected_by)


class RedirectCause(Record):
    """A server that set ``require_tls`` on a virtual host: for its own host, or because it
    serves a VirtualService (``vs``) for the host (formatted only when a cause is written)."""

    server: MergedServer
    host: str
    vs: _VirtualService | None

    __slots__ = ("host", "server", "vs")
    _fields = ("server", "host", "vs")

    def __init__(self, server: MergedServer, host: str, vs: _VirtualService | None = None) -> None:
        self.server = server
        self.host = host
        self.vs = vs

    def __str__(self) -> str:
        if self.vs is None:
            return f"{self.server.ref} has httpsRedirect for host {self.host}"
        return f"{self.server.ref} has httpsRedirect and serves {self.vs.ref} for {self.host}"


def _causes_text(causes: Sequence[RedirectCause]) -> str:
    """The servers that set ``require_tls``, each named once (with every VirtualService it
    serves for the host)."""
    by_server: dict[str, list[RedirectCause]] = {}
    for cause in causes:
        by_server.setdefault(cause.server.ref, []).append(cause)
    parts = []
    for ref, found in by_server.items():
        services = list(dict.fromkeys(c.vs.ref for c in found if c.vs is not None))
        hosts = ", ".join(dict.fromkeys(c.host for c in found))
        if services:
            parts.append(f"{ref} has httpsRedirect and serves {', '.join(services)} for {hosts}")
        else:
            parts.append(f"{ref} has httpsRedirect for host {hosts}")
    return "; ".join(parts)


class MergedServer(Record):
    """A server that went into ``http.<port>``."""

    gateway: str  # "ns/name"
    index: int
    protocol: str
    hosts: tuple[str, ...]  # normalised (sanitizeServerHostNamespace)
    https_redirect: bool
    #: the port as written in the Gateway (``match.port`` compares with it), before
    #: ``resolvePorts`` translated it to the listener's port
    written_port: int

    __slots__ = ("gateway", "hosts", "https_redirect", "index", "protocol", "written_port")
    _fields = ("gateway", "index", "protocol", "hosts", "https_redirect", "written_port")

    def __init__(
            self, gateway: str, index: int, protocol: str, hosts: tuple[str, ...],
            https_redirect: bool, written_port: int = 80) -> None:
        self.gateway = gateway
        self.index = index
        self.protocol = protocol
        self.hosts = hosts
        self.https_redirect = https_redirect
        self.written_port = written_port

    @property
    def ref(self) -> str:
        return f"Gateway {self.gateway} spec.servers[{self.index}]"


class RouteConfig(Record):
    """The route configuration ``http.<port>`` of one gateway workload."""

    name: str
    port: int
    pod_labels: tuple[tuple[str, str], ...]
    gateways: tuple[str, ...]  # applied Gateways, in istiod's order
    servers: tuple[MergedServer, ...]
    virtual_hosts: tuple[VirtualHost, ...]
    notes: tuple[str, ...]  # servers istiod drops, and why

    __slots__ = (
        "_exact", "_wildcard_hosts", "gateways", "name", "notes", "pod_labels", "port", "servers",
        "virtual_hosts"
    )
    _fields = ("name", "port", "pod_labels", "gateways", "servers", "virtual_hosts", "notes")

    def __init__(
            self, name: str, port: int, pod_labels: tuple[tuple[str, str], ...],
            gateways: tuple[str, ...], servers: tuple[MergedServer, ...],
            virtual_hosts: tuple[VirtualHost, ...], notes: tuple[str, ...] = ()) -> None:
        self.name = name
        self.port = port
        self.pod_labels = pod_labels
        self.gateways = gateways
        self.servers = servers
        self.virtual_hosts = virtual_hosts
        self.notes = notes
        # indexes made on first use (not functools.cached_property: mypyc compiles none)
        self._exact: dict[str, VirtualHost] | None = None
        self._wildcard_hosts: tuple[VirtualHost, ...] | None = None

    @property
    def has_listener(self) -> bool:
        return bool(self.servers)

    @property
    def _by_domain(self) -> dict[str, VirtualHost]:
        """Exact domains (first one wins, as in the list): a lookup is then O(1), not a scan
        of every virtual host (a 10k-app bundle asks for 10k names)."""
        index = self._exact
        if index is None:
            index = {}
            for v in self.virtual_hosts:
                index.setdefault(v.domain, v)
            self._exact = index
        return index

    @property
    def _wildcards(self) -> tuple[VirtualHost, ...]:
        found = self._wildcard_hosts
        if found is None:
            found = tuple(v for v in self.virtual_hosts if "*" in v.domain and v.domain != "*")
            self._wildcard_hosts = found
        return found

    def virtual_host_for(self, host: str) -> VirtualHost | None:
        """Envoy's domain choice: exact, longest ``*suffix``, longest ``prefix*``, then ``*``."""
        name = _strip_port(host).lower()
        found = self._by_domain.get(name)
        if found is not None and name != "*":
            return found
        wildcards = self._wildcards
        suffix = [v for v in wildcards if v.domain.startswith("*")
                  and name.endswith(v.domain[1:]) and len(name) >= len(v.domain)]
        if suffix:
            return max(suffix, key=lambda v: len(v.domain))
        prefix = [v for v in wildcards if v.domain.endswith("*")
                  and name.startswith(v.domain[:-1]) and len(name) >= len(v.domain)]
        if prefix:
            return max(prefix, key=lambda v: len(v.domain))
        return self._by_domain.get("*")

    def answer(self, host: str, path: str = "/", *, causes: bool = True) -> Answer:
        """What Envoy does with ``GET http://host/path`` on this route configuration
        (``causes=False``: the same answer, its ``cause`` left empty -- what the proof
        compares, for 10k hosts, is kind, destination and virtual host)."""
        if not self.servers:
            why = ""
            if causes:
                labels = _labels_text(dict(self.pod_labels))
                if not self.gateways:
                    why = f"no Gateway selects a workload labelled {labels}"
                else:
                    why = (f"no HTTP server on port {self.port} in the Gateways applying to "
                           f"{labels} ({', '.join(self.gateways)})")
                why += " (no listener: connection refused)"
            return Answer("404", None, None, why)
        vh = self.virtual_host_for(host)
        if vh is None:
            domains = ", ".join(v.domain for v in self.virtual_hosts) if causes else ""
            return Answer("404", None, None,
                          f"no virtual host of {self.name} matches {host} (domains: {domains})"
                          if causes else "")
        if vh.blackhole:
            return Answer("404", vh.domain, None,
                          f"{self.name} has no virtual host (blackhole): no VirtualService is "
                          f"bound to the Gateways serving port {self.port}" if causes else "")
        if vh.require_tls:
            return Answer("redirect", vh.domain, REQUIRE_TLS_REDIRECT,
                          f"virtual host {vh.domain} requires TLS: "
                          f"{_causes_text(vh.redirected_by)}" if causes else "")
        name = _strip_port(host).lower()
        for r in vh.routes:
            if r.match.matches(name, path or "/"):
                if r.action == "redirect":
                    return Answer("redirect", vh.domain, r.destination,
                                  f"{r.origin} ({r.match.describe()}) redirects"
                                  if causes else "")
                return Answer("route", vh.domain, r.destination,
                              f"{r.origin} ({r.match.describe()})" if causes else "")
        request_path = path.split("?", 1)[0] or "/"
        return Answer("404", vh.domain, None,
                      f"no route of virtual host {vh.domain} matches {request_path}"
                      if causes else "")


def _labels_text(labels: Mapping[str, str]) -> str:
    if not labels:
        return "{}"
    return "{" + ", ".join(f"{k}={v}" for k, v in sorted(labels.items())) + "}"


def _strip_port(host: str) -> str:
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    if host.count(":") == 1:
        return host.split(":", 1)[0]
    return host


def _regex_full_match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    try:
        return re.fullmatch(pattern, value, re.IGNORECASE if ignore_case else 0) is not None
    except (re.error, RecursionError):
        return False


#: What Envoy answers a ``require_tls: ALL`` virtual host with.
REQUIRE_TLS_REDIRECT = "https://{host}{path} 301"
