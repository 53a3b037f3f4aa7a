"""The repository's own standards, enforced by the test command: lint, types, YAML style, and
README/--help generated from the code's registries (so docs cannot drift)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from merge_https_redirects.config import reference_markdown
from merge_https_redirects.rules import RULES, rules_table

BIN = Path(sys.executable).parent


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False, timeout=300)


def test_readme_documents_every_config_field_and_rule(repo_root: Path) -> None:
    readme = (repo_root / "README.md").read_text(encoding="utf-8")
    assert reference_markdown() in readme, "README FunctionConfig table is stale"
    assert rules_table() in readme, "README rule table is stale"


def test_help_documents_every_config_field_and_rule(function_bin: Path) -> None:
    out = subprocess.run([str(function_bin), "--help"], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    for rule_id in RULES:
        assert rule_id in out
    for field in ("mode", "name", "namespace", "ports", "onConflict"):
        assert f"`{field}`" in out


def test_readme_has_exactly_two_setup_commands(repo_root: Path) -> None:
    readme = (repo_root / "README.md").read_text(encoding="utf-8")
    quick = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", quick, re.S)
    commands = [line for b in blocks for line in b.splitlines() if line.strip()]
    assert len(commands) == 2
    assert "examples/seed" in commands[0]
    ci = (repo_root / ".ci" / "run").read_text(encoding="utf-8")
    assert commands[1] in ci, ".ci/run must run the README's test command"


def test_changelog_has_unreleased_on_top(repo_root: Path) -> None:
    text = (repo_root / "CHANGELOG.md").read_text(encoding="utf-8")
    assert re.findall(r"^## (.+)$", text, re.M)[0] == "Unreleased"


def test_ruff_clean(repo_root: Path) -> None:
    result = _run(str(BIN / "ruff"), "check", "fn", "tests", "bench", "tools", cwd=repo_root)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_clean(repo_root: Path) -> None:
    result = _run(str(BIN / "mypy"), cwd=repo_root)
    assert result.returncode == 0, result.stdout + result.stderr


def test_yamllint_strict_clean(repo_root: Path) -> None:
    result = _run(str(BIN / "yamllint"), "--strict", "-c", ".yamllint.yaml", ".", cwd=repo_root)
    assert result.returncode == 0, result.stdout + result.stderr


def test_only_the_yaml_layer_imports_a_yaml_library(repo_root: Path) -> None:
    package = repo_root / "fn" / "merge_https_redirects"
    offenders = [
        p.name for p in package.glob("*.py")
        if p.name not in ("yamlio.py", "reblock.py")
        and re.search(r"^\s*(import yaml|from yaml|import ruamel|from ruamel)", p.read_text(), re.M)
    ]
    assert offenders == []
