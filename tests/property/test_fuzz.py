"""Property and fuzz suite: random bundles, random corruptions of real manifests, and the YAML
layer on arbitrary text.

The pipeline is called in-process (fast); the KRM contract ("stdout is always a ResourceList") is
checked through ``cli.main`` in-process with swapped standard streams, which is the real entry
point minus process start-up; a few cases go through the installed console script.

Properties (see README.md, "Robustness"):

- no exception ever escapes the pipeline or the CLI (the CLI turns internal errors into a
  message, so its output is checked for "internal error" too);
- exit code 0 or 1 only, and 1 exactly when there is an error result;
- no resource is lost: every non-Istio document comes out byte for byte, every Gateway or
  VirtualService comes out or is reported deleted (MHR004 / MHR006);
- idempotence: a second run over the output prints the same bytes;
- structure: each selector group that has port-80 redirect servers afterwards has exactly one
  catch-all redirect server per port and no other redirect server, unless a conflict was
  reported for it;
- routing (istiod model in ``routing.py``): every host redirected before is redirected after,
  and every name whose HTTP-01 challenge is routed before is routed after.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from merge_https_redirects import cli, yamlio
from merge_https_redirects.config import Config
from merge_https_redirects.hosts import pipeline

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
KRM_HEADER = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n"
_SCALE = max(1, settings().max_examples // 60)  # the ``fuzz`` profile scales every test up


def n(examples: int) -> int:
    return examples * _SCALE


# ---------------------------------------------------------------------------------------------
# Running the function in-process
# ---------------------------------------------------------------------------------------------
def run_stream_bytes(data: bytes) -> pipeline.Run:
    return pipeline.run_stream(yamlio.decode(data), Config())


@contextmanager
def _swapped_streams(stdin: bytes) -> Iterator[tuple[io.BytesIO, io.BytesIO]]:
    out, err = io.BytesIO(), io.BytesIO()
    saved = sys.stdin, sys.stdout, sys.stderr
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8")
    sys.stdout = io.TextIOWrapper(out, encoding="utf-8", write_through=True)
    sys.stderr = io.TextIOWrapper(err, encoding="utf-8", write_through=True)
    try:
        yield out, err
    finally:
        for stream in (sys.stdin, sys.stdout, sys.stderr):
            stream.flush()
            stream.detach()
        sys.stdin, sys.stdout, sys.stderr = saved


def call_cli(stdin: bytes, argv: list[str] | None = None) -> tuple[int, bytes, str]:
    """``merge-https-redirects ARGV < stdin`` in-process: (exit code, stdout, stderr)."""
    with _swapped_streams(stdin) as (out, err):
        code = cli.main(argv or [])
    return code, out.getvalue(), err.getvalue().decode("utf-8", "replace")


class _TolerantLoader(yaml.CSafeLoader):
    """libyaml, reading a local tag (``!x``) as the plain value under it, as kyaml does: the
    function passes items it does not read through byte for byte, local tags included."""


def _untagged(loader: yaml.SafeLoader, _suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_scalar(node)  # type: ignore[arg-type]


_TolerantLoader.add_multi_constructor("!", _untagged)


def load_all(data: str | bytes) -> list[Any]:
    """Every document, read by libyaml (the parser kyaml and the function agree with; PyYAML's
    pure-Python scanner wrongly rejects e.g. a tab inside a plain scalar)."""
    return list(yaml.load_all(data, Loader=_TolerantLoader))


def assert_no_crash(stderr: str) -> None:
    assert "Traceback" not in stderr, stderr
    assert "internal error" not in stderr, stderr


def assert_resource_list(stdout: bytes, code: int) -> dict[str, Any]:
    """stdout is one valid ResourceList; with exit 1 it carries an error result."""
    assert stdout, "KRM mode printed nothing"
    text = stdout.decode("utf-8")
    if text.startswith("\ufeff"):
        text = text[1:]
    docs = [d for d in load_all(text) if d is not None]
    assert len(docs) == 1, f"expected one ResourceList document, got {len(docs)}"
    rl = docs[0]
    assert isinstance(rl, dict)
    assert rl.get("kind") == "ResourceList"
    assert str(rl.get("apiVersion", "")).startswith("config.kubernetes.io/")
    # ``items:`` left empty (null) is read as no items by kpt and kustomize (kyaml)
    assert isinstance(rl.get("items"), list | None)
    results = rl.get("results") or []
    assert isinstance(results, list)
    if code == 1:
        assert any(r.get("severity") == "error" for r in results), results
    return rl


# ---------------------------------------------------------------------------------------------
# Random bundles
# ---------------------------------------------------------------------------------------------
NAMESPACES = ["istio-system", "default", "apps"]
SELECTORS: list[dict[str, str] | None] = [
    None,
    {"istio": "ingressgateway"},
    {"app": "edge"},
    {"istio": "ingressgateway", "zone": "a"},
]
POD_LABELS = [{"istio": "ingressgateway"}, {"app": "edge"},
              {"istio": "ingressgateway", "zone": "a"}]
SERVER_HOSTS = ["a.example.com", "b.example.com", "*.example.com", "*", "./a.example.com",
                "apps/b.example.com", "*/c.example.com", "C.Example.com", "*/*"]
PROBE_HOSTS = ["a.example.com", "b.example.com", "c.example.com", "x.example.com", "other.org"]
PORTS = [80, 80, 80, 443, 8080]
PROTOCOLS = ["HTTP", "HTTP", "HTTPS", "HTTP2", "TCP", "GRPC", "http"]
CHALLENGE = "/.well-known/acme-challenge/tok3n"

tls_blocks = st.one_of(
    st.none(),
    st.just({"httpsRedirect": True}),
    st.just({"httpsRedirect": True}),
    st.just({"httpsRedirect": False}),
    st.just({"mode": "SIMPLE", "credentialName": "cert"}),
)


@st.composite
def servers(draw: st.DrawFn) -> dict[str, Any]:
    port = draw(st.sampled_from(PORTS))
    protocol = draw(st.sampled_from(PROTOCOLS))
    server: dict[str, Any] = {
        "port": {"number": port, "name": f"p{port}-{protocol.lower()}", "protocol": protocol},
        "hosts": draw(st.lists(st.sampled_from(SERVER_HOSTS), min_size=1, max_size=3,
                               unique=True)),
    }
    tls = draw(tls_blocks)
    if tls is not None:
        server["tls"] = tls
    return server


@st.composite
def bundles(draw: st.DrawFn) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    gateway_keys: list[tuple[str, str]] = []
    for i in range(draw(st.integers(0, 5))):
        namespace = draw(st.sampled_from(NAMESPACES))
        name = draw(st.sampled_from([f"gw-{i}", f"gw-{i}", "http-to-https-redirect"]))
        if (namespace, name) in gateway_keys:
            name = f"gw-{i}"
        gateway_keys.append((namespace, name))
        spec: dict[str, Any] = {}
        selector = draw(st.sampled_from(SELECTORS))
        if selector is not None:
            spec["selector"] = dict(selector)
        spec["servers"] = draw(st.lists(servers(), min_size=0, max_size=4))
        docs.append({
            "apiVersion": draw(st.sampled_from(["networking.istio.io/v1beta1",
                                                "networking.istio.io/v1alpha3",
                                                "networking.istio.io/v1"])),
            "kind": "Gateway",
            "metadata": {"name": name, "namespace": namespace},
            "spec": spec,
        })
    for i in range(draw(st.integers(0, 3))):
        namespace = draw(st.sampled_from(NAMESPACES))
        refs = []
        for _ in range(draw(st.integers(0, 3))):
            if gateway_keys and draw(st.booleans()):
                gw_ns, gw_name = draw(st.sampled_from(gateway_keys))
                form = draw(st.sampled_from(["ns/name", "name", "./name", "fqdn"]))
                if form in ("name", "./name") and gw_ns != namespace:
                    form = "ns/name"
                refs.append({"ns/name": f"{gw_ns}/{gw_name}", "name": gw_name,
                             "./name": f"./{gw_name}",
                             "fqdn": f"{gw_name}.{gw_ns}.svc.cluster.local"}[form])
            else:
                refs.append(draw(st.sampled_from(["mesh", "istio-system/missing"])))
        spec = {"hosts": draw(st.lists(st.sampled_from(PROBE_HOSTS[:4]), min_size=1,
                                       max_size=2, unique=True))}
        if refs:
            spec["gateways"] = list(dict.fromkeys(refs))
        spec["http"] = [{"route": [{"destination": {"host": f"svc-{i}.{namespace}"}}]}]
        docs.append({"apiVersion": "networking.istio.io/v1beta1", "kind": "VirtualService",
                     "metadata": {"name": f"vs-{i}", "namespace": namespace}, "spec": spec})
    for i in range(draw(st.integers(0, 2))):
        docs.append({"apiVersion": "v1", "kind": "ConfigMap",
                     "metadata": {"name": f"cm-{i}", "namespace": "default"},
                     "data": {"k": draw(st.text(alphabet="ab: #-\n'\"", max_size=12))}})
    if draw(st.booleans()):
        docs.append({"apiVersion": "apps/v1", "kind": "Deployment",
                     "metadata": {"name": "web", "namespace": "apps"},
                     "spec": {"replicas": 2, "template": {"spec": {"containers": [
                         {"name": "web", "image": "nginx:1.27"}]}}}})
    return draw(st.permutations(docs)) if docs else docs


@st.composite
def rendered(draw: st.DrawFn, anchors: bool = False) -> tuple[list[dict[str, Any]], list[str]]:
    """A bundle and each document's text (block or flow leaves, optional comments). With
    ``anchors``, objects shared inside a document (the ``tls`` blocks) become ``&id``/``*id``."""
    docs = draw(bundles())
    if not anchors:
        docs = json.loads(json.dumps(docs))  # no shared objects: no anchors
    texts = []
    for doc in docs:
        flow = draw(st.sampled_from([False, False, None]))
        text = yaml.safe_dump(doc, sort_keys=False, default_flow_style=flow, width=4096)
        if draw(st.booleans()):
            text = f"# {doc['kind']} {doc['metadata']['name']}\n" + text
        texts.append(text)
    return docs, texts


def _identity(doc: dict[str, Any]) -> tuple[str, str, str]:
    meta = doc.get("metadata") or {}
    return doc.get("kind", ""), meta.get("namespace", ""), meta.get("name", "")


def _is_redirect_server(server: dict[str, Any], ports: tuple[int, ...] = (80,)) -> bool:
    """A redirect server as istiod sees one: a protocol it treats as HTTP (any case), on the
    pod's default listener (no ``bind``)."""
    port = server.get("port") or {}
    tls = server.get("tls") or {}
    return (port.get("number") in ports and str(port.get("protocol", "")).upper()
            in ("HTTP", "HTTP2", "GRPC", "GRPC-WEB", "HTTP_PROXY")
            and tls.get("httpsRedirect") is True and not server.get("bind"))


