"""The merge, proven: no rewrite is printed unless the routing simulation shows every host, on
every gateway workload, answering plain HTTP as before.

:func:`merge` plans the rewrite (:func:`merge_https_redirects.transform.transform`), then
simulates istiod + Envoy on the configured ports of every gateway workload
(:mod:`merge_https_redirects.routing`) before and after it, for every host name the bundle
mentions (Gateway server hosts, VirtualService hosts, Certificate names, Ingress hosts), a name
under each wildcard and one unrelated name: ``GET http://HOST/`` must get the same answer (the
same redirect, the same route and destination, a 404 again). Two changes are intended and
allowed: a 404 that becomes the catch-all's redirect, and a Certificate name's challenge that
now reaches its solver. A name whose challenge passed must still pass (cert-manager's solver
Ingress added, :mod:`merge_https_redirects.http01`).

A workload whose answers would change is refused -- no Gateway reaching it changes, no new
Gateway reaches it -- and the rewrite is planned again for the others, until the simulation
accepts the whole plan (the refused set only grows, so this ends). Each refusal (MHR008, or
MHR009 with ``onConflict: skip``) names the workload, the host, and the answers before and
after.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import NamedTuple

from merge_https_redirects.config import Config, check_options
from merge_https_redirects.model.values import as_dict, as_list, as_str, is_mapping
from merge_https_redirects.model.workloads import Workload
from merge_https_redirects.results import Result
from merge_https_redirects.rewrite.resources import Outcome, Resource, values_of, workloads_of
from merge_https_redirects.rewrite.transform import transform
from merge_https_redirects.rules import rule

TYPE_CHECKING = False  # what follows is for annotations only, never needed at run time
if TYPE_CHECKING:
    from typing import Any

    from merge_https_redirects.model.certmanager import NameRequest
    from merge_https_redirects.model.envoy import Answer, RouteConfig
    from merge_https_redirects.model.gateway import Readings, _Gateway
    from merge_https_redirects.model.http01 import CheckOptions, _Pending
    from merge_https_redirects.model.routing import RoutingInput

#: The unrelated name every workload is asked about (``.invalid`` is never a real host).
UNRELATED_HOST = "merge-https-redirects-unrelated.invalid"
#: The label a wildcard host is probed with (``*.x`` -> ``<label>.x``).
WILDCARD_LABEL = "merge-https-redirects-probe"
#: How many changed hosts a refusal names (the rest are counted).
SHOWN = 3


def merge(resources: Sequence[Resource], config: Config,
          other_paths: Iterable[str] = ()) -> Outcome:
    """The rewrite of ``mode: merge``, with the proof (see the module docstring)."""
    # Every read of a resource returns the value the scan built (no second parse), so the
    # plan, the proof and the plans after a refusal all share one set of values.
    other_paths = set(other_paths)
    values = values_of(resources)
    workloads = workloads_of(resources, config, values)
    # ``auto``: a workload the simulation refuses with the `*` Gateway tries the route shape
    # (with why); ``route``: every workload starts there.
    route: dict[int, str] = (dict.fromkeys(range(len(workloads)), "")
                             if config.strategy == "route" else {})
    outcome = transform(resources, config, other_paths, workloads=workloads, route=route,
                        values=values)
    if not outcome.changes and not outcome.added and not outcome.unplaceable:
        return _with_assumed(outcome, workloads)
    proof = Proof(values, config, workloads)
    refused: dict[int, str] = {}
    changed: dict[int, str] = {}
    # Each round moves at least one workload to the route shape or to the refused: this ends
    # within 2 * len(workloads) + 1 rounds.
    for _ in range(2 * len(workloads) + 2):
        if outcome.unplaceable:
            found = dict(outcome.unplaceable)
        else:
            if not outcome.changes and not outcome.added:
                return _with_assumed(outcome, workloads)
            found = {n: _summary(lines) for n, lines in proof.changes(
                after_values(resources, outcome, proof.readings), outcome.added).items()}
            if not found:
                return _with_assumed(outcome, workloads)  # proven
            if set(found) <= set(refused):
                changed = found
                break  # the plan changes a workload it was told to leave alone: a bug
        changed = found
        for n, why in found.items():
            if config.strategy == "auto" and n not in route:
                route[n] = f"gateway shape: {why}"
            elif n not in refused:
                refused[n] = (f"{route[n]}; route shape: {why}" if route.get(n) else why)
        outcome = transform(resources, config, other_paths, workloads=workloads,
                            refused=refused, route={n: r for n, r in route.items()
                                                    if n not in refused}, values=values)
    # Not proven: change nothing at all.
    failed = Outcome()
    failed.results = [r for r in outcome.results if r.level != "info"]
    failed.results += [
        Result(rule("MHR011"), f"workload {workloads[n].describe()}: {why}; nothing was changed")
        for n, why in sorted((changed or refused).items())]
    return _with_assumed(failed, workloads)


def _with_assumed(outcome: Outcome, workloads: Sequence[Workload]) -> Outcome:
    """Say which workloads were assumed, when the run had Gateways to judge on them."""
    assumed = [w for w in workloads if w.assumed]
    touched = bool(outcome.changes or outcome.added) or any(
        r.rule.id in ("MHR008", "MHR009") for r in outcome.results)
    if assumed and touched:
        outcome.results.append(Result(rule("MHR014"), (
            "no gateway Deployment, Pod, IstioOperator or gatewayLabels tells the gateway pods' "
            "labels: the rewrite was proven on every pod the Gateway selectors allow, "
            + "; ".join(w.labels_text() for w in assumed)
            + " (set gatewayLabels to the real ones)")))
    return outcome


def after_values(resources: Sequence[Resource], outcome: Outcome,
                 readings: Readings | None = None) -> list[dict[str, Any]]:
    """The values of the bundle once ``outcome`` is applied; ``readings``: those of the
    bundle before, told how each Gateway that only lost servers reads now."""
    out = []
    for res in resources:
        if res.local_config or res.load is None:
            continue
        change = outcome.changes.get(res.position)
        if change is not None and change.delete:
            continue
        value = res.value
        if value is None:
            continue
        if not change:
            out.append(value)
            continue
        after = apply_removals(value, change.remove)
        if readings is not None and res.kind == "Gateway" and all(
                len(p) == 3 and p[:2] == ("spec", "servers") and type(p[2]) is int
                for p in change.remove):
            readings.gateway_without_servers(value, after,
                                             {int(p[2]) for p in change.remove})
        out.append(after)
    return out + list(outcome.added)


class _Listener(NamedTuple):
    """One route configuration a probe asks: a workload and the port its listener has."""

    workload: int
    port: int


#: What two answers are compared by: kind, destination (or redirect target), virtual host.
Key = tuple[str, "str | None", "str | None"]


def _key(answer: Answer) -> Key:
    return (answer.kind, answer.destination, answer.virtual_host)


class Proof:
    """The answers before the rewrite, computed once; :meth:`changes` compares a plan's.
    Only the answers' keys are kept (a 50k-item bundle has 10k hosts per listener); the causes
    are worked out again for the few answers a refusal names."""

    def __init__(self, before: Sequence[Mapping[str, Any]], config: Config,
                 workloads: Sequence[Workload]) -> None:
        from merge_https_redirects.model import certmanager, http01
        from merge_https_redirects.model.gateway import Readings
        from merge_https_redirects.model.routing import RoutingInput

        self.workloads = workloads
        self.config = config
        self.options: CheckOptions = check_options(config)
        self.before_values = before
        # what the rewrite leaves alone is read once, for every side and order
        self.readings = Readings()
        source = RoutingInput(before, readings=self.readings)
        # the names to certify: probed as hosts, and judged (read once for both)
        requests = certmanager.names_needing_certificates(before)
        self.hosts = probe_hosts(source, before, requests)
        self.listeners = [_Listener(n, port) for n, w in enumerate(workloads)
                          for port in sorted({w.resolve(p) for p in config.ports})]
        self.before = self._keys(source)
        # HTTP-01: the names whose challenge passes on a workload must still pass there.
        self.pending: list[_Pending] = [
            v for v in http01._first_verdicts(before, self.options, requests)
            if type(v) is http01._Pending]
        del requests
        # the solvers are judged on the same reading (its routes are theirs too)
        judged = http01.judge_per_workload(self.pending, before, self.options, workloads,
                                           source=source, causes=False)
        del source  # its last route configuration is large
        self.passing = {(i, n) for i, found in judged.items()
                        for n, verdict, _ in found if verdict == "pass" and n >= 0}

    def _configs(self, source: RoutingInput) -> Iterator[tuple[int, RouteConfig]]:
        """Each listener's route configuration, one alive at a time."""
        from merge_https_redirects.model.routing import build_route_config

        for i, listener in enumerate(self.listeners):
            w = self.workloads[listener.workload]
            yield i, build_route_config(source, w.label_map, listener.port,
                                        ingress=self.options.ingress, port_map=w.port_map,
                                        proxy_namespace=w.namespace)

    def _keys(self, source: RoutingInput) -> list[list[Key]]:
        return [[_key(config.answer(h, "/", causes=False)) for h in self.hosts]
                for _, config in self._configs(source)]

    def _full(self, source: RoutingInput, wanted: Mapping[int, Sequence[int]]
              ) -> dict[tuple[int, int], Answer]:
        """The answers (with their causes) of the hosts ``wanted`` per listener."""
        out = {}
        for i, config in self._configs(source):
            for h in wanted.get(i, ()):
                out[(i, h)] = config.answer(self.hosts[h], "/")
        return out

    def changes(self, after: Sequence[Mapping[str, Any]],
                added: Sequence[Mapping[str, Any]] = ()) -> dict[int, list[str]]:
        """Per workload (index) whose answers the rewritten bundle ``after`` changes: what
        changed, one line each. ``added``: the Gateways of ``after`` that are new. istiod
        orders Gateways by creation time, then name: a new Gateway is created after the
        cluster's (last), or in the same second as all of them on a fresh install (by name);
        both orders must keep every answer."""
        from merge_https_redirects.model.routing import RoutingInput

        found: dict[int, list[str]] = {}
        seen: set[tuple[int, int]] = set()  # (workload, host) already named
        source = RoutingInput(after, readings=self.readings)
        self._compare(source, found, seen)
        # HTTP-01 on the same reading; its lines come after the answers' (of both orders)
        late = self._lost_passes(after, source) if self.passing else {}
        if added:  # built only now: one bundle's routing alive at a time
            if all(g.get("kind") == "Gateway" for g in added):
                # only Gateways differ (creation times, order): the VirtualServices and
                # their routes are the same
                source = source.with_gateways(self._created_gateways(after, added))
            else:
                new = {id(g) for g in added}
                source = RoutingInput(
                    [_created(r, _FIRST) for r in after if id(r) not in new]
                    + [_created(g, _LAST) for g in added], readings=self.readings)
            self._compare(source, found, seen)
        del source
        for n, lines in late.items():
            found.setdefault(n, []).extend(lines)
        return found

    def _compare(self, source: RoutingInput, found: dict[int, list[str]],
                 seen: set[tuple[int, int]]) -> None:
        """Add to ``found`` the answers of the bundle read as ``source`` that changed (each
        (workload, host) once: ``seen``)."""
        from merge_https_redirects.model.routing import RoutingInput

        changed: dict[int, list[int]] = {}
        for i, config in self._configs(source):
            workload = self.listeners[i].workload
            for h, (host, old) in enumerate(zip(self.hosts, self.before[i], strict=True)):
                if (workload, h) not in seen and not allowed(
                        old, _key(config.answer(host, "/", causes=False))):
                    seen.add((workload, h))
                    changed.setdefault(i, []).append(h)
        if not changed:
            return
        new_answers = self._full(source, changed)
        old_answers = self._full(RoutingInput(self.before_values, readings=self.readings),
                                 changed)
        for i, hosts in changed.items():
            listener = self.listeners[i]
            for h in hosts:
                found.setdefault(listener.workload, []).append(
                    f"http://{self.hosts[h]}/ on port {listener.port} would change from "
                    f"{describe(old_answers[(i, h)])} to {describe(new_answers[(i, h)])}")

    def _lost_passes(self, after: Sequence[Mapping[str, Any]], source: RoutingInput
                     ) -> dict[int, list[str]]:
        """Per workload: the names whose HTTP-01 challenge passed there and would not."""
        from merge_https_redirects.model import http01

        found: dict[int, list[str]] = {}
        names = {i for i, _ in self.passing}
        judged = http01.judge_per_workload(
            [p for i, p in enumerate(self.pending) if i in names],
            after, self.options, self.workloads, source=source)
        index = sorted(names)
        for k, results in judged.items():
            i = index[k]
            request = self.pending[i].request
            for n, verdict, cause in results:
                if (i, n) in self.passing and verdict != "pass":
                    found.setdefault(n, []).append(
                        f"the HTTP-01 challenge of {request.name} ({request.subject}) "
                        f"passes today and would be {verdict}: {cause}")
        return found

    def _created_gateways(self, after: Sequence[Mapping[str, Any]],
                          added: Sequence[Mapping[str, Any]]) -> list[_Gateway]:
        """The Gateways of ``after`` read as :func:`_created` stamps them (``added`` last),
        from the readings of ``after`` as it is: only their sort keys differ."""
        from merge_https_redirects.model.gateway import _creation_key, _is_istio

        new = {id(g) for g in added}
        keys = {stamp: _creation_key({"metadata": {"creationTimestamp": stamp}}, False)
                for stamp in (_FIRST, _LAST)}
        out = []
        for stamp, group in ((_FIRST, [r for r in after if id(r) not in new]),
                             (_LAST, list(added))):
            for res in group:
                if not is_mapping(res) or not _is_istio(res, "Gateway"):
                    continue
                gw = self.readings.gateway(res)
                if gw is None:
                    continue
                if _created(res, stamp) is not res:
                    gw = gw.with_sort_key((*keys[stamp], gw.name, gw.namespace))
                out.append(gw)
        return out


