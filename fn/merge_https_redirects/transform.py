"""The rewrite (mode ``merge``): pure, no I/O.

Input: the bundle's resources as :class:`Resource` values and a :class:`Config`. Output: an
:class:`Outcome` — per-resource :class:`Change` (delete it, or delete some sequence entries),
new Gateways to append, and results. The I/O boundary applies the changes to the text.

Per gateway selector (Gateways grouped by their exact ``spec.selector``; no selector is a group
of its own) that has port-80 redirect servers:

1. refuse conflicts (a plain server that would capture or expose a redirected host, a non-HTTP
   server on the port) — the group is left as it is;
2. keep or create exactly one dedicated Gateway (``hosts: ["*"]`` + ``httpsRedirect`` per port);
3. remove every other redirect server of the group; delete Gateways left without servers;
4. drop VirtualService references to deleted and dedicated Gateways; delete VirtualServices
   left with no gateway (never leave an empty list: that binds to the mesh).
"""

from __future__ import annotations

import posixpath
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import NamedTuple

from merge_https_redirects import dedicated
from merge_https_redirects.config import Config
from merge_https_redirects.istio import (
    REDIRECT_PROTOCOLS,
    Gateway,
    Server,
    VirtualService,
    host_covers,
    hosts_intersect,
    is_istio,
    read_gateway,
    read_virtual_service,
    resolve_gateway_ref,
    split_server_host,
)
from merge_https_redirects.results import FileRef, ResourceRef, Result
from merge_https_redirects.rules import rule
from merge_https_redirects.workloads import could_be_gateway, gateway_labels

TYPE_CHECKING = False  # what follows is for annotations only, never needed at run time
if TYPE_CHECKING:
    from typing import Any

Path = tuple[str | int, ...]
Selector = tuple[tuple[str, str], ...] | None
GatewayKey = tuple[str, str]  # (namespace, name)

PATH_ANNOTATIONS = ("internal.config.kubernetes.io/path", "config.kubernetes.io/path")
INDEX_ANNOTATIONS = ("internal.config.kubernetes.io/index", "config.kubernetes.io/index")
LOCAL_CONFIG = "config.kubernetes.io/local-config"
SEQINDENT = "internal.config.kubernetes.io/seqindent"


class UnreadableResource(Exception):
    """The resource's text could not be read as a value (message names line and problem)."""


class Resource(NamedTuple):
    """One input resource. ``load`` re-reads its full value from the input text; it is set for
    the kinds the function reads (see :func:`wanted`) and not kept, so large bundles stay small
    in memory."""

    position: int
    api_version: str
    kind: str
    name: str
    namespace: str
    annotations: dict[str, str]
    load: Callable[[], Any] | None = None
    file: FileRef | None = None

    def read(self) -> tuple[dict[str, Any] | None, str | None]:
        """(value, None), or (None, why it cannot be read); (None, None) for opaque kinds."""
        if self.load is None:
            return None, None
        try:
            value = self.load()
        except UnreadableResource as exc:
            return None, str(exc)
        if not isinstance(value, dict):
            return None, "not a mapping"
        return value, None

    @property
    def value(self) -> dict[str, Any] | None:
        return self.read()[0]

    @property
    def ref(self) -> ResourceRef:
        return ResourceRef(self.api_version, self.kind, self.name, self.namespace)

    @property
    def local_config(self) -> bool:
        return bool(self.annotations.get(LOCAL_CONFIG, "").lower() == "true")

    @property
    def path(self) -> str | None:
        for key in PATH_ANNOTATIONS:
            if key in self.annotations:
                return self.annotations[key]
        return None


class Change(NamedTuple):
    delete: bool = False
    remove: tuple[Path, ...] = ()


