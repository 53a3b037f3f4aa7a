"""HTTP-01 through cert-manager's ``gatewayHTTPRoute`` solver on Istio: the solver HTTPRoute,
where it attaches (:mod:`.gateway_api`) and what the Gateway's pods answer for
``GET http://<name>/.well-known/acme-challenge/<token>``.

The solver route is cert-manager's (``pkg/issuer/acme/http/httproute.go``
``generateHTTPRouteSpec``): in the challenge's namespace, hostnames ``[name]`` (none for an IP
address), one rule with an ``Exact`` match on the challenge path and the solver Service on port
8089; its ``parentRefs`` are the solver's, with the Certificate's annotations applied
(``pkg/controller/acmeorders/util.go`` ``applyGatewayAPIAnnotationParentRefOverride``: name and
kind together, namespace defaulting to the Certificate's; an issuer parentRef of that name,
namespace and kind -- or no kind -- is replaced; no parentRef left: no challenge).

The answer follows istiod, which turns Gateway API into its own Gateways and VirtualServices
(``pilot/pkg/config/kube/gateway``): one Gateway per listener (``gateway_collection.go``,
``InternalGatewayName``) with one server built by ``conversion.go`` ``buildListener`` -- port,
protocol, ``<namespace>/<hostname>`` per admitted namespace, TLS settings and *never*
``httpsRedirect``; per route, parent listener and hostname one VirtualService
(``route_collections.go`` ``HTTPRouteCollection``, each rule split into one route per match by
``convertHTTPRoute``, a host dropped by ``hostnameAllowedByIsolation`` -- listener isolation, the
``GatewayHTTPListenerIsolation`` conformance feature), the VirtualServices of one listener and
host merged oldest first (``mergeHTTPRoutes``: creation time, namespace, name) and sorted by
``sortHTTPRoutes`` (``Exact`` before ``PathPrefix`` before regex, longer paths first, then a
method match, more header matches, more query matches; stable). Prefix matches keep Gateway
semantics (path-separated, ``route.go`` ``TranslateRouteMatch``); a ``RequestRedirect`` becomes a
redirect (``createRedirectFilter``). The solver route is the newest of all. Envoy then picks the
virtual host by hostname specificity and the first matching route (:mod:`.routing`).

Which pods, and classic Istio Gateways: istiod binds a Gateway API Gateway to the proxies behind
its Service (``extractGatewayServices``) -- the deployment it creates from
``manifests/charts/istio-control/istio-discovery/files/kube-gateway.yaml``, whose pods are
labelled ``gateway.networking.k8s.io/gateway-name: <name>``,
``gateway.networking.k8s.io/gateway-class-name: <class>``, ``gateway.istio.io/managed:
istio.io-gateway-controller``, ``service.istio.io/canonical-name: <name>-<class>`` (the
deployment name, ``gatewaycommon/deploymentcontroller.go``), ``service.istio.io/canonical-revision:
latest``, ``sidecar.istio.io/inject: "false"`` and the Gateway's labels (or
``spec.infrastructure.labels``); or, for a Gateway whose ``addresses`` name a hostname (manual
deployment, ``IsManaged``), the pods that Service selects. A classic ``networking.istio.io``
Gateway whose selector is a subset of those labels (or that has none) applies to the same pods,
and ``pilot/pkg/model/push_context.go`` ``mergeGateways`` merges both kinds of servers into the
same ``http.80`` route configuration: a port-80 ``httpsRedirect`` server there sets
``require_tls`` on the virtual hosts it shares with the Gateway API listeners, or takes the host
outright. This is modelled: the classic Gateways, VirtualServices and Ingresses of the bundle go
into the same simulation with the Gateway API ones.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, Literal

from merge_https_redirects.model import gateway_api as ga
from merge_https_redirects.model import gateway_api_listeners as gal
from merge_https_redirects.model.envoy import Answer
from merge_https_redirects.model.gateway import _Gateway, _Server, _VirtualService
from merge_https_redirects.model.host import DOMAIN_SUFFIX, host_subset_of, sanitize_server_hosts
from merge_https_redirects.model.ingress import IngressOptions
from merge_https_redirects.model.routing import RoutingInput, build_route_config
from merge_https_redirects.model.values import as_dict as _dict
from merge_https_redirects.model.values import as_int as _int
from merge_https_redirects.model.values import as_list as _list
from merge_https_redirects.model.values import as_str as _str

#: the solver route is created when the challenge is: after everything in the bundle
_SOLVER_KEY = (2, 0, datetime.max)


# --------------------------------------------------------------------------------------------
# The solver route


def _invalid_parent_ref(raw: object) -> str | None:
    """Why the API server rejects a ``ParentReference`` (Gateway API ``shared_types.go``: a
    non-empty ``name``; ``kind``, ``namespace`` and ``sectionName`` non-empty strings when set,
    ``group`` a string, ``port`` 1-65535), ``None`` when it accepts it."""
    if not isinstance(raw, Mapping):
        return f"{raw!r} is not an object"
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        return f"name {name!r} is not a non-empty string" if "name" in raw else "it has no name"
    for key in ("kind", "namespace", "sectionName"):
        if key in raw and (not isinstance(raw[key], str) or not raw[key]):
            return f"{key} {raw[key]!r} is not a non-empty string"
    if "group" in raw and not isinstance(raw["group"], str):
        return f"group {raw['group']!r} is not a string"
    port = raw.get("port")
    if "port" in raw and (isinstance(port, bool) or not isinstance(port, int)
                          or not 1 <= port <= 65535):
        return f"port {port!r} is not a port number"
    return None


def parent_refs_for(solver_refs: Sequence[object],
                    override: tuple[str | None, str | None, str | None],
                    namespace: str) -> tuple[list[dict[str, Any]], str | None]:
    """``applyGatewayAPIAnnotationParentRefOverride``: the parentRefs and, when cert-manager
    refuses, why. The annotations count by presence (``name, ok := o.Annotations[...]``): empty
    ones still add a parentRef, one with an empty name that the API server rejects when the
    solver creates its HTTPRoute -- as it rejects any malformed parentRef."""
    name, kind, ns = override
    refs = [dict(r) if isinstance(r, Mapping) else r for r in solver_refs]
    if (name is None) != (kind is None):
        return [], ("the Certificate sets only one of the http01-parentrefname and "
                    "http01-parentrefkind annotations: cert-manager refuses (\"cannot specify "
                    "only one of parentRefName, parentRefKind override annotations\") and "
                    "creates no challenge")
    if name is not None and kind is not None:
        target_ns = ns or namespace
        refs = [r for r in refs if not (
            isinstance(r, Mapping) and r.get("namespace") == target_ns
            and r.get("name") == name and (r.get("kind") is None or r.get("kind") == kind))]
        refs.append({"name": name, "namespace": target_ns, "kind": kind})
    if not refs:
        return [], ("the solver gives no parentRefs (gatewayHTTPRoute.parentRefs) and the "
                    "Certificate no http01-parentref annotations: cert-manager refuses "
                    "(\"must specify parentRefs either through annotations or solver "
                    "config\") and creates no challenge")
    for i, r in enumerate(refs):
        why = _invalid_parent_ref(r)
        if why is not None:
            src = ("from the Certificate's http01-parentref annotations" if i == len(refs) - 1
                   and name is not None else "of the solver's gatewayHTTPRoute.parentRefs")
            return [], (f"the solver HTTPRoute's parentRefs[{i}] ({src}) is invalid: {why}; "
                        f"the API server rejects the HTTPRoute and the challenge never gets "
                        f"its route")
    return [dict(r) for r in refs if isinstance(r, Mapping)], None


def solver_route(namespace: str, dns_name: str, is_ip: bool, refs: Sequence[Mapping[str, Any]],
                 service: str, path: str, port: int) -> dict[str, Any]:
    """The HTTPRoute ``generateHTTPRouteSpec`` builds (named like its ``generateName``)."""
    spec: dict[str, Any] = {
        "parentRefs": [dict(r) for r in refs],
        "rules": [{"matches": [{"path": {"type": "Exact", "value": path}}],
                   "backendRefs": [{"group": "", "kind": "Service", "name": service,
                                    "namespace": namespace, "port": port, "weight": 1}]}],
    }
    if not is_ip:
        spec["hostnames"] = [dns_name]
    return {"apiVersion": f"{ga.GROUP}/v1", "kind": "HTTPRoute",
            "metadata": {"name": service, "namespace": namespace,
                         "labels": {"acme.cert-manager.io/http01-solver": "true"}},
            "spec": spec}


# --------------------------------------------------------------------------------------------
# HTTPRoute rules as istiod converts them


def _string_match(kind: str, value: str) -> dict[str, str]:
    return {"regex": value} if kind == "RegularExpression" else {"exact": value}


def _convert_match(m: Mapping[str, Any]) -> dict[str, Any]:
    """``createURIMatch`` (a trailing ``/`` of a prefix ignored), ``createHeadersMatch``,
    ``createQueryParamsMatch``, ``createMethodMatch``; the CRD's defaults filled in."""
    path = _dict(m.get("path")) or {}
    kind = _str(path.get("type")) or "PathPrefix"
    value = _str(path.get("value")) or "/"
    out: dict[str, Any] = {}
    if kind == "PathPrefix":
        out["uri"] = {"prefix": value.rstrip("/") or "/"}
    elif kind == "Exact":
        out["uri"] = {"exact": value}
    else:
        out["uri"] = {"regex": value}
    headers = {}
    for h in _list(m.get("headers")):
        hd = _dict(h) or {}
        headers[(_str(hd.get("name")) or "").lower()] = _string_match(
            _str(hd.get("type")) or "Exact", _str(hd.get("value")) or "")
    if headers:
        out["headers"] = headers
    query = {}
    for q in _list(m.get("queryParams")):
        qd = _dict(q) or {}
        query[_str(qd.get("name")) or ""] = _string_match(
            _str(qd.get("type")) or "Exact", _str(qd.get("value")) or "")
    if query:
        out["queryParams"] = query
    if _str(m.get("method")):
        out["method"] = {"exact": _str(m.get("method"))}
    return out


