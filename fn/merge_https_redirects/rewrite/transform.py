"""The rewrite (mode ``merge``): pure, no I/O.

Input: the bundle's resources as :class:`Resource` values, a :class:`Config`, the gateway
workloads (:mod:`merge_https_redirects.model.workloads`) and the workloads the proof refused.
Output: an :class:`Outcome` — per-resource :class:`Change` (delete it, or delete some sequence
entries), new Gateways to append, and results. The I/O boundary applies the changes to the text;
:mod:`merge_https_redirects.rewrite.proof` decides, by simulation, which plan may be printed.

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

The conflict rules (:mod:`.refusal`) only explain a refusal the simulation made. The steps:
:func:`read_istio` → :func:`.plan.place` → :func:`report_plan` → :func:`add_dedicated` →
:func:`remove_redirect_servers` → (``strict``) → :mod:`.virtual_services` → summary.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from merge_https_redirects.config import Config
from merge_https_redirects.model.istio import (
    VirtualService,
    is_istio,
    read_gateway,
    read_virtual_service,
    resolve_gateway_ref,
)
from merge_https_redirects.model.workloads import Workload
from merge_https_redirects.results import ResourceRef, Result
from merge_https_redirects.rewrite import gateway_api_pods
from merge_https_redirects.rewrite.naming import new_file_ref, new_gateway, new_route_objects
from merge_https_redirects.rewrite.plan import (
    GatewayEntry,
    Plan,
    is_redirect,
    place,
    selector_text,
    workloads_text,
)
from merge_https_redirects.rewrite.refusal import invalid, refusal
from merge_https_redirects.rewrite.resources import (
    Change,
    GatewayKey,
    Outcome,
    Resource,
    values_of,
    without_bookkeeping,
    workloads_of,
)
from merge_https_redirects.rewrite.virtual_services import (
    rewire_virtual_services,
    warn_unserved_hosts,
)
from merge_https_redirects.rules import rule

Bound = dict[GatewayKey, list[tuple[Resource, VirtualService]]]


def transform(resources: Sequence[Resource], config: Config,
              other_paths: Iterable[str] = (), *,
              workloads: Sequence[Workload] | None = None,
              refused: Mapping[int, str] | None = None,
              route: Mapping[int, str] | None = None,
              values: Sequence[dict[str, Any]] | None = None) -> Outcome:
    """The merge rewrite; see the module docstring. ``other_paths``: the path annotations of
    the bundle's resources left out of ``resources`` (kinds the function does not read): a new
    Gateway's file must not collide with them either. ``workloads``: the gateway workloads
    (default: :func:`workloads_of`); ``refused``: workloads (by index) the proof refused, and
    why: no Gateway reaching them changes, and no new Gateway reaches them; ``route``:
    workloads (by index) that get the route shape, and why (empty: the configured strategy).
    The default comes from ``strategy``: ``route`` puts every workload there. ``values``:
    :func:`values_of` ``resources``, when the caller has them."""
    outcome = Outcome()
    gateways, services = read_istio(resources, outcome)
    if values is None:
        values = values_of(resources)
    if workloads is None:
        workloads = workloads_of(resources, config, values)
    # Classic redirect Gateways on a Gateway API Gateway's pods stay as they are (the proof
    # does not simulate Gateway API listeners).
    refused = {**gateway_api_pods.refusals(values, gateways, workloads,
                                           config.ports), **(refused or {})}
    if route is None:
        route = dict.fromkeys(range(len(workloads)), "") if config.strategy == "route" else {}
    bound = bound_gateways(services)
    plan = place(gateways, workloads, config.ports, refused, route)
    for n, why in sorted({**refused, **plan.unplaceable}.items()):
        outcome.results.extend(refusal(n, workloads, why, gateways, config.ports, bound, config))
    outcome.unplaceable = plan.unplaceable
    if plan.unplaceable:
        return outcome  # the proof refuses these workloads and plans again
    report_plan(plan, workloads, outcome)
    report_route_shapes(plan, gateways, bound, workloads, outcome)
    taken_paths = {r.path for r in resources if r.path} | set(other_paths)
    covered, dedicated_keys = add_dedicated(plan, gateways, workloads, config, taken_paths,
                                            outcome)
    add_route_redirects(plan, gateways, services, workloads, route, config, taken_paths,
                        covered, outcome)
    deleted, edited, removed = remove_redirect_servers(plan, config.ports, covered, outcome)
    if config.strict and refuse_partial(outcome):
        return outcome
    vs_deleted = rewire_virtual_services(services, deleted, dedicated_keys, outcome)
    warn_unserved_hosts(services, {e.key: e for e in gateways}, outcome, edited, vs_deleted)
    outcome.results.append(Result(
        rule("MHR000"),
        f"removed {removed} redirect server(s) from {len(edited)} Gateway(s); "
        f"added {len(plan.new)} and reused {len(plan.reused)} dedicated Gateway(s)"
        + (f" and {len(plan.route_new)} route redirect(s)" if plan.route_new else "")
        + "; deleted "
        f"{len(deleted)} Gateway(s) and {vs_deleted} VirtualService(s)",
    ))
    return outcome


def read_istio(resources: Sequence[Resource], outcome: Outcome
               ) -> tuple[list[GatewayEntry], list[tuple[Resource, VirtualService]]]:
    """The Gateways and VirtualServices the rewrite may change, validated; what cannot be read
    is reported and left as it is."""
    gateways: list[GatewayEntry] = []
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
                outcome.results.append(invalid(res, "", f"unreadable: {error}"))
            continue
        if res.kind == "Gateway":
            gw_view, problems = read_gateway(value, res.namespace, res.name)
            if gw_view is not None:
                gateways.append(GatewayEntry(res, gw_view))
        else:
            vs_view, problems = read_virtual_service(value, res.namespace, res.name)
            if vs_view is not None:
                services.append((res, vs_view))
        for path, problem in problems:
            outcome.results.append(invalid(res, path, f"{path} {problem}"))
    return gateways, services


def bound_gateways(services: Sequence[tuple[Resource, VirtualService]]) -> Bound:
    """Gateway (namespace, name) -> the VirtualServices that name it."""
    bound: Bound = {}
    for res, vs in services:
        for ref in vs.gateways:
            target = resolve_gateway_ref(ref, vs.namespace)
            if target is not None:
                bound.setdefault(target, []).append((res, vs))
    return bound


def report_plan(plan: Plan, workloads: Sequence[Workload], outcome: Outcome) -> None:
    """What the plan leaves alone, and why: Gateways reaching no workload, ``bind`` servers."""
    for entry in plan.unreached:
        outcome.results.append(Result(
            rule("MHR016"),
            f"its selector {selector_text(entry.view.selector)} reaches none of the gateway "
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


def report_route_shapes(plan: Plan, gateways: Sequence[GatewayEntry], bound: Bound,
                        workloads: Sequence[Workload], outcome: Outcome) -> None:
    """An existing route shape (a Gateway of plain HTTP servers whose every VirtualService is
    bound to it alone and only redirects to https) reaching a workload that loses redirect
    servers is that workload's redirect for its hosts: kept, and said so (``MHR031``)."""
    # ``plan.removable`` holds entries of ``gateways`` (one per resource): membership by
    # identity is membership by equality, in constant time (a list scan per Gateway would be
    # quadratic in the Gateways)
    removable = {id(e) for e in plan.removable}
    for entry in gateways:
        reached = [n for n in plan.reach.get(entry.key, []) if n in plan.needing]
        if not reached or id(entry) in removable or not is_route_shape(entry, bound):
            continue
        outcome.results.append(Result(
            rule("MHR031"),
            f"kept as the route redirect of {workloads_text(workloads, reached)} for "
            f"{', '.join(h for s in entry.view.servers for h in s.hosts)}",
            resource=entry.resource.ref, file=entry.resource.file,
        ))