_WORKLOAD_TAG = re.compile(r"\(([^()]*)\)$")


def _refused_pods(run: pipeline.Run) -> set[frozenset[tuple[str, str]]]:
    """The pod label sets of the workloads refused (MHR008/MHR009 carry the workload in the
    ``workload`` tag: ``<name> (k=v, ...)``)."""
    out: set[frozenset[tuple[str, str]]] = set()
    for result in _results(run, "MHR008") + _results(run, "MHR009"):
        tag = dict(result.extra_tags).get("workload", "")
        match = _WORKLOAD_TAG.search(tag)
        assert match, (tag, result.message)
        text = match.group(1)
        pairs = [] if text == "no labels" else [p.split("=", 1) for p in text.split(", ")]
        out.add(frozenset((k, v) for k, v in pairs))
    return out


def _applies(doc: dict[str, Any], pod: dict[str, str] | frozenset[tuple[str, str]]) -> bool:
    labels = dict(pod)
    selector = (doc.get("spec") or {}).get("selector") or {}
    return all(labels.get(k) == v for k, v in selector.items())


def _catch_alls(docs: list[dict[str, Any]], pod: dict[str, str]
                ) -> list[tuple[dict[str, Any], Any]]:
    """The port-80 redirect servers (with their Gateway) that apply to a pod labelled ``pod``."""
    return [(doc, s) for doc in docs if doc.get("kind") == "Gateway" and _applies(doc, pod)
            for s in (doc.get("spec") or {}).get("servers") or [] if _is_redirect_server(s)]


