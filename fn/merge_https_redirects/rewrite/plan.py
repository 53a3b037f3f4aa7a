"""Per gateway workload, which Gateway redirects each listener after the rewrite: existing
dedicated-shaped Gateways reused, new ones placed by selector (:func:`plan`), the rest's
redirect servers removed.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import NamedTuple

from merge_https_redirects.model.istio import (
    Gateway,
    Server,
)
from merge_https_redirects.model.workloads import (
    Workload,
)
from merge_https_redirects.rewrite.resources import GatewayKey, Resource, Selector


class GatewayEntry(NamedTuple):
    resource: Resource
    view: Gateway

    @property
    def key(self) -> GatewayKey:
        return (self.view.namespace, self.view.name)


def is_redirect(server: Server, ports: Sequence[int]) -> bool:
    """A *redirect server*: on a configured port, of a protocol istiod treats as HTTP, with
    ``httpsRedirect``, on the default listener (a ``bind`` server has a listener of its own)."""
    return (server.port in ports and server.is_http and server.https_redirect
            and not server.bind)


def _is_catch_all(server: Server) -> bool:
    return len(server.hosts) == 1 and server.hosts[0] in ("*", "*/*")


def selector_text(selector: Selector) -> str:
    if selector is None:
        return "(no selector: every gateway workload)"
    return "{" + ", ".join(f"{k}: {v}" for k, v in selector) + "}"


def workloads_text(workloads: Sequence[Workload], indices: Iterable[int]) -> str:
    chosen = [workloads[n] for n in indices]
    if not chosen:
        return "no gateway workload"
    return "workload(s) " + "; ".join(w.describe() for w in chosen)


class Plan:
    """Which Gateways change: the removable ones (every redirect server goes), the dedicated
    Gateways kept and the selectors (with ports) of new ones, per workload."""

    __slots__ = (
        "bind_redirects",
        "needing",
        "new",
        "reach",
        "removable",
        "reused",
        "route_new",
        "unplaceable",
        "unreached",
    )

    def __init__(self) -> None:
        self.removable: list[GatewayEntry] = []
        self.reused: list[GatewayEntry] = []
        self.new: dict[Selector, list[int]] = {}
        #: the route shape: selector -> ports whose redirected hosts get a redirect route
        self.route_new: dict[Selector, list[int]] = {}
        self.needing: set[int] = set()
        self.reach: dict[GatewayKey, list[int]] = {}
        self.unplaceable: dict[int, str] = {}
        self.bind_redirects: list[tuple[GatewayEntry, Server]] = []
        self.unreached: list[GatewayEntry] = []


def place(gateways: Sequence[GatewayEntry], workloads: Sequence[Workload],
          ports: Sequence[int], refused: Mapping[int, str],
          route: Collection[int] = ()) -> Plan:
    """Per gateway workload (``pilot/pkg/model/push_context.go`` ``mergeGateways``: every
    Gateway whose selector is a subset of the pod's labels applies), after the rewrite
    exactly one catch-all redirect server must reach each listener that loses redirect
    servers: an existing one (any Gateway, selector-less included) or one new dedicated
    Gateway per chosen selector -- never two on one pod (IST0145). A workload in ``route``
    gets the route shape instead: a plain Gateway whose selector reaches exactly the pods that
    lose redirect servers, for their hosts (no catch-all, so no IST0145 either)."""
    plan = Plan()
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
                and all(is_redirect(s, ports) for s in entry.view.servers)):
            redundant.add(entry.key)
        claimed |= cover
    # Listeners already redirected by a catch-all server that stays: (workload, port).
    kept: set[tuple[int, int]] = set()
    needs: dict[int, set[int]] = {p: set() for p in ports}  # written port -> workloads
    for entry in gateways:
        reach = plan.reach[entry.key]
        redirects = [s for s in entry.view.servers if is_redirect(s, ports)]
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
            if removable and is_redirect(s, ports):
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
        by_route = {n for n in uncovered if n in route}
        uncovered -= by_route
        if by_route:
            _place_routes(plan, workloads, p, by_route, specific, anywhere)
        if not uncovered:
            continue
        # Workloads a new catch-all on p must not reach: refused ones, and listeners that
        # keep a catch-all redirect (a second one would be IST0145).
        forbidden = frozen | {n for n, w in enumerate(workloads) if (n, w.resolve(p)) in kept}
        chosen = _choose(plan, workloads, p, uncovered, forbidden, specific, anywhere,
                         plan.new, "lose redirect servers on port {port}: every choice misses "
                         "some or reaches a pod that keeps a catch-all redirect (IST0145: two "
                         "'*' servers on one pod)")
        for selector in chosen:
            # the new server is the catch-all of these listeners for the next ports too
            # (80 and 8080 may land on one)
            kept.update((n, w.resolve(p)) for n, w in enumerate(workloads)
                        if w.selected_by(selector))
    return plan


def _place_routes(plan: Plan, workloads: Sequence[Workload], port: int, needing: set[int],
                  specific: Sequence[Selector], anywhere: bool) -> None:
    """Selectors for the route shape on ``port``: they must reach exactly ``needing`` (a
    redirect route on another pod would redirect hosts it serves)."""
    others = {n for n in range(len(workloads)) if n not in needing}
    _choose(plan, workloads, port, needing, others, specific, anywhere, plan.route_new,
            "move their redirect servers on port {port} into routes")


def _choose(plan: Plan, workloads: Sequence[Workload], port: int, needing: set[int],
            forbidden: set[int], specific: Sequence[Selector], anywhere: bool,
            into: dict[Selector, list[int]], why: str) -> list[Selector]:
    """The selectors that reach ``needing`` and none of ``forbidden`` (selector-less only
    where a selector-less Gateway is replaced), recorded with ``port`` in ``into``; none
    found makes every needing workload unplaceable, saying ``why``."""
    chosen = _cover(workloads, needing, forbidden, specific)
    if chosen is None and anywhere:
        chosen = _cover(workloads, needing, forbidden, [None])
    if chosen is None:
        for n in sorted(needing):
            plan.unplaceable[n] = (
                f"no Gateway selector reaches exactly the pods that {why.format(port=port)}; "
                "set gatewayLabels to the gateway pods' labels")
        return []
    for selector in chosen:
        ports = into.setdefault(selector, [])
        if port not in ports:
            ports.append(port)
    return chosen


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


def _is_dedicated_shape(entry: GatewayEntry) -> bool:
    """Only catch-all redirect servers, on distinct ports: kept as a redirect Gateway."""
    servers = entry.view.servers
    ports = [s.port for s in servers]
    return bool(servers) and len(set(ports)) == len(ports) and all(
        _is_catch_all(s) and s.https_redirect and s.is_http and not s.bind for s in servers)
