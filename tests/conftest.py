"""Shared fixtures: where the repository, ../shared and the real host programs are."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED = REPO_ROOT.parent / "shared"
IN_CI = os.environ.get("CI") == "true"
PACKAGE = REPO_ROOT / "fn" / "merge_https_redirects"


def stale_compiled_modules() -> list[str]:
    """The compiled modules (built beside their sources by an editable install, and preferred
    to them by Python) older than their source: the tests would run old code."""
    from importlib.machinery import EXTENSION_SUFFIXES

    from merge_https_redirects import compiled

    stale = []
    for path in compiled.MODULES:
        source = PACKAGE / path
        for suffix in EXTENSION_SUFFIXES:
            built = source.with_name(source.stem + suffix)
            if built.exists() and built.stat().st_mtime < source.stat().st_mtime:
                stale.append(path)
    listed = {str(PACKAGE / path.removesuffix(".py")) for path in compiled.MODULES}
    for built in PACKAGE.rglob("*.so"):  # a module no longer compiled (or a leftover)
        stem = str(built.parent / built.name.split(".", 1)[0])
        if stem not in listed and not built.name.startswith("_cscan."):
            stale.append(str(built.relative_to(PACKAGE)))
    return stale


@pytest.fixture
def stale_modules() -> list[str]:
    return stale_compiled_modules()


def pytest_sessionstart(session: pytest.Session) -> None:
    if os.environ.get("MHR_PURE_PYTHON", "") in ("", "0") and (stale := stale_compiled_modules()):
        pytest.exit(f"compiled modules older than their sources ({', '.join(stale)}): run "
                    "`.venv/bin/pip install -e . --no-deps` (or set MHR_PURE_PYTHON=1)",
                    returncode=4)


def _require(path: Path | None, what: str) -> Path:
    """Skip when a prerequisite is missing on a developer machine; fail in CI, where .ci/run
    installs everything and a skip would hide a broken install step."""
    if path is None or not path.exists():
        message = f"{what} not available"
        if IN_CI:
            pytest.fail(message + " in CI: .ci/run should have installed it")
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is absent: corpus and schema tests need ../shared beside the repo")
    return SHARED


def _which(name: str) -> Path | None:
    found = shutil.which(name)
    return Path(found) if found else None


@pytest.fixture(scope="session")
def helm_bin() -> Path:
    local = REPO_ROOT / ".tools" / "bin" / "helm"
    found = local if local.exists() else _which("helm")
    return _require(found, "helm 4 (python tools/fetch_helm.py)")


@pytest.fixture(scope="session")
def kpt_bin() -> Path:
    return _require(_which("kpt"), "kpt")


@pytest.fixture(scope="session")
def kubectl_bin() -> Path:
    return _require(_which("kubectl"), "kubectl")


@pytest.fixture(scope="session")
def function_bin() -> Path:
    """The installed console script (the tests run the real entry point, like a host does)."""
    import sys

    candidate = Path(sys.executable).parent / "merge-https-redirects"
    found = candidate if candidate.exists() else _which("merge-https-redirects")
    return _require(found, "the merge-https-redirects console script (pip install -e .)")