def _redirect(f: Mapping[str, Any]) -> dict[str, Any]:
    """``createRedirectFilter``: no port and a scheme -- the scheme's default port; no port and
    no scheme -- the request's."""
    out: dict[str, Any] = {"redirectCode": _int(f.get("statusCode")) or 302}  # CRD default
    if _str(f.get("hostname")):
        out["authority"] = _str(f.get("hostname"))
    if _str(f.get("scheme")):
        out["scheme"] = _str(f.get("scheme"))
    if _int(f.get("port")):
        out["port"] = _int(f.get("port"))
    elif not _str(f.get("scheme")):
        out["derivePort"] = "FROM_REQUEST_PORT"
    path = _dict(f.get("path")) or {}
    if path.get("type") == "ReplaceFullPath" and _str(path.get("replaceFullPath")) is not None:
        out["uri"] = _str(path.get("replaceFullPath"))
    return out


def convert_rules(route: ga.HTTPRoute) -> list[tuple[dict[str, Any], str]]:
    """``convertHTTPRoute`` per rule and match: Istio HTTP routes, each with where it came
    from (``HTTPRoute ns/name spec.rules[i].matches[j]``)."""
    out: list[tuple[dict[str, Any], str]] = []
    for i, rule in enumerate(route.rules):
        raw_matches = rule.get("matches")
        matches: list[Mapping[str, Any] | None]
        if raw_matches is None:  # CRD default
            matches = [{"path": {"type": "PathPrefix", "value": "/"}}]
        else:
            matches = [_dict(m) for m in _list(raw_matches)] or [None]
        action: dict[str, Any] = {}
        for f in _list(rule.get("filters")):
            fd = _dict(f) or {}
            if fd.get("type") == "RequestRedirect":
                action = {"redirect": _redirect(_dict(fd.get("requestRedirect")) or {})}
        if not action:
            backends = [_dict(b) or {} for b in _list(rule.get("backendRefs"))]
            if sum((_int(b.get("weight")) or 0) if "weight" in b else 1 for b in backends) == 0:
                action = {"directResponse": {"status": 500}}
            else:
                action = {"route": [{"destination": {
                    "host": f"{b.get('name')}.{_str(b.get('namespace')) or route.namespace}"
                            f".svc.{DOMAIN_SUFFIX}",
                    **({"port": {"number": _int(b.get("port"))}} if _int(b.get("port")) else {}),
                }, "weight": _int(b.get("weight")) if "weight" in b else 1} for b in backends]}
        for j, m in enumerate(matches):
            http: dict[str, Any] = dict(action)
            where = f"{route.ref} spec.rules[{i}]"
            if m is not None:
                http["match"] = [_convert_match(m)]
                where += f".matches[{j}]"
            out.append((http, where))
    return out