class Outcome:
    """What a run decided: changes per resource position, new resources, results, and every
    dedicated Gateway after the run (added and reused, for the chart generator)."""

    __slots__ = ("added", "changes", "dedicated", "results")

    def __init__(self, *, changes: dict[int, Change] | None = None,
                 added: list[dict[str, Any]] | None = None,
                 results: list[Result] | None = None,
                 dedicated: list[dict[str, Any]] | None = None) -> None:
        self.changes: dict[int, Change] = {} if changes is None else changes
        self.added: list[dict[str, Any]] = [] if added is None else added
        self.results: list[Result] = [] if results is None else results
        self.dedicated: list[dict[str, Any]] = [] if dedicated is None else dedicated

    def __repr__(self) -> str:
        return (f"Outcome(changes={self.changes!r}, added={self.added!r}, "
                f"results={self.results!r}, dedicated={self.dedicated!r})")


def _checker_annotation(key: Any) -> bool:
    """Annotations the rewrite or the HTTP-01 checker reads (cert-manager's, Istio's, the
    Ingress class); the rest (kpt bookkeeping, last-applied-configuration...) stays text."""
    return isinstance(key, str) and (
        "cert-manager.io" in key or "istio.io" in key or key == "kubernetes.io/ingress.class"
    )


def _is_inject_template(key: Any) -> bool:
    return bool(key == "inject.istio.io/templates")


_METADATA = {"name": True, "namespace": True, "labels": True, "creationTimestamp": True,
             "annotations": _checker_annotation}
#: Istio, cert-manager and Ingress objects: everything but unrelated annotations and status.
_READ_OBJECT = {"apiVersion": True, "kind": True, "metadata": _METADATA, "spec": True}
_POD_TEMPLATE = {
    "metadata": {"labels": True, "annotations": _is_inject_template},
    "spec": {"containers": {"name": True, "image": True}},
}
#: Deployments, Pods, Services: only what tells a gateway workload and its labels.
_READ_WORKLOAD = {
    "apiVersion": True,
    "kind": True,
    "metadata": {"name": True, "namespace": True, "labels": True,
                 "annotations": _is_inject_template},
    "spec": {"selector": True, "template": _POD_TEMPLATE,
             "containers": {"name": True, "image": True}},
}
_WORKLOAD_KINDS = {("apps", "Deployment"), ("apps", "DaemonSet"), ("apps", "StatefulSet"),
                   ("", "Pod"), ("", "Service")}
_WORKLOAD_KIND_NAMES = frozenset(kind for _, kind in _WORKLOAD_KINDS)


def wanted(api_version: str, kind: str) -> dict[str, Any] | bool:
    """What the function reads of a kind (``False``: nothing, the item stays opaque text)."""
    if is_istio(api_version, kind):
        return _READ_OBJECT
    group = api_version.partition("/")[0] if "/" in api_version else ""
    if group in ("cert-manager.io", "certmanager.k8s.io") and kind in (
        "Certificate", "Issuer", "ClusterIssuer"
    ):
        return _READ_OBJECT
    if group == "networking.k8s.io" or (group == "extensions" and kind == "Ingress"):
        return _READ_OBJECT
    if (group, kind) in _WORKLOAD_KINDS:
        return _READ_WORKLOAD
    return False


class _GatewayWorkloadsOnly:
    """Which values :func:`wanted` asked for are worth keeping (``yamlio.Retain``): of
    workloads, only the Istio gateways' (the checker reads their pod labels; a bundle's
    application Deployments and Services would only take memory and time)."""

    __slots__ = ()

    def __call__(self, kind: str, value: Any) -> bool:
        if kind in _WORKLOAD_KIND_NAMES:
            return isinstance(value, dict) and gateway_labels(value) is not None
        return True

    def possible(self, kind: str, text: str) -> bool:
        return kind not in _WORKLOAD_KIND_NAMES or could_be_gateway(kind, text)


retain = _GatewayWorkloadsOnly()


class _GatewayEntry(NamedTuple):
    resource: Resource
    view: Gateway

    @property
    def key(self) -> GatewayKey:
        return (self.view.namespace, self.view.name)