def _results(run: pipeline.Run, rule_id: str) -> list[Any]:
    return [r for r in run.results if r.rule.id == rule_id]


@settings(max_examples=n(70), suppress_health_check=[HealthCheck.too_slow])
@given(rendered())
def test_random_bundles_rewrite_safely(case: tuple[list[dict[str, Any]], list[str]]) -> None:
    _check_bundle(*case)


_REDIRECT_80 = {"port": {"number": 80, "name": "http", "protocol": "HTTP"},
                "hosts": ["a.example.com"], "tls": {"httpsRedirect": True}}
#: Found by this suite: a selector-less Gateway's redirect moves to a dedicated Gateway that
#: istiod orders after another selector's HTTPS server on port 80 (cross-selector conflict).
_CROSS_SELECTOR = [
    {"apiVersion": "networking.istio.io/v1beta1", "kind": "Gateway",
     "metadata": {"name": "gw-0", "namespace": "istio-system"},
     "spec": {"servers": [_REDIRECT_80]}},
    {"apiVersion": "networking.istio.io/v1beta1", "kind": "Gateway",
     "metadata": {"name": "gw-1", "namespace": "istio-system"},
     "spec": {"selector": {"istio": "ingressgateway"}, "servers": [
         {"port": {"number": 80, "name": "p80-https", "protocol": "HTTPS"},
          "hosts": ["a.example.com"]}]}},
]
#: Found by this suite: the removed redirect server holds the anchor a kept server aliases.
_SHARED_TLS = {"httpsRedirect": True}
_ANCHORED = [
    {"apiVersion": "networking.istio.io/v1beta1", "kind": "Gateway",
     "metadata": {"name": "gw-0", "namespace": "istio-system"},
     "spec": {"servers": [
         {"port": {"number": 80, "name": "http", "protocol": "HTTP"},
          "hosts": ["a.example.com"], "tls": _SHARED_TLS},
         {"port": {"number": 443, "name": "https", "protocol": "HTTP"},
          "hosts": ["a.example.com"], "tls": _SHARED_TLS}]}},
]


