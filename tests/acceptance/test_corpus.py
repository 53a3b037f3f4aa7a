"""Every file of ../shared/corpus, alone and per source repository, through the real function.

For each run: no resource is lost (every document that is not an Istio Gateway/VirtualService
comes out unchanged, in order), Istio Gateways and VirtualServices are unchanged, edited or
deleted only as the rules allow, every new Gateway has the dedicated shape, every emitted Istio
object is valid against the CRD schema of its version (../shared/schemas), and a second run over
the output changes nothing (byte for byte). A run that finds a conflict (exit 1) leaves every
Gateway of the conflicting selector unchanged.

Single files run as a stream on stdin; repository bundles run in files mode (PATH...), which is
how a user points the function at a checkout.
"""

from __future__ import annotations

import csv
import os
import re
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

SHARED = Path(__file__).resolve().parents[3] / "shared"  # as tests/conftest.py finds it
CORPUS = SHARED / "corpus"
RAW_HELM_TEMPLATE = "*neonKUBE*gateway-cluster.yaml"
ISTIO_GROUP = "networking.istio.io"
ISTIO_VERSIONS = ("v1alpha3", "v1beta1", "v1")
REDIRECT_PROTOCOLS = ("HTTP", "HTTP2", "GRPC", "GRPC-WEB", "HTTP_PROXY")
#: Repository bundles the function refuses (checked by hand):
#: antoniolago: two revisions of lag0-gateway in one input (MHR013);
#: rocky-linux/peridot: the dev and prod overlays both define base-gateway-public (MHR013);
#: istio/istio: the Ingress translation's plain '*/*':80 and the analyzer's plain '*/*' beside
#: the '*.bookinfo.com' redirect on istio=ingressgateway.
#: (HC-IPPM: a plain '*':80 server with a tls block (httpsRedirect: false) beside the '*'
#: redirect on istio=ingressgateway: istiod keeps the first of two tls-block servers for '*', so
#: a dedicated catch-all created after the plain one would be dropped (every host would 404);
#: the route shape -- a plain '*' server, no tls block, and a redirect VirtualService -- is not
#: subject to that rule, and the simulation proves it. OriolFilter's plain '*':80 on
#: {app: istio-ingress, istio: ingress} has no VirtualService
#: bound: it serves nothing, and the simulation accepts moving the lb.net redirect.)
CONFLICTING_REPOS = {
    "antoniolago/lag0-fleet-manifests", "rocky-linux/peridot", "istio/istio",
}


def _corpus_files() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(
        p for p in CORPUS.iterdir()
        if p.is_file() and p.name != "INDEX.tsv" and not p.match(RAW_HELM_TEMPLATE)
    )