def _is_redirect(server: Server, ports: Sequence[int]) -> bool:
    return server.port in ports and server.protocol in REDIRECT_PROTOCOLS and server.https_redirect


def _is_catch_all(server: Server) -> bool:
    return len(server.hosts) == 1 and server.hosts[0] in ("*", "*/*")


def _selector_text(selector: Selector) -> str:
    if selector is None:
        return "(no selector: every gateway workload)"
    return "{" + ", ".join(f"{k}: {v}" for k, v in selector) + "}"


def transform(resources: Sequence[Resource], config: Config,
              other_paths: Iterable[str] = ()) -> Outcome:
    """The merge rewrite; see the module docstring. ``other_paths``: the path annotations of
    the bundle's resources left out of ``resources`` (kinds the function does not read): a new
    Gateway's file must not collide with them either."""
    outcome = Outcome()
    gateways: list[_GatewayEntry] = []
    services: list[tuple[Resource, VirtualService]] = []
    for res in resources:
        if res.local_config or res.load is None:
            continue
        if not is_istio(res.api_version, res.kind):
            _, error = res.read()
            if error:  # a kind the checker reads: report it, but it stays as it is
                outcome.results.append(Result(
                    rule("MHR101"), f"unreadable: {error}; the resource was left untouched",
                    resource=res.ref, file=res.file))
            continue
        value, error = res.read()
        if value is None:
            if error:
                outcome.results.append(_invalid(res, "", f"unreadable: {error}"))
            continue
        if res.kind == "Gateway":
            gw_view, problems = read_gateway(value, res.namespace, res.name)
            if gw_view is not None:
                gateways.append(_GatewayEntry(res, gw_view))
        else:
            vs_view, problems = read_virtual_service(value, res.namespace, res.name)
            if vs_view is not None:
                services.append((res, vs_view))
        for path, problem in problems:
            outcome.results.append(_invalid(res, path, f"{path} {problem}"))

    bound: dict[GatewayKey, list[tuple[Resource, VirtualService]]] = {}
    for res, vs in services:
        for ref in vs.gateways:
            target = resolve_gateway_ref(ref, vs.namespace)
            if target is not None:
                bound.setdefault(target, []).append((res, vs))

    groups: dict[Selector, list[_GatewayEntry]] = {}
    for entry in gateways:
        groups.setdefault(entry.view.selector, []).append(entry)

    by_key = {e.key: e for e in gateways}
    taken_names = {e.key for e in gateways}
    taken_paths = {r.path for r in resources if r.path} | set(other_paths)
    deleted: set[GatewayKey] = set()
    dedicated_keys: set[GatewayKey] = set()
    edited_gateways: set[GatewayKey] = set()
    removed_servers = 0
    added = reused = 0
    first_new = True
    ports = config.ports

    for selector, members in groups.items():
        redirects = [(e, s) for e in members for s in e.view.servers if _is_redirect(s, ports)]
        if not redirects:
            continue
        needed = sorted({s.port for _, s in redirects})
        # Gateways of overlapping selectors (one a subset of the other; none = every workload)
        # share gateway pods, so their plain servers on the port count too.
        neighbours = [e for other, group in groups.items() if other != selector
                      and _overlap(selector, other) for e in group]
        conflicts = _conflicts([*members, *neighbours], needed, redirects, bound)
        if conflicts:
            skip = config.on_conflict == "skip"
            for entry, server, why in conflicts:
                outcome.results.append(Result(
                    rule("MHR009" if skip else "MHR008"),
                    f"selector {_selector_text(selector)}: {why}; "
                    + ("its Gateways were left unchanged (onConflict: skip)" if skip else
                       "no Gateway of this selector was changed (resolve the conflict, or set "
                       "onConflict: skip)"),
                    resource=entry.resource.ref,
                    field_path=f"spec.servers[{server.index}]",
                    file=entry.resource.file,
                    # the group left unchanged (the conflicting server may belong to a
                    # Gateway of an overlapping selector)
                    extra_tags=(("selector", _selector_text(selector)),),
                ))
            continue

        chosen = _choose_dedicated(members, needed, ports)
        covered: dict[int, GatewayKey] = {}
        for entry in chosen:
            for server in entry.view.servers:
                covered.setdefault(server.port, entry.key)
            dedicated_keys.add(entry.key)
            reused += 1
            outcome.dedicated.append(_strip_bookkeeping(entry.resource.value or {}))
            outcome.results.append(Result(
                rule("MHR003"),
                f"kept as the redirect Gateway of selector {_selector_text(selector)}",
                resource=entry.resource.ref, file=entry.resource.file,
            ))
        missing = [p for p in needed if p not in covered]
        new_gateway: dict[str, Any] | None = None
        if missing:
            new_gateway = _new_gateway(
                selector, members, missing, config, first_new, taken_names, taken_paths
            )
            first_new = False
            meta = new_gateway["metadata"]
            key = (meta["namespace"], meta["name"])
            taken_names.add(key)
            dedicated_keys.add(key)
            for p in missing:
                covered[p] = key
            outcome.added.append(new_gateway)
            outcome.dedicated.append(_strip_bookkeeping(new_gateway))
            added += 1
            outcome.results.append(Result(
                rule("MHR002"),
                f"added dedicated redirect Gateway {key[0]}/{key[1]} for selector "
                f"{_selector_text(selector)} on port(s) {', '.join(map(str, missing))}",
                resource=ResourceRef(new_gateway["apiVersion"], "Gateway", key[1], key[0]),
                file=_new_file_ref(new_gateway),
            ))

        for entry in members:
            if entry.key in dedicated_keys:
                continue
            remove = [s for s in entry.view.servers if _is_redirect(s, ports)]
            if not remove:
                continue
            removed_servers += len(remove)
            edited_gateways.add(entry.key)
            res = entry.resource
            detail = "; ".join(
                f"spec.servers[{s.index}] (port {s.port}, hosts {', '.join(s.hosts) or '-'})"
                for s in remove
            )
            if len(remove) == len(entry.view.servers):
                deleted.add(entry.key)
                outcome.changes[res.position] = Change(delete=True)
                outcome.results.append(Result(
                    rule("MHR004"),
                    f"deleted: it only held redirect server(s) {detail}, now served by "
                    f"{_covering_text(covered, remove)}",
                    resource=res.ref, file=res.file,
                ))
            else:
                outcome.changes[res.position] = Change(
                    remove=tuple(("spec", "servers", s.index) for s in remove)
                )
                outcome.results.append(Result(
                    rule("MHR001"),
                    f"removed redirect server(s) {detail}; {_covering_text(covered, remove)} "
                    "redirects them now",
                    resource=res.ref, field_path=f"spec.servers[{remove[0].index}]",
                    file=res.file,
                ))

    unreadable = [r for r in outcome.results if r.rule.id in ("MHR010", "MHR101")]
    if config.strict and unreadable:
        outcome.changes.clear()
        outcome.added.clear()
        outcome.dedicated.clear()
        outcome.results = [r for r in outcome.results if r.level != "info"]
        outcome.results.append(Result(
            rule("MHR000"),
            f"strict: nothing was changed because {len(unreadable)} resource(s) could not be "
            "read",
        ))
        return outcome
    vs_deleted = _rewire_virtual_services(services, deleted, dedicated_keys, outcome)
    _warn_unserved_hosts(services, by_key, outcome, edited_gateways, vs_deleted)
    outcome.results.append(Result(
        rule("MHR000"),
        f"removed {removed_servers} redirect server(s) from {len(edited_gateways)} Gateway(s); "
        f"added {added} and reused {reused} dedicated Gateway(s); deleted {len(deleted)} "
        f"Gateway(s) and {vs_deleted} VirtualService(s)",
    ))
    return outcome