def _case(docs: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
    return docs, [yaml.safe_dump(d, sort_keys=False) for d in docs]


@settings(max_examples=n(70), suppress_health_check=[HealthCheck.too_slow])
@given(rendered())
@example(_case(_CROSS_SELECTOR))
def test_routing_guard_never_fires(case: tuple[list[dict[str, Any]], list[str]]) -> None:
    """MHR011 means the rewrite itself would have broken routing ("a bug: please report it"):
    on any generated bundle the transform must avoid or report (MHR008) such a change."""
    run = run_stream_bytes("---\n".join(case[1]).encode("utf-8"))
    assert not _results(run, "MHR011"), [r.message for r in _results(run, "MHR011")]


@settings(max_examples=n(40), suppress_health_check=[HealthCheck.too_slow])
@given(rendered(anchors=True))
@example(_case(_ANCHORED))
def test_random_bundles_with_anchors(case: tuple[list[dict[str, Any]], list[str]]) -> None:
    """Same properties when documents share objects through anchors and aliases (a removed
    server may hold the anchor that a kept server aliases)."""
    _check_bundle(*case)


def _check_bundle(docs: list[dict[str, Any]], texts: list[str]) -> None:
    data = "---\n".join(texts).encode("utf-8")
    run = run_stream_bytes(data)

    # exit code: 0 or 1, and 1 exactly when an error was reported
    assert run.exit_code in (0, 1)
    assert (run.exit_code == 1) == any(r.level == "error" for r in run.results)
    assert run.stdout, "stdout must never be empty"
    assert not _results(run, "MHR010"), "generated bundles are valid Istio"
    if _results(run, "MHR011"):  # the guard refused the rewrite: nothing may have changed
        assert run.stdout == data
        return
    out_text = run.stdout.decode("utf-8")
    out_docs = [d for d in load_all(out_text) if d is not None]

    # no resource lost: non-Istio documents byte for byte, Istio ones present or reported deleted
    deleted = {(r.resource.kind, r.resource.namespace, r.resource.name)
               for r in _results(run, "MHR004") + _results(run, "MHR006")}
    present = {_identity(d) for d in out_docs}
    for doc, text in zip(docs, texts, strict=True):
        if doc["kind"] in ("Gateway", "VirtualService"):
            assert _identity(doc) in present or _identity(doc) in deleted, _identity(doc)
            assert not (_identity(doc) in present and _identity(doc) in deleted)
        else:
            assert text.split("\n", 1)[-1] in out_text, f"{_identity(doc)} changed or lost"
    for ident in deleted:
        before = next(d for d in docs if _identity(d) == ident)
        if ident[0] == "Gateway":  # only Gateways holding nothing but redirect servers go
            assert all(_is_redirect_server(s) for s in before["spec"]["servers"])

    # idempotence
    again = run_stream_bytes(run.stdout)
    assert again.stdout == run.stdout
    assert again.exit_code == run.exit_code

    # structure, per gateway workload (the pods every compatible selector may share): after
    # the rewrite only catch-all redirect servers reach it, and no more of them than before
    # (or one), unless the workload was refused
    from merge_https_redirects.model.workloads import collect, gateway_selectors

    refused = _refused_pods(run)
    for workload in collect(docs, selectors=gateway_selectors(docs)):
        if frozenset(workload.labels) in refused:
            continue
        pod = workload.label_map
        redirects = _catch_alls(out_docs, pod)
        for gateway, server in redirects:
            # a Gateway that also reaches a refused workload is left as it was
            if server["hosts"] not in (["*"], ["*/*"]):
                assert any(_applies(gateway, r) for r in refused), (pod, server)
        catch_alls = [s for _, s in redirects if s["hosts"] in (["*"], ["*/*"])]
        before = [s for _, s in _catch_alls(docs, pod) if s["hosts"] in (["*"], ["*/*"])]
        assert len(catch_alls) <= max(1, len(before)), (pod, catch_alls)


# ---------------------------------------------------------------------------------------------
# Routing: redirected hosts stay redirected, passing HTTP-01 challenges keep passing
# ---------------------------------------------------------------------------------------------
def _solver_ingress(host: str, i: int) -> dict[str, Any]:
    """The Ingress cert-manager's HTTP-01 ingress solver (class istio) creates for ``host``."""
    return {
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": f"cm-acme-http-solver-{i}", "namespace": "apps",
                     "annotations": {"kubernetes.io/ingress.class": "istio"}},
        "spec": {"rules": [{"host": host, "http": {"paths": [{
            "path": CHALLENGE, "pathType": "ImplementationSpecific",
            "backend": {"service": {"name": f"cm-acme-http-solver-{i}",
                                    "port": {"number": 8089}}}}]}}]},
    }


