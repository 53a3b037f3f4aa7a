"""Every code path passes the byte-exact golden suite and the fidelity property test (issue 19).

The package picks its code at import: the compiled modules where they are built
(``MHR_PURE_PYTHON=1``: the Python sources, see :mod:`merge_https_redirects.compiled`) and the
compiled scanner where it is built (``yamlio.SCANNER``; ``MHR_SCANNER=python|c`` forces one).
Three paths: everything compiled (the default build), compiled modules over the pure-Python
scanner (chosen with ``MHR_SCANNER=python``), and pure Python. This session's own
run of tests/acceptance/test_golden.py and tests/property/test_fidelity.py covers the path it
runs; each other path gets a run of those two modules here, in a child pytest with the setting
in its environment (the golden suite runs the function's script, which inherits it)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MODULES = ["tests/acceptance/test_golden.py", "tests/property/test_fidelity.py"]
BUILT = importlib.util.find_spec("merge_https_redirects.yamlio._cscan") is not None


def scanner_of(env: dict[str, str]) -> str:
    """``c`` or ``python``."""
    done = subprocess.run(
        [sys.executable, "-c", "from merge_https_redirects import yamlio; print(yamlio.SCANNER)"],
        env=env, capture_output=True, text=True, check=True, cwd=REPO)
    return done.stdout.strip()


def path_of(env: dict[str, str]) -> str:
    """``compiled``, ``compiled-modules`` (over the pure-Python scanner) or ``pure``."""
    code = ("from merge_https_redirects import compiled\n"
            "from merge_https_redirects.yamlio import fast\n"
            "modules = any(compiled.is_compiled(n) for n in compiled.module_names())\n"
            "print({(True, 'c'): 'compiled', (True, 'python'): 'compiled-modules',\n"
            "       (False, 'python'): 'pure', (False, 'c'): 'scanner'}[modules, fast.SCANNER])")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=True, cwd=REPO)
    return done.stdout.strip()


PATHS = {
    "compiled": {"MHR_PURE_PYTHON": "", "MHR_SCANNER": ""},
    "compiled-modules": {"MHR_PURE_PYTHON": "", "MHR_SCANNER": "python"},
    "pure": {"MHR_PURE_PYTHON": "1", "MHR_SCANNER": ""},
}


@pytest.mark.parametrize("path", PATHS)
def test_golden_suite_and_fidelity_on_each_path(path: str) -> None:
    env = {**os.environ, **PATHS[path]}
    if path != "pure" and path_of(env) != path:
        message = f"the {path} path is not built here (no C compiler)"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " in CI: .ci/run installs gcc")
        pytest.skip(message)
    if path == path_of(dict(os.environ)):
        pytest.skip(f"this session runs {MODULES} on the {path} path itself")
    assert path_of(env) == path
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *MODULES],
        check=False, env=env, capture_output=True, text=True, cwd=REPO, timeout=1800)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]


def test_the_override_is_honoured() -> None:
    env = {**os.environ, "MHR_SCANNER": "python"}
    assert scanner_of(env) == "python"
    env.pop("MHR_SCANNER")
    assert scanner_of(env) == ("c" if BUILT else "python")


@pytest.mark.parametrize("value", ["bogus", "C++"])
def test_a_bad_setting_is_a_clear_error(value: str) -> None:
    env = {**os.environ, "MHR_SCANNER": value}
    done = subprocess.run(
        [sys.executable, "-m", "merge_https_redirects"], env=env, capture_output=True,
        text=True, check=False, cwd=REPO,
        input="apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n")
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"merge-https-redirects: MHR_SCANNER={value.lower()!r}: use 'c', 'python' or leave "
        "it unset"]
    assert "internal error" not in done.stdout
    assert "kind: ResourceList" in done.stdout
    assert "severity: error" in done.stdout