def _overlap(a: Selector, b: Selector) -> bool:
    """Whether some pod can match both selectors (one is a subset of the other)."""
    set_a, set_b = set(a or ()), set(b or ())
    return set_a <= set_b or set_b <= set_a


def _invalid(res: Resource, path: str, message: str) -> Result:
    return Result(
        rule("MHR010"),
        f"{message}; the resource was left untouched",
        resource=res.ref,
        field_path=path or None,
        file=res.file,
    )


def _covering_text(covered: dict[int, GatewayKey], servers: Sequence[Server]) -> str:
    keys = sorted({covered[s.port] for s in servers if s.port in covered})
    return ", ".join(f"{ns}/{name}" for ns, name in keys) or "the dedicated Gateway"


def _where(entry: _GatewayEntry, server: Server) -> str:
    return f"{entry.view.namespace}/{entry.view.name} spec.servers[{server.index}]"


def _conflicts(
    members: Sequence[_GatewayEntry],
    ports: Sequence[int],
    redirects: Sequence[tuple[_GatewayEntry, Server]],
    bound: dict[GatewayKey, list[tuple[Resource, VirtualService]]],
) -> list[tuple[_GatewayEntry, Server, str]]:
    """Servers that make the rewrite change which requests get redirected; each explanation
    names the plain server and the redirect server(s) it collides with."""
    found = []
    by_port: dict[int, list[tuple[_GatewayEntry, Server]]] = {}
    for entry, server in redirects:
        by_port.setdefault(server.port, []).append((entry, server))

    def names(pairs: Sequence[tuple[_GatewayEntry, Server]]) -> str:
        return ", ".join(sorted({_where(e, s) for e, s in pairs}))

    for entry in members:
        for server in entry.view.servers:
            if server.port not in ports or _is_redirect(server, ports):
                continue
            here = _where(entry, server)
            same_port = by_port.get(server.port, [])
            if not server.is_http:
                found.append((entry, server, (
                    f"{here} is a {server.protocol or 'protocol-less'} server on port "
                    f"{server.port}, which also carries the redirect server(s) {names(same_port)}"
                )))
                continue
            for _, hostname in server.hostnames(entry.view.namespace):
                if hostname == "*":
                    found.append((entry, server, (
                        f"{here} serves plain HTTP for every host ('*') on port {server.port}: "
                        f"it would take the catch-all redirect that replaces {names(same_port)}"
                    )))
                    break
                exposed = [
                    (e, s) for e, s in same_port
                    if any(host_covers(hostname, h) for _, h in s.hostnames(e.view.namespace))
                ]
                if exposed:
                    hosts = sorted({
                        h for e, s in exposed for _, h in s.hostnames(e.view.namespace)
                        if host_covers(hostname, h)
                    })
                    found.append((entry, server, (
                        f"{here} serves plain HTTP for {hostname!r}, which covers host(s) "
                        f"{', '.join(hosts)} redirected by {names(exposed)} on port "
                        f"{server.port}: removing that redirect would expose them over plain HTTP"
                    )))
                    break
                # A wider redirect (``*.x``) reaches this host through a VirtualService bound
                # to its Gateway: the host is redirected today, and would not be once the
                # redirect server goes (istiod marks the virtual host, not the server).
                through = sorted({
                    f"{vs.namespace}/{vs.name} via {_where(e, s)}"
                    for e, s in same_port
                    if any(host_covers(h, hostname) for _, h in s.hostnames(e.view.namespace))
                    for _, vs in bound.get(e.key, [])
                    if any(hosts_intersect(hostname, vh) for vh in vs.hosts)
                })
                if through:
                    found.append((entry, server, (
                        f"{here} serves plain HTTP for {hostname!r}, which is redirected today "
                        f"because VirtualService {', '.join(through)} binds it to a redirect "
                        f"server: removing that redirect would expose it over plain HTTP"
                    )))
                    break
    return found