def _repos() -> dict[str, list[Path]]:
    index = CORPUS / "INDEX.tsv"
    if not index.exists():
        return {}
    repos: dict[str, list[Path]] = {}
    wanted = {p.name for p in _corpus_files()}
    with index.open(newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            if row["file"] in wanted:
                repos.setdefault(row["repo"], []).append(CORPUS / row["file"])
    return repos


FILES = _corpus_files()
REPOS = _repos()


@pytest.fixture(autouse=True)
def _corpus_present(shared_dir: Path) -> None:
    """Skips (or fails in CI) through the shared_dir fixture when ../shared is absent."""


def test_corpus_is_complete() -> None:
    assert len(FILES) >= 60
    assert sum(len(v) for v in REPOS.values()) == len(FILES), "INDEX.tsv misses a corpus file"


# ------------------------------------------------------------------------------------------------
# What the rules allow
# ------------------------------------------------------------------------------------------------
def is_istio(doc: Any) -> bool:
    if not isinstance(doc, dict):
        return False
    group, _, version = str(doc.get("apiVersion", "")).partition("/")
    return group == ISTIO_GROUP and version in ISTIO_VERSIONS and doc.get("kind") in (
        "Gateway", "VirtualService")


def key(doc: dict[str, Any]) -> tuple[str, str, str]:
    meta = doc.get("metadata") or {}
    return doc["kind"], meta.get("namespace") or "", meta["name"]


def is_redirect(server: dict[str, Any]) -> bool:
    port = server.get("port") or {}
    return (
        port.get("number") == 80
        and str(port.get("protocol", "")).upper() in REDIRECT_PROTOCOLS
        and (server.get("tls") or {}).get("httpsRedirect") is True
    )


def is_route_shape(doc: dict[str, Any]) -> bool:
    """The route shape's Gateway: plain HTTP servers only, no tls block."""
    servers = (doc.get("spec") or {}).get("servers") or []
    return bool(servers) and all(
        "tls" not in s and (s.get("port") or {}).get("protocol") == "HTTP" for s in servers)


def is_dedicated(doc: dict[str, Any]) -> bool:
    servers = doc["spec"]["servers"]
    return len(servers) == 1 and servers[0] == {
        "port": {"number": 80, "name": "http", "protocol": "HTTP"},
        "hosts": ["*"],
        "tls": {"httpsRedirect": True},
    }


def resolve(ref: str, namespace: str) -> tuple[str, str] | None:
    if ref == "mesh":
        return None
    if "/" in ref:
        ns, _, name = ref.partition("/")
        return (namespace if ns == "." else ns), name
    if "." in ref:
        name, ns = ref.split(".")[:2]
        return ns, name
    return namespace, ref


def is_subsequence(small: list[Any], big: list[Any]) -> bool:
    it = iter(big)
    return all(any(x == y for y in it) for x in small)


def docs_of(data: bytes) -> list[Any]:
    return [d for d in yaml.safe_load_all(data) if d is not None]


@cache
def schemas() -> dict[tuple[str, str], dict[str, Any]]:
    path = SHARED / "schemas" / "istio__istio__manifests__charts__base__files__crd-all.gen.yaml"
    out = {}
    for crd in yaml.safe_load_all(path.read_text()):
        if not crd or crd["spec"]["names"]["kind"] not in ("Gateway", "VirtualService"):
            continue
        for version in crd["spec"]["versions"]:
            api = f"{crd['spec']['group']}/{version['name']}"
            out[(api, crd["spec"]["names"]["kind"])] = version["schema"]["openAPIV3Schema"]
    assert len(out) == 6
    return out


@cache
def validator(api_version: str, kind: str) -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(schemas()[(api_version, kind)])


def schema_errors(doc: dict[str, Any]) -> list[str]:
    return [e.message for e in validator(doc["apiVersion"], doc["kind"]).iter_errors(doc)]


def refused_gateways(stderr: str) -> set[tuple[str, str]]:
    """Gateways named by the refusals (``error MHR008 Gateway ns/name ...``): the Gateways of a
    refused workload are left as they are."""
    return {(m.group(1) or "", m.group(2))
            for m in re.finditer(r"^error MHR008 Gateway (?:([^/\s]+)/)?(\S+) ", stderr, re.M)}


def check_rewrite(before: list[Any], after: list[Any], stderr: str, code: int) -> None:
    """The output keeps every resource and changes Istio objects only as the rules allow."""
    # Not Istio: every document unchanged, in order.
    assert [d for d in after if not is_istio(d)] == [d for d in before if not is_istio(d)]

    old = {key(d): d for d in before if is_istio(d)}
    new = {key(d): d for d in after if is_istio(d)}
    # Istio objects keep their relative order; new ones (dedicated Gateways) come last.
    kept = [key(d) for d in after if is_istio(d) and key(d) in old]
    assert kept == [key(d) for d in before if is_istio(d) and key(d) in new]
    added = [key(d) for d in after if is_istio(d) and key(d) not in old]
    assert [key(d) for d in after if is_istio(d)][len(kept):] == added

    if "error MHR013 " in stderr:  # duplicates: ambiguous input, nothing changes
        assert code == 1
        assert after == before
        return
    deleted_gw = {k[1:] for k in old if k[0] == "Gateway" and k not in new}
    dedicated = {k[1:] for k, d in new.items() if k[0] == "Gateway" and is_dedicated(d)}
    refused = refused_gateways(stderr)
    assert bool(refused) == (code == 1), stderr

    for k, doc in old.items():
        out = new.get(k)
        if k[0] == "Gateway":
            servers = (doc.get("spec") or {}).get("servers") or []
            if k[1:] in refused:
                assert out == doc, f"{k}: named by a refusal, yet the Gateway changed"
            elif out is None:
                assert servers, f"{k} deleted"
                assert all(is_redirect(s) for s in servers), f"{k} deleted"
            elif out != doc:
                rest = out["spec"]["servers"]
                assert {kk: v for kk, v in out.items() if kk != "spec"} == {
                    kk: v for kk, v in doc.items() if kk != "spec"}
                assert {kk: v for kk, v in out["spec"].items() if kk != "servers"} == {
                    kk: v for kk, v in doc["spec"].items() if kk != "servers"}
                assert rest, f"{k}: emptied but not deleted"
                assert is_subsequence(rest, servers), f"{k}: servers reordered or changed"
                removed = [s for s in servers if s not in rest]
                assert removed, k
                assert all(is_redirect(s) for s in removed), k
                assert not any(is_redirect(s) for s in rest), f"{k}: a redirect server is left"
        else:
            refs = (doc.get("spec") or {}).get("gateways") or []
            ns = k[1]
            droppable = [r for r in refs if resolve(r, ns) in deleted_gw | dedicated]
            if out is None:
                assert refs, f"{k} deleted"
                assert len(droppable) == len(refs), f"{k} deleted"
                continue
            assert {kk: v for kk, v in out["spec"].items() if kk != "gateways"} == {
                kk: v for kk, v in doc["spec"].items() if kk != "gateways"}
            assert (out["spec"].get("gateways") or []) == [r for r in refs if r not in droppable]
            if refs:
                assert out["spec"]["gateways"], f"{k}: left with an empty gateways list"

    route_gateways = {k for k in added if k[0] == "Gateway" and is_route_shape(new[k])}
    for k in added:
        if k[0] == "VirtualService":  # the route shape: bound only to its plain Gateway
            refs = new[k]["spec"]["gateways"]
            assert len(refs) == 1, k
            assert ("Gateway", *refs[0].split("/", 1)) in route_gateways, k
            assert new[k]["spec"]["http"] == [
                {"name": "https-redirect", "redirect": {"scheme": "https", "redirectCode": 301}}]
            continue
        assert k[0] == "Gateway", k
        assert is_dedicated(new[k]) or k in route_gateways, k
    if route_gateways:
        assert "MHR030 " in stderr, stderr
    # No two dedicated Gateways for one selector (IST0145).
    per_selector = [frozenset((new[k].get("spec", {}).get("selector") or {}).items())
                    for k in new if k[0] == "Gateway" and is_dedicated(new[k])]
    assert len(per_selector) == len(set(per_selector))

    for doc in after:
        if is_istio(doc):
            assert not schema_errors(doc), (key(doc), schema_errors(doc))


def _run(args: list[str], stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(args, input=stdin, capture_output=True, timeout=60, check=False)


Runs = tuple[subprocess.CompletedProcess[bytes], subprocess.CompletedProcess[bytes]]


@pytest.fixture(scope="module")
def runs(function_bin: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Runs]:
    """Every run of this module, started in parallel (each is a process start): per single file
    (stdin) and per repository (files mode), the first run and the second run over its output."""
    out_dir = tmp_path_factory.mktemp("corpus")
    fn = str(function_bin)

    def alone(path: Path) -> Runs:
        data = path.read_bytes()
        first = _run([fn], data)
        # Output identical to the input: the second run would be the first one again.
        return first, (first if first.stdout == data else _run([fn], first.stdout))

    def bundle(repo: str) -> Runs:
        first = _run([fn, *map(str, REPOS[repo])])
        if not is_changed(first.stderr.decode()):
            return first, first  # nothing changed: the output is the input files joined
        joined = out_dir / (repo.replace("/", "__") + ".yaml")
        joined.write_bytes(first.stdout)
        return first, _run([fn, str(joined)])

    with ThreadPoolExecutor(max_workers=(os.cpu_count() or 2) * 2) as pool:
        futures = {f"file:{p.name}": pool.submit(alone, p) for p in FILES}
        futures |= {f"repo:{r}": pool.submit(bundle, r) for r in REPOS}
        return {k: f.result() for k, f in futures.items()}


def _cases() -> Iterator[Any]:
    for path in FILES:
        yield pytest.param(path, id=path.name)


@pytest.mark.parametrize("path", list(_cases()))
def test_file_alone(path: Path, runs: dict[str, Runs]) -> None:
    data = path.read_bytes()
    first, second = runs[f"file:{path.name}"]
    assert first.returncode in (0, 1), first.stderr.decode()
    assert first.stdout.strip(), "empty output"
    stderr = first.stderr.decode()
    check_rewrite(docs_of(data), docs_of(first.stdout), stderr, first.returncode)
    if not is_changed(stderr):
        assert first.stdout == data, "nothing was changed, yet the bytes differ"
    # Idempotent: the output run again comes back byte for byte.
    assert second.returncode == first.returncode
    assert second.stdout == first.stdout


def is_changed(stderr: str) -> bool:
    return bool(re.search(r"^info MHR00[12456] ", stderr, re.M))


@pytest.mark.parametrize("repo", sorted(REPOS))
def test_repository_bundle(repo: str, runs: dict[str, Runs]) -> None:
    files = REPOS[repo]
    first, second = runs[f"repo:{repo}"]
    expected_code = 1 if repo in CONFLICTING_REPOS else 0
    assert first.returncode == expected_code, first.stderr.decode()
    before = [d for f in files for d in docs_of(f.read_bytes())]
    check_rewrite(before, docs_of(first.stdout), first.stderr.decode(), first.returncode)

    # Idempotent: the joined output, run again (as a file), comes back byte for byte.
    assert second.returncode == first.returncode, second.stderr.decode()
    assert second.stdout == first.stdout
    assert not is_changed(second.stderr.decode()), second.stderr.decode()
