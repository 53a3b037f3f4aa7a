"""What a refusal says: the workload, the reason the proof or the plan gave, and the conflicting
servers that explain it (the conflict rules only explain; the simulation decides).
"""

from __future__ import annotations

from collections.abc import Sequence

from merge_https_redirects.config import Config
from merge_https_redirects.model.istio import (
    Server,
    VirtualService,
    host_covers,
    hosts_intersect,
)
from merge_https_redirects.model.workloads import (
    Workload,
)
from merge_https_redirects.results import Result
from merge_https_redirects.rewrite.plan import GatewayEntry, is_redirect
from merge_https_redirects.rewrite.resources import GatewayKey, Resource
from merge_https_redirects.rules import rule


def refusal(n: int, workloads: Sequence[Workload], why: str,
             gateways: Sequence[GatewayEntry], ports: Sequence[int],
             bound: dict[GatewayKey, list[tuple[Resource, VirtualService]]],
             config: Config) -> list[Result]:
    """MHR008 (MHR009 with ``onConflict: skip``) for a refused workload: the conflict rules'
    explanation where one applies, and the simulated change that decided."""
    workload = workloads[n]
    members = [e for e in gateways if workload.selected_by(e.view.selector)]
    redirects = [(e, s) for e in members for s in e.view.servers if is_redirect(s, ports)]
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


def invalid(res: Resource, path: str, message: str) -> Result:
    return Result(
        rule("MHR010"),
        f"{message}; the resource was left untouched",
        resource=res.ref,
        field_path=path or None,
        file=res.file,
    )


def _where(entry: GatewayEntry, server: Server) -> str:
    return f"{entry.view.namespace}/{entry.view.name} spec.servers[{server.index}]"


def _names(pairs: Sequence[tuple[GatewayEntry, Server]]) -> str:
    return ", ".join(sorted({_where(e, s) for e, s in pairs}))


def _conflicts(
    members: Sequence[GatewayEntry],
    ports: Sequence[int],
    redirects: Sequence[tuple[GatewayEntry, Server]],
    bound: dict[GatewayKey, list[tuple[Resource, VirtualService]]],
) -> list[tuple[GatewayEntry, Server, str]]:
    """Servers that make the rewrite change which requests get redirected; each explanation
    names the plain server and the redirect server(s) it collides with."""
    found = []
    by_port: dict[int, list[tuple[GatewayEntry, Server]]] = {}
    for entry, server in redirects:
        by_port.setdefault(server.port, []).append((entry, server))

    for entry in members:
        for server in entry.view.servers:
            if server.port not in ports or is_redirect(server, ports) or server.bind:
                continue
            here = _where(entry, server)
            same_port = by_port.get(server.port, [])
            if not server.is_http:
                found.append((entry, server, (
                    f"{here} is a {server.protocol or 'protocol-less'} server on port "
                    f"{server.port}, which also carries the redirect server(s) {_names(same_port)}"
                )))
                continue
            for _, hostname in server.hostnames(entry.view.namespace):
                if hostname == "*":
                    found.append((entry, server, (
                        f"{here} serves plain HTTP for every host ('*') on port {server.port}: "
                        f"it would take the catch-all redirect that replaces {_names(same_port)}"
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
                        f"{', '.join(hosts)} redirected by {_names(exposed)} on port "
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
