"""The pre-commit hooks with the real ``pre-commit`` (PyPI): installed from this repository
into a temporary git repository, the fixer hook rewrites a commit holding a per-host redirect
and fails it once (files changed), then the commit passes; the check hook fails while a
challenge is redirected and passes once the rewrite is committed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from _integrations import site_gateway

pytestmark = pytest.mark.slow

def _pre_commit() -> Path:
    found = Path(sys.executable).parent / "pre-commit"
    if not found.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("pre-commit is not installed in CI (.[test] should bring it)")
        pytest.skip("pre-commit is not installed (pip install -e '.[test]')")
    return found


def _git(cwd: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          check=False, timeout=600)


def _hook_repo(repo_root: Path, tmp_path: Path, env: dict[str, str]) -> tuple[Path, str]:
    """This repository's tracked files (as in the work tree) committed into a fresh repository:
    pre-commit clones a hook repository at a revision."""
    hooks = tmp_path / "hooks-repo"
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=repo_root, capture_output=True,
                            check=True).stdout.decode().split("\0")
    for rel in (r for r in listed if r and not r.startswith("tests/")):
        source = repo_root / rel
        if source.is_file():
            (hooks / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, hooks / rel)
    assert _git(hooks, "init", "-q", env=env).returncode == 0
    assert _git(hooks, "add", "-A", env=env).returncode == 0
    assert _git(hooks, "commit", "-qm", "hooks", env=env).returncode == 0
    rev = _git(hooks, "rev-parse", "HEAD", env=env).stdout.strip()
    return hooks, rev


def test_real_pre_commit(repo_root: Path, tmp_path: Path) -> None:
    pre_commit = _pre_commit()
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "PRE_COMMIT_HOME": str(home / "cache"),
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
           "GIT_CONFIG_GLOBAL": str(home / ".gitconfig")}
    env.pop("VIRTUAL_ENV", None)
    hooks, rev = _hook_repo(repo_root, tmp_path, env)
    work = tmp_path / "work"
    (work / "deploy/istio").mkdir(parents=True)
    (work / "deploy/istio/gateway.yaml").write_text(site_gateway("shop"))
    (work / ".pre-commit-config.yaml").write_text(f"""\
repos:
- repo: {hooks}
  rev: {rev}
  hooks:
  - id: merge-https-redirects
    args: [deploy/istio]
""")
    assert _git(work, "init", "-q", env=env).returncode == 0
    installed = subprocess.run([str(pre_commit), "install"], cwd=work, env=env,
                               capture_output=True, text=True, check=False, timeout=120)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert _git(work, "add", "-A", env=env).returncode == 0

    first = _git(work, "commit", "-m", "add the shop", env=env)

    assert first.returncode != 0, first.stdout + first.stderr  # the hook changed files
    assert "files were modified by this hook" in first.stdout + first.stderr
    assert "httpsRedirect: true" not in (work / "deploy/istio/gateway.yaml").read_text()
    assert (work / "deploy/istio/http-to-https-redirect.yaml").is_file()

    assert _git(work, "add", "-A", env=env).returncode == 0
    second = _git(work, "commit", "-m", "add the shop", env=env)
    assert second.returncode == 0, second.stdout + second.stderr
    assert _git(work, "status", "--porcelain", env=env).stdout == ""