#: Creation times for the "new Gateways are created last" order: the input's resources
#: without one exist already (one second for all: then by name), the new ones come after.
_FIRST, _LAST = "1970-01-01T00:00:00Z", "9999-12-31T23:59:59Z"


def _created(res: Mapping[str, Any], stamp: str) -> Mapping[str, Any]:
    meta = res.get("metadata")
    if res.get("kind") != "Gateway" or not isinstance(meta, dict) or (
            meta.get("creationTimestamp") and stamp == _FIRST):
        return res
    return {**res, "metadata": {**meta, "creationTimestamp": stamp}}


def regressions(before: Sequence[Mapping[str, Any]], after: Sequence[Mapping[str, Any]],
                config: Config | None = None) -> list[str]:
    """What the proof refuses in a rewrite ``before`` -> ``after`` (plain values), one line
    per change, prefixed with the workload; empty when the rewrite is proven."""
    config = config or Config()
    from merge_https_redirects.model.http01 import gateway_workloads

    workloads = gateway_workloads(before, check_options(config))
    found = Proof(before, config, workloads).changes(after)
    return [f"workload {workloads[n].describe()}: {line}"
            for n in sorted(found) for line in found[n]]


def _summary(lines: Sequence[str]) -> str:
    text = "; ".join(lines[:SHOWN])
    if len(lines) > SHOWN:
        text += f"; and {len(lines) - SHOWN} more"
    return "the simulation refuses it: " + text


