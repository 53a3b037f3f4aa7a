"""Settings without a file and findings where the host hides stderr.

- ``--set KEY=VALUE`` (the ConfigMap form's keys and values) in stream and files modes; with
  ``--config`` it is a usage error;
- ``check PATH...``: mode check on files, the findings on stdout, exit 1 when a name fails;
- ``failOn: warning`` fails a run that has warnings, in every mode;
- ``--report FILE`` and ``MHR_REPORT=FILE`` write the findings as a kpt FunctionResultList, also
  through the real Helm 4 post-renderer plugin (Helm drops a plugin's stderr);
- ``--in-place`` prints its ``wrote FILE`` lines on stderr, with the paths as given.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from _integrations import isolated_env, run, site_gateway, workspace

SEED = Path(__file__).resolve().parents[2] / "examples" / "seed"

#: A Gateway holding nothing but a redirect, and the VirtualService bound only to it: the
#: rewrite deletes both, the VirtualService with a warning (MHR006).
REDIRECT_ONLY = """\
apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata:
  name: legacy-redirect
  namespace: istio-system
spec:
  selector:
    istio: ingressgateway
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: [legacy.example.com]
    tls: {httpsRedirect: true}
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: legacy
  namespace: istio-system
spec:
  hosts: [legacy.example.com]
  gateways: [legacy-redirect]
  http:
  - route:
    - destination: {host: legacy.web.svc.cluster.local}
