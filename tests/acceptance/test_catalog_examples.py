"""The examples in the kpt catalog's layout, run the way the catalog's e2e harness runs them.

The harness is kpt's ``pkg/test/runner`` (used by kptdev/krm-functions-catalog
``tests/e2etest`` and by kubernetes-sigs/krm-functions-registry ``tests/e2e_test.go``). Every
directory under ``examples/`` holding a ``.expected/`` directory is a case:

- ``.expected/config.yaml``: ``testType`` (``render``, the default), ``exitCode`` (default 0),
  ``allowExec`` (adds ``--allow-exec``), ``stdErr`` (must be contained in kpt's stderr). Any other
  key of the runner's config fails the test: it is not ported here.
- ``.expected/diff.patch``: ``git diff`` of the package after the run against the package before.
- ``.expected/results.yaml``: the file kpt writes into ``--results-dir``.

For each case, twice (the runner's run count), from a fresh copy: copy the package into a temp
directory, ``git init`` + ``git add --all`` + commit, run ``kpt fn render PKG --results-dir DIR``
(+ ``--allow-exec``), check the exit code, then stderr (timings of ``[PASS]``/``[FAIL]`` lines
set to ``0s``, the temp directory prefix removed), then the results file (the only one in the
results directory, surrounding whitespace trimmed), then ``git add --all``, commit, and
``git diff FIRST HEAD`` run with only ``GIT_DIFF_OPTS=`` in its environment (trimmed); a failing
run is not repeated. Unlike the runner, git runs without the user's or system git config, so a
developer's settings (signing, hooks, ``diff.*``) cannot change the result.

The exec functions in the Kptfiles name the console script, found on ``PATH`` (the one under
test goes first). The output depends on the kpt version (newer kpt write a ``status`` into the
Kptfile): ``UPDATE_GOLDEN=1`` (or the runner's ``KPT_E2E_UPDATE_EXPECTED=true``) rewrites
``diff.patch`` and ``results.yaml`` from the run; read them before committing.

The layout checks (every kpt example has README.md with the invocation the harness runs and an
expected result that matches ``diff.patch``, ``.krmignore`` hiding ``.expected``, the three
files) need no kpt and are not slow.
"""

from __future__ import annotations

import difflib
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EXPECTED = ".expected"
UPDATE = (os.environ.get("UPDATE_GOLDEN") == "1"
          or os.environ.get("KPT_E2E_UPDATE_EXPECTED", "").lower() == "true")
#: pkg/test/runner's TestCaseConfig keys this port implements.
PORTED = {"testType", "exitCode", "allowExec", "stdErr"}
#: The runner's RunCount().
RUN_COUNT = 2

CASES = sorted(str(p.parent.relative_to(EXAMPLES)) for p in EXAMPLES.rglob(EXPECTED)
               if p.is_dir())
KPT_PACKAGES = sorted(str(p.parent.relative_to(EXAMPLES)) for p in EXAMPLES.rglob("Kptfile"))


def _config(case: Path) -> dict[str, Any]:
    path = case / EXPECTED / "config.yaml"
    config = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None
    config = config or {}
    assert isinstance(config, dict), path
    return config


def sanitize_timestamps(stderr: str) -> str:
    """The runner's sanitizeTimestamps: ``[PASS] "fn" in 1.2s`` becomes ``... in 0s``."""
    lines = []
    for line in stderr.split("\n"):
        if line.startswith(("[PASS]", "[FAIL]")):
            tokens = line.split()
            if len(tokens) == 4 and tokens[2] == "in":
                tokens[3] = "0s"
                line = " ".join(tokens)
        lines.append(line)
    return "\n".join(lines)


def _git_env(home: Path) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home),
            "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "LANG": "C.UTF-8"}


def _git(pkg: Path, *args: str, env: dict[str, str]) -> str:
    done = subprocess.run(["git", *args], cwd=pkg, env=env, capture_output=True, text=True,
                          check=False, timeout=60)
    assert done.returncode == 0, f"git {' '.join(args)}: {done.stdout}{done.stderr}"
    return done.stdout


