"""kpt: the documented `kpt fn render` / `kpt fn eval --exec` commands with the real kpt.

What each test proves:
- the commands in README.md "## kpt" are exactly the ones run here;
- `kpt fn render --allow-exec --results-dir` rewrites the example package (per-host redirect
  servers gone, the dedicated Gateway written to its own file, Kptfile and config kept) and
  `results.yaml` carries each finding with resourceRef and file;
- `kpt fn eval --exec` works with `--fn-config` (typed config) and with `-- key=value` (ConfigMap);
- a conflict makes kpt fail: exit non-zero, every file byte-identical, MHR008 visible to the user
  and recorded in results.yaml;
- the validator package (`mode: check`) passes after the mutator and fails without it;
- metadata.yaml follows the kpt catalog format and names the same image as the docs.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from _integrations import (
    PLAIN_CATCH_ALL_GATEWAY,
    doc_blocks,
    doc_commands,
    find,
    is_dedicated,
    isolated_env,
    load_all,
    redirect_hosts,
    run,
    snapshot,
    workspace,
)

from merge_https_redirects import __version__

RENDER = "kpt fn render examples/kpt-render --allow-exec --results-dir kpt-results"
EVAL_FN_CONFIG = (
    "kpt fn eval examples/kpt-render --exec merge-https-redirects "
    "--fn-config examples/kpt-render/merge-https-redirects.yaml"
)
EVAL_KEY_VALUES = (
    "kpt fn eval examples/kpt-render --exec merge-https-redirects -- ports=80 onConflict=error"
)
VALIDATE = "kpt fn render examples/kpt-validate --allow-exec"

#: Every documented kpt command and the test that runs it verbatim.
DOC_COMMANDS = {
    RENDER: "test_render_rewrites_package_and_writes_results",
    EVAL_FN_CONFIG: "test_eval_exec",
    EVAL_KEY_VALUES: "test_eval_exec",
    VALIDATE: "test_validator_package",
}



def test_doc_commands_are_the_tested_ones(repo_root: Path) -> None:
    assert set(doc_commands(repo_root, "kpt")) == set(DOC_COMMANDS)


def _package_docs(package: Path) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for path in sorted(package.glob("*.yaml")):
        docs.extend(load_all(path.read_text(encoding="utf-8")))
    return docs


def _assert_merged(package: Path) -> None:
    docs = _package_docs(package)
    assert redirect_hosts(docs) == [], "per-host port-80 redirect servers must be gone"
    dedicated = find(docs, "Gateway", "http-to-https-redirect")
    assert dedicated["metadata"]["namespace"] == "istio-system"
    assert dedicated["spec"]["selector"] == {"istio": "ingressgateway"}
    assert is_dedicated(dedicated)
    # The HTTPS servers stay where they were.
    shop = find(docs, "Gateway", "shop")
    assert [s["port"]["number"] for s in shop["spec"]["servers"]] == [443]
    # kpt deletes every file of a package when a function prints nothing: these must survive.
    assert (package / "Kptfile").is_file()
    assert (package / "merge-https-redirects.yaml").is_file()


def _results_by_rule(results_file: Path) -> dict[str, list[dict[str, Any]]]:
    report = yaml.safe_load(results_file.read_text(encoding="utf-8"))
    assert report["kind"] == "FunctionResultList"
    (item,) = report["items"]
    assert item["exec"] == "merge-https-redirects"
    by_rule: dict[str, list[dict[str, Any]]] = {}
    for result in item.get("results", []):
        by_rule.setdefault(result["tags"]["rule"], []).append(result)
    return by_rule


@pytest.mark.slow
def test_render_rewrites_package_and_writes_results(
    repo_root: Path, tmp_path: Path, kpt_bin: Path, function_bin: Path
) -> None:
    root = workspace(repo_root, tmp_path, "examples/kpt-render")
    done = run(RENDER, root, isolated_env(tmp_path, function_bin))
    assert done.returncode == 0, done.stdout + done.stderr
    package = root / "examples/kpt-render"
    _assert_merged(package)
    new_file = package / "http-to-https-redirect.yaml"
    assert [d["metadata"]["name"] for d in load_all(new_file.read_text())] == [
        "http-to-https-redirect"
    ]

    by_rule = _results_by_rule(root / "kpt-results" / "results.yaml")
    removed = {(r["resourceRef"]["namespace"], r["resourceRef"]["name"]): r
               for r in by_rule["MHR001"]}
    assert set(removed) == {("shop", "shop"), ("api", "api")}
    for result in removed.values():
        assert result["severity"] == "info"
        assert result["resourceRef"]["kind"] == "Gateway"
        assert result["file"]["path"] == "gateways.yaml"
        assert result["field"]["path"] == "spec.servers[1]"
    (added,) = by_rule["MHR002"]
    assert added["resourceRef"]["name"] == "http-to-https-redirect"
    assert added["file"]["path"] == "http-to-https-redirect.yaml"
    # kpt also shows the findings to the user.
    assert "removed redirect server" in done.stderr + done.stdout


@pytest.mark.slow
@pytest.mark.parametrize("command", [EVAL_FN_CONFIG, EVAL_KEY_VALUES], ids=["fn-config", "k=v"])
def test_eval_exec(
    command: str, repo_root: Path, tmp_path: Path, kpt_bin: Path, function_bin: Path
) -> None:
    root = workspace(repo_root, tmp_path, "examples/kpt-render")
    done = run(command, root, isolated_env(tmp_path, function_bin))
    assert done.returncode == 0, done.stdout + done.stderr
    _assert_merged(root / "examples/kpt-render")


@pytest.mark.slow
def test_render_failure_leaves_package_untouched(
    repo_root: Path, tmp_path: Path, kpt_bin: Path, function_bin: Path
) -> None:
    root = workspace(repo_root, tmp_path, "examples/kpt-render")
    package = root / "examples/kpt-render"
    (package / "plain-catch-all.yaml").write_text(PLAIN_CATCH_ALL_GATEWAY, encoding="utf-8")
    before = snapshot(package)

    done = run(RENDER, root, isolated_env(tmp_path, function_bin))

    assert done.returncode != 0
    assert snapshot(package) == before, "kpt must leave the package untouched on failure"
    shown = done.stdout + done.stderr
    assert "MHR008" in shown, shown
    assert "Traceback" not in shown
    report = yaml.safe_load((root / "kpt-results" / "results.yaml").read_text(encoding="utf-8"))
    assert report["exitCode"] != 0
    (item,) = report["items"]
    assert item["exitCode"] == 1
    assert "MHR008" in item.get("stderr", "")
    errors = [r for r in item.get("results", []) if r["severity"] == "error"]
    assert errors
    assert all(r["tags"]["rule"] == "MHR008" for r in errors)
    assert any(r.get("resourceRef", {}).get("name") in {"plain-catch-all", "shop", "api"}
               for r in errors)


@pytest.mark.slow
def test_validator_package(
    repo_root: Path, tmp_path: Path, kpt_bin: Path, function_bin: Path
) -> None:
    root = workspace(repo_root, tmp_path, "examples/kpt-validate")
    package = root / "examples/kpt-validate"
    env = isolated_env(tmp_path, function_bin)

    # Without the mutator the per-host redirects capture the challenges: the validator fails.
    broken = tmp_path / "broken"
    broken_root = workspace(repo_root, broken, "examples/kpt-validate")
    kptfile = broken_root / "examples/kpt-validate/Kptfile"
    spec = yaml.safe_load(kptfile.read_text(encoding="utf-8"))
    del spec["pipeline"]["mutators"]
    kptfile.write_text(yaml.safe_dump(spec), encoding="utf-8")
    before = snapshot(broken_root / "examples/kpt-validate")
    failed = run(VALIDATE, broken_root, env)
    assert failed.returncode != 0
    assert "MHR021" in failed.stdout + failed.stderr
    assert snapshot(broken_root / "examples/kpt-validate") == before

    done = run(VALIDATE, root, env)
    assert done.returncode == 0, done.stdout + done.stderr
    _assert_merged(package)


def test_kptfile_image_form_names_the_published_image(repo_root: Path) -> None:
    metadata = yaml.safe_load((repo_root / "metadata.yaml").read_text(encoding="utf-8"))
    (snippet,) = doc_blocks(repo_root, "kpt", "yaml")
    (mutator,) = yaml.safe_load(snippet)["pipeline"]["mutators"]
    assert mutator["image"] == metadata["image"]
    assert mutator["configPath"] == "merge-https-redirects.yaml"
    # The example Kptfile shows the same image form in its comment.
    kptfile = (repo_root / "examples/kpt-render/Kptfile").read_text()
    assert f"- image: {metadata['image']}" in kptfile


def test_metadata_yaml_catalog_format(repo_root: Path) -> None:
    import tomllib

    metadata = yaml.safe_load((repo_root / "metadata.yaml").read_text(encoding="utf-8"))
    assert set(metadata) == {
        "image", "description", "tags", "sourceURL", "examplePackageURLs", "emails", "license"
    }
    project = tomllib.loads((repo_root / "pyproject.toml").read_text())["project"]
    assert re.fullmatch(r"[a-z0-9.-]+(/[a-z0-9._-]+)+:v\d+\.\d+\.\d+", metadata["image"])
    assert metadata["image"].endswith(f":v{__version__}")
    assert isinstance(metadata["description"], str)
    assert "HTTP-01" in metadata["description"]
    assert "mutator" in metadata["tags"]
    assert "validator" in metadata["tags"]
    assert all(isinstance(t, str) for t in metadata["tags"])
    assert metadata["license"] == project["license"]
    assert all(re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]+", e) for e in metadata["emails"])
    assert metadata["sourceURL"].startswith("https://")
    for url in metadata["examplePackageURLs"]:
        match = re.fullmatch(re.escape(metadata["sourceURL"]) + r"/tree/main/(examples/[\w-]+)",
                             url)
        assert match, url
        assert (repo_root / match.group(1) / "Kptfile").is_file(), url


@pytest.mark.slow
def test_validator_refuses_names_it_cannot_judge(
    repo_root: Path, tmp_path: Path, kpt_bin: Path, function_bin: Path
) -> None:
    """Issue 16: the ClusterIssuer kept in another repository made every name "out of scope"
    and the validator passed. Now the names are ``unknown`` (an error) until the ``issuers``
    setting describes the issuer; then they are judged for real."""
    root = workspace(repo_root, tmp_path, "examples/kpt-validate")
    package = root / "examples/kpt-validate"
    env = isolated_env(tmp_path, function_bin)
    certificates = package / "certificates.yaml"
    docs = [d for d in yaml.safe_load_all(certificates.read_text()) if d]
    issuer = next(d for d in docs if d["kind"] == "ClusterIssuer")
    certificates.write_text(yaml.safe_dump_all([d for d in docs if d is not issuer]))

    unknown = run(VALIDATE, root, env)
    assert unknown.returncode != 0
    assert "MHR026" in unknown.stdout + unknown.stderr

    check = yaml.safe_load((package / "check-http01.yaml").read_text())
    solvers = issuer["spec"]["acme"]["solvers"]
    if check["kind"] == "ConfigMap":
        import json

        check["data"]["issuers"] = json.dumps(
            [{"kind": "ClusterIssuer", "name": issuer["metadata"]["name"], "solvers": solvers}])
    else:
        check["issuers"] = [{"kind": "ClusterIssuer", "name": issuer["metadata"]["name"],
                             "solvers": solvers}]
    (package / "check-http01.yaml").write_text(yaml.safe_dump(check))
    judged = run(VALIDATE, root, env)
    assert judged.returncode == 0, judged.stdout + judged.stderr
    _assert_merged(package)
