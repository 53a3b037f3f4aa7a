"""Workload proof property: every output of the function, judged with the routing simulation on
every gateway pod the bundle can have, shows only the allowed changes.

Bundles are generated as plain values: 0-2 gateway Deployments (Istio's ``proxyv2`` image) in
``istio-system`` with pod labels from small pools, sometimes a Service selecting a Deployment's
pods (port 80 -> targetPort 80 or 8080, maybe 8080 -> 8080); 1-5 Istio Gateways with selectors
from the same pools (or none), HTTP/HTTP2/GRPC servers on port 80 or 8080 (sometimes with
``bind``), hosts from a small pool, some with ``tls.httpsRedirect``; 0-4 VirtualServices bound
to some Gateways; sometimes an Istio-class Ingress. Every resource has a name of its own per
kind and namespace (duplicates are refused, which is not what this file is about).

The gateway pods are computed here, independently of :mod:`merge_https_redirects.workloads`:
the Deployments' pod labels when the bundle has Deployments; otherwise every union of
compatible Gateway selectors plus the mesh's ingress selector ``{istio: ingressgateway}``.
Each pod's Service port -> targetPort map is computed here too (the Services of its namespace
whose selector its labels carry; the first Service with a port wins).

Checked on every output:

1. per pod, on the listener written port 80 lands on, every probed host answers ``GET /`` as
   before, or as before a 404 and now the catch-all's redirect (``routing.py``'s model);
2. every pod whose listener lost a redirect server is reached there by exactly one catch-all
   (``hosts: ["*"]``) redirect server, unless the run refused a workload;
3. Gateway names are DNS-1123 labels; no two resources share kind, namespace and name;
4. the output is a fixed point (same bytes, no removal or addition reported);
5. a refusal (MHR008 / MHR009) names a host (``http://``), IST0145 or HTTP-01;
6. exit code 0 or 1, and stdout is never empty.

Found by this file (a regression test below keeps its smallest input): a Service whose
selector had no ``istio`` label was never read, so a gateway pod without that label got no port
translation and the proof simulated the wrong listener.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml
from hypothesis import given, note, settings
from hypothesis import strategies as st

from merge_https_redirects import yamlio
from merge_https_redirects.config import Config
from merge_https_redirects.hosts import pipeline
from merge_https_redirects.model import envoy, routing

_SCALE = max(1, settings().max_examples // 60)  # the ``fuzz`` profile scales every test up


def n(examples: int) -> int:
    return examples * _SCALE


API = "networking.istio.io/v1beta1"
NAMESPACE = "istio-system"
LABEL_KEYS = ("istio", "app")
LABEL_VALUES = ("ingressgateway", "istio-ingressgateway", "internal")
INGRESS_SELECTOR = {"istio": "ingressgateway"}
HOSTS = ("a.example.com", "b.example.com", "*.example.com", "*", "ns1/a.example.com")
VS_HOSTS = ("a.example.com", "b.example.com", "*.example.com", "*")
INGRESS_HOSTS = ("a.example.com", "b.example.com", "*.example.com")
HTTP_PROTOCOLS = frozenset({"HTTP", "HTTP2", "HTTP_PROXY", "GRPC", "GRPC-WEB"})
UNRELATED = "unrelated.invalid"
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
REFUSALS = ("MHR008", "MHR009")
#: Results a run over an already rewritten output must not report: it would change again.
REWRITES = ("MHR001", "MHR002", "MHR004", "MHR005", "MHR006")

Labels = dict[str, str]


def _probe(host: str) -> str | None:
    """The name a pool host is asked as (``None``: the bare ``*``, covered by UNRELATED)."""
    host = host.split("/", 1)[1] if "/" in host else host
    if host == "*":
        return None
    return "probe" + host[1:] if host.startswith("*.") else host


PROBES = tuple(dict.fromkeys([p for p in map(_probe, HOSTS) if p is not None] + [UNRELATED]))


# ---------------------------------------------------------------------------------------------
# Generated bundles
# ---------------------------------------------------------------------------------------------
labels_st = st.dictionaries(st.sampled_from(LABEL_KEYS), st.sampled_from(LABEL_VALUES),
                            min_size=1, max_size=2)


@dataclass
class Bundle:
    docs: list[dict[str, Any]]
    data: bytes
    #: the gateway pods' labels and port maps, computed here (not by the function)
    pods: list[tuple[Labels, dict[int, int]]]


def _deployment(i: int, labels: Labels) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": f"ingressgateway-{i}", "namespace": NAMESPACE},
        "spec": {
            "selector": {"matchLabels": dict(labels)},
            "template": {
                "metadata": {"labels": dict(labels)},
                "spec": {"containers": [{"name": "istio-proxy",
                                         "image": "docker.io/istio/proxyv2:1.24.0"}]},
            },
        },
    }


@st.composite
def _service(draw: st.DrawFn, i: int, selector: Labels) -> dict[str, Any]:
    ports = [{"name": "http2", "port": 80, "targetPort": draw(st.sampled_from([80, 8080]))}]
    if draw(st.booleans()):
        ports.append({"name": "http-alt", "port": 8080, "targetPort": 8080})
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": f"ingressgateway-svc-{i}", "namespace": NAMESPACE},
        "spec": {"selector": dict(selector), "ports": ports},
    }


@st.composite
def _server(draw: st.DrawFn, gw: int, i: int) -> dict[str, Any]:
    port = draw(st.sampled_from([80, 80, 80, 8080]))
    server: dict[str, Any] = {
        "port": {"number": port, "name": f"http-{gw}-{i}",
                 "protocol": draw(st.sampled_from(["HTTP", "HTTP", "HTTP2", "GRPC"]))},
        "hosts": draw(st.lists(st.sampled_from(HOSTS), min_size=1, max_size=2, unique=True)),
    }
    if draw(st.integers(0, 5)) == 0:
        server["bind"] = "10.0.0.1"
    if draw(st.booleans()):
        server["tls"] = {"httpsRedirect": True}
    return server


@st.composite
def _gateway(draw: st.DrawFn, i: int, name: str, stamp: str | None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": NAMESPACE}
    if stamp is not None:
        meta["creationTimestamp"] = stamp
    spec: dict[str, Any] = {}
    if draw(st.integers(0, 4)):
        spec["selector"] = draw(labels_st)
    spec["servers"] = [draw(_server(i, j)) for j in range(draw(st.integers(1, 3)))]
    return {"apiVersion": API, "kind": "Gateway", "metadata": meta, "spec": spec}


@st.composite
def _virtual_service(draw: st.DrawFn, i: int, gateways: Sequence[str]) -> dict[str, Any]:
    refs = draw(st.lists(st.sampled_from(gateways), min_size=1, max_size=2, unique=True))
    return {
        "apiVersion": API,
        "kind": "VirtualService",
        "metadata": {"name": f"vs-{i}", "namespace": draw(st.sampled_from([NAMESPACE, "ns1"]))},
        "spec": {
            "hosts": draw(st.lists(st.sampled_from(VS_HOSTS), min_size=1, max_size=2,
                                   unique=True)),
            "gateways": [f"{NAMESPACE}/{r}" for r in refs],
            "http": [{"route": [{"destination": {"host": f"app-{i}.ns1.svc.cluster.local"}}]}],
        },
    }


def _ingress(host: str | None) -> dict[str, Any]:
    rule: dict[str, Any] = {"http": {"paths": [{
        "path": "/", "pathType": "Prefix",
        "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}
    if host is not None:
        rule = {"host": host, **rule}
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "web", "namespace": "web",
                     "annotations": {"kubernetes.io/ingress.class": "istio"}},
        "spec": {"rules": [rule]},
    }


@st.composite
def bundles(draw: st.DrawFn) -> Bundle:
    docs: list[dict[str, Any]] = []
    deployments = draw(st.lists(labels_st, min_size=0, max_size=2))
    services: list[dict[str, Any]] = []
    for i, labels in enumerate(deployments):
        docs.append(_deployment(i, labels))
        if draw(st.booleans()):
            services.append(draw(_service(len(services), labels)))
    docs += services

    count = draw(st.integers(1, 5))
    # Sometimes a Gateway already has the dedicated Gateway's name: the new one must not clash.
    names = [f"gw-{i}" for i in range(count)]
    if draw(st.integers(0, 5)) == 0:
        names[0] = "http-to-https-redirect"
    stamps: list[str | None] = [None] * count
    if draw(st.booleans()):  # distinct creation times, in any order
        order = draw(st.permutations(range(count)))
        stamps = [f"2024-01-{day + 1:02d}T00:00:00Z" for day in order]
    for i in range(count):
        docs.append(draw(_gateway(i, names[i], stamps[i])))

    for i in range(draw(st.integers(0, 4))):
        docs.append(draw(_virtual_service(i, names)))
    if draw(st.booleans()):
        docs.append(_ingress(draw(st.none() | st.sampled_from(INGRESS_HOSTS))))

    data = yaml.safe_dump_all(docs, sort_keys=False).encode("utf-8")
    return Bundle(docs, data, true_pods(docs))


# ---------------------------------------------------------------------------------------------
# The gateway pods, computed independently of the function
# ---------------------------------------------------------------------------------------------
def _subset(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def _port_map(docs: Sequence[Mapping[str, Any]], labels: Labels, namespace: str
              ) -> dict[int, int]:
    """``resolvePorts`` for a pod: the first selecting Service with a port gives its
    targetPort."""
    out: dict[int, int] = {}
    for doc in docs:
        if doc.get("kind") != "Service" or doc["metadata"].get("namespace") != namespace:
            continue
        selector = doc["spec"].get("selector") or {}
        if not selector or not _subset(selector, labels):
            continue
        for p in doc["spec"].get("ports", []):
            out.setdefault(p["port"], p.get("targetPort", p["port"]))
    return out


def true_pods(docs: Sequence[Mapping[str, Any]]) -> list[tuple[Labels, dict[int, int]]]:
    deployments = [d for d in docs if d.get("kind") == "Deployment"]
    if deployments:
        pods: list[Labels] = []
        for d in deployments:
            labels = dict(d["spec"]["template"]["metadata"]["labels"])
            if labels not in pods:
                pods.append(labels)
        return [(p, _port_map(docs, p, NAMESPACE)) for p in pods]
    seeds: list[Labels] = [dict(INGRESS_SELECTOR)]
    for d in docs:
        selector = d.get("kind") == "Gateway" and d["spec"].get("selector")
        if selector and dict(selector) not in seeds:
            seeds.append(dict(selector))
    unions: list[Labels] = []
    for size in range(1, len(seeds) + 1):
        for combo in itertools.combinations(seeds, size):
            union: Labels = {}
            compatible = True
            for seed in combo:
                for k, v in seed.items():
                    if union.setdefault(k, v) != v:
                        compatible = False
            if compatible and union not in unions:
                unions.append(union)
    return [(u, _port_map(docs, u, NAMESPACE)) for u in unions]


# ---------------------------------------------------------------------------------------------
# Running the function
# ---------------------------------------------------------------------------------------------
def _run(data: bytes) -> pipeline.Run:
    return pipeline.run_stream(yamlio.decode(data), Config())


def _load(data: bytes) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(data) if d is not None]


def _ids(run: pipeline.Run) -> set[str]:
    return {r.rule.id for r in run.results}


def _results_text(run: pipeline.Run) -> str:
    return "\n".join(f"{r.level} {r.rule.id}: {r.message}" for r in run.results)


def _first_run(bundle: Bundle) -> tuple[pipeline.Run, bytes]:
    note(bundle.data.decode("utf-8"))
    run = _run(bundle.data)
    out = run.stdout
    note(_results_text(run))
    note("output:\n" + out.decode("utf-8"))
    assert run.exit_code in (0, 1), _results_text(run)
    assert out, "empty stdout"
    return run, out


def _listener(port_map: Mapping[int, int]) -> int:
    return port_map.get(80, 80)


def _show(answer: envoy.Answer) -> str:
    return f"{answer.kind} {answer.destination} ({answer.cause})"


def _allowed(old: envoy.Answer, new: envoy.Answer) -> bool:
    if old.kind == new.kind == "404":
        return True
    if (old.kind, old.destination) == (new.kind, new.destination):
        return True
    return (old.kind == "404" and new.kind == "redirect"
            and new.destination == envoy.REQUIRE_TLS_REDIRECT)


# ---------------------------------------------------------------------------------------------
# The properties
# ---------------------------------------------------------------------------------------------
def _check_answers(bundle: Bundle, out: bytes) -> None:
    """On every pod, on the listener of written port 80, every probe answers as before, or as
    before a 404 and now the catch-all's redirect."""
    before = routing.RoutingInput(bundle.docs)
    after = routing.RoutingInput(_load(out))
    for labels, port_map in bundle.pods:
        port = _listener(port_map)
        old_config = routing.build_route_config(before, labels, port, port_map=port_map)
        new_config = routing.build_route_config(after, labels, port, port_map=port_map)
        for host in PROBES:
            old, new = old_config.answer(host, "/"), new_config.answer(host, "/")
            assert _allowed(old, new), (
                f"http://{host}/ on pod {labels} (listener {port}, ports {port_map}) changed "
                f"from {_show(old)} to {_show(new)}")