def _commit(pkg: Path, message: str, env: dict[str, str]) -> None:
    _git(pkg, "add", "--all", env=env)
    _git(pkg, "config", "user.name", "none", env=env)
    _git(pkg, "config", "user.email", "none", env=env)
    _git(pkg, "commit", "-m", message, "--allow-empty", env=env)


def _actual_results(results_dir: Path) -> str:
    files = sorted(results_dir.iterdir()) if results_dir.is_dir() else []
    assert len(files) <= 1, f"unexpected results files number {len(files)}, should be 0 or 1"
    return files[0].read_text(encoding="utf-8").strip() if files else ""


def _actual_diff(pkg: Path, first: str, env: dict[str, str]) -> str:
    _commit(pkg, "second", env)
    git = shutil.which("git", path=env["PATH"])
    assert git is not None
    done = subprocess.run([git, "diff", first, "HEAD"], cwd=pkg, env={"GIT_DIFF_OPTS": ""},
                          capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _expected(case: Path, name: str) -> str:
    return (case / EXPECTED / name).read_text(encoding="utf-8").strip()


def _run_once(case: Path, config: dict[str, Any], work: Path, kpt_bin: Path,
              function_bin: Path) -> bool:
    """One iteration of the runner's runFnRender; True when kpt failed (as expected)."""
    work.mkdir()
    pkg = work / case.name
    shutil.copytree(case, pkg, symlinks=True)
    git_env = _git_env(work)
    _git(pkg, "init", "--quiet", env=git_env)
    _commit(pkg, "first", git_env)
    first = _git(pkg, "log", "-n", "1", "--pretty=format:%h", env=git_env)

    results_dir = work / "results"
    argv = [str(kpt_bin), "fn", "render", str(pkg), "--results-dir", str(results_dir)]
    if config.get("allowExec"):
        argv.append("--allow-exec")
    env = {**os.environ, "PATH": f"{function_bin.parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(argv, cwd=work, env=env, capture_output=True, text=True, check=False,
                          timeout=300)
    results = _actual_results(results_dir)
    diff = _actual_diff(pkg, first, git_env)
    if UPDATE:
        (case / EXPECTED / "results.yaml").write_text(results + "\n", encoding="utf-8")
        (case / EXPECTED / "diff.patch").write_text(diff + "\n", encoding="utf-8")

    shown = f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    assert done.returncode == config.get("exitCode", 0), (
        f"actual exit code {done.returncode} doesn't match expected "
        f"{config.get('exitCode', 0)}\n{shown}")
    stderr = sanitize_timestamps(done.stderr).replace(f"{work}{os.sep}", "")
    assert config.get("stdErr", "") in stderr, shown
    _same(results, _expected(case, "results.yaml"), "results")
    _same(diff, _expected(case, "diff.patch"), "diff")
    return done.returncode != 0


def _same(actual: str, expected: str, what: str) -> None:
    """The runner's comparison, reported as it does: the actual text and a diff against it."""
    delta = "\n".join(difflib.unified_diff(expected.splitlines(), actual.splitlines(),
                                           "expected", "actual", lineterm=""))
    assert actual == expected, (
        f"actual {what} doesn't match expected (UPDATE_GOLDEN=1 rewrites it)\nActual\n===\n"
        f"{actual}\nDiff of {what}\n===\n{delta}")


def test_every_kpt_example_is_a_catalog_case() -> None:
    """The kpt packages under examples/ are exactly the harness's cases."""
    assert KPT_PACKAGES, "no kpt example packages"
    assert CASES == KPT_PACKAGES


@pytest.mark.parametrize("name", CASES)
def test_case_layout(name: str) -> None:
    case = EXAMPLES / name
    for required in ("config.yaml", "diff.patch", "results.yaml"):
        assert (case / EXPECTED / required).is_file(), f"{name}: .expected/{required} missing"
    config = _config(case)
    assert set(config) <= PORTED, f"{name}: not ported to this harness: {set(config) - PORTED}"
    assert config.get("testType", "render") == "render"
    # kpt would read .expected/*.yaml as resources of the package.
    ignored = (case / ".krmignore").read_text(encoding="utf-8").split()
    assert EXPECTED in ignored
    results = yaml.safe_load((case / EXPECTED / "results.yaml").read_text(encoding="utf-8"))
    assert results["kind"] == "FunctionResultList"
    assert results["exitCode"] == config.get("exitCode", 0)


def _section(readme: str, title: str) -> str:
    match = re.search(rf"^### {re.escape(title)}\n(.*?)(?=^### |\Z)", readme, re.M | re.S)
    assert match, f"README has no section '### {title}'"
    return match.group(1)


@pytest.mark.parametrize("name", CASES)
def test_case_readme(name: str, repo_root: Path) -> None:
    """README.md as the catalog writes them: how to get the package, the invocation the harness
    runs, and the expected result, whose diff is part of .expected/diff.patch."""
    case = EXAMPLES / name
    readme = (case / "README.md").read_text(encoding="utf-8")
    assert re.match(r"# merge-https-redirects: \S", readme), "title: '# <function>: <example>'"
    metadata = yaml.safe_load((repo_root / "metadata.yaml").read_text(encoding="utf-8"))
    fetch = _section(readme, "Fetch the example package")
    assert f"kpt pkg get {metadata['sourceURL']}.git/examples/{name}\n" in fetch
    invocation = _section(readme, "Function invocation")
    flags = " --allow-exec" if _config(case).get("allowExec") else ""
    assert f"kpt fn render {case.name}{flags}\n" in invocation
    kptfile = (case / "Kptfile").read_text(encoding="utf-8")
    assert kptfile.strip() in readme, "the README shows the Kptfile as it is"
    expected = _section(readme, "Expected result")
    blocks = re.findall(r"^```diff\n(.*?)^```", expected, re.M | re.S)
    assert blocks, "the expected result shows the diff"
    diff = _expected(case, "diff.patch")
    for block in blocks:
        assert block.strip() in diff, f"README diff is not in .expected/diff.patch:\n{block}"


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.iterdir() if p.is_dir()))
def test_every_example_has_a_readme(name: str) -> None:
    """The kustomize, Helm and Argo CD examples are no kpt packages, but each has a README with
    the catalog's sections, naming the example's path in its invocation."""
    readme = (EXAMPLES / name / "README.md").read_text(encoding="utf-8")
    assert re.match(r"# merge-https-redirects: \S", readme)
    for title in ("Overview", "Function invocation", "Expected result"):
        assert _section(readme, title).strip(), f"{name}: empty section {title!r}"
    commands = re.findall(r"^```shell\n(.*?)^```", _section(readme, "Function invocation"),
                          re.M | re.S)
    assert commands, f"{name}: the invocation is a shell block"
    if name not in KPT_PACKAGES:
        assert f"examples/{name}" in "".join(commands)


def test_sanitize_timestamps() -> None:
    """As the runner's sanitize_test.go: only 4-token [PASS]/[FAIL] '... in T' lines change."""
    raw = ('[RUNNING] "fn"\n[PASS] "fn" in 12.1s\n[FAIL] "fn" in 3ms\n'
           '[PASS] "fn" notin 1s\n[PASS] "fn" in 1s extra\n')
    assert sanitize_timestamps(raw) == ('[RUNNING] "fn"\n[PASS] "fn" in 0s\n[FAIL] "fn" in 0s\n'
                                        '[PASS] "fn" notin 1s\n[PASS] "fn" in 1s extra\n')


@pytest.mark.slow
@pytest.mark.parametrize("name", CASES)
def test_catalog_example(name: str, tmp_path: Path, kpt_bin: Path, function_bin: Path) -> None:
    case = EXAMPLES / name
    config = _config(case)
    for i in range(RUN_COUNT):
        if _run_once(case, config, tmp_path / f"run-{i + 1}", kpt_bin, function_bin):
            break
