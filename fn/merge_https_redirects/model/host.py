"""Host names as istiod compares them: ``pkg/config/host/names.go`` (``NamesForNamespace``,
``Intersection``, ``SubsetOf``), ``pilot/pkg/model/gateway.go`` (``sanitizeServerHostNamespace``)
and ``pilot/pkg/model/virtualservice.go`` (``resolveGatewayName``, ``ResolveShortnameToFQDN``).
"""

from __future__ import annotations

from collections.abc import Sequence

from merge_https_redirects.model.istio import resolve_gateway_ref

DOMAIN_SUFFIX = "cluster.local"


DEFAULT_NAMESPACE = "default"


def host_subset_of(n: str, o: str) -> bool:
    """``host.Name.SubsetOf``: ``n`` is covered by ``o`` (``*.x`` does not cover ``x``)."""
    n_wild, o_wild = n.startswith("*"), o.startswith("*")
    if n_wild:
        if not o_wild:
            return False
        return len(n) >= len(o) and n[1:].endswith(o[1:])
    if o_wild:
        return n.endswith(o[1:])
    return n == o


def intersection(server_hosts: Sequence[str], vs_hosts: Sequence[str]) -> list[str]:
    """``host.Names.Intersection``: keeps the more specific side of every covering pair."""
    out: list[str] = []
    for h in server_hosts:
        for o in vs_hosts:
            if host_subset_of(h, o):
                if h not in out:
                    out.append(h)
            elif host_subset_of(o, h) and o not in out:
                out.append(o)
    return out


def names_for_namespace(hosts: Sequence[str], namespace: str) -> list[str]:
    """``host.NamesForNamespace``: ``ns/h`` only for VirtualServices of ``ns``; ``*/h`` and bare
    ``h`` for all."""
    out: list[str] = []
    for h in hosts:
        if "/" in h:
            ns, rest = h.split("/", 2)[:2]
            if ns not in (namespace, "*"):
                continue
            h = rest
        out.append(h)
    return out


def sanitize_server_hosts(hosts: Sequence[str], namespace: str) -> tuple[str, ...]:
    """``sanitizeServerHostNamespace``: ``./h`` -> ``ns/h``, ``*/h`` -> ``h``, ``*/*`` -> ``*``
    (and the whole list becomes ``["*"]``)."""
    out = list(hosts)
    for i, h in enumerate(out):
        if "/" in h:
            ns, rest = h.split("/", 2)[:2]
            if ns == ".":
                out[i] = f"{namespace}/{rest}"
            elif ns == "*":
                if rest == "*":
                    return ("*",)
                out[i] = rest
    return tuple(out)


def resolve_gateway_name(ref: str, vs_namespace: str) -> str:
    """``resolveGatewayName`` (``pilot/pkg/model/virtualservice.go``) as ``ns/name``; the one
    implementation is :func:`merge_https_redirects.istio.resolve_gateway_ref`."""
    target = resolve_gateway_ref(ref, vs_namespace)
    return ref if target is None else f"{target[0]}/{target[1]}"


def _resolve_short_host(host: str, namespace: str) -> str:
    """``ResolveShortnameToFQDN`` for VirtualService hosts."""
    if host == "*" or "." in host or ":" in host:
        return host
    return f"{host}.{namespace}.svc.{DOMAIN_SUFFIX}"