@settings(max_examples=n(80))
@given(bundles())
def test_every_pod_answers_as_before_or_with_the_catch_all_redirect(bundle: Bundle) -> None:
    """Property 1 (and 6): the simulation, on every true pod, finds only the allowed
    changes."""
    _, out = _first_run(bundle)
    _check_answers(bundle, out)


def _catch_all_redirects(docs: Sequence[Mapping[str, Any]], labels: Labels,
                         port_map: Mapping[int, int], port: int) -> list[str]:
    """The ``hosts: ["*"]`` httpsRedirect servers reaching the pod's listener ``port``."""
    found = []
    for gw_ns, gw_name, server in _servers_on(docs, labels, port_map, port):
        if server.get("hosts") == ["*"] and (server.get("tls") or {}).get("httpsRedirect"):
            found.append(f"{gw_ns}/{gw_name}")
    return found


def _servers_on(docs: Sequence[Mapping[str, Any]], labels: Labels,
                port_map: Mapping[int, int], port: int
                ) -> list[tuple[str, str, dict[str, Any]]]:
    """Servers (without ``bind``) of the Gateways applying to the pod whose written port lands
    on ``port``."""
    out = []
    for doc in docs:
        if doc.get("kind") != "Gateway" or not str(doc.get("apiVersion", "")).startswith(
                "networking.istio.io/"):
            continue
        spec = doc.get("spec") or {}
        selector = spec.get("selector")
        if selector and not _subset(selector, labels):
            continue
        meta = doc["metadata"]
        for server in spec.get("servers") or []:
            number = server["port"]["number"]
            if server.get("bind") or port_map.get(number, number) != port:
                continue
            out.append((meta.get("namespace", "default"), meta["name"], server))
    return out