def allowed(old: Key, new: Key) -> bool:
    """Whether answer ``new`` is the same as ``old``, or the intended change: a 404 that
    the catch-all redirect (the ``*`` virtual host) now answers -- not another host's
    redirect server that the rewrite let through (istiod skips a server whose host an earlier
    tls-block server took: removing that one un-skips it). Answers by :func:`_key`."""
    from merge_https_redirects.model.envoy import REQUIRE_TLS_REDIRECT

    if old[0] == new[0] == "404":
        return True
    if old[:2] == new[:2]:
        return True
    return old[0] == "404" and new == ("redirect", REQUIRE_TLS_REDIRECT, "*")


def describe(answer: Answer) -> str:
    if answer.kind == "route":
        return f"route to {answer.destination} ({answer.cause})"
    if answer.kind == "redirect":
        return f"redirect {answer.destination} ({answer.cause})"
    return f"404 ({answer.cause})"


def probe_hosts(source: RoutingInput, values: Sequence[Mapping[str, Any]],
                requests: Sequence[NameRequest] | None = None) -> list[str]:
    """Every host name the bundle mentions, a name under each wildcard, one unrelated name.
    ``requests``: ``certmanager.names_needing_certificates(values)``, when the caller has it."""
    from merge_https_redirects.model import certmanager

    if requests is None:
        requests = certmanager.names_needing_certificates(values)
    names: list[str] = []
    for gw in source.gateways:
        for srv in gw.servers:
            names.extend(srv.hosts)
    for vs in source.services:
        names.extend(vs.hosts)
    for res in source.ingress_sources:
        if res.get("kind") == "Ingress":
            for r in as_list((as_dict(res.get("spec")) or {}).get("rules")):
                host = as_str((as_dict(r) or {}).get("host"))
                if host:
                    names.append(host)
    names.extend(r.name for r in requests)
    out: dict[str, None] = {}
    for name in names:
        host = name.split("/", 1)[1] if "/" in name else name
        host = host.lower()
        if not host or host == "*":
            continue
        if host.startswith("*."):
            out.setdefault(f"{WILDCARD_LABEL}{host[1:]}", None)
        elif "*" not in host:
            out.setdefault(host, None)
    out.setdefault(UNRELATED_HOST, None)
    return list(out)


def apply_removals(value: dict[str, Any], remove: Sequence[tuple[str | int, ...]]
                   ) -> dict[str, Any]:
    """``value`` with the sequence entries at ``remove`` deleted. Only the containers on the
    way to a removed entry are copied; the rest is shared with ``value`` (never modified)."""
    out: dict[str, Any] = dict(value)
    ordered = remove if len(remove) < 2 else sorted(
        remove, key=lambda p: [str(s) for s in p[:-1]] + [p[-1]], reverse=True)
    for path in ordered:
        parent: Any = out
        for step in path[:-1]:
            child = parent[step]
            child = dict(child) if isinstance(child, dict) else list(child)
            parent[step] = child
            parent = child
        del parent[path[-1]]
    return out
