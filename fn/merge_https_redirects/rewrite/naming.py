"""New dedicated objects -- the `*` redirect Gateway, or the route shape's Gateway and
VirtualServices: names (DNS-1123, at most 63 characters, hashed when cut), files beside the
Gateways they replace, never colliding with the bundle's.
"""

from __future__ import annotations

import posixpath
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

from merge_https_redirects.config import Config
from merge_https_redirects.model import dedicated
from merge_https_redirects.model.istio import split_server_host
from merge_https_redirects.results import FileRef
from merge_https_redirects.rewrite.plan import GatewayEntry, is_redirect
from merge_https_redirects.rewrite.resources import SEQINDENT, GatewayKey, Selector

_SLUG = re.compile(r"[^a-z0-9]+")


#: istiod's ``ValidateGateway``: a Gateway name is a DNS-1123 label.
MAX_NAME = 63


def _fit(name: str, limit: int = MAX_NAME) -> str:
    """``name`` cut to ``limit`` characters with a short hash of the whole, so that two long
    names stay two names, deterministically."""
    if len(name) <= limit:
        return name
    import hashlib  # rare: not worth its start-up time

    digest = hashlib.sha256(name.encode()).hexdigest()[:6]
    return f"{name[:limit - 7].rstrip('-')}-{digest}"


def _new_name(
    selector: Selector, base: str, namespace: str, first: bool, taken: set[GatewayKey]
) -> str:
    if first:
        candidate = base
    else:
        suffix = "all-workloads" if selector is None else "-".join(v for _, v in selector)
        candidate = f"{base}-{_SLUG.sub('-', suffix.lower()).strip('-') or 'selector'}"
    candidate = _fit(candidate.strip("-"))
    name, n = candidate, 2
    while (namespace, name) in taken:
        name = _fit(f"{candidate}-{n}")
        n += 1
    return name


def new_gateway(
    selector: Selector,
    members: Sequence[GatewayEntry],
    ports: Sequence[int],
    config: Config,
    first: bool,
    taken_names: set[GatewayKey],
    taken_paths: set[str],
) -> dict[str, Any]:
    name = _new_name(selector, config.name, config.namespace, first, taken_names)
    sources = [e for e in members if any(is_redirect(s, config.ports) for s in e.view.servers)]
    path, extra = _file_annotations(sources, name, taken_paths)
    return dedicated.dedicated_gateway(
        name, config.namespace, dict(selector) if selector is not None else None, list(ports),
        api_version=_api_version(sources), annotations=_at(path, 0, extra),
    )


def _api_version(sources: Sequence[GatewayEntry]) -> str:
    """The apiVersion most of the replaced Gateways use (the first of them on a tie)."""
    versions = Counter(e.resource.api_version for e in sources)
    return max(versions, key=lambda v: (versions[v], -sources_index(sources, v)))


def _file_annotations(sources: Sequence[GatewayEntry], name: str, taken_paths: set[str]
                      ) -> tuple[str | None, dict[str, str]]:
    """A new file beside the first source Gateway with a path annotation, and the seqindent
    kpt writes it in (the package's list style)."""
    source_path = next((e.resource.path for e in sources if e.resource.path), None)
    if source_path is None:
        return None, {}
    directory = _safe_directory(source_path)
    path, n = f"{directory}{name}.yaml", 2
    while path in taken_paths:
        path = f"{directory}{name}-{n}.yaml"
        n += 1
    taken_paths.add(path)
    extra = {}
    seqindent = next((e.resource.annotations[SEQINDENT] for e in sources
                      if SEQINDENT in e.resource.annotations), None)
    if seqindent is not None:
        extra[SEQINDENT] = seqindent
    return path, extra


def _at(path: str | None, index: int, extra: dict[str, str]) -> dict[str, str] | None:
    if path is None:
        return None
    return {"config.kubernetes.io/path": path, "config.kubernetes.io/index": str(index),
            "internal.config.kubernetes.io/path": path,
            "internal.config.kubernetes.io/index": str(index), **extra}


def new_route_objects(
    selector: Selector,
    sources: Sequence[GatewayEntry],
    ports: Sequence[int],
    config: Config,
    first: bool,
    taken_names: set[GatewayKey],
    taken_services: set[GatewayKey],
    taken_paths: set[str],
) -> list[dict[str, Any]]:
    """The route shape for ``selector``: one plain Gateway whose servers carry, per port, the
    hosts of the redirect servers removed from ``sources``, and per namespace those hosts bind
    in, one VirtualService bound only to it with the catch-all https redirect route. A host
    written ``./h`` or ``ns/h`` binds only VirtualServices of that namespace
    (``sanitizeServerHostNamespace`` in ``pilot/pkg/model/gateway.go``): the server says
    ``ns/h`` and the VirtualService for ``h`` lives in ``ns``."""
    base = f"{config.name}-{dedicated.ROUTE_SUFFIX}"
    name = _new_name(selector, base, config.namespace, first, taken_names)
    taken_names.add((config.namespace, name))
    hosts_by_port: dict[int, list[str]] = {}
    vs_hosts: dict[str, list[str]] = {}  # namespace -> hosts
    for entry in sources:
        for server in entry.view.servers:
            if server.port not in ports or not is_redirect(server, config.ports):
                continue
            for host in server.hosts:
                ns, hostname = split_server_host(host, entry.view.namespace)
                written = hostname if ns == "*" else f"{ns}/{hostname}"
                port_hosts = hosts_by_port.setdefault(server.port, [])
                if written not in port_hosts:
                    port_hosts.append(written)
                bucket = vs_hosts.setdefault(config.namespace if ns == "*" else ns, [])
                if hostname not in bucket:
                    bucket.append(hostname)
    api_version = _api_version(sources)
    path, extra = _file_annotations(sources, name, taken_paths)
    gateway = dedicated.route_gateway(
        name, config.namespace, dict(selector) if selector is not None else None,
        {p: sorted(h) for p, h in hosts_by_port.items()}, api_version=api_version,
        annotations=_at(path, 0, extra))
    objects = [gateway]
    for index, (namespace, hosts) in enumerate(sorted(vs_hosts.items()), start=1):
        vs_name = name
        n = 2
        while (namespace, vs_name) in taken_services:
            vs_name = _fit(f"{name}-{n}")
            n += 1
        taken_services.add((namespace, vs_name))
        objects.append(dedicated.route_virtual_service(
            vs_name, namespace, f"{config.namespace}/{name}", sorted(hosts),
            api_version=api_version, annotations=_at(path, index, extra)))
    return objects


def _safe_directory(path: str) -> str:
    """The directory of a path annotation, for a new file beside it; the package root when
    the annotation would leave the package (absolute, or ``..`` after normalising)."""
    directory = posixpath.dirname(posixpath.normpath(path))
    if directory in ("", ".") or directory.startswith(("/", "..")):
        return ""
    return directory + "/"


def sources_index(sources: Sequence[GatewayEntry], version: str) -> int:
    return next(i for i, e in enumerate(sources) if e.resource.api_version == version)


def new_file_ref(gateway: dict[str, Any]) -> FileRef | None:
    path = gateway["metadata"].get("annotations", {}).get("internal.config.kubernetes.io/path")
    return FileRef(path, 0) if path else None
