"""The rewrite (mode ``merge``): pure, no I/O.

Input: the bundle's resources as :class:`Resource` values, a :class:`Config`, the gateway
workloads (:mod:`merge_https_redirects.workloads`) and the workloads the proof refused. Output:
an :class:`Outcome` — per-resource :class:`Change` (delete it, or delete some sequence
entries), new Gateways to append, and results. The I/O boundary applies the changes to the text;
:mod:`merge_https_redirects.proof` decides, by simulation, which plan may be printed.

Per gateway workload (every Gateway whose selector is a subset of the pods' labels applies,
``pilot/pkg/model/push_context.go`` ``mergeGateways``), on every listener with port-80 redirect
servers:

1. a workload the proof refused keeps every Gateway that reaches it, and no new one reaches it;
2. exactly one catch-all redirect server reaches each listener that loses redirect servers: an
   existing dedicated-shaped Gateway, else new dedicated Gateways whose selectors reach the pods
   that need one and no others that keep one (IST0145); where none can, the workload is refused;
3. every other redirect server of the reaching Gateways is removed; Gateways left without
   servers are deleted;
4. VirtualService references to deleted and dedicated Gateways are dropped; VirtualServices left
   with no gateway are deleted (never an empty list: that binds to the mesh).

The conflict rules (:func:`_conflicts`) only explain a refusal the simulation made.
"""
from __future__ import annotations

import posixpath
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import NamedTuple