"""


def _run(function_bin: Path, *args: str, stdin: str | None = None, cwd: Path | None = None,
         env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(function_bin), *args], input=stdin, capture_output=True,
                          text=True, timeout=60, check=False, cwd=cwd, env=env)


def _report(path: Path) -> dict[str, Any]:
    doc = yaml.safe_load(path.read_text())
    assert (doc["apiVersion"], doc["kind"]) == ("kpt.dev/v1", "FunctionResultList")
    assert doc["items"][0]["exec"] == "merge-https-redirects"
    assert doc["items"][0]["exitCode"] == doc["exitCode"]
    return doc


def _rules(report: dict[str, Any]) -> list[str]:
    return [r["tags"]["rule"] for r in report["items"][0]["results"]]


def test_set_in_stream_and_files_modes(function_bin: Path, tmp_path: Path) -> None:
    stream = _run(function_bin, "--set", "name=edge-redirect", "--set", "ports=80",
                  stdin=site_gateway("shop"))
    assert stream.returncode == 0, stream.stderr
    names = [d["metadata"]["name"] for d in yaml.safe_load_all(stream.stdout) if d]
    assert "edge-redirect" in names
    (tmp_path / "gw.yaml").write_text(site_gateway("shop"))
    files = _run(function_bin, "--set", "name=edge-redirect", str(tmp_path))
    assert files.returncode == 0, files.stderr
    assert "edge-redirect" in files.stdout
    # the ConfigMap form's value syntax, and its validation
    bad = _run(function_bin, "--set", "ports=80,eighty", str(tmp_path))
    assert bad.returncode == 1
    assert re.search(r"^error MHR100 .*ports", bad.stderr, re.M), bad.stderr
    shape = _run(function_bin, "--set", "ports", str(tmp_path))
    assert shape.returncode == 1
    assert "expected KEY=VALUE" in shape.stderr
    both = _run(function_bin, "--set", "mode=check", "--config", "x.yaml", str(tmp_path))
    assert both.returncode == 2
    assert "not both" in both.stderr


def test_check_subcommand(function_bin: Path, tmp_path: Path) -> None:
    failing = _run(function_bin, "check", str(SEED))
    assert failing.returncode == 1
    assert re.search(r"^error MHR021 Certificate istio-system/lcc3108-tls", failing.stdout,
                     re.M), failing.stdout
    assert "apiVersion" not in failing.stdout  # findings, not manifests
    fixed = tmp_path / "fixed"
    merged = _run(function_bin, str(SEED))
    assert merged.returncode == 0, merged.stderr
    fixed.mkdir()
    (fixed / "all.yaml").write_text(merged.stdout)
    passing = _run(function_bin, "check", str(fixed), "--report", str(tmp_path / "r.yaml"))
    assert passing.returncode == 0, passing.stdout
    assert "1 name(s) pass (lcc3108.example.com)" in passing.stdout
    assert _report(tmp_path / "r.yaml")["exitCode"] == 0


@pytest.mark.parametrize("mode", ["stream", "krm", "files"])
def test_fail_on_warning_in_every_mode(function_bin: Path, tmp_path: Path, mode: str) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("apiVersion: merge-https-redirects.dev/v1alpha1\n"
                      "kind: MergeHttpsRedirects\nmetadata: {name: m}\nfailOn: warning\n")
    if mode == "stream":
        lenient = _run(function_bin, stdin=REDIRECT_ONLY)
        strict = _run(function_bin, "--config", str(config), stdin=REDIRECT_ONLY)
    elif mode == "files":
        (tmp_path / "in").mkdir()
        (tmp_path / "in" / "gw.yaml").write_text(REDIRECT_ONLY)
        lenient = _run(function_bin, str(tmp_path / "in"))
        strict = _run(function_bin, "--set", "failOn=warning", "--in-place",
                      str(tmp_path / "in"))
        assert (tmp_path / "in" / "gw.yaml").read_text() == REDIRECT_ONLY  # nothing written
    else:
        items = [d for d in yaml.safe_load_all(REDIRECT_ONLY) if d]
        krm = {"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": items}
        lenient = _run(function_bin, stdin=yaml.safe_dump(krm))
        krm["functionConfig"] = yaml.safe_load(config.read_text())
        strict = _run(function_bin, stdin=yaml.safe_dump(krm))
    assert lenient.returncode == 0, lenient.stderr
    assert "warning MHR006" in lenient.stderr
    assert strict.returncode == 1
    assert "warning MHR006" in strict.stderr


def test_report_file_and_environment(function_bin: Path, tmp_path: Path) -> None:
    report = tmp_path / "report.yaml"
    done = _run(function_bin, "--report", str(report), stdin=REDIRECT_ONLY)
    assert done.returncode == 0
    assert set(_rules(_report(report))) >= {"MHR000", "MHR002", "MHR004", "MHR006"}
    # KRM mode, as kpt runs it (no arguments): the environment names the file
    items = [d for d in yaml.safe_load_all(REDIRECT_ONLY) if d]
    krm = yaml.safe_dump({"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList",
                          "items": items})
    env = {**isolated_env(tmp_path, function_bin), "MHR_REPORT": str(tmp_path / "env.yaml")}
    done = _run(function_bin, stdin=krm, env=env)
    assert done.returncode == 0, done.stderr
    assert "MHR004" in _rules(_report(tmp_path / "env.yaml"))
    # a directory: results.yaml inside it, like kpt's --results-dir
    (tmp_path / "dir").mkdir()
    done = _run(function_bin, "--report", str(tmp_path / "dir"), stdin=REDIRECT_ONLY)
    assert _report(tmp_path / "dir" / "results.yaml")["exitCode"] == 0
    # an error exit is reported too, and a report that cannot be written fails the run
    broken = _run(function_bin, "--report", str(report), stdin="kind: [\n")
    assert broken.returncode == 1
    assert _report(report)["exitCode"] == 1
    nowhere = _run(function_bin, "--report", str(tmp_path / "missing" / "r.yaml"),
                   stdin=REDIRECT_ONLY)
    assert nowhere.returncode == 1
    assert "error MHR102" in nowhere.stderr


def test_in_place_wrote_lines_on_stderr_as_given(function_bin: Path, tmp_path: Path) -> None:
    (tmp_path / "tree").mkdir()
    (tmp_path / "tree" / "gw.yaml").write_text(site_gateway("shop"))
    done = _run(function_bin, "--in-place", "tree", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    wrote = [line for line in done.stderr.splitlines() if line.startswith("wrote ")]
    assert sorted(wrote) == ["wrote tree/gw.yaml", "wrote tree/http-to-https-redirect.yaml"]


@pytest.mark.slow
def test_helm4_report_and_fail_on_warning(
    repo_root: Path, tmp_path: Path, helm_bin: Path, function_bin: Path
) -> None:
    """Helm 4 drops a plugin's stderr: the report shows the deletions, and ``failOn: warning``
    fails ``helm template`` with the function's message."""
    root = workspace(repo_root, tmp_path, "integrations/helm-postrenderer", "examples/helm-chart")
    (root / "examples/helm-chart/templates/legacy.yaml").write_text(REDIRECT_ONLY)
    env = isolated_env(tmp_path, function_bin)
    env["PATH"] = f"{helm_bin.parent}:{env['PATH']}"
    install = run("helm plugin install integrations/helm-postrenderer", root, env)
    assert install.returncode == 0, install.stderr
    report = tmp_path / "helm-report.yaml"
    template = "helm template shop examples/helm-chart --post-renderer merge-https-redirects"

    done = run(template, root, {**env, "MHR_REPORT": str(report)})

    assert done.returncode == 0, done.stderr
    rules = _rules(_report(report))
    assert "MHR004" in rules  # the Gateway deleted
    assert "MHR006" in rules  # the VirtualService deleted
    failed = run(template + " --post-renderer-args --set=failOn=warning", root, env)
    assert failed.returncode != 0
    assert failed.stdout == ""
    assert re.search(r"warning MHR006 VirtualService istio-system/legacy", failed.stderr), (
        failed.stderr)



@pytest.mark.parametrize("how", ["stdin", "dash", "file", "set"])
def test_empty_input_is_one_answer_everywhere(function_bin: Path, tmp_path: Path,
                                              how: str) -> None:
    """Empty input (no bytes, or only blanks) on stdin, as '-' or in a file is an empty stream
    everywhere: an explicit empty document on stdout, the summary, exit 0 (a Helm chart that
    renders nothing must not fail the post-renderer)."""
    (tmp_path / "empty.yaml").write_text("\n  \n")
    args = {"stdin": [], "dash": ["-"], "file": [str(tmp_path / "empty.yaml")],
            "set": ["--set", "mode=merge"]}[how]
    done = _run(function_bin, *args, stdin="")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "---\n"
    assert done.stderr.startswith("info MHR000: removed 0 redirect server(s)")


def test_a_resource_without_namespace_is_shown_in_default(function_bin: Path) -> None:
    gateway = site_gateway("shop").replace("  namespace: istio-system\n", "", 1)
    done = _run(function_bin, stdin=gateway)
    assert done.returncode == 0, done.stderr
    assert re.search(r"^info MHR001 Gateway default/shop ", done.stderr, re.M), done.stderr