def _sort_key(http: Mapping[str, Any]) -> tuple[int, ...]:
    """``sortHTTPRoutes`` as a key (``getURIRank``, ``getURILength``; no match: last)."""
    matches = _list(http.get("match"))
    if not matches:
        return (1,)
    m = _dict(matches[0]) or {}
    uri = _dict(m.get("uri")) or {}
    rank = 3 if "exact" in uri else 2 if "prefix" in uri else 1 if "regex" in uri else -1
    length = len(str(next(iter(uri.values()), ""))) if uri else 0
    return (0, -rank, -length, 0 if m.get("method") else 1, -len(_dict(m.get("headers")) or {}),
            -len(_dict(m.get("queryParams")) or {}))


# --------------------------------------------------------------------------------------------
# The simulation of one Gateway's pods


def pod_labels(gw: ga.Gateway, bundle: ga.Bundle) -> tuple[dict[str, str], str]:
    """The labels of the pods serving ``gw`` (see the module docstring) and a note when they
    are not known."""
    if not gw.managed:
        found: dict[str, str] = {}
        names = []
        for kind, value in gw.addresses:
            if kind not in ("", "Hostname"):
                continue
            fqdn = value if "." in value else f"{value}.{gw.namespace}.svc.{DOMAIN_SUFFIX}"
            name, _, rest = fqdn.partition(".")
            names.append(fqdn)
            selector = bundle.services.get(f"{rest.partition('.')[0]}/{name}")
            if selector is not None:
                found.update(selector)
        if found:
            return found, ""
        return {}, f"the Service {', '.join(names) or '(none named)'} is not in the input"
    infra = gw.infrastructure_labels if gw.infrastructure_labels is not None else gw.labels
    name = gw.annotations.get("gateway.istio.io/name-override") or f"{gw.name}-{gw.class_name}"
    return {"sidecar.istio.io/inject": "false", "service.istio.io/canonical-name": name,
            "service.istio.io/canonical-revision": "latest",
            **{k: v for k, v in infra.items() if not k.startswith(f"{ga.GROUP}/")},
            f"{ga.GROUP}/gateway-name": gw.name, f"{ga.GROUP}/gateway-class-name": gw.class_name,
            "gateway.istio.io/managed": "istio.io-gateway-controller"}, ""


