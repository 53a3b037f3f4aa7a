"""Routes of one VirtualService on one server (``pilot/pkg/networking/core/route/route.go``):
``BuildHTTPRoutesForVirtualService`` drops matches for another ``port`` and matches restricted to
other ``gateways`` or ``sourceLabels``, and stops after the first catch-all; redirects as Envoy
writes them (``HTTPRedirect``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from merge_https_redirects.model.envoy import HeaderCondition, Route, RouteMatch, StringMatch
from merge_https_redirects.model.gateway import _VirtualService, is_subset
from merge_https_redirects.model.host import resolve_gateway_name
from merge_https_redirects.model.values import as_dict as _dict
from merge_https_redirects.model.values import as_int as _int
from merge_https_redirects.model.values import as_list as _list
from merge_https_redirects.model.values import as_str as _str
from merge_https_redirects.model.values import as_str_items as _str_items
from merge_https_redirects.model.values import as_str_map as _str_map


def _string_match(raw: object) -> StringMatch | None:
    d = _dict(raw)
    if d is None:
        return None
    exact, prefix, regex = _str(d.get("exact")), _str(d.get("prefix")), _str(d.get("regex"))
    if exact is not None:
        return StringMatch("exact", exact)
    if prefix is not None:
        return StringMatch("prefix", prefix)
    if regex is not None and regex != "*":
        return StringMatch("regex", regex)
    return StringMatch("present")


def translate_route_match(match: Mapping[str, Any] | None, ingress_semantics: bool) -> RouteMatch:
    """``TranslateRouteMatch`` (``pilot/pkg/networking/core/route/route.go``): ``method``,
    ``authority`` and ``scheme`` become header matchers on the pseudo-headers, ``headers``
    entries header matchers by name (``:path`` included: users carve the challenge path out
    of a redirect route that way, istio#27643), ``withoutHeaders`` inverted ones."""
    if match is None:
        return RouteMatch()
    path_kind: Literal["prefix", "exact", "path_separated_prefix", "regex"] = "prefix"
    path = "/"
    uri = _dict(match.get("uri"))
    if uri is not None:
        if _str(uri.get("exact")) is not None:
            path_kind, path = "exact", str(uri["exact"])
        elif _str(uri.get("prefix")) is not None:
            prefix = str(uri["prefix"])
            if ingress_semantics and prefix != "/":
                path_kind, path = "path_separated_prefix", prefix.rstrip("/") or "/"
            else:
                path_kind, path = "prefix", prefix
        elif _str(uri.get("regex")) is not None:
            path_kind, path = "regex", str(uri["regex"])
    headers: list[HeaderCondition] = []
    for field_name, header in ((":method", "method"), (":authority", "authority"),
                               (":scheme", "scheme")):
        if header in match:
            sm = _string_match(match.get(header))
            if sm is not None:
                headers.append(HeaderCondition(field_name, sm))
    for invert, key in ((False, "headers"), (True, "withoutHeaders")):
        for name, raw in (_dict(match.get(key)) or {}).items():
            sm = _string_match(raw)
            if sm is None:
                sm = StringMatch("present")
            lowered = str(name).lower()
            headers.append(HeaderCondition(":authority" if lowered == "host" else lowered,
                                           sm, invert))
    query = tuple(str(n) for n in (_dict(match.get("queryParams")) or {}))
    return RouteMatch(
        path_kind=path_kind, path=path,
        case_sensitive=match.get("ignoreUriCase") is not True,
        headers=tuple(headers), query=query,
    )


def redirect_target(redirect: Mapping[str, Any], server_port: int = 80) -> str:
    """The redirect an ``HTTPRedirect`` answers with on a plain server written on
    ``server_port`` (``ApplyRedirect`` in ``route.go``), in one canonical form so that equal
    redirects compare equal: ``SCHEME://AUTHORITY[:PORT]PATH CODE``, where ``{host}`` and
    ``{path}`` stand for the request's own. ``require_tls`` is the same as ``{scheme: https}``:
    a 301 to ``https://{host}{path}``."""
    scheme = (_str(redirect.get("scheme")) or "http").lower()
    authority = _str(redirect.get("authority")) or "{host}"
    port = _int(redirect.get("port"))
    if port is None and _str(redirect.get("derivePort")) == "FROM_REQUEST_PORT":
        port = server_port
    if (port, scheme) in ((80, "http"), (443, "https")):
        port = None  # istiod clears the default port of the scheme
    port_text = f":{port}" if port else ""
    uri = _str(redirect.get("uri")) or "{path}"
    code = _int(redirect.get("redirectCode")) or 301
    return f"{scheme}://{authority}{port_text}{uri} {code}"


def _destination_text(http: Mapping[str, Any], port: int
                      ) -> tuple[Literal["route", "redirect", "direct_response"], str]:
    red = _dict(http.get("redirect"))
    if red is not None:
        return "redirect", redirect_target(red, port)
    direct = _dict(http.get("directResponse"))
    if direct is not None:
        return "direct_response", f"direct response {direct.get('status')}"
    dests = []
    for d in _list(http.get("route")):
        dd = _dict(d) or {}
        dest = _dict(dd.get("destination")) or {}
        host = _str(dest.get("host")) or "?"
        dest_port = _dict(dest.get("port")) or {}
        number, pname = _int(dest_port.get("number")), _str(dest_port.get("name"))
        weight = _int(dd.get("weight"))
        if weight == 0 and len(_list(http.get("route"))) > 1:
            continue
        suffix = f":{number}" if number is not None else (f":{pname}" if pname else "")
        dests.append(host + suffix)
    return "route", ", ".join(dests) if dests else "(no destination)"


def build_routes(vs: _VirtualService, port: int, gateway: str,
                 pod_labels: Mapping[str, str]) -> list[Route]:
    """``BuildHTTPRoutesForVirtualService`` for one Gateway of the VirtualService; ``port`` is
    the server's written port, which ``match.port`` is compared with."""
    out: list[Route] = []
    ref = vs.ref
    for i, raw in enumerate(vs.http):
        http = _dict(raw)
        if http is None:
            continue
        action, dest = _destination_text(http, port)
        matches = _list(http.get("match"))
        catchall = False
        if not matches:
            out.append(Route(translate_route_match(None, vs.ingress_semantics), action, dest,
                             (ref, i, None)))
            catchall = True
        else:
            for j, raw_match in enumerate(matches):
                m = _dict(raw_match)
                if m is None:
                    continue
                number = _int(m.get("port"))
                if number is not None and number not in (0, port):
                    continue
                if not _source_matches(m, gateway, vs.namespace, pod_labels):
                    continue
                route = Route(translate_route_match(m, vs.ingress_semantics), action, dest,
                              (ref, i, j))
                out.append(route)
                if route.catch_all:
                    catchall = True
                    break
        if catchall:
            break
    return out


def _source_matches(match: Mapping[str, Any], gateway: str, namespace: str,
                    pod_labels: Mapping[str, str]) -> bool:
    """``sourceMatchHTTP``: ``gateways`` (resolved) restrict the match to those Gateways; else
    ``sourceLabels`` must be a subset of the gateway pod's labels."""
    gateways = _str_items(match.get("gateways"))
    if gateways:
        return gateway in {resolve_gateway_name(g, namespace) for g in gateways}
    return is_subset(_str_map(match.get("sourceLabels")), pod_labels)