def _choose_dedicated(
    members: Sequence[_GatewayEntry], needed: Sequence[int], ports: Sequence[int]
) -> list[_GatewayEntry]:
    """Existing Gateways of the dedicated shape to keep, fewest first: each holds only
    catch-all redirect servers on distinct configured ports."""
    candidates = []
    for entry in members:
        servers = entry.view.servers
        if not servers:
            continue
        server_ports = [s.port for s in servers]
        if len(set(server_ports)) != len(server_ports):
            continue
        # every server a catch-all redirect (servers on ports not configured are left alone)
        if all(_is_redirect(s, server_ports) and _is_catch_all(s) for s in servers):
            candidates.append(entry)
    candidates.sort(key=lambda e: (-len(e.view.servers), e.view.namespace, e.view.name))
    chosen: list[_GatewayEntry] = []
    covered: set[int] = set()
    for entry in candidates:
        entry_ports = {s.port for s in entry.view.servers if s.port in ports}
        if entry_ports & covered:
            continue
        if entry_ports & set(needed):
            chosen.append(entry)
            covered |= entry_ports
    return chosen


_SLUG = re.compile(r"[^a-z0-9]+")


def _new_name(
    selector: Selector, base: str, namespace: str, first: bool, taken: set[GatewayKey]
) -> str:
    if first:
        candidate = base
    else:
        suffix = "all-workloads" if selector is None else "-".join(v for _, v in selector)
        candidate = f"{base}-{_SLUG.sub('-', suffix.lower()).strip('-') or 'selector'}"
    candidate = candidate[:253].rstrip("-.")
    name, n = candidate, 2
    while (namespace, name) in taken:
        name = f"{candidate[:249]}-{n}"
        n += 1
    return name