_ORIGIN = re.compile(r"(?:VirtualService|Gateway) \S+ spec\.(?:http|servers)\[\d+\]"
                     r"(?:\.match\[\d+\])?|VirtualService \S+")


class GatewayApiInput(RoutingInput):
    """The bundle as the routing model reads it, plus istiod's Gateways and VirtualServices of
    one Gateway API Gateway (set per simulation)."""

    __slots__ = ("extra_gateways", "extra_services")

    def __init__(self, resources: Sequence[object]) -> None:
        super().__init__(resources)
        self.extra_gateways: list[_Gateway] = []
        self.extra_services: list[_VirtualService] = []

    def collect(self, ingress: IngressOptions, extra: Sequence[Mapping[str, Any]] = ()
                ) -> tuple[list[_Gateway], list[_VirtualService]]:
        gateways, services = super().collect(ingress, extra)
        return (sorted(gateways + self.extra_gateways, key=lambda g: g.sort_key),
                sorted(services + self.extra_services, key=lambda v: v.sort_key))


@dataclass(frozen=True, slots=True)
class Simulated:
    answer: Answer
    cause: str
    #: why the pods are not known (a manual deployment whose Service is not in the input)
    pods_unknown: str = ""


def _server_hosts(listener: ga.Listener, bundle: ga.Bundle, namespaces: set[str]
                  ) -> tuple[str, ...]:
    """``buildHostnameMatch``: ``<ns>/<hostname>`` per admitted namespace (``~`` if none)."""
    hostname = listener.hostname or "*"
    if listener.routes_from == "All":
        return sanitize_server_hosts([f"*/{hostname}"], listener.owner_namespace)
    if listener.routes_from == "Same":
        return (f"{listener.owner_namespace}/{hostname}",)
    admitted = sorted(ns for ns in namespaces | set(bundle.namespaces) if gal.namespace_accepted(
        listener.routes_from, listener.routes_selector, listener.owner_namespace, ns,
        bundle.namespaces, "").allowed)
    return tuple(f"{ns}/{hostname}" for ns in admitted) or (f"~/{hostname}",)