def is_route_shape(entry: GatewayEntry, bound: Bound) -> bool:
    """Plain HTTP servers only (no redirect, no bind), and the VirtualServices bound to the
    Gateway are bound to it alone, each one catch-all https redirect route."""
    servers = entry.view.servers
    if not servers or any(s.https_redirect or s.bind or not s.is_http for s in servers):
        return False
    services = bound.get(entry.key, [])
    if not services:
        return False
    for res, vs in services:
        http = ((res.value or {}).get("spec") or {}).get("http")
        if len(vs.gateways) != 1 or not isinstance(http, list) or len(http) != 1:
            return False
        route = http[0] if isinstance(http[0], dict) else {}
        target = route.get("redirect")
        if route.get("match") or not isinstance(target, dict) or target.get("scheme") != "https":
            return False
    return True


def add_dedicated(plan: Plan, gateways: Sequence[GatewayEntry], workloads: Sequence[Workload],
                  config: Config, taken_paths: set[str], outcome: Outcome
                  ) -> tuple[dict[int, list[GatewayKey]], set[GatewayKey]]:
    """The dedicated Gateways: reused ones kept, new ones added. Returns which Gateways now
    redirect each workload, and the keys of every dedicated Gateway."""
    covered: dict[int, list[GatewayKey]] = {}
    dedicated_keys: set[GatewayKey] = set()
    for entry in plan.reused:
        dedicated_keys.add(entry.key)
        outcome.dedicated.append(without_bookkeeping(entry.resource.value or {}))
        reached = [n for n in plan.needing if workloads[n].selected_by(entry.view.selector)]
        for n in reached:
            covered.setdefault(n, []).append(entry.key)
        outcome.results.append(Result(
            rule("MHR003"),
            f"kept as the redirect Gateway of {workloads_text(workloads, reached)}",
            resource=entry.resource.ref, file=entry.resource.file,
        ))
    taken_names = {e.key for e in gateways}
    first_new = True
    for selector, new_ports in plan.new.items():
        sources = [e for e in plan.removable if e.view.selector == selector] or plan.removable
        gateway = new_gateway(selector, sources, new_ports, config, first_new, taken_names,
                              taken_paths)
        first_new = False
        meta = gateway["metadata"]
        key = (meta["namespace"], meta["name"])
        taken_names.add(key)
        dedicated_keys.add(key)
        reached = [n for n in plan.needing if workloads[n].selected_by(selector)]
        for n in reached:
            covered.setdefault(n, []).append(key)
        outcome.added.append(gateway)
        outcome.dedicated.append(without_bookkeeping(gateway))
        outcome.results.append(Result(
            rule("MHR002"),
            f"added dedicated redirect Gateway {key[0]}/{key[1]} with selector "
            f"{selector_text(selector)} on port(s) {', '.join(map(str, new_ports))} for "
            f"{workloads_text(workloads, reached)}",
            resource=ResourceRef(gateway["apiVersion"], "Gateway", key[1], key[0]),
            file=new_file_ref(gateway),
        ))
    return covered, dedicated_keys


