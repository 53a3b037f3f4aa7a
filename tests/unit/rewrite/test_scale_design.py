"""The shortcuts that keep a 50k-item bundle small change no answer.

Each memory-saving choice has a slower, plainer equivalent; these tests compare the two:
shared leaf values vs fresh ones, workloads kept only for gateways, batched HTTP-01 judging vs
one batch, the guard's re-judging of passing names only vs two complete checks, a bundle's
routing read once vs per route configuration.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from merge_https_redirects import yamlio
from merge_https_redirects.config import Config
from merge_https_redirects.hosts import pipeline
from merge_https_redirects.model import http01, routing
from merge_https_redirects.model.workloads import could_be_gateway, gateway_labels, translates_ports
from merge_https_redirects.rewrite import proof
from merge_https_redirects.rewrite.resources import retain, wanted

GOLDEN = Path(__file__).resolve().parents[2] / "golden"
GW = {"istio": "ingressgateway"}


def scan(text: str) -> yamlio.Bundle:
    return yamlio.scan_stream(yamlio.decode(text.encode()).body, wanted, retain)


# --- shared leaf values ----------------------------------------------------------------------


def test_equal_leaf_values_are_one_object_and_keep_their_types() -> None:
    docs = []
    for i, number in enumerate(("80", "80", "80.0", "true", '"80"')):
        docs.append(f"""\
apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata: {{name: g{i}, namespace: ns}}
spec:
  selector: {{istio: ingressgateway}}
  servers:
  - port: {{number: {number}, name: http, protocol: HTTP}}
    hosts: [a.example.com]
""")
    values = [item.eager for item in scan("---\n".join(docs)).items]
    ports = [v["spec"]["servers"][0]["port"] for v in values]
    assert ports[0] is ports[1]
    assert [type(p["number"]) for p in ports] == [int, int, float, bool, str]
    assert len({id(p) for p in ports}) == 4
    selectors = {id(v["spec"]["selector"]) for v in values}
    hosts = {id(v["spec"]["servers"][0]["hosts"]) for v in values}
    assert len(selectors) == len(hosts) == 1
    # containers holding containers are never shared (each resource keeps its own)
    assert len({id(v["spec"]) for v in values}) == len(values)


def _golden_inputs() -> list[Path]:
    return sorted(GOLDEN.glob("*/input.yaml"))


@pytest.mark.parametrize("path", _golden_inputs(), ids=lambda p: p.parent.name)
def test_the_rewrite_and_the_checker_never_modify_the_values_they_read(path: Path) -> None:
    """Leaf values are shared across resources: a consumer that modified one in place would
    change other resources. Every mode runs over the golden inputs; the values stay as built."""
    try:
        bundle = scan(path.read_text(encoding="utf-8"))
    except yamlio.YamlError:
        pytest.skip("input the scan refuses (covered by its golden case)")
    snapshot = [copy.deepcopy(item.eager) for item in bundle.items]
    resources, other = pipeline.resources_of_items(
        (bundle, item, None, item.position) for item in bundle.items if item.is_mapping)
    for mode in ("merge", "check"):
        pipeline.apply_mode(resources, Config(mode=mode), other)
    assert [item.eager for item in bundle.items] == snapshot


# --- workloads ---------------------------------------------------------------------------------


def test_only_gateway_workloads_keep_their_values() -> None:
    bundle = scan("""\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: istio-ingressgateway, namespace: istio-system}