def _rejected_tls_server(docs: list[dict[str, Any]]) -> bool:
    """An HTTPS or TLS server without a TLS mode (``ValidateGateway`` refuses the Gateway)."""
    return any(
        str((srv.get("port") or {}).get("protocol", "")).upper() in ("HTTPS", "TLS")
        and not (srv.get("tls") or {}).get("mode")
        for doc in docs if doc.get("kind") == "Gateway"
        for srv in (doc.get("spec") or {}).get("servers") or [])


def _routing() -> Any:
    from merge_https_redirects.model import routing

    return routing


#: Found by this suite: a pod that no selector names sees only the selector-less Gateways;
#: there a plain '*' server with a tls block comes first, so a new catch-all is dropped as its
#: duplicate and a.example.com would answer 404 instead of its redirect.
_BARE_POD = [
    {"apiVersion": "networking.istio.io/v1beta1", "kind": "Gateway",
     "metadata": {"name": "gw-0", "namespace": "istio-system"},
     "spec": {"selector": {"istio": "ingressgateway"}, "servers": [
         {"port": {"number": 80, "name": "p80-https", "protocol": "HTTPS"},
          "hosts": ["a.example.com"]}]}},
    {"apiVersion": "networking.istio.io/v1beta1", "kind": "Gateway",
     "metadata": {"name": "gw-1", "namespace": "istio-system"},
     "spec": {"servers": [{"port": {"number": 80, "name": "p80-http", "protocol": "HTTP"},
                           "hosts": ["a.example.com", "b.example.com", "*/*"],
                           "tls": {"httpsRedirect": False}}]}},
    {"apiVersion": "networking.istio.io/v1beta1", "kind": "Gateway",
     "metadata": {"name": "gw-2", "namespace": "istio-system"},
     "spec": {"servers": [_REDIRECT_80]}},
]