def add_route_redirects(plan: Plan, gateways: Sequence[GatewayEntry],
                        services: Sequence[tuple[Resource, VirtualService]],
                        workloads: Sequence[Workload], route: Mapping[int, str], config: Config,
                        taken_paths: set[str], covered: dict[int, list[GatewayKey]],
                        outcome: Outcome) -> None:
    """The route shape per chosen selector: a plain Gateway for the redirected hosts and the
    VirtualServices of its catch-all https redirect route."""
    taken_names = {e.key for e in gateways} | {
        (g["metadata"]["namespace"], g["metadata"]["name"]) for g in outcome.added}
    taken_services = {(vs.namespace, vs.name) for _, vs in services}
    first = not plan.new
    for selector, ports in plan.route_new.items():
        reached = [n for n in plan.needing if workloads[n].selected_by(selector)]
        sources = [e for e in plan.removable if set(plan.reach[e.key]) & set(reached)]
        objects = new_route_objects(selector, sources, ports, config, first, taken_names,
                                    taken_services, taken_paths)
        first = False
        gateway, services_added = objects[0], objects[1:]
        key = (gateway["metadata"]["namespace"], gateway["metadata"]["name"])
        for n in reached:
            covered.setdefault(n, []).append(key)
        outcome.added.extend(objects)
        hosts = sorted({h for s in gateway["spec"]["servers"] for h in s["hosts"]})
        why = "; ".join(sorted({route[n] for n in reached if route.get(n)}))
        outcome.results.append(Result(
            rule("MHR030"),
            f"added route redirect Gateway {key[0]}/{key[1]} (plain, hosts {', '.join(hosts)}, "
            f"selector {selector_text(selector)}, port(s) {', '.join(map(str, ports))}) and "
            + ", ".join(f"VirtualService {v['metadata']['namespace']}/{v['metadata']['name']}"
                        for v in services_added)
            + f" (catch-all redirect to https, 301) for {workloads_text(workloads, reached)}"
            + (f": the dedicated '*' Gateway would change routing ({why})" if why else ""),
            resource=ResourceRef(gateway["apiVersion"], "Gateway", key[1], key[0]),
            file=new_file_ref(gateway),
        ))


def remove_redirect_servers(plan: Plan, ports: Sequence[int],
                            covered: Mapping[int, list[GatewayKey]], outcome: Outcome
                            ) -> tuple[set[GatewayKey], set[GatewayKey], int]:
    """Every other redirect server of the reaching Gateways goes; a Gateway left without
    servers is deleted. Returns the deleted and the edited Gateways and the servers removed."""
    deleted: set[GatewayKey] = set()
    edited: set[GatewayKey] = set()
    removed = 0
    for entry in plan.removable:
        remove = [s for s in entry.view.servers if is_redirect(s, ports)]
        removed += len(remove)
        edited.add(entry.key)
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
    return deleted, edited, removed


def refuse_partial(outcome: Outcome) -> bool:
    """``strict``: with any resource unreadable, nothing changes (says so; returns whether)."""
    unreadable = [r for r in outcome.results if r.rule.id in ("MHR010", "MHR101")]
    if not unreadable:
        return False
    outcome.changes.clear()
    outcome.added.clear()
    outcome.dedicated.clear()
    outcome.results = [r for r in outcome.results if r.level != "info"]
    outcome.results.append(Result(
        rule("MHR000"),
        f"strict: nothing was changed because {len(unreadable)} resource(s) could not be read",
    ))
    return True
