"""VirtualServices after the rewrite: references to deleted and dedicated Gateways dropped
(never an empty list: that binds to the mesh), hosts no server serves any more warned about.
"""

from __future__ import annotations

from collections.abc import Sequence

from merge_https_redirects.model.istio import (
    VirtualService,
    hosts_intersect,
    resolve_gateway_ref,
    split_server_host,
)
from merge_https_redirects.results import Result
from merge_https_redirects.rewrite.plan import GatewayEntry
from merge_https_redirects.rewrite.resources import Change, GatewayKey, Outcome, Resource
from merge_https_redirects.rules import rule


def rewire_virtual_services(
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


def warn_unserved_hosts(
    services: Sequence[tuple[Resource, VirtualService]],
    by_key: dict[GatewayKey, GatewayEntry],
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