def _redirect_servers(docs: Sequence[Mapping[str, Any]], labels: Labels,
                      port_map: Mapping[int, int], port: int) -> set[str]:
    return {
        json.dumps([ns, name, server], sort_keys=True)
        for ns, name, server in _servers_on(docs, labels, port_map, port)
        if (server.get("tls") or {}).get("httpsRedirect")
        and server["port"].get("protocol") in HTTP_PROTOCOLS
    }


@settings(max_examples=n(50))
@given(bundles())
def test_one_catch_all_redirect_where_redirects_were_removed(bundle: Bundle) -> None:
    """Property 2: a listener that lost redirect servers has exactly one catch-all redirect
    server (IST0145: a second one would be dropped by istiod) -- or, where the input already
    had more on it, no more than before; or none, where the route shape (MHR030) serves the
    redirect (property 1, the routing, proves its hosts still redirect)."""
    run, out = _first_run(bundle)
    if _ids(run) & {"MHR008", "MHR009", "MHR011"}:
        return  # a refused workload keeps its Gateways as they are
    after = _load(out)
    for labels, port_map in bundle.pods:
        port = _listener(port_map)
        lost = (_redirect_servers(bundle.docs, labels, port_map, port)
                - _redirect_servers(after, labels, port_map, port))
        if not lost:
            continue
        found = _catch_all_redirects(after, labels, port_map, port)
        # an existing Gateway may already hold two (its second one is dropped by istiod): the
        # rewrite must not add to them
        before = _catch_all_redirects(bundle.docs, labels, port_map, port)
        if not found and "MHR030" in _ids(run):
            continue
        assert 1 <= len(found) <= max(1, len(before)), (
            f"pod {labels} (listener {port}, ports {port_map}) lost {sorted(lost)} and is "
            f"reached by {len(found)} catch-all redirect server(s): {found}")