def _new_gateway(
    selector: Selector,
    members: Sequence[_GatewayEntry],
    ports: Sequence[int],
    config: Config,
    first: bool,
    taken_names: set[GatewayKey],
    taken_paths: set[str],
) -> dict[str, Any]:
    name = _new_name(selector, config.name, config.namespace, first, taken_names)
    sources = [e for e in members if any(_is_redirect(s, config.ports) for s in e.view.servers)]
    versions = Counter(e.resource.api_version for e in sources)
    api_version = max(versions, key=lambda v: (versions[v], -sources_index(sources, v)))
    annotations = None
    source_path = next((e.resource.path for e in sources if e.resource.path), None)
    if source_path is not None:
        directory = _safe_directory(source_path)
        path, n = f"{directory}{name}.yaml", 2
        while path in taken_paths:
            path = f"{directory}{name}-{n}.yaml"
            n += 1
        taken_paths.add(path)
        annotations = {
            "config.kubernetes.io/path": path,
            "config.kubernetes.io/index": "0",
            "internal.config.kubernetes.io/path": path,
            "internal.config.kubernetes.io/index": "0",
        }
        seqindent = next((e.resource.annotations[SEQINDENT] for e in sources
                          if SEQINDENT in e.resource.annotations), None)
        if seqindent is not None:  # kpt writes the new file in the package's list style
            annotations[SEQINDENT] = seqindent
    return dedicated.dedicated_gateway(
        name, config.namespace, dict(selector) if selector is not None else None, list(ports),
        api_version=api_version, annotations=annotations,
    )


def _safe_directory(path: str) -> str:
    """The directory of a path annotation, for a new file beside it; the package root when
    the annotation would leave the package (absolute, or ``..`` after normalising)."""
    directory = posixpath.dirname(posixpath.normpath(path))
    if directory in ("", ".") or directory.startswith(("/", "..")):
        return ""
    return directory + "/"


def sources_index(sources: Sequence[_GatewayEntry], version: str) -> int:
    return next(i for i, e in enumerate(sources) if e.resource.api_version == version)


def _new_file_ref(gateway: dict[str, Any]) -> FileRef | None:
    path = gateway["metadata"].get("annotations", {}).get("internal.config.kubernetes.io/path")
    return FileRef(path, 0) if path else None