def _renamed(names: Mapping[str, str], m: re.Match[str]) -> str:
    text = m.group(0)
    return names.get(re.sub(r"\.match\[\d+\]$", "", text), text)


def simulate(gw: ga.Gateway, listeners: Sequence[ga.Listener],
             routes: Sequence[ga.HTTPRoute], bundle: ga.Bundle, source: GatewayApiInput,
             host: str, path: str, port: int, ingress: IngressOptions) -> Simulated:
    """``GET http://host/path`` on ``port`` of the pods of ``gw``, whose port-``port`` HTTP
    listeners (its own and its accepted ListenerSets') are ``listeners``, with ``routes``."""
    labels, note = pod_labels(gw, bundle)
    namespaces = {r.namespace for r in routes}
    names: dict[str, str] = {}  # internal names -> what to call them in causes
    gateways = []
    for n, listener in enumerate(listeners):
        owner = bundle.listener_sets.get(f"{listener.owner_namespace}/{listener.owner_name}")
        # istiod's Gateway of a listener carries its owner's creation time (then name, ns)
        key = owner.sort_key if listener.owner_kind == "ListenerSet" and owner else gw.sort_key
        gateways.append(_Gateway(
            listener.owner_namespace, listener.internal_name, None,
            (_Server(0, listener.port, "HTTP", _server_hosts(listener, bundle, namespaces),
                     False, False, "", ""),),
            (*key[:3], listener.internal_name, listener.owner_namespace, n)))
        names[f"Gateway {listener.owner_namespace}/{listener.internal_name} spec.servers[0]"] = \
            listener.ref
    merged: dict[tuple[str, str], list[tuple[ga.HTTPRoute, list[tuple[dict[str, Any], str]]]]]
    merged = {}
    for route in sorted(routes, key=lambda r: r.sort_key):
        converted: list[tuple[dict[str, Any], str]] | None = None
        for ref in route.parent_refs:
            outcome = ga.resolve_parent(ref, bundle, route)
            for att in outcome.attached:
                if att.listener not in listeners:
                    continue
                others = ga.siblings(att.listener, bundle)
                for h in route.hostnames or ("*",):
                    if not ga.allowed_by_isolation(att.listener, others, h)[0]:
                        continue
                    converted = converted if converted is not None else convert_rules(route)
                    entry = merged.setdefault((att.listener.internal_name, h), [])
                    if all(r is not route for r, _ in entry):
                        entry.append((route, converted))
    services = []
    for n, ((internal, h), entries) in enumerate(merged.items()):
        listener = next(lst for lst in listeners if lst.internal_name == internal)
        http = sorted((item for _, conv in entries for item in conv), key=lambda x: _sort_key(x[0]))
        vs_name = f"gwapi~{n}"
        first = entries[0][0]
        services.append(_VirtualService(
            first.namespace, vs_name, (h,), (f"{listener.owner_namespace}/{internal}",),
            tuple(x[0] for x in http), (*first.sort_key[:3], vs_name, first.namespace),
            ingress_semantics=True))
        for i, (_, where) in enumerate(http):
            names[f"VirtualService {first.namespace}/{vs_name} spec.http[{i}]"] = where
        names[f"VirtualService {first.namespace}/{vs_name}"] = ", ".join(
            r.ref for r, _ in entries)
    source.extra_gateways, source.extra_services = gateways, services
    config = build_route_config(source, labels, port, ingress=ingress,
                                proxy_namespace=gw.namespace)
    source.extra_gateways, source.extra_services = [], []
    answer = config.answer(host, path)

    cause = _ORIGIN.sub(partial(_renamed, names), answer.cause)
    shown = ", ".join(f"{k}={v}" for k, v in sorted(labels.items())) or "labels not known"
    where = f"pods of Gateway {gw.key} ({shown})"
    return Simulated(answer, f"{cause} [on {where}]", note)