@settings(max_examples=n(50))
@given(bundles())
def test_names_valid_and_unique_and_output_a_fixed_point(bundle: Bundle) -> None:
    """Properties 3-5: valid, unique names; a second run changes nothing; refusals say why."""
    run, out = _first_run(bundle)
    seen: set[tuple[str, str, str]] = set()
    for doc in _load(out):
        meta = doc.get("metadata") or {}
        name = meta.get("name", "")
        key = (doc.get("kind", ""), meta.get("namespace", "default"), name)
        assert key not in seen, f"two {key[0]} {key[1]}/{key[2]} in the output"
        seen.add(key)
        if doc.get("kind") == "Gateway":
            assert DNS_LABEL.match(name), f"Gateway name {name!r} is not a DNS-1123 label"
            assert len(name) <= 63, f"Gateway name {name!r} is longer than 63 characters"

    for result in run.results:
        if result.rule.id in REFUSALS:
            assert any(w in result.message for w in ("http://", "IST0145", "HTTP-01")), (
                f"{result.rule.id} does not say why: {result.message}")

    again = _run(out)
    assert again.exit_code in (0, 1)
    rewrites = [f"{r.rule.id}: {r.message}" for r in again.results if r.rule.id in REWRITES]
    assert not rewrites, "the second run rewrites again:\n" + "\n".join(rewrites)
    assert again.stdout == out, "the second run changed the output:\n" + again.stdout.decode()