@settings(max_examples=n(50), suppress_health_check=[HealthCheck.too_slow])
@given(rendered())
@example(_case(_BARE_POD))
def test_rewrite_keeps_redirects_and_http01(case: tuple[list[dict[str, Any]], list[str]]) -> None:
    routing = _routing()
    docs, texts = case
    run = run_stream_bytes("---\n".join(texts).encode("utf-8"))
    after = [d for d in load_all(run.stdout.decode("utf-8")) if d is not None]
    solvers = [_solver_ingress(h, i) for i, h in enumerate(PROBE_HOSTS)]
    for labels in POD_LABELS:
        before_rc = routing.build_route_config(docs, labels, 80)
        after_rc = routing.build_route_config(after, labels, 80)
        for host in PROBE_HOSTS:
            if before_rc.answer(host, "/").kind == "redirect":
                assert after_rc.answer(host, "/").kind == "redirect", (labels, host)
        if _rejected_tls_server(docs):
            # istiod's validation rejects an HTTPS/TLS server without TLS settings: such a
            # Gateway never reaches a cluster, and where it decides which server owns port 80
            # the hypothetical solvers below would judge a configuration that cannot exist
            continue
        before_solved = routing.build_route_config(docs + solvers, labels, 80)
        after_solved = routing.build_route_config(after + solvers, labels, 80)
        for i, host in enumerate(PROBE_HOSTS):
            answer = before_solved.answer(host, CHALLENGE)
            if answer.kind == "route" and f"cm-acme-http-solver-{i}" in (answer.destination or ""):
                later = after_solved.answer(host, CHALLENGE)
                assert later.kind == "route", (labels, host, later)
                assert f"cm-acme-http-solver-{i}" in (later.destination or ""), (labels, host)


# ---------------------------------------------------------------------------------------------
# Random corruptions of real manifests (../shared/corpus)
# ---------------------------------------------------------------------------------------------
def _corpus_files() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(p for p in CORPUS.iterdir() if p.is_file() and p.suffix != ".tsv")


CORPUS_FILES = _corpus_files()
needs_corpus = pytest.mark.skipif(not CORPUS_FILES, reason=f"{CORPUS} is absent")


def _as_resource_list(data: bytes) -> bytes | None:
    """A corpus file wrapped into a ResourceList (``None`` when it is not plain YAML)."""
    try:
        docs = [d for d in load_all(data) if isinstance(d, dict)]
    except yaml.YAMLError:
        return None
    body = yaml.safe_dump({"items": docs}, sort_keys=False)
    return (KRM_HEADER + body.split("\n", 1)[1]).encode("utf-8")