_BOOKKEEPING = re.compile(
    r"(internal\.)?config\.kubernetes\.io/|config\.k8s\.io/|kustomize\.config\.k8s\.io/"
)


def _strip_bookkeeping(gateway: dict[str, Any]) -> dict[str, Any]:
    """The Gateway without the hosts' bookkeeping annotations (for the chart generator)."""
    out = dict(gateway)
    meta = dict(out.get("metadata") or {})
    annotations = {
        k: v for k, v in (meta.get("annotations") or {}).items() if not _BOOKKEEPING.match(k)
    }
    if annotations:
        meta["annotations"] = annotations
    else:
        meta.pop("annotations", None)
    out["metadata"] = meta
    return out


def _rewire_virtual_services(
    services: Sequence[tuple[Resource, VirtualService]],
    deleted: set[GatewayKey],
    dedicated_keys: set[GatewayKey],
    outcome: Outcome,
) -> int:
    removed_count = 0
    for res, vs in services:
        drop = []
        for i, ref in enumerate(vs.gateways):
            target = resolve_gateway_ref(ref, vs.namespace)
            if target is not None and (target in deleted or target in dedicated_keys):
                drop.append((i, ref, target in deleted))
        if not drop:
            continue
        if len(drop) == len(vs.gateways):
            removed_count += 1
            outcome.changes[res.position] = Change(delete=True)
            outcome.results.append(Result(
                rule("MHR006"),
                "deleted: every Gateway it was bound to ("
                + ", ".join(ref for _, ref, _ in drop)
                + ") only redirected to https, so its routes were unreachable; an empty "
                "`gateways` list would have bound it to the mesh",
                resource=res.ref, file=res.file,
            ))
            continue
        outcome.changes[res.position] = Change(
            remove=tuple(("spec", "gateways", i) for i, _, _ in drop)
        )
        for i, ref, was_deleted in drop:
            why = ("the Gateway was deleted (it only held redirect servers)" if was_deleted
                   else "it is a dedicated redirect Gateway, which must stay unbound")
            outcome.results.append(Result(
                rule("MHR005"),
                f"dropped gateways[{i}] {ref!r}: {why}",
                resource=res.ref, field_path=f"spec.gateways[{i}]", file=res.file,
            ))
    return removed_count


def _warn_unserved_hosts(
    services: Sequence[tuple[Resource, VirtualService]],
    by_key: dict[GatewayKey, _GatewayEntry],
    outcome: Outcome,
    edited: set[GatewayKey],
    _vs_deleted: int,
) -> None:
    """IST0132 for VirtualServices bound to a Gateway this run edited."""
    for res, vs in services:
        change = outcome.changes.get(res.position)
        if change is not None and change.delete:
            continue
        dropped = {p[2] for p in change.remove} if change else set()
        for i, ref in enumerate(vs.gateways):
            target = resolve_gateway_ref(ref, vs.namespace)
            if i in dropped or target is None or target not in edited:
                continue
            entry = by_key[target]
            gw_change = outcome.changes.get(entry.resource.position)
            removed = {p[2] for p in gw_change.remove} if gw_change else set()
            remaining = [s for s in entry.view.servers if s.index not in removed]
            missing = [
                h for h in vs.hosts
                if not any(
                    ns in ("*", vs.namespace) and hosts_intersect(hostname, h)
                    for s in remaining
                    for ns, hostname in (split_server_host(x, entry.view.namespace)
                                         for x in s.hosts)
                )
            ]
            if missing:
                outcome.results.append(Result(
                    rule("MHR007"),
                    f"IST0132: one or more host [{', '.join(missing)}] defined in "
                    f"VirtualService {vs.namespace}/{vs.name} not found in Gateway "
                    f"{target[0]}/{target[1]}",
                    resource=res.ref, field_path=f"spec.gateways[{i}]", file=res.file,
                ))
