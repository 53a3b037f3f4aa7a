"""The benchmark's bundle generator (bench/generate.py) emits what kpt sends a function."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

GENERATE = Path(__file__).resolve().parents[2] / "bench" / "generate.py"
KPT_ANNOTATIONS = (
    "config.kubernetes.io/index",
    "config.kubernetes.io/path",
    "internal.config.kubernetes.io/index",
    "internal.config.kubernetes.io/package-path",
    "internal.config.kubernetes.io/path",
    "internal.config.kubernetes.io/seqindent",
    "internal.config.kubernetes.io/annotations-migration-resource-id",
    "internal.config.kubernetes.io/id",
    "config.k8s.io/id",
)


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_generate", GENERATE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


generate = _load()


def _items(text: str) -> list[dict[str, Any]]:
    resource_list = yaml.safe_load(text)
    assert resource_list["apiVersion"] == "config.kubernetes.io/v1"
    assert resource_list["kind"] == "ResourceList"
    items: list[dict[str, Any]] = resource_list["items"]
    return items


def test_resource_list_has_the_expected_kinds_and_count() -> None:
    items = _items(generate.make_resource_list(20))

    assert len(items) == generate.item_count(20) == 22
    assert Counter(item["kind"] for item in items) == {
        "Kptfile": 1,
        "Deployment": 4,
        "Service": 4,
        "Gateway": 4,
        "VirtualService": 4,
        "Certificate": 4,
        "ClusterIssuer": 1,
    }
    assert items[0]["kind"] == "Kptfile"
    assert items[-1]["kind"] == "ClusterIssuer"
    solver = items[-1]["spec"]["acme"]["solvers"][0]
    assert solver == {"http01": {"ingress": {"class": "istio"}}}


def test_items_carry_kpt_annotations_per_file() -> None:
    items = _items(generate.make_resource_list(20, package_path="/pkgs/demo"))

    paths = []
    for ident, item in enumerate(items, start=1):
        annotations = item["metadata"]["annotations"]
        assert all(key in annotations for key in KPT_ANNOTATIONS), annotations
        assert all(isinstance(annotations[key], str) for key in KPT_ANNOTATIONS)
        assert annotations["config.kubernetes.io/path"] == annotations[
            "internal.config.kubernetes.io/path"]
        assert annotations["config.kubernetes.io/index"] == annotations[
            "internal.config.kubernetes.io/index"]
        assert annotations["internal.config.kubernetes.io/package-path"] == "/pkgs/demo"
        assert annotations["internal.config.kubernetes.io/seqindent"] == "compact"
        assert annotations["internal.config.kubernetes.io/id"] == str(ident)
        assert annotations["config.k8s.io/id"] == str(ident)
        paths.append(annotations["config.kubernetes.io/path"])

    assert paths[0] == "Kptfile"
    assert paths[1:6] == ["apps/app00000.yaml"] * 5
    assert paths[-1] == "cluster-issuer.yaml"
    assert paths == sorted(paths, key=lambda p: (p != "Kptfile", p))  # kpt's read order
    indexes = [item["metadata"]["annotations"]["config.kubernetes.io/index"] for item in items]
    assert indexes[1:6] == ["0", "1", "2", "3", "4"]


def test_gateways_have_a_port_80_redirect_and_a_443_server() -> None:
    items = _items(generate.make_resource_list(20))
    gateways = [item for item in items if item["kind"] == "Gateway"]
    certificates = {item["spec"]["secretName"]: item for item in items
                    if item["kind"] == "Certificate"}

    for gateway in gateways:
        assert gateway["apiVersion"] == "networking.istio.io/v1beta1"
        assert gateway["spec"]["selector"] == {"istio": "ingressgateway"}
        by_port = {server["port"]["number"]: server for server in gateway["spec"]["servers"]}
        assert set(by_port) == {80, 443}
        assert by_port[80]["tls"] == {"httpsRedirect": True}
        host = by_port[80]["hosts"][0]
        assert host.endswith(".example.com")
        assert by_port[443]["hosts"] == [host]
        secret = by_port[443]["tls"]["credentialName"]
        assert certificates[secret]["spec"]["dnsNames"] == [host]
        assert certificates[secret]["spec"]["issuerRef"]["kind"] == "ClusterIssuer"


def test_text_has_comments_quotes_and_block_scalars() -> None:
    text = generate.make_resource_list(20)

    assert "\n  # app00000: web frontend" in text or "- # app00000: web frontend" in text
    assert "httpsRedirect: true # " in text
    assert "example.com/runbook: |\n" in text
    assert "'" in text
    assert '"' in text


def test_same_seed_same_text_other_seed_other_text() -> None:
    assert generate.make_resource_list(50, seed=3) == generate.make_resource_list(50, seed=3)
    assert generate.make_resource_list(50, seed=3) != generate.make_resource_list(50, seed=4)


def test_to_wide_indents_nested_sequences() -> None:
    compact = [
        "spec:",
        "  servers:",
        "  - port: 80",
        "    hosts:",
        "    - a",
        "    - b",
        "  - port: 443",
        "  other: |",
        "    text",
    ]
    assert generate.to_wide(compact) == [
        "spec:",
        "  servers:",
        "    - port: 80",
        "      hosts:",
        "        - a",
        "        - b",
        "    - port: 443",
        "  other: |",
        "    text",
    ]


@pytest.mark.parametrize("seqindent", ["compact", "wide", "mixed"])
def test_package_files_hold_the_items_without_kpt_annotations(
    tmp_path: Path, seqindent: str
) -> None:
    root = generate.make_package(tmp_path / "pkg", 20, seed=1, seqindent=seqindent)
    items = _items(generate.make_resource_list(20, seed=1, seqindent=seqindent,
                                               package_path=str(root)))

    styles = set()
    for item in items:
        annotations = item["metadata"].pop("annotations")
        path = annotations["config.kubernetes.io/path"]
        styles.add(annotations["internal.config.kubernetes.io/seqindent"])
        docs = list(yaml.safe_load_all((root / path).read_text()))
        expected = docs[int(annotations["config.kubernetes.io/index"])]
        own = {k: v for k, v in annotations.items() if k not in KPT_ANNOTATIONS}
        if own:
            item["metadata"]["annotations"] = own
        assert item == expected

    text = (root / "apps" / "app00000.yaml").read_text()
    if seqindent == "mixed":
        assert styles == {"compact", "wide"}
    else:
        assert ("\n    - port:" in text) == (seqindent == "wide")


@pytest.mark.slow
def test_resource_list_is_byte_identical_to_what_kpt_render_sends(
    tmp_path: Path, kpt_bin: Path
) -> None:
    captured = tmp_path / "captured.yaml"
    capture = tmp_path / "capture.sh"
    capture.write_text(f"#!/bin/sh\ntee {captured}\n")
    capture.chmod(0o755)
    root = generate.make_package(tmp_path / "pkg", 30, seqindent="mixed", exec_cmd=str(capture))

    subprocess.run([str(kpt_bin), "fn", "render", "--allow-exec", str(root)], check=True,
                   capture_output=True)

    expected = generate.make_resource_list(30, seqindent="mixed", package_path=str(root),
                                           exec_cmd=str(capture))
    assert captured.read_text() == expected
