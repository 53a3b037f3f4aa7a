"""The repository's own standards, enforced by the test command: lint, types, YAML style, and
README/--help generated from the code's registries (so docs cannot drift)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from merge_https_redirects.config import FIELDS, reference_markdown
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
    for field in FIELDS:
        assert f"\n  {field.name} (default " in out
    too_wide = [line for line in out.splitlines() if len(line) > 80]
    assert not too_wide, f"--help must fit 80 columns: {too_wide}"
    assert "|" not in out, "--help is plain text, no Markdown tables"


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
        str(p) for p in package.rglob("*.py")
        if "yamlio" not in p.parts
        and re.search(r"^\s*(import yaml|from yaml|import ruamel|from ruamel)", p.read_text(), re.M)
    ]
    assert offenders == []


def test_import_contracts_kept(repo_root: Path) -> None:
    """The layers of docs/architecture.md, as the contracts in pyproject.toml state them."""
    result = _run(str(BIN / "lint-imports"), "--no-cache", cwd=repo_root)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_no_import_cycle() -> None:
    """No module reaches itself through imports (function-level imports count too)."""
    import grimp

    graph = grimp.build_graph("merge_https_redirects")
    cycles = [
        (module, imported)
        for module in sorted(graph.modules)
        for imported in sorted(graph.find_modules_directly_imported_by(module))
        if imported != module and graph.chain_exists(importer=imported, imported=module)
    ]
    assert cycles == []


def test_modules_are_small(repo_root: Path) -> None:
    """No module over 600 lines: split by responsibility before it grows past that."""
    package = repo_root / "fn" / "merge_https_redirects"
    sizes = {str(p.relative_to(package)): len(p.read_text().splitlines())
             for p in package.rglob("*.py")}
    assert {name: n for name, n in sizes.items() if n > 600} == {}