spec:
  template:
    metadata: {labels: {istio: ingressgateway}}
    spec: {containers: [{name: istio-proxy, image: docker.io/istio/proxyv2:1.22.0}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {selector: {app: web}}
---
apiVersion: v1
kind: Service
metadata: {name: istio-ingressgateway, namespace: istio-system}
spec: {selector: {istio: ingressgateway}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: broken, namespace: shop}
spec: {template: {metadata: {labels: {a: 1, a: 2}}}}
""")
    assert [item.wanted for item in bundle.items] == [False, True, False, True, True]
    assert isinstance(bundle.items[4].eager, yamlio.YamlError)  # still reported


# --- batched judging ---------------------------------------------------------------------------


def _cert(name: str, *hosts: str, issuer: str = "le") -> dict[str, Any]:
    return {"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
            "metadata": {"name": name, "namespace": "apps"},
            "spec": {"secretName": f"{name}-tls", "dnsNames": list(hosts),
                     "issuerRef": {"name": issuer, "kind": "ClusterIssuer"}}}


def _issuer(name: str, solver: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer",
            "metadata": {"name": name},
            "spec": {"acme": {"server": "https://acme.example/directory",
                              "privateKeySecretRef": {"name": name},
                              "solvers": [{"http01": solver}]}}}


def _gateway(name: str, *servers: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "networking.istio.io/v1beta1", "kind": "Gateway",
            "metadata": {"name": name, "namespace": "istio-system"},
            "spec": {"selector": dict(GW), "servers": list(servers)}}


def _http(*hosts: str, redirect: bool = False, number: int = 80) -> dict[str, Any]:
    server: dict[str, Any] = {"port": {"number": number, "name": f"http-{number}",
                                       "protocol": "HTTP"}, "hosts": list(hosts)}
    if redirect:
        server["tls"] = {"httpsRedirect": True}
    return server


def _vs(name: str, host: str, gateway: str, destination: str = "web") -> dict[str, Any]:
    return {"apiVersion": "networking.istio.io/v1beta1", "kind": "VirtualService",
            "metadata": {"name": name, "namespace": "apps"},
            "spec": {"hosts": [host], "gateways": [f"istio-system/{gateway}"],
                     "http": [{"route": [{"destination": {"host": destination}}]}]}}


def _ingress(name: str, host: str, *, cls: str = "istio") -> dict[str, Any]:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": name, "namespace": "apps"},
            "spec": {"ingressClassName": cls, "rules": [{"host": host, "http": {"paths": [
                {"path": "/", "pathType": "Prefix",
                 "backend": {"service": {"name": name, "port": {"number": 80}}}}]}}]}}


def mixed_bundle(apps: int = 24) -> list[dict[str, Any]]:
    """Many hosts and every kind of name the batching must keep together: a host named by two
    Certificates, IP addresses, an Ingress of the solver's own (ingressName), a solver of
    another class, hosts redirected, routed, and both."""
    bundle: list[dict[str, Any]] = [
        _issuer("le", {"ingress": {"class": "istio"}}),
        _issuer("named", {"ingress": {"name": "shared"}}),
        _issuer("nginx", {"ingress": {"class": "nginx"}}),
        _ingress("shared", "named.example.com"),
        _ingress("other", "a3.example.com"),
        _cert("ip", "10.0.0.1", "10.0.0.2"),
        _cert("twice-a", "a1.example.com"),
        _cert("named", "named.example.com", "second.example.com", issuer="named"),
        _cert("nginx", "a2.example.com", issuer="nginx"),
    ]
    for i in range(apps):
        host = f"a{i}.example.com"
        bundle.append(_cert(f"app{i}", host, f"www.a{i}.example.com"))
        redirect = i % 3 != 0
        bundle.append(_gateway(f"gw{i}", _http(host, redirect=redirect),
                               _http(f"www.a{i}.example.com", redirect=i % 4 == 0)))
        if i % 2 == 0:
            bundle.append(_vs(f"vs{i}", host, f"gw{i}"))
    return bundle


@pytest.mark.parametrize("batches", [2, 3, 7, 1000])
def test_batched_judging_gives_the_verdicts_of_one_batch(
    batches: int, monkeypatch: pytest.MonkeyPatch,
) -> None:
    bundle = mixed_bundle()
    monkeypatch.setattr(http01, "_MIN_BATCH", 1)
    monkeypatch.setattr(http01, "_BATCHES", 1)
    whole = http01.check(bundle)
    monkeypatch.setattr(http01, "_BATCHES", batches)
    assert http01.check(bundle) == whole
    assert {v.verdict for v in whole} >= {"pass", "redirected", "unroutable", "out-of-scope"}


def test_a_hosts_names_share_a_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(http01, "_MIN_BATCH", 1)
    pending = [
        v for v in http01._first_verdicts(mixed_bundle())
        if isinstance(v, http01._Pending)
    ]
    batches = http01._batches(list(enumerate(pending)))
    assert len(batches) > 1
    where: dict[str, set[int]] = {}
    for number, batch in enumerate(batches):
        for _, p in batch:
            where.setdefault(http01._host_key(p.request.name), set()).add(number)
    assert all(len(found) == 1 for found in where.values())
    assert "" in where  # the IP addresses, together


# --- the proof ---------------------------------------------------------------------------------


def _rewrite(bundle: list[dict[str, Any]], *, keep_redirects: set[str] = frozenset(),
             dedicated: bool = True) -> list[dict[str, Any]]:
    """Gateways and VirtualServices replaced, everything else the same objects."""
    out: list[dict[str, Any]] = []
    for res in bundle:
        if res["kind"] == "Gateway" and res["metadata"]["name"] not in keep_redirects:
            res = copy.deepcopy(res)
            res["spec"]["servers"] = [s for s in res["spec"]["servers"] if "tls" not in s]
            if not res["spec"]["servers"]:
                continue
        out.append(res)
    if dedicated:
        out.append(_gateway("http-to-https-redirect", _http("*", redirect=True)))
    return out


@pytest.mark.parametrize("case", ["safe", "no-dedicated", "reverse"])
def test_proof_rejudges_only_passing_names_yet_finds_what_two_complete_checks_find(
    case: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The proof judges again only the names that passed before (with every solver of their
    hosts); two complete checks of the bundle find the same lost passes."""
    monkeypatch.setattr(http01, "_MIN_BATCH", 1)
    before = mixed_bundle()
    after = _rewrite(before, dedicated=case != "no-dedicated")
    if case == "reverse":  # names pass before and are redirected after
        before, after = after, before
    lines = proof.regressions(before, after)
    lost = {p.split("the HTTP-01 challenge of ", 1)[1].split(" ", 1)[0]
            for p in lines if "HTTP-01 challenge" in p}
    after_by_key = {v.key: v for v in http01.check(copy.deepcopy(after))}
    full = {v.name for v in http01.check(copy.deepcopy(before))
            if v.verdict == "pass" and after_by_key[v.key].verdict != "pass"}
    assert lost == full
    if case == "safe":
        # IP addresses have no host: their solvers share ``*``, which the dedicated Gateway
        # redirects (the proof refuses such a rewrite; the model knows why)
        assert lost
        assert all(name.startswith("10.0.0.") for name in lost)
    elif case == "no-dedicated":  # nothing redirects the hosts any more
        assert any("would change from redirect" in p for p in lines)
    else:
        assert any(not name.startswith("10.0.0.") for name in lost)


# --- a bundle's routing read once -------------------------------------------------------------


def test_route_configuration_from_routing_read_once() -> None:
    bundle = mixed_bundle(6)
    solver = {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
              "metadata": {"name": "cm-acme-http-solver-x", "namespace": "apps"},
              "spec": {"ingressClassName": "istio", "rules": [{"host": "a1.example.com", "http": {
                  "paths": [{"path": "/.well-known/acme-challenge/t", "pathType": "Exact",
                             "backend": {"service": {"name": "s", "port": {"number": 8089}}}}]}}]}}
    source = routing.RoutingInput(bundle)
    for extra in ([], [solver]):
        assert routing.build_route_config(source, GW, extra_ingresses=extra) == (
            routing.build_route_config([*bundle, *extra], GW))


# --- gateway workloads told from the text --------------------------------------------------------

_IMAGES = ("nginx", "docker.io/istio/proxyv2:1.22.0", "auto", "gcr.io/istio-release/proxyv2",
           "proxy", "v2")


@given(
    kind=st.sampled_from(["Deployment", "DaemonSet", "StatefulSet", "Pod", "Service"]),
    labels=st.dictionaries(st.sampled_from(["app", "istio", "version"]),
                           st.sampled_from(["web", "ingressgateway", "ingress"]), max_size=2),
    images=st.lists(st.sampled_from(_IMAGES), max_size=2),
    template=st.sampled_from([None, "gateway", "sidecar", "gateway,custom"]),
    style=st.sampled_from([None, '"', "'"]),
    ports=st.lists(st.tuples(st.sampled_from([80, 443]),
                             st.sampled_from([None, 80, 8080, "http"])), max_size=2),
)
@settings(max_examples=300, deadline=None)
def test_the_text_test_never_drops_a_gateway_workload(
    kind: str, labels: dict[str, str], images: list[str], template: str | None,
    style: str | None, ports: list[tuple[int, int | str | None]],
) -> None:
    """``could_be_gateway(kind, text)`` is ``False`` only when ``gateway_labels`` (for a
    Service: nor ``translates_ports``) holds for the value; and a scanned bundle keeps exactly
    the gateway workloads' values and the Services that translate a port."""
    meta: dict[str, Any] = {"labels": labels}
    if template is not None:
        meta["annotations"] = {"inject.istio.io/templates": template}
    pod_spec = {"containers": [{"name": f"c{i}", "image": image}
                               for i, image in enumerate(images)]}
    value: dict[str, Any] = {"apiVersion": "v1" if kind in ("Pod", "Service") else "apps/v1",
                             "kind": kind, "metadata": {"name": "w", "namespace": "ns"}}
    if kind == "Service":
        value["spec"] = {"selector": labels, "ports": [
            {"port": p} if t is None else {"port": p, "targetPort": t} for p, t in ports]}
    elif kind == "Pod":
        value["metadata"] = {**value["metadata"], **meta}
        value["spec"] = pod_spec
    else:
        value["spec"] = {"template": {"metadata": meta, "spec": pod_spec}}
    text = yaml.safe_dump(value, default_style=style, sort_keys=False)
    is_gateway = gateway_labels(value) is not None or (
        kind == "Service" and translates_ports(value))
    if not could_be_gateway(kind, text):
        assert not is_gateway
    (item,) = scan(text).items
    assert item.wanted is is_gateway


def _gateway_deployment(image: str) -> str:
    return f"""\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: gw, namespace: istio-system}}
spec:
  template:
    metadata: {{labels: {{istio: ingressgateway}}}}
    spec: {{containers: [{{name: istio-proxy, image: {image}}}]}}
"""


def test_escapes_and_aliases_are_not_judged_from_the_text() -> None:
    escaped = _gateway_deployment('"docker.io/istio/proxy\\x762:1.22"')  # \x76 is "v"
    assert not could_be_gateway("Deployment", escaped.replace("\\", ""))
    assert scan(escaped).items[0].wanted
    images = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: images, namespace: ns}
data: {image: &proxy docker.io/istio/proxyv2:1.22}
"""
    docs = [images, _gateway_deployment("*proxy")]
    assert [item.wanted for item in yamlio.scan_resource_list(
        "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n"
        + "".join("- " + doc.replace("\n", "\n  ").rstrip() + "\n" for doc in docs),
        wanted, retain).items] == [False, True]


# --- solver Ingresses added to a route configuration built once --------------------------------

_HOSTS = ("a.example.com", "b.example.com", "A.example.com", "*.example.com", "*", "10.0.0.1",
          "10.0.0.2")


def _solver(name: str, host: str, namespace: str = "apps") -> dict[str, Any]:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"ingressClassName": "istio", "rules": [{
                "host": "" if host[0].isdigit() else host, "http": {"paths": [{
                    "path": "/.well-known/acme-challenge/t",
                    "pathType": "ImplementationSpecific",
                    "backend": {"service": {"name": name, "port": {"number": 8089}}}}]}}]}}


@st.composite
def _routing_bundles(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A bundle (Gateways on several ports, some redirecting, with wildcard and ``ns/`` hosts;
    VirtualServices, some exported, some bound to an Ingress-derived Gateway; Ingresses, some
    for the solvers' hosts) and a batch of solver Ingresses (IP names, shared hosts)."""
    host = st.sampled_from(_HOSTS)
    bundle: list[dict[str, Any]] = []
    for g in range(draw(st.integers(0, 4))):
        servers = []
        for _ in range(draw(st.integers(1, 3))):
            number = draw(st.sampled_from([80, 80, 8080, 443]))
            hosts = draw(st.lists(st.one_of(host, st.just("apps/a.example.com")), min_size=1,
                                  max_size=2))
            server = _http(*hosts, redirect=draw(st.booleans()), number=number)
            server["port"]["protocol"] = draw(st.sampled_from(["HTTP", "HTTP", "HTTP2", "TCP"]))
            servers.append(server)
        gw = _gateway(f"gw{g}", *servers)
        if draw(st.booleans()):
            gw["metadata"]["creationTimestamp"] = f"2024-01-0{g + 1}T00:00:00Z"
        bundle.append(gw)
    for v in range(draw(st.integers(0, 4))):
        gateway = draw(st.sampled_from(
            [f"gw{g}" for g in range(4)]
            + ["cm-acme-http-solver-0-istio-autogenerated-k8s-ingress-apps",
               "web-istio-autogenerated-k8s-ingress-apps"]))
        vs = _vs(f"vs{v}", draw(host), gateway, destination=f"d{v}")
        if draw(st.booleans()):
            vs["spec"]["http"].insert(0, {"match": [{"uri": {"prefix": "/.well-known"}}],
                                          "route": [{"destination": {"host": f"w{v}"}}]})
        export = draw(st.sampled_from([None, ["."], ["other"], ["*"]]))
        if export is not None:
            vs["spec"]["exportTo"] = export
        bundle.append(vs)
    for i in range(draw(st.integers(0, 2))):
        ingress = _ingress("web" if i == 0 else f"web{i}", draw(host).replace("10.0.0.1", ""))
        if draw(st.booleans()):
            ingress["spec"]["tls"] = [{"hosts": ["a.example.com"], "secretName": "s"}]
        bundle.append(ingress)
    solvers = [_solver(f"cm-acme-http-solver-{draw(st.sampled_from('0123'))}", h)
               for h in draw(st.lists(st.sampled_from(_HOSTS[:3] + _HOSTS[5:]), max_size=4))]
    if draw(st.booleans()):
        bundle = draw(st.permutations(bundle))
    return bundle, solvers


@given(case=_routing_bundles(), port=st.sampled_from([80, 8080]),
       namespace=st.sampled_from(["", "istio-system", "apps"]),
       port_map=st.sampled_from([None, {8080: 80}, {80: 8080}]))
@settings(max_examples=400, deadline=None)
def test_solver_ingresses_added_to_a_route_configuration_are_a_full_rebuild(
    case: tuple[list[dict[str, Any]], list[dict[str, Any]]], port: int, namespace: str,
    port_map: dict[int, int] | None,
) -> None:
    """``RouteBase.with_ingresses`` (the solvers' own virtual hosts added to the route
    configuration built once) gives the route configuration built from scratch with them."""
    bundle, solvers = case
    source = routing.RoutingInput(bundle)
    base = routing.RouteBase(source, GW, port, port_map=port_map, proxy_namespace=namespace)
    assert base.config == routing.build_route_config(bundle, GW, port, port_map=port_map,
                                                     proxy_namespace=namespace)
    for extra in (solvers, solvers[:1], solvers[::-1]):
        assert base.with_ingresses(extra) == routing.build_route_config(
            [*bundle, *extra], GW, port, port_map=port_map, proxy_namespace=namespace)


def test_the_incremental_route_configuration_is_taken_where_it_is_exact() -> None:
    """The common shapes (solvers for hosts of plain and redirecting servers, IP names into
    ``*``) are added incrementally, not rebuilt; an Ingress of the solver's host is rebuilt."""
    bundle = mixed_bundle(6)
    solvers = [_solver("cm-acme-http-solver-1", "a1.example.com"),
               _solver("cm-acme-http-solver-2", "10.0.0.1"),
               _solver("cm-acme-http-solver-3", "a3.example.com")]
    base = routing.RouteBase(routing.RoutingInput(bundle), GW)
    assert base._shape is not None
    assert routing._add_ingresses(base, base._shape, solvers[:2]) == (
        routing.build_route_config([*bundle, *solvers[:2]], GW))
    assert routing._add_ingresses(base, base._shape, solvers) is None  # Ingress "other"
    assert base.with_ingresses(solvers) == routing.build_route_config([*bundle, *solvers], GW)


@given(case=_routing_bundles(), port=st.sampled_from([80, 8080]),
       namespace=st.sampled_from(["", "istio-system", "apps"]),
       port_map=st.sampled_from([None, {8080: 80}, {80: 8080}]))
@settings(max_examples=400, deadline=None)
def test_a_name_its_own_virtual_host_redirects_is_redirected_whatever_solvers_are_added(
    case: tuple[list[dict[str, Any]], list[dict[str, Any]]], port: int, namespace: str,
    port_map: dict[int, int] | None,
) -> None:
    """The HTTP-01 judging answers such a name without its solver (and the batch's):
    ``RouteBase.redirects_whatever_is_added`` must mean the full rebuild answers the same."""
    bundle, solvers = case
    base = routing.RouteBase(routing.RoutingInput(bundle), GW, port, port_map=port_map,
                             proxy_namespace=namespace)
    path = http01.CHALLENGE_PATH + http01.PROBE_TOKEN
    for host in _HOSTS:
        if not base.redirects_whatever_is_added(host):
            continue
        own = _solver("cm-acme-http-solver-own", host)
        for extra in ([own], [own, *solvers], solvers):
            full = routing.build_route_config([*bundle, *extra], GW, port, port_map=port_map,
                                              proxy_namespace=namespace)
            for asked in (host, host.upper(), f"{host}:80"):
                assert full.answer(asked, path) == base.config.answer(asked, path)
                assert full.answer(asked, "/") == base.config.answer(asked, "/")


def test_names_their_own_virtual_host_redirects_are_answered_without_a_solver() -> None:
    """The shortcut is taken (the common case of a renewal behind an httpsRedirect) and not
    where a name's challenge may reach its solver (a plain server, or a ``*`` redirect)."""
    bundle = [_gateway("gw", _http("a.example.com", redirect=True), _http("b.example.com"),
                       _http("*", redirect=True))]
    base = routing.RouteBase(routing.RoutingInput(bundle), GW)
    assert base.redirects_whatever_is_added("a.example.com")
    assert base.redirects_whatever_is_added("A.example.com:80")
    assert not base.redirects_whatever_is_added("b.example.com")
    assert not base.redirects_whatever_is_added("c.example.com")  # `*` only: the solver's host
    assert not base.redirects_whatever_is_added("*")


@given(case=_routing_bundles(), stamps=st.lists(
    st.sampled_from([None, "", "2024-01-01T00:00:00Z", "not a time"]), min_size=4, max_size=4))
@settings(max_examples=200, deadline=None)
def test_gateways_in_the_created_last_order_are_read_as_stamped_copies(
    case: tuple[list[dict[str, Any]], list[dict[str, Any]]], stamps: list[str | None],
) -> None:
    """The proof's second order (new Gateways created last) reuses the readings of the bundle
    as it is, re-keyed: the same Gateways, in the same order, as reading stamped copies."""
    bundle, _ = case
    bundle = copy.deepcopy(bundle)
    for res, stamp in zip((r for r in bundle if r["kind"] == "Gateway"), stamps, strict=False):
        if stamp is not None:
            res["metadata"]["creationTimestamp"] = stamp
    added = [_gateway("http-to-https-redirect", _http("*", redirect=True))]
    after = [*bundle, *added]
    checker = proof.Proof(bundle, Config(), ())
    reused = routing.RoutingInput(after, readings=checker.readings).with_gateways(
        checker._created_gateways(after, added))
    stamped = routing.RoutingInput(
        [proof._created(r, proof._FIRST) for r in bundle]
        + [proof._created(g, proof._LAST) for g in added])
    assert reused.gateways == stamped.gateways
    assert reused.services == stamped.services


_SERVER = st.one_of(
    st.builds(lambda n, redirect, host: _http(host, redirect=redirect, number=n),
              st.sampled_from([80, 443, 8080]), st.booleans(), st.sampled_from(_HOSTS)),
    st.sampled_from([{"hosts": ["a.example.com"]}, "not a server", {"port": {"number": "x"}}]),
)


@given(servers=st.lists(_SERVER, max_size=6), data=st.data())
@settings(max_examples=300, deadline=None)
def test_a_gateway_that_only_lost_servers_reads_as_its_reading_without_them(
    servers: list[Any], data: st.DataObject,
) -> None:
    """The proof takes the reading of a Gateway the rewrite only removed servers from from
    the reading before (``Readings.gateway_without_servers``): it must be a fresh reading."""
    from merge_https_redirects.model.gateway import Readings, _read_gateway

    before = _gateway("gw", *servers)
    removed = data.draw(st.sets(st.integers(0, max(len(servers) - 1, 0)), max_size=len(servers)))
    removed &= set(range(len(servers)))
    after = proof.apply_removals(before, [("spec", "servers", i) for i in removed])
    readings = Readings()
    readings.gateway(before)
    readings.gateway_without_servers(before, after, removed)
    assert readings.gateway(after) == _read_gateway(after)
