"""pre-commit: `.pre-commit-hooks.yaml` and the hooks run the way pre-commit runs them.

What each test proves:
- every hook has the keys pre-commit requires, runs the console script this package installs
  (language python), sees whole directories (pass_filenames: false) serially;
- the docs' `.pre-commit-config.yaml` snippet names existing hooks;
- run as pre-commit runs it (`entry` + `args`, cwd = repository root), the fixer hook rewrites the
  manifests, converges (a second run changes nothing, so a commit can pass), and on a conflict
  fails with MHR008 on stderr without touching a file;
- the check hook (the `check` subcommand) changes nothing and fails while an HTTP-01
  challenge is redirected;
- the real `pre-commit` (PyPI) in a temporary git repository installs the hooks from this
  repository: a commit with a per-host redirect is rewritten and fails once, then passes.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from merge_https_redirects import __version__

REQUIRED = {"id", "name", "entry", "language"}
KNOWN = REQUIRED | {
    "description", "pass_filenames", "require_serial", "types", "types_or", "files",
    "exclude", "args", "minimum_pre_commit_version", "always_run", "stages",
    "additional_dependencies", "verbose", "exclude_types", "log_file", "fail_fast",
}


def _hooks(repo_root: Path) -> dict[str, dict[str, Any]]:
    hooks = yaml.safe_load((repo_root / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert isinstance(hooks, list)
    return {hook["id"]: hook for hook in hooks}


def test_hooks_are_well_formed(repo_root: Path) -> None:
    hooks = _hooks(repo_root)
    assert set(hooks) == {"merge-https-redirects", "merge-https-redirects-check"}
    scripts = tomllib.loads((repo_root / "pyproject.toml").read_text())["project"]["scripts"]
    for hook in hooks.values():
        assert REQUIRED <= set(hook) <= KNOWN, hook["id"]
        assert hook["language"] == "python"
        argv = shlex.split(hook["entry"])
        assert argv[0] in scripts, "entry must be the console script the package installs"
        assert hook["pass_filenames"] is False
        assert hook["require_serial"] is True
        assert hook["types_or"] == ["yaml"]
    # the fixer rewrites in place; the check hook only reports (the check subcommand)
    assert "--in-place" in shlex.split(hooks["merge-https-redirects"]["entry"])
    assert shlex.split(hooks["merge-https-redirects-check"]["entry"])[1:] == ["check"]


def test_docs_snippet_uses_existing_hooks(repo_root: Path) -> None:
    text = (repo_root / "README.md").read_text(encoding="utf-8")
    section = re.split(r"^#{2,3} ", text.split("### pre-commit\n", 1)[1], maxsplit=1,
                       flags=re.M)[0]
    (snippet,) = re.findall(r"^```yaml\n(.*?)^```", section, re.M | re.S)
    (repo,) = yaml.safe_load(snippet)["repos"]
    metadata = yaml.safe_load((repo_root / "metadata.yaml").read_text())
    assert repo["repo"] == metadata["sourceURL"]
    assert repo["rev"] == f"v{__version__}"
    hooks = _hooks(repo_root)
    for hook in repo["hooks"]:
        assert hook["id"] in hooks
        assert hook["args"], "the hooks need the manifest directories as args"


def _function_dir() -> str:
    candidate = Path(sys.executable).parent / "merge-https-redirects"
    found = candidate if candidate.exists() else shutil.which("merge-https-redirects")
    if found is None:
        pytest.skip("merge-https-redirects console script not installed")
    return str(Path(found).parent)


def _run_hook(hook: dict[str, Any], args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """As pre-commit does for pass_filenames: false: entry split with shlex, then args."""
    env = {"PATH": os.pathsep.join([_function_dir(), "/usr/bin", "/bin"]),
           "HOME": str(cwd), "LANG": "C.UTF-8"}
    return subprocess.run([*shlex.split(hook["entry"]), *args], cwd=cwd, env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          check=False, timeout=120)


def _repo_with_manifests(repo_root: Path, tmp_path: Path) -> Path:
    manifests = tmp_path / "deploy/istio"
    manifests.mkdir(parents=True)
    for name in ("gateways.yaml", "virtualservices.yaml"):
        shutil.copy(repo_root / "examples/kpt-render" / name, manifests / name)
    return manifests


def _files(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def test_fixer_hook_rewrites_and_converges(repo_root: Path, tmp_path: Path) -> None:
    hook = _hooks(repo_root)["merge-https-redirects"]
    manifests = _repo_with_manifests(repo_root, tmp_path)
    before = _files(manifests)

    first = _run_hook(hook, ["deploy/istio"], tmp_path)

    assert first.returncode == 0, first.stderr
    after = _files(manifests)
    assert after != before
    assert b"httpsRedirect" not in after["gateways.yaml"]
    (added,) = set(after) - set(before)
    gateway = yaml.safe_load(after[added])
    assert gateway["spec"]["servers"][0]["hosts"] == ["*"]
    assert gateway["spec"]["servers"][0]["tls"] == {"httpsRedirect": True}

    second = _run_hook(hook, ["deploy/istio"], tmp_path)

    assert second.returncode == 0, second.stderr
    assert _files(manifests) == after, "a second run must change nothing"


def test_fixer_hook_conflict_fails_without_writing(repo_root: Path, tmp_path: Path) -> None:
    hook = _hooks(repo_root)["merge-https-redirects"]
    manifests = _repo_with_manifests(repo_root, tmp_path)
    (manifests / "plain.yaml").write_text(
        "apiVersion: networking.istio.io/v1beta1\nkind: Gateway\nmetadata:\n"
        "  name: plain\n  namespace: istio-system\nspec:\n  selector:\n"
        "    istio: ingressgateway\n  servers:\n    - port: {number: 80, name: http, "
        "protocol: HTTP}\n      hosts: ['*']\n"
        # a default backend that also serves shop.example.com over plain HTTP: both the
        # catch-all redirect and a redirect route would change what it serves
        "---\napiVersion: networking.istio.io/v1beta1\nkind: VirtualService\nmetadata:\n"
        "  name: default-backend\n  namespace: istio-system\nspec:\n"
        "  hosts: ['*', shop.example.com]\n"
        "  gateways: [plain]\n  http:\n    - route:\n        - destination: {host: web}\n",
        encoding="utf-8")
    before = _files(manifests)

    done = _run_hook(hook, ["deploy/istio"], tmp_path)

    assert done.returncode == 1
    assert "error MHR008" in done.stderr
    assert "Traceback" not in done.stderr
    assert _files(manifests) == before


def test_hook_without_args_fails_fast(repo_root: Path, tmp_path: Path) -> None:
    """Forgotten `args`: a usage error, not a hang on stdin or a silent pass."""
    done = _run_hook(_hooks(repo_root)["merge-https-redirects"], [], tmp_path)
    assert done.returncode == 2
    assert "PATH" in done.stderr


def test_check_hook(repo_root: Path, tmp_path: Path) -> None:
    hook = _hooks(repo_root)["merge-https-redirects-check"]
    manifests = _repo_with_manifests(repo_root, tmp_path)
    shutil.copy(repo_root / "examples/kpt-validate/certificates.yaml", manifests)
    shutil.copy(repo_root / "examples/kpt-validate/check-http01.yaml", tmp_path / "check.yaml")
    before = _files(manifests)

    done = _run_hook(hook, ["--config", "check.yaml", "deploy/istio"], tmp_path)

    assert done.returncode == 1, done.stderr
    assert "error MHR021" in done.stdout  # the check subcommand prints its findings
    assert _files(manifests) == before