def classic_redirects(source: GatewayApiInput, ingress: IngressOptions, host: str,
                      port: int) -> list[str]:
    """The classic ``networking.istio.io`` Gateways with a selector and a port-``port``
    ``httpsRedirect`` server for ``host`` (or a wildcard covering it): on pods that are not
    known, each may apply (``mergeGateways``) and redirect the challenge."""
    gateways, _ = source.collect(ingress)
    out = []
    for g in gateways:
        if g.derived or not g.selector:
            continue
        for srv in g.servers:
            hosts = [h.rpartition("/")[2].lower() for h in srv.hosts]
            if srv.https_redirect and srv.number == port and any(
                    h == "*" or host_subset_of(host.lower(), h) for h in hosts):
                sel = ", ".join(f"{k}={v}" for k, v in sorted(g.selector.items()))
                out.append(f"Gateway {g.key} spec.servers[{srv.index}] (selector {sel})")
    return out


# --------------------------------------------------------------------------------------------
# Verdicts


@dataclass(frozen=True, slots=True)
class GatewayRequest:
    """One name solved by a ``gatewayHTTPRoute`` solver."""

    namespace: str
    name: str
    is_ip: bool
    solver_refs: tuple[Mapping[str, Any], ...]
    override: tuple[str | None, str | None, str | None]
    service: str  # the solver Service (and route) name


@dataclass(frozen=True, slots=True)
class Judged:
    verdict: Literal["pass", "redirected", "unroutable", "impossible", "unknown",
                     "out-of-scope"]  # http01.Verdict
    cause: str
    #: the rule reporting it when not the verdict's usual one
    rule: str | None = None
    #: what a verdict rests on that the input does not tell (also stated in ``cause``)
    assumed: tuple[str, ...] = ()


_RANK = {"redirected": 0, "unroutable": 1, "unknown": 2, "out-of-scope": 3, "pass": 4}
#: the rule of a route that attaches nowhere, by the furthest ``referenceAllowed`` stage
_STAGE_RULES = {"port": "MHR033", "sectionName": "MHR033", "hostname": "MHR035",
                "namespace": "MHR036", "kind": "MHR037", "conflict": "MHR040"}