# ---------------------------------------------------------------------------------------------
# Found by the properties above
# ---------------------------------------------------------------------------------------------
def _service_without_istio_label() -> Bundle:
    """The smallest bundle hypothesis found: a gateway pod labelled ``app: ingressgateway``
    only, its Service translating port 80 to 8080, one selector-less Gateway with a port-80
    redirect server and a plain port-8080 server for the same host, a VirtualService for it.
    Both servers land on listener 8080, where ``a.example.com`` is redirected today."""
    labels = {"app": "ingressgateway"}
    docs: list[dict[str, Any]] = [
        _deployment(0, labels),
        {"apiVersion": "v1", "kind": "Service",
         "metadata": {"name": "ingressgateway-svc-0", "namespace": NAMESPACE},
         "spec": {"selector": dict(labels),
                  "ports": [{"name": "http2", "port": 80, "targetPort": 8080}]}},
        {"apiVersion": API, "kind": "Gateway",
         "metadata": {"name": "gw-0", "namespace": NAMESPACE},
         "spec": {"servers": [
             {"port": {"number": 80, "name": "http-0-0", "protocol": "HTTP"},
              "hosts": ["a.example.com"], "tls": {"httpsRedirect": True}},
             {"port": {"number": 8080, "name": "http-0-1", "protocol": "HTTP"},
              "hosts": ["a.example.com"]}]}},
        {"apiVersion": API, "kind": "VirtualService",
         "metadata": {"name": "vs-0", "namespace": NAMESPACE},
         "spec": {"hosts": ["a.example.com"], "gateways": [f"{NAMESPACE}/gw-0"],
                  "http": [{"route": [{"destination": {
                      "host": "app-0.ns1.svc.cluster.local"}}]}]}},
    ]
    data = yaml.safe_dump_all(docs, sort_keys=False).encode("utf-8")
    return Bundle(docs, data, true_pods(docs))


def test_a_service_without_istio_label_still_translates_the_gateway_ports() -> None:
    """The scan kept only Services whose selector had an ``istio`` label, so a gateway pod
    without one got no port translation: the proof simulated listener 80 instead of 8080 and
    missed that a.example.com, redirected today, would be served over plain HTTP."""
    bundle = _service_without_istio_label()
    run = _run(bundle.data)
    out = run.stdout
    assert run.exit_code in (0, 1)
    _check_answers(bundle, out)
