"""Helm: the Helm 4 post-renderer plugin with a real Helm 4, and Helm 3's stream contract.

What each test proves:
- the commands in docs/integrations.md "## Helm" are exactly the ones run here;
- `helm plugin install integrations/helm-postrenderer` registers a postrenderer/v1 plugin named
  merge-https-redirects, and `helm template --post-renderer merge-https-redirects` on the example
  chart (one Gateway per host, each with a port-80 redirect) removes the per-host redirects, adds
  the dedicated Gateway (as `generated-by-postrender-N.yaml`), keeps every other object under its
  own template (`postrenderer.helm.sh/postrender-filename` survived the function) and keeps the
  test hook with its annotations;
- `--post-renderer-args --config=FILE` reaches the function (the config's Gateway name is used);
- a conflict fails `helm template` with the function's MHR008 message in Helm's error text, a
  missing function likewise names the problem, and no manifest is printed;
- Helm 3 (`--post-renderer <executable>`): the console script, given the rendered stream on
  stdin with no arguments, returns the rewritten stream (emulated: no Helm 3 binary here).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from _integrations import (
    doc_commands,
    find,
    is_dedicated,
    isolated_env,
    load_all,
    redirect_hosts,
    run,
    workspace,
)

from merge_https_redirects import __version__

INSTALL = "helm plugin install integrations/helm-postrenderer"
TEMPLATE = "helm template shop examples/helm-chart --post-renderer merge-https-redirects"
TEMPLATE_CONFIG = (
    "helm template shop examples/helm-chart --post-renderer merge-https-redirects "
    "--post-renderer-args --config=examples/helm-chart/post-renderer-config.yaml"
)
TEMPLATE_FAILING = (
    "helm template shop examples/helm-chart --set plainCatchAll=true "
    "--post-renderer merge-https-redirects"
)

#: Every documented Helm command and the test that runs it verbatim.
DOC_COMMANDS = {
    "merge-https-redirects install-helm-plugin": (
        "test_release.py::test_install_helm_plugin_from_the_wheel_then_helm_post_renders"),
    INSTALL: "test_plugin_install_and_template",
    TEMPLATE: "test_plugin_install_and_template (Helm 3 form: test_helm3_stream_contract)",
    TEMPLATE_CONFIG: "test_post_renderer_args_reach_the_function",
    TEMPLATE_FAILING: "test_failure_reaches_the_user",
}


def test_doc_commands_are_the_tested_ones(repo_root: Path) -> None:
    assert set(doc_commands(repo_root, "Helm")) == set(DOC_COMMANDS)


def test_plugin_yaml_shape(repo_root: Path) -> None:
    plugin = yaml.safe_load((repo_root / "integrations/helm-postrenderer/plugin.yaml").read_text())
    assert plugin["apiVersion"] == "v1"
    assert plugin["type"] == "postrenderer/v1"
    assert plugin["runtime"] == "subprocess"
    assert plugin["name"] == "merge-https-redirects"
    assert plugin["version"] == __version__
    commands = plugin["runtimeConfig"]["platformCommand"]
    assert {c["command"] for c in commands} == {"${HELM_PLUGIN_DIR}/postrender.sh"}
    script = repo_root / "integrations/helm-postrenderer/postrender.sh"
    assert script.stat().st_mode & 0o111, "postrender.sh must be executable"


def _sources(stdout: str) -> list[tuple[str, dict[str, Any]]]:
    """(template file, object) for each document of `helm template` output."""
    out = []
    for chunk in re.split(r"^---\n", stdout, flags=re.M):
        match = re.match(r"# Source: (.+)\n", chunk)
        doc = yaml.safe_load(chunk)
        if doc:
            assert match, f"document without # Source: {chunk[:200]}"
            out.append((match.group(1), doc))
    return out


def _install(root: Path, env: dict[str, str]) -> None:
    done = run(INSTALL, root, env)
    assert done.returncode == 0, done.stderr
    listed = run("helm plugin list", root, env)
    line = rf"^merge-https-redirects\s+{re.escape(__version__)}\s+postrenderer/v1"
    assert re.search(line, listed.stdout, re.M), (
        listed.stdout)


def _helm_env(tmp_path: Path, function_bin: Path, helm_bin: Path) -> dict[str, str]:
    env = isolated_env(tmp_path, function_bin)
    env["PATH"] = f"{helm_bin.parent}:{env['PATH']}"
    return env


@pytest.mark.slow
def test_plugin_install_and_template(
    repo_root: Path, tmp_path: Path, helm_bin: Path, function_bin: Path
) -> None:
    root = workspace(repo_root, tmp_path, "integrations/helm-postrenderer", "examples/helm-chart")
    env = _helm_env(tmp_path, function_bin, helm_bin)
    _install(root, env)

    done = run(TEMPLATE, root, env)

    assert done.returncode == 0, done.stderr
    sources = _sources(done.stdout)
    docs = [doc for _, doc in sources]
    assert redirect_hosts(docs) == []
    by_name = {(doc["kind"], doc["metadata"]["name"]): src for src, doc in sources}
    # Objects kept their template file: the function preserved Helm's filename annotation.
    assert by_name[("Gateway", "shop-example-com")] == "shop/templates/gateways.yaml"
    assert by_name[("Gateway", "api-example-com")] == "shop/templates/gateways.yaml"
    assert by_name[("VirtualService", "shop-example-com")] == "shop/templates/virtualservices.yaml"
    assert re.fullmatch(r"generated-by-postrender-\d+\.yaml",
                        by_name[("Gateway", "http-to-https-redirect")])
    dedicated = find(docs, "Gateway", "http-to-https-redirect")
    assert is_dedicated(dedicated)
    assert dedicated["spec"]["selector"] == {"istio": "ingressgateway"}
    for gateway in ("shop-example-com", "api-example-com"):
        servers = find(docs, "Gateway", gateway)["spec"]["servers"]
        assert [s["port"]["number"] for s in servers] == [443]
    # The test hook passed through the post-renderer untouched.
    assert by_name[("Pod", "shop-test-redirect")] == "shop/templates/tests/test-redirect.yaml"
    hook = find(docs, "Pod", "shop-test-redirect")
    assert hook["metadata"]["annotations"] == {
        "helm.sh/hook": "test",
        "helm.sh/hook-delete-policy": "before-hook-creation,hook-succeeded",
    }
    assert "postrenderer.helm.sh/postrender-filename" not in done.stdout


@pytest.mark.slow
def test_post_renderer_args_reach_the_function(
    repo_root: Path, tmp_path: Path, helm_bin: Path, function_bin: Path
) -> None:
    root = workspace(repo_root, tmp_path, "integrations/helm-postrenderer", "examples/helm-chart")
    env = _helm_env(tmp_path, function_bin, helm_bin)
    _install(root, env)
    config = yaml.safe_load((root / "examples/helm-chart/post-renderer-config.yaml").read_text())

    done = run(TEMPLATE_CONFIG, root, env)

    assert done.returncode == 0, done.stderr
    docs = load_all(done.stdout)
    dedicated = find(docs, "Gateway", config["name"])
    assert dedicated["metadata"]["namespace"] == config["namespace"]
    assert not any(d["metadata"]["name"] == "http-to-https-redirect" for d in docs)


@pytest.mark.slow
def test_failure_reaches_the_user(
    repo_root: Path, tmp_path: Path, helm_bin: Path, function_bin: Path
) -> None:
    root = workspace(repo_root, tmp_path, "integrations/helm-postrenderer", "examples/helm-chart")
    env = _helm_env(tmp_path, function_bin, helm_bin)
    _install(root, env)

    done = run(TEMPLATE_FAILING, root, env)

    assert done.returncode != 0
    assert done.stdout == ""
    assert "merge-https-redirects failed (exit 1)" in done.stderr, done.stderr
    assert re.search(r"^  error MHR008 Gateway \S+/plain-catch-all", done.stderr, re.M), (
        done.stderr)
    assert "Traceback" not in done.stderr

    missing = run(TEMPLATE, root, {**env, "MERGE_HTTPS_REDIRECTS": "/nonexistent/fn"})
    assert missing.returncode != 0
    assert missing.stdout == ""
    assert "/nonexistent/fn: command not found" in missing.stderr, missing.stderr


@pytest.mark.slow
def test_helm3_stream_contract(
    repo_root: Path, tmp_path: Path, helm_bin: Path, function_bin: Path
) -> None:
    """Helm 3 execs the post-renderer (found on PATH) with the rendered stream on stdin."""
    env = _helm_env(tmp_path, function_bin, helm_bin)
    rendered = run([str(helm_bin), "template", "shop", str(repo_root / "examples/helm-chart")],
                   tmp_path, env)
    assert rendered.returncode == 0, rendered.stderr
    assert sorted(redirect_hosts(load_all(rendered.stdout))) == [
        "api.example.com", "shop.example.com"]

    done = run(["merge-https-redirects"], tmp_path, env, stdin=rendered.stdout)

    assert done.returncode == 0, done.stderr
    docs = load_all(done.stdout)
    assert redirect_hosts(docs) == []
    assert is_dedicated(find(docs, "Gateway", "http-to-https-redirect"))
    assert find(docs, "Pod", "shop-test-redirect")["metadata"]["annotations"]["helm.sh/hook"] == (
        "test")
    # Findings go to stderr, one line each; stdout stays a pure stream.
    assert any(line.startswith("info MHR002") for line in done.stderr.splitlines())