def _attach_failure(route: ga.HTTPRoute, outcome: ga.ParentOutcome, port: int) -> Judged:
    who = f"the solver {route.ref} (parentRef {outcome.ref.text})"
    if outcome.problem == "not-allowed":
        return Judged("unroutable", f"{who}: {outcome.message}", "MHR038")
    refused_http = [r for r in outcome.refused if ga.STAGES.index(r.stage) > 1
                    and r.listener.protocol == "HTTP" and r.listener.port == port]
    if outcome.attached and refused_http:
        # the port-80 HTTP listener's own refusal is the reason, not where else it attached
        best = max(refused_http, key=lambda r: ga.STAGES.index(r.stage))
        found = ", ".join(f"{a.listener.ref} ({a.listener.protocol}, port {a.listener.port})"
                          for a in outcome.attached)
        return Judged("unroutable", f"{who}: {best.reason} (it attaches only to {found})",
                      _STAGE_RULES[best.stage])
    if outcome.attached:
        found = ", ".join(f"{a.listener.ref} ({a.listener.protocol}, port {a.listener.port})"
                          for a in outcome.attached)
        return Judged("unroutable", f"{who} attaches only to {found}: no HTTP listener on port "
                                    f"{port} takes the challenge", "MHR034")
    if not outcome.refused:
        return Judged("unroutable", f"{who}: the parent has no listener", "MHR033")
    best = max(outcome.refused, key=lambda r: ga.STAGES.index(r.stage))
    named = [r.listener for r in outcome.refused if ga.STAGES.index(r.stage) > 1]
    if named and not any(lst.port == port for lst in named):
        found = ", ".join(f"{lst.ref} ({lst.protocol}, port {lst.port})" for lst in named)
        return Judged("unroutable", f"{who} names only {found}, no HTTP listener on port "
                                    f"{port}; and it refuses the route: {best.reason}",
                      "MHR034")
    others = [r.reason for r in outcome.refused if r is not best
              and (ga.STAGES.index(r.stage) > 1 or ga.STAGES.index(best.stage) <= 1)]
    more = f" (also: {'; '.join(others[:3])})" if others else ""
    return Judged("unroutable", f"{who} attaches to no listener: {best.reason}{more}",
                  _STAGE_RULES[best.stage])


def _classify(sim: Simulated, expected: str, notes: Sequence[str]) -> Judged:
    answer = sim.answer
    assumed = tuple(n for n in dict.fromkeys(notes) if n)
    extra = "".join(f" [assumption: {n}]" for n in assumed)
    if answer.kind == "redirect":
        return Judged("redirected", sim.cause + extra, assumed=assumed)
    if answer.kind == "route":
        if answer.destination == expected:
            return Judged("pass", f"reaches the solver: {sim.cause}{extra}", assumed=assumed)
        return Judged("unroutable", f"routed to {answer.destination} instead of the solver "
                                    f"{expected}: {sim.cause}{extra}", assumed=assumed)
    return Judged("unroutable", sim.cause + extra, assumed=assumed)


def _unknown_pods(gw: ga.Gateway, sim: Simulated, expected: str, notes: list[str],
                  source: GatewayApiInput, ingress: IngressOptions, host: str,
                  port: int) -> Judged:
    """:func:`_classify`, but a pass on pods that are not known is no pass when a classic
    Gateway with a port-``port`` redirect for the host may select them (the common migration:
    a Gateway API Gateway on the ``istio=ingressgateway`` pods); else the pass stands on that
    assumption, which it states."""
    judged = _classify(sim, expected, notes)
    if not sim.pods_unknown or judged.verdict != "pass":
        return judged
    manual = (f"Gateway {gw.key} is deployed manually (addresses "
              f"{', '.join(v for _, v in gw.addresses) or '-'}): {sim.pods_unknown}, so its "
              f"pods are not known")
    if could := classic_redirects(source, ingress, host, port):
        return Judged("unknown", (
            f"{manual}; {', '.join(could)} may select them and redirect {host} to https "
            f"before any route (it does when they are its pods): add the Service to the input"
            f" (on the pods assumed: {_classify(sim, expected, []).cause})"))
    return _classify(sim, expected, [*notes, f"{manual}: assumed that no classic Gateway "
                                             f"with a selector redirects {host} on them"])