from merge_https_redirects.config import Config
from merge_https_redirects.model import dedicated
from merge_https_redirects.model.istio import (
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
from merge_https_redirects.model.workloads import (
    NO_PORT_TRANSLATION,
    Workload,
    could_be_gateway,
    gateway_labels,
    gateway_selectors,
    translates_ports,
)
from merge_https_redirects.model.workloads import collect as collect_workloads
from merge_https_redirects.results import FileRef, ResourceRef, Result
from merge_https_redirects.rules import rule

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
        for key in ("apiVersion", "kind"):
            if not isinstance(value.get(key), str):
                return None, f"{key} must be a string, got {_type_name(value.get(key))}"
        meta = value.get("metadata")
        if not isinstance(meta, dict):
            return None, f"metadata must be a map, got {_type_name(meta)}"
        name, namespace = meta.get("name"), meta.get("namespace")
        if not isinstance(name, str) or not name:
            return None, f"metadata.name must be a non-empty string, got {_type_name(name)}"
        if namespace is not None and not isinstance(namespace, str):
            return None, f"metadata.namespace must be a string, got {_type_name(namespace)}"
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


def _type_name(value: object) -> str:
    names = {dict: "a map", list: "a list", str: "a string", bool: "a boolean", int: "a number",
             float: "a number"}
    if value is None:
        return "nothing"
    return names.get(type(value), type(value).__name__)


class Change(NamedTuple):
    delete: bool = False
    remove: tuple[Path, ...] = ()


class Outcome:
    """What a run decided: changes per resource position, new resources, results, and every
    dedicated Gateway after the run (added and reused, for the chart generator)."""

    __slots__ = ("added", "changes", "dedicated", "results", "unplaceable")

    def __init__(self, *, changes: dict[int, Change] | None = None,
                 added: list[dict[str, Any]] | None = None,
                 results: list[Result] | None = None,
                 dedicated: list[dict[str, Any]] | None = None) -> None:
        self.changes: dict[int, Change] = {} if changes is None else changes
        self.added: list[dict[str, Any]] = [] if added is None else added
        self.results: list[Result] = [] if results is None else results
        self.dedicated: list[dict[str, Any]] = [] if dedicated is None else dedicated
        #: workloads no dedicated Gateway could reach alone (index -> why): refused
        self.unplaceable: dict[int, str] = {}

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
_CONTAINERS = {"name": True, "image": True, "ports": True}
_POD_TEMPLATE = {
    "metadata": {"labels": True, "annotations": _is_inject_template},
    "spec": {"containers": _CONTAINERS},
}
#: Deployments, Pods, Services: only what tells a gateway workload, its labels and the port
#: translation of its Services.
_READ_WORKLOAD = {
    "apiVersion": True,
    "kind": True,
    "metadata": {"name": True, "namespace": True, "labels": True,
                 "annotations": _is_inject_template},
    "spec": {"selector": True, "template": _POD_TEMPLATE, "containers": _CONTAINERS,
             "ports": True},
}
def _is_translation_opt_out(key: Any) -> bool:
    return bool(key == NO_PORT_TRANSLATION)


#: Services: what ``resolvePorts`` reads (a bundle's thousands of application Services
#: translating a port are kept, so only that).
_READ_SERVICE = {
    "apiVersion": True,
    "kind": True,
    "metadata": {"name": True, "namespace": True, "labels": _is_translation_opt_out},
    "spec": {"selector": True, "ports": {"name": True, "port": True, "targetPort": True}},
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
    if (group, kind) == ("", "Service"):
        return _READ_SERVICE
    if (group, kind) in _WORKLOAD_KINDS:
        return _READ_WORKLOAD
    if group == "install.istio.io" and kind == "IstioOperator":
        return _READ_OBJECT
    return False


class _GatewayWorkloadsOnly:
    """Which values :func:`wanted` asked for are worth keeping (``yamlio.Retain``): of
    workloads, only the Istio gateways' (the checker reads their pod labels; a bundle's
    application Deployments would only take memory and time) and the Services that translate
    a port (any of them may select the gateway pods)."""

    __slots__ = ()

    def __call__(self, kind: str, value: Any) -> bool:
        if kind in _WORKLOAD_KIND_NAMES:
            return isinstance(value, dict) and (
                gateway_labels(value) is not None
                or (kind == "Service" and translates_ports(value)))
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
    """A *redirect server*: on a configured port, of a protocol istiod treats as HTTP, with
    ``httpsRedirect``, on the default listener (a ``bind`` server has a listener of its own)."""
    return (server.port in ports and server.is_http and server.https_redirect
            and not server.bind)


def _is_catch_all(server: Server) -> bool:
    return len(server.hosts) == 1 and server.hosts[0] in ("*", "*/*")


def _selector_text(selector: Selector) -> str:
    if selector is None:
        return "(no selector: every gateway workload)"
    return "{" + ", ".join(f"{k}: {v}" for k, v in selector) + "}"


def transform(resources: Sequence[Resource], config: Config,
              other_paths: Iterable[str] = (), *,
              workloads: Sequence[Workload] | None = None,
              refused: Mapping[int, str] | None = None) -> Outcome:
    """The merge rewrite; see the module docstring. ``other_paths``: the path annotations of
    the bundle's resources left out of ``resources`` (kinds the function does not read): a new
    Gateway's file must not collide with them either. ``workloads``: the gateway workloads
    (default: :func:`workloads_of`); ``refused``: workloads (by index) the proof refused, and
    why: no Gateway reaching them changes, and no new Gateway reaches them."""
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
    if workloads is None:
        workloads = workloads_of(resources, config)
    refused = refused or {}

    bound: dict[GatewayKey, list[tuple[Resource, VirtualService]]] = {}
    for res, vs in services:
        for ref in vs.gateways:
            target = resolve_gateway_ref(ref, vs.namespace)
            if target is not None:
                bound.setdefault(target, []).append((res, vs))

    ports = config.ports
    plan = _plan(gateways, workloads, ports, refused)
    for n, why in sorted({**refused, **plan.unplaceable}.items()):
        outcome.results.extend(_refusal(n, workloads, why, gateways, ports, bound, config))
    outcome.unplaceable = plan.unplaceable
    if plan.unplaceable:
        return outcome  # the proof refuses these workloads and plans again
    for entry in plan.unreached:
        outcome.results.append(Result(
            rule("MHR016"),
            f"its selector {_selector_text(entry.view.selector)} reaches none of the gateway "
            f"workloads ({'; '.join(w.describe() for w in workloads)}): its redirect servers "
            "were left in place (set gatewayLabels if its pods run elsewhere)",
            resource=entry.resource.ref, file=entry.resource.file))
    for entry, server in plan.bind_redirects:
        outcome.results.append(Result(
            rule("MHR015"),
            f"spec.servers[{server.index}] (port {server.port}, hosts "
            f"{', '.join(server.hosts) or '-'}) redirects on its own listener (bind "
            f"{server.bind}): left in place, so the challenge for its hosts stays redirected "
            "on that address",
            resource=entry.resource.ref, field_path=f"spec.servers[{server.index}]",
            file=entry.resource.file))

    by_key = {e.key: e for e in gateways}
    taken_names = {e.key for e in gateways}
    taken_paths = {r.path for r in resources if r.path} | set(other_paths)
    deleted: set[GatewayKey] = set()
    dedicated_keys: set[GatewayKey] = set()
    edited_gateways: set[GatewayKey] = set()
    removed_servers = 0
    covered: dict[int, list[GatewayKey]] = {}  # workload -> the Gateways redirecting it now

    for entry in plan.reused:
        dedicated_keys.add(entry.key)
        outcome.dedicated.append(without_bookkeeping(entry.resource.value or {}))
        reached = [n for n in plan.needing if workloads[n].selected_by(entry.view.selector)]
        for n in reached:
            covered.setdefault(n, []).append(entry.key)
        outcome.results.append(Result(
            rule("MHR003"),
            f"kept as the redirect Gateway of {_workloads_text(workloads, reached)}",
            resource=entry.resource.ref, file=entry.resource.file,
        ))
    first_new = True
    for selector, new_ports in plan.new.items():
        sources = [e for e in plan.removable if e.view.selector == selector] or plan.removable
        new_gateway = _new_gateway(
            selector, sources, new_ports, config, first_new, taken_names, taken_paths
        )
        first_new = False
        meta = new_gateway["metadata"]
        key = (meta["namespace"], meta["name"])
        taken_names.add(key)
        dedicated_keys.add(key)
        reached = [n for n in plan.needing if workloads[n].selected_by(selector)]
        for n in reached:
            covered.setdefault(n, []).append(key)
        outcome.added.append(new_gateway)
        outcome.dedicated.append(without_bookkeeping(new_gateway))
        outcome.results.append(Result(
            rule("MHR002"),
            f"added dedicated redirect Gateway {key[0]}/{key[1]} with selector "
            f"{_selector_text(selector)} on port(s) {', '.join(map(str, new_ports))} for "
            f"{_workloads_text(workloads, reached)}",
            resource=ResourceRef(new_gateway["apiVersion"], "Gateway", key[1], key[0]),
            file=_new_file_ref(new_gateway),
        ))

    for entry in plan.removable:
        remove = [s for s in entry.view.servers if _is_redirect(s, ports)]
        removed_servers += len(remove)
        edited_gateways.add(entry.key)
        res = entry.resource
        detail = "; ".join(
            f"spec.servers[{s.index}] (port {s.port}, hosts {', '.join(s.hosts) or '-'})"
            for s in remove
        )
        now = sorted({k for n in plan.reach[entry.key] for k in covered.get(n, [])})
        covering = ", ".join(f"{ns}/{name}" for ns, name in now) or "the dedicated Gateway"
        if len(remove) == len(entry.view.servers):
            deleted.add(entry.key)
            outcome.changes[res.position] = Change(delete=True)
            outcome.results.append(Result(
                rule("MHR004"),
                f"deleted: it only held redirect server(s) {detail}, now served by {covering}",
                resource=res.ref, file=res.file,
            ))
        else:
            outcome.changes[res.position] = Change(
                remove=tuple(("spec", "servers", s.index) for s in remove)
            )
            outcome.results.append(Result(
                rule("MHR001"),
                f"removed redirect server(s) {detail}; {covering} redirects them now",
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
        f"added {len(plan.new)} and reused {len(plan.reused)} dedicated Gateway(s); deleted "
        f"{len(deleted)} Gateway(s) and {vs_deleted} VirtualService(s)",
    ))
    return outcome


def values_of(resources: Sequence[Resource]) -> list[dict[str, Any]]:
    """The values of the resources the function reads (local config excluded): those the
    scan built, shared by every step of a run."""
    return [v for v in (r.value for r in resources if r.load is not None and not r.local_config)
            if v is not None]


def workloads_of(resources: Sequence[Resource], config: Config) -> tuple[Workload, ...]:
    """The gateway workloads of the bundle (:func:`merge_https_redirects.workloads.collect`)."""
    values = values_of(resources)
    return collect_workloads(values, configured=config.gateway_labels,
                             selectors=gateway_selectors(values),
                             ingress_selector=config.ingress_selector)


def _workloads_text(workloads: Sequence[Workload], indices: Iterable[int]) -> str:
    chosen = [workloads[n] for n in indices]
    if not chosen:
        return "no gateway workload"
    return "workload(s) " + "; ".join(w.describe() for w in chosen)


class _Plan:
    """Which Gateways change: the removable ones (every redirect server goes), the dedicated
    Gateways kept and the selectors (with ports) of new ones, per workload."""

    __slots__ = ("bind_redirects", "needing", "new", "reach", "removable", "reused",
                 "unplaceable", "unreached")

    def __init__(self) -> None:
        self.removable: list[_GatewayEntry] = []
        self.reused: list[_GatewayEntry] = []
        self.new: dict[Selector, list[int]] = {}
        self.needing: set[int] = set()
        self.reach: dict[GatewayKey, list[int]] = {}
        self.unplaceable: dict[int, str] = {}
        self.bind_redirects: list[tuple[_GatewayEntry, Server]] = []
        self.unreached: list[_GatewayEntry] = []


def _plan(gateways: Sequence[_GatewayEntry], workloads: Sequence[Workload],
          ports: Sequence[int], refused: Mapping[int, str]) -> _Plan:
    """Per gateway workload (``pilot/pkg/model/push_context.go`` ``mergeGateways``: every
    Gateway whose selector is a subset of the pod's labels applies), after the rewrite
    exactly one catch-all redirect server must reach each listener that loses redirect
    servers: an existing one (any Gateway, selector-less included) or one new dedicated
    Gateway per chosen selector -- never two on one pod (IST0145)."""
    plan = _Plan()
    for entry in gateways:
        plan.reach[entry.key] = [n for n, w in enumerate(workloads)
                                 if w.selected_by(entry.view.selector)]
    frozen = set(refused)
    # Dedicated-shaped Gateways stay, except one whose every listener an earlier one already
    # redirects (IST0145: istiod drops it anyway); the widest reach first, then by name.
    redundant: set[GatewayKey] = set()
    claimed: set[tuple[int, int]] = set()
    for entry in sorted((e for e in gateways if _is_dedicated_shape(e)),
                        key=lambda e: (-len(plan.reach[e.key]), -len(e.view.servers),
                                       e.view.namespace, e.view.name)):
        reach = plan.reach[entry.key]
        cover = {(n, workloads[n].resolve(s.port)) for n in reach for s in entry.view.servers}
        if (reach and cover <= claimed and not frozen & set(reach)
                and all(_is_redirect(s, ports) for s in entry.view.servers)):
            redundant.add(entry.key)
        claimed |= cover
    # Listeners already redirected by a catch-all server that stays: (workload, port).
    kept: set[tuple[int, int]] = set()
    needs: dict[int, set[int]] = {p: set() for p in ports}  # written port -> workloads
    for entry in gateways:
        reach = plan.reach[entry.key]
        redirects = [s for s in entry.view.servers if _is_redirect(s, ports)]
        plan.bind_redirects += [(entry, s) for s in entry.view.servers
                                if s.bind and s.port in ports and s.https_redirect
                                and s.is_http]
        dedicated_shape = _is_dedicated_shape(entry) and entry.key not in redundant
        # A Gateway that reaches no known workload is left alone: nothing proves its change.
        if redirects and not reach:
            plan.unreached.append(entry)
        removable = (bool(redirects) and bool(reach) and not dedicated_shape
                     and not frozen & set(reach))
        if removable:
            plan.removable.append(entry)
            plan.needing.update(reach)
            for s in redirects:
                needs[s.port].update(reach)
        for s in entry.view.servers:
            if removable and _is_redirect(s, ports):
                continue
            if _is_catch_all(s) and s.https_redirect and s.is_http and not s.bind:
                kept.update((n, workloads[n].resolve(s.port)) for n in reach)
    for entry in gateways:
        if _is_dedicated_shape(entry) and entry.key not in redundant and any(
            n in needs[p] and workloads[n].resolve(s.port) == workloads[n].resolve(p)
            for n in plan.reach[entry.key] for s in entry.view.servers for p in ports
        ):
            plan.reused.append(entry)
    specific: list[Selector] = []
    for entry in plan.removable:
        if entry.view.selector is not None and entry.view.selector not in specific:
            specific.append(entry.view.selector)
    specific += [w.labels for w in workloads if not w.assumed and w.labels not in specific]
    # A selector-less dedicated Gateway reaches every gateway pod of the cluster, also those
    # the bundle does not show: only where a selector-less Gateway loses its redirects.
    anywhere = any(e.view.selector is None for e in plan.removable)
    for p in ports:
        uncovered = {n for n in needs[p] if (n, workloads[n].resolve(p)) not in kept}
        if not uncovered:
            continue
        # Workloads a new catch-all on p must not reach: refused ones, and listeners that
        # keep a catch-all redirect (a second one would be IST0145).
        forbidden = frozen | {n for n, w in enumerate(workloads) if (n, w.resolve(p)) in kept}
        chosen = _cover(workloads, uncovered, forbidden, specific)
        if chosen is None and anywhere:
            chosen = _cover(workloads, uncovered, forbidden, [None])
        if chosen is None:
            for n in sorted(uncovered):
                plan.unplaceable[n] = (
                    f"no Gateway selector reaches exactly the pods that lose redirect servers "
                    f"on port {p}: every choice misses some or reaches a pod that keeps a "
                    f"catch-all redirect (IST0145: two '*' servers on one pod); set "
                    f"gatewayLabels to the gateway pods' labels")
            continue
        for selector in chosen:
            plan.new.setdefault(selector, [])
            if p not in plan.new[selector]:
                plan.new[selector].append(p)
            # the new server is the catch-all of these listeners for the next ports too
            # (80 and 8080 may land on one)
            kept.update((n, w.resolve(p)) for n, w in enumerate(workloads)
                        if w.selected_by(selector))
    return plan


def _cover(workloads: Sequence[Workload], uncovered: set[int], forbidden: set[int],
           candidates: Sequence[Selector]) -> list[Selector] | None:
    """Selectors whose workloads together are ``uncovered``, each workload reached once and
    none of ``forbidden``: greedily, those reaching only needing workloads first, then the
    one reaching most, then in candidate order. ``None`` when no such choice is found."""
    left, blocked = set(uncovered), set(forbidden)
    chosen: list[Selector] = []
    while left:
        best_key: tuple[int, int, int] | None = None
        best: tuple[Selector, set[int]] | None = None
        for order, candidate in enumerate(candidates):
            reached = {n for n, w in enumerate(workloads) if w.selected_by(candidate)}
            gain = len(reached & left)
            if not gain or reached & blocked:
                continue
            key = (0 if reached <= left else 1, -gain, order)
            if best_key is None or key < best_key:
                best_key, best = key, (candidate, reached)
        if best is None:
            return None
        chosen.append(best[0])
        left -= best[1]
        blocked |= best[1]
    return chosen


def _is_dedicated_shape(entry: _GatewayEntry) -> bool:
    """Only catch-all redirect servers, on distinct ports: kept as a redirect Gateway."""
    servers = entry.view.servers
    ports = [s.port for s in servers]
    return bool(servers) and len(set(ports)) == len(ports) and all(
        _is_catch_all(s) and s.https_redirect and s.is_http and not s.bind for s in servers)


def _refusal(n: int, workloads: Sequence[Workload], why: str,
             gateways: Sequence[_GatewayEntry], ports: Sequence[int],
             bound: dict[GatewayKey, list[tuple[Resource, VirtualService]]],
             config: Config) -> list[Result]:
    """MHR008 (MHR009 with ``onConflict: skip``) for a refused workload: the conflict rules'
    explanation where one applies, and the simulated change that decided."""
    workload = workloads[n]
    members = [e for e in gateways if workload.selected_by(e.view.selector)]
    redirects = [(e, s) for e in members for s in e.view.servers if _is_redirect(s, ports)]
    skip = config.on_conflict == "skip"
    tail = ("its Gateways were left unchanged (onConflict: skip)" if skip else
            "no Gateway reaching it was changed (resolve the conflict, or set onConflict: "
            "skip)")
    hints = _conflicts(members, ports, redirects, bound)
    out = []
    tags = (("workload", workload.describe()),)
    for entry, server, hint in hints[:3]:
        out.append(Result(
            rule("MHR009" if skip else "MHR008"),
            f"workload {workload.describe()}: {hint}; {why}; {tail}",
            resource=entry.resource.ref, field_path=f"spec.servers[{server.index}]",
            file=entry.resource.file, extra_tags=tags))
    if not out:
        first = redirects[0][0] if redirects else (members[0] if members else None)
        index = redirects[0][1].index if redirects else None
        out.append(Result(
            rule("MHR009" if skip else "MHR008"),
            f"workload {workload.describe()}: {why}; {tail}",
            resource=first.resource.ref if first else None,
            field_path=f"spec.servers[{index}]" if index is not None else None,
            file=first.resource.file if first else None, extra_tags=tags))
    return out


def _invalid(res: Resource, path: str, message: str) -> Result:
    return Result(
        rule("MHR010"),
        f"{message}; the resource was left untouched",
        resource=res.ref,
        field_path=path or None,
        file=res.file,
    )


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
            if server.port not in ports or _is_redirect(server, ports) or server.bind:
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


def without_bookkeeping(gateway: dict[str, Any]) -> dict[str, Any]:
    """The object without the hosts' bookkeeping annotations (for the chart generator, and
    to tell identical copies of one resource)."""
    out = dict(gateway)
    meta = out.get("metadata")
    if not isinstance(meta, dict) or not isinstance(meta.get("annotations"), dict):
        return out  # nothing to strip (a malformed metadata stays as it is)
    meta = dict(meta)
    annotations = {k: v for k, v in meta["annotations"].items()
                   if not (isinstance(k, str) and _BOOKKEEPING.match(k))}
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