@st.composite
def corruptions(draw: st.DrawFn, data: bytes, keep: int = 0, utf8: bool = False) -> bytes:
    """``data`` with a few random edits after offset ``keep``: byte flips, truncation, duplicated
    or deleted lines, inserted bytes. ``utf8`` keeps the result valid UTF-8."""
    out = bytearray(data)
    specials = b" \t\n-:#&*!{}[]|>'\"%@`,?\x00\x01\x7f"
    byte = st.sampled_from(specials) if utf8 else st.integers(0, 255)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "truncate", "dupline", "delline", "insert"]))
        size = len(out)
        if size <= keep:
            break
        pos = draw(st.integers(keep, size - 1))
        if op == "flip":
            out[pos] = draw(byte)
        elif op == "truncate":
            del out[pos:]
        elif op == "insert":
            out[pos:pos] = bytes(draw(st.lists(byte, min_size=1, max_size=6)))
        else:
            start = out.rfind(b"\n", 0, pos) + 1
            end = out.find(b"\n", pos)
            end = size if end < 0 else end + 1
            if start < keep:
                continue
            line = bytes(out[start:end])
            if op == "dupline":
                out[start:start] = line
            else:
                del out[start:end]
    result = bytes(out)
    if utf8:
        assume(_is_utf8(result))
    return result


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@needs_corpus
@settings(max_examples=n(120), suppress_health_check=[HealthCheck.too_slow,
                                                      HealthCheck.filter_too_much])
@given(st.data())
def test_corrupted_corpus_stream(data: st.DataObject) -> None:
    """Stream mode on corrupted real files: a clean result or a clean error, nothing else."""
    path = data.draw(st.sampled_from(CORPUS_FILES), label="file")
    corrupted = data.draw(corruptions(path.read_bytes()), label="corrupted")
    try:
        text = yamlio.decode(corrupted)
    except yamlio.YamlError:
        return
    run = pipeline.run_stream(text, Config(), source=path.name)
    assert run.exit_code in (0, 1)
    if run.exit_code == 0:
        assert run.stdout
        again = pipeline.run_stream(yamlio.decode(run.stdout), Config())
        assert again.stdout == run.stdout, "not idempotent"
    else:
        assert any(r.level == "error" for r in run.results)
    for line in run.stderr_lines():
        assert "\n" not in line


def _krm_cases() -> list[tuple[str, bytes]]:
    cases = []
    for path in CORPUS_FILES:
        wrapped = _as_resource_list(path.read_bytes())
        if wrapped is not None:
            cases.append((path.name, wrapped))
    return cases


KRM_CASES = _krm_cases()


@needs_corpus
@settings(max_examples=n(120), suppress_health_check=[HealthCheck.too_slow,
                                                      HealthCheck.filter_too_much])
@given(st.data())
def test_corrupted_corpus_krm_utf8(data: st.DataObject) -> None:
    """KRM mode on corrupted (still UTF-8) ResourceLists: stdout is always a ResourceList."""
    _name, wrapped = data.draw(st.sampled_from(KRM_CASES), label="case")
    corrupted = data.draw(corruptions(wrapped, keep=len(KRM_HEADER), utf8=True), label="bytes")
    code, out, err = call_cli(corrupted)
    assert_no_crash(err)
    assert code in (0, 1)
    if _loads(corrupted):  # input PyYAML cannot read (e.g. a complex key) is echoed as is
        assert_resource_list(out, code)
    else:
        assert out.startswith(b"apiVersion: config.kubernetes.io/v1"), out[:200]


