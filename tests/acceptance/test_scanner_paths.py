"""Both scanners pass the byte-exact golden suite and the fidelity property test (issue 19).

The package picks its scanner at import (``yamlio.SCANNER``: the compiled one where it is built,
``MHR_SCANNER=python|c`` forces one). This session's own run of tests/acceptance/test_golden.py
and tests/property/test_fidelity.py covers the scanner it runs; each other scanner gets a run of
those two modules here, in a child pytest with ``MHR_SCANNER`` set (the golden suite runs the
function's script, which inherits it)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from merge_https_redirects import yamlio

REPO = Path(__file__).resolve().parents[2]
MODULES = ["tests/acceptance/test_golden.py", "tests/property/test_fidelity.py"]
BUILT = importlib.util.find_spec("merge_https_redirects.yamlio._cscan") is not None


def scanner_of(env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-c", "from merge_https_redirects import yamlio; print(yamlio.SCANNER)"],
        env=env, capture_output=True, text=True, check=True, cwd=REPO)
    return done.stdout.strip()


@pytest.mark.parametrize("scanner", ["python", "c"])
def test_golden_suite_and_fidelity_on_each_scanner(scanner: str) -> None:
    if scanner == "c" and not BUILT:
        message = "the compiled scanner is not built here (no C compiler or libyaml headers)"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " in CI: .ci/run installs gcc and libyaml-dev")
        pytest.skip(message)
    if scanner == yamlio.SCANNER:
        pytest.skip(f"this session runs {MODULES} on the {scanner} scanner itself")
    env = {**os.environ, "MHR_SCANNER": scanner}
    assert scanner_of(env) == scanner
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