def port_listeners(gw: ga.Gateway, bundle: ga.Bundle, port: int) -> list[ga.Listener]:
    """The HTTP listeners on ``port`` served by the pods of ``gw``: its own, then those of the
    ListenerSets it accepts (each becomes an istiod Gateway on the same pods)."""
    own = list(gw.listeners)
    for ls, check in sorted(bundle.listener_sets_of(gw), key=lambda x: x[0].sort_key):
        if check.allowed:
            own.extend(ls.listeners)
    return [lst for lst in own if lst.protocol == "HTTP" and lst.port == port
            and bundle.conflict(lst) is None]


def judge(requests: Sequence[GatewayRequest], resources: Sequence[object], *, port: int,
          path: str, solver_port: int, ingress: IngressOptions) -> list[Judged]:
    """A verdict per request: its solver route attached as istiod attaches it and the
    challenge simulated on the pods of every Gateway it reaches (the worst one counts)."""
    bundle = ga.Bundle.read(resources)
    source = GatewayApiInput(resources)
    out: list[Judged] = []
    for req in requests:
        refs, problem = parent_refs_for(req.solver_refs, req.override, req.namespace)
        if problem:
            out.append(Judged("impossible", problem, "MHR032"))
            continue
        raw = solver_route(req.namespace, req.name, req.is_ip, refs, req.service, path,
                           solver_port)
        route = ga.read_http_route(raw, True, (*_SOLVER_KEY, req.namespace, req.service))
        assert route is not None
        host = req.name if not req.is_ip else "*"
        results: list[Judged] = []
        failures: list[tuple[ga.ParentOutcome, Judged]] = []
        reached: dict[str, tuple[ga.Gateway, list[str]]] = {}
        for ref in route.parent_refs:
            outcome = ga.resolve_parent(ref, bundle, route)
            if outcome.problem in ("missing", "unknown-class"):
                results.append(Judged("unknown", f"parentRef {ref.text}: {outcome.message}"))
                continue
            if outcome.problem in ("foreign", "unsupported"):
                results.append(Judged("out-of-scope", outcome.message))
                continue
            usable = [a for a in outcome.attached
                      if a.listener.protocol == "HTTP" and a.listener.port == port]
            if outcome.problem or not usable:
                failures.append((outcome, _attach_failure(route, outcome, port)))
                continue
            isolated: list[tuple[ga.Attachment, ga.Listener | None]] = []
            kept: list[tuple[ga.Attachment, ga.Listener | None]] = []
            for a in usable:
                ok, owner = ga.allowed_by_isolation(a.listener, ga.siblings(a.listener, bundle),
                                                    host)
                (kept if ok else isolated).append((a, owner))
            if not kept:
                a, owner = isolated[0]
                by = (f"the more specific {owner.ref} (hostname {owner.hostname or '*'}) owns it"
                      if owner else f"it is not a host of {a.listener.ref}")
                failures.append((outcome, Judged("unroutable", (
                    f"the solver {route.ref} attaches to {a.listener.ref} (hostname "
                    f"{a.listener.hostname or '*'}), but listener isolation keeps {host} from "
                    f"its routes: {by} on port {port}"), "MHR039")))
                continue
            gw = outcome.gateway
            assert gw is not None
            entry = reached.setdefault(gw.key, (gw, []))
            entry[1].extend(a.assumed for a, _ in kept)
        expected = f"{req.service}.{req.namespace}.svc.{DOMAIN_SUFFIX}:{solver_port}"
        for gw, notes in reached.values():
            listeners = port_listeners(gw, bundle, port)
            sim = simulate(gw, listeners, [*bundle.routes, route], bundle, source, req.name,
                           path, port, ingress)
            results.append(_unknown_pods(gw, sim, expected, notes, source, ingress, host,
                                         port))
        results.extend(j for o, j in failures
                       if o.gateway is None or o.gateway.key not in reached)
        if not results:  # every parentRef is read: never empty, but never a crash either
            results.append(Judged("unknown", f"the solver {route.ref} reaches no parent"))
        out.append(min(results, key=lambda j: _RANK.get(j.verdict, 5)))
    return out