@needs_corpus
@settings(max_examples=n(60), suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_corrupted_corpus_krm_any_bytes(data: st.DataObject) -> None:
    """KRM mode on corrupted ResourceLists with arbitrary bytes (non-UTF-8 included)."""
    _name, wrapped = data.draw(st.sampled_from(KRM_CASES), label="case")
    corrupted = data.draw(corruptions(wrapped, keep=len(KRM_HEADER)), label="bytes")
    code, out, err = call_cli(corrupted)
    assert_no_crash(err)
    assert code in (0, 1)
    assert_resource_list(out, code)


@needs_corpus
@pytest.mark.parametrize("mode", ["stream", "krm"])
def test_corrupted_corpus_through_console_script(function_bin: Path, mode: str) -> None:
    """A few corruptions through the real executable (the in-process tests cover the rest)."""
    for i, path in enumerate(CORPUS_FILES[:: max(1, len(CORPUS_FILES) // 4)]):
        data = path.read_bytes()
        if mode == "krm":
            wrapped = _as_resource_list(data)
            if wrapped is None:
                continue
            data = wrapped
        cut = len(KRM_HEADER) + (len(data) - len(KRM_HEADER)) * (i + 1) // 6
        corrupted = data[:cut] + b"\n  - [\x01" + data[cut:]
        proc = subprocess.run([str(function_bin)], input=corrupted, capture_output=True,
                              timeout=60, check=False, env={**os.environ, "LC_ALL": "C"})
        stderr = proc.stderr.decode("utf-8", "replace")
        assert_no_crash(stderr)
        assert proc.returncode in (0, 1), stderr
        if mode == "krm":
            assert_resource_list(proc.stdout, proc.returncode)
        elif proc.returncode == 0:
            assert proc.stdout


# ---------------------------------------------------------------------------------------------
# Fuzz target for the YAML layer: only YamlError may escape
# ---------------------------------------------------------------------------------------------
YAML_TOKENS = [
    "a", "b: ", "- ", "-", ": ", ":", "\n", "\n  ", "\n    ", "  ", "[", "]", "{", "}", ", ",
    "&x ", "*x", "&y ", "*y", "<<: ", "!!str ", "!!int ", "!!python/object:os.system ", "!t ",
    "!!binary ", "? ", "|\n  ", ">-\n  ", "'q'", '"d\\u00e9"', "#c", "---\n", "...\n",
    "%YAML 1.1\n",
    "%TAG ! tag:x,2024:\n", "0x1F", "1e9", "~", "null", "true", "2024-01-01", "apiVersion: ",
    "kind: ", "ResourceList", "items:", "Gateway", "networking.istio.io/v1", "metadata:",
    "name: ", "annotations:", "functionConfig:", "results:", "\t", "\ufeff", "\x85", "\r\n",
]


def _wanted_all(_api_version: str, _kind: str) -> bool:
    return True


def _yaml_layer(text: str) -> None:
    for call in (
        lambda: yamlio.scan_stream(text, _wanted_all),
        lambda: yamlio.scan_resource_list(text, _wanted_all),
        lambda: yamlio.loads_all(text),
        lambda: yamlio.loads(text),
        lambda: yamlio.first_document_kind(text),
    ):
        try:
            call()
        except yamlio.YamlError as exc:
            error = exc
        else:
            continue
        assert str(error)
        if error.line is not None:
            assert error.line >= 1
            assert error.column is not None
            assert error.column >= 1


yaml_like = st.lists(st.sampled_from(YAML_TOKENS), max_size=40).map("".join)


@settings(max_examples=n(400))
@given(st.one_of(yaml_like, st.text(max_size=200)))
def test_yaml_layer_only_raises_yaml_error(text: str) -> None:
    _yaml_layer(text)


@settings(max_examples=n(200))
@given(st.binary(max_size=200))
def test_decode_only_raises_yaml_error(data: bytes) -> None:
    try:
        text = yamlio.decode(data)
    except yamlio.YamlError:
        return
    _yaml_layer(text.body)
    assert yamlio.encode(text, text.body) == data


@settings(max_examples=n(150))
@given(yaml_like)
def test_pipeline_on_yaml_like_text(text: str) -> None:
    """Both entry points of the pipeline on arbitrary YAML-ish text never raise."""
    data = text.encode("utf-8")
    try:
        decoded = yamlio.decode(data)
    except yamlio.YamlError:
        return
    for run in (pipeline.run_stream(decoded, Config()), pipeline.run_resource_list(decoded)):
        assert run.exit_code in (0, 1)
    krm = KRM_HEADER.encode() + b"- " + data
    code, out, err = call_cli(krm)
    assert_no_crash(err)
    assert code in (0, 1)
    if pipeline.detect_resource_list(yamlio.decode(krm)) and _loads(krm):
        assert_resource_list(out, code)


def _loads(data: bytes) -> bool:
    """Whether PyYAML reads ``data`` (undefined aliases and bad merge keys are covered by
    explicit tests in tests/acceptance/test_robustness.py)."""
    try:
        list(load_all(data))
    except (yaml.YAMLError, ValueError, IndexError, KeyError, TypeError, OverflowError):
        return False  # PyYAML's own constructor raises plain errors on e.g. "!!int ''"
    return True
