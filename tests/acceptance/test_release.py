"""The release artifacts, as a user installs them.

- ``python -m build`` makes an sdist and a wheel; ``twine check`` accepts both; their metadata
  carries the PEP 639 license (``License-Expression: Apache-2.0`` and the LICENSE file);
- the wheel holds everything the CLI needs (chart templates, the Helm plugin's files);
- installed into a fresh virtual environment, used from an empty directory: the console script
  runs the seed example, and ``install-helm-plugin`` installs a plugin that real Helm 4 runs as
  a post-renderer, with nothing of the source checkout on ``PATH`` or ``PYTHONPATH``.
"""

from __future__ import annotations

import email
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest
import yaml
from _integrations import find, is_dedicated, isolated_env, redirect_hosts

from merge_https_redirects import __version__

pytestmark = pytest.mark.slow


def _run(argv: list[str], cwd: Path, env: dict[str, str] | None = None,
         timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True,
                          check=False, timeout=timeout, stdin=subprocess.DEVNULL)


@pytest.fixture(scope="session")
def dist(repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    # A copy of the tracked sources: the build must not depend on (or write) local leftovers.
    source = out / "source"
    files = _run(["git", "ls-files", "-z"], repo_root).stdout.split("\0")
    for relative in filter(None, files):
        path = repo_root / relative
        target = source / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.is_symlink():
            target.symlink_to(os.readlink(path))
        elif path.is_file():
            shutil.copy2(path, target)
    done = _run([sys.executable, "-m", "build", "--outdir", str(out / "dist"), str(source)],
                out)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return out / "dist"


def _artifacts(dist: Path) -> tuple[Path, Path]:
    # py3-none-any without the compiled scanner; cpXY-cpXY-<platform> with it (issue 19)
    (wheel,) = dist.glob(f"merge_https_redirects-{__version__}-*.whl")
    (sdist,) = dist.glob(f"merge_https_redirects-{__version__}.tar.gz")
    return wheel, sdist


def test_twine_accepts_both_artifacts(dist: Path, tmp_path: Path) -> None:
    done = _run([sys.executable, "-m", "twine", "check", "--strict", *map(str, _artifacts(dist))],
                tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("PASSED") == 2, done.stdout


def test_license_metadata(dist: Path, repo_root: Path) -> None:
    wheel, sdist = _artifacts(dist)
    license_text = (repo_root / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in license_text
    assert "Version 2.0, January 2004" in license_text
    with zipfile.ZipFile(wheel) as archive:
        metadata = email.message_from_bytes(
            archive.read(f"merge_https_redirects-{__version__}.dist-info/METADATA"))
        bundled = archive.read(
            f"merge_https_redirects-{__version__}.dist-info/licenses/LICENSE").decode()
    assert metadata["License-Expression"] == "Apache-2.0"
    assert metadata.get_all("License-File") == ["LICENSE"]
    assert metadata["Version"] == __version__
    assert "License :: " not in str(metadata), "PEP 639: no license classifiers"
    assert bundled == license_text
    with tarfile.open(sdist) as archive:
        names = archive.getnames()
    assert f"merge_https_redirects-{__version__}/LICENSE" in names
    project = tomllib.loads((repo_root / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["license"] == "Apache-2.0"


def test_wheel_holds_what_the_cli_needs(dist: Path, repo_root: Path) -> None:
    wheel, _ = _artifacts(dist)
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    tracked = _run(["git", "ls-files", "fn/merge_https_redirects"], repo_root).stdout.split()
    needed = {name.removeprefix("fn/") for name in tracked
              if not (repo_root / name).is_symlink() and not name.endswith(".c")}
    assert needed, "git ls-files found no package file"
    assert needed - names == set()
    # The compiled scanner (optional): built wherever a C compiler and libyaml's headers are,
    # as here, and linked statically, so the wheel needs no libyaml at run time.
    scanner = [n for n in names if n.startswith("merge_https_redirects/yamlio/_cscan")
               and n.endswith(".so")]
    if "_cscan.c" in " ".join(tracked) and shutil.which("gcc") and Path(
            "/usr/include/yaml.h").exists():
        assert len(scanner) == 1, sorted(names)
        assert wheel.name.split("-")[2] != "none"
    for data in ("hosts/helm_plugin/plugin.yaml", "hosts/helm_plugin/postrender.sh",
                 "templates/chart/Chart.yaml.j2"):
        assert f"merge_https_redirects/{data}" in names


def test_sdist_builds_the_same_wheel_contents(dist: Path, tmp_path: Path) -> None:
    """A user building from the sdist (no checkout) gets the same package."""
    wheel, sdist = _artifacts(dist)
    done = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet",
                 "--wheel-dir", str(tmp_path), str(sdist)], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    (rebuilt,) = tmp_path.glob("*.whl")

    def contents(path: Path) -> set[str]:
        with zipfile.ZipFile(path) as archive:
            return {n for n in archive.namelist() if ".dist-info/" not in n}

    assert contents(rebuilt) == contents(wheel)


def test_pure_python_wheel_from_the_sdist(dist: Path, tmp_path: Path) -> None:
    """``MHR_BUILD_EXT=0`` (the README): a ``py3-none-any`` wheel without the compiled scanner,
    which installs and runs the pure-Python scanner."""
    _, sdist = _artifacts(dist)
    env = {**os.environ, "MHR_BUILD_EXT": "0"}
    done = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet",
                 "--wheel-dir", str(tmp_path / "wheels"), str(sdist)], tmp_path, env)
    assert done.returncode == 0, done.stdout + done.stderr
    (wheel,) = (tmp_path / "wheels").glob("*.whl")
    assert wheel.name == f"merge_https_redirects-{__version__}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        assert not [n for n in archive.namelist() if n.endswith(".so")]
    venv = tmp_path / "venv"
    assert _run([sys.executable, "-m", "venv", str(venv)], tmp_path).returncode == 0
    done = _run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
                 "--disable-pip-version-check", str(wheel)], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    scanner = _run([str(venv / "bin" / "python"), "-c",
                    "from merge_https_redirects import yamlio; print(yamlio.SCANNER)"], tmp_path)
    assert scanner.stdout.strip() == "python", scanner.stderr


@pytest.fixture(scope="session")
def installed(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with only the wheel (and its dependencies) installed."""
    venv = tmp_path_factory.mktemp("user") / "venv"
    wheel, _ = _artifacts(dist)
    cwd = venv.parent
    assert _run([sys.executable, "-m", "venv", str(venv)], cwd).returncode == 0
    done = _run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
                 "--disable-pip-version-check", str(wheel)], cwd)
    assert done.returncode == 0, done.stdout + done.stderr
    return venv / "bin"


def _user_env(tmp_path: Path, bin_dir: Path) -> dict[str, str]:
    env = isolated_env(tmp_path, bin_dir / "merge-https-redirects")
    env.pop("PYTHONPATH", None)
    return env


def test_installed_wheel_runs_from_an_empty_directory(
    installed: Path, repo_root: Path, tmp_path: Path
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    env = _user_env(tmp_path, installed)
    version = _run([str(installed / "merge-https-redirects"), "--version"], empty, env)
    assert version.stdout.strip() == f"merge-https-redirects {__version__}"
    seed = "".join("---\n" + p.read_text(encoding="utf-8")
                   for p in sorted((repo_root / "examples" / "seed").glob("*.yaml")))
    done = subprocess.run([str(installed / "merge-https-redirects")], input=seed, cwd=empty,
                          env=env, capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    docs = [d for d in yaml.safe_load_all(done.stdout) if d]
    assert redirect_hosts(docs) == []
    # The seed's existing catch-all Gateway is reused as the dedicated one.
    assert is_dedicated(find(docs, "Gateway", "http-general-gateway"))
    assert "MHR001" in done.stderr
    chart = _run([str(installed / "merge-https-redirects"), "chart", "--output",
                  str(empty / "chart"), str(repo_root / "examples" / "seed")], empty, env)
    assert chart.returncode == 0, chart.stderr
    assert (empty / "chart" / "Chart.yaml").is_file()


def test_install_helm_plugin_from_the_wheel_then_helm_post_renders(
    installed: Path, repo_root: Path, tmp_path: Path, helm_bin: Path
) -> None:
    empty = tmp_path / "empty"
    shutil.copytree(repo_root / "examples" / "helm-chart", empty / "shop")
    env = _user_env(tmp_path, installed)
    # Only helm and the system on PATH: the plugin must find this installation by itself.
    env["PATH"] = os.pathsep.join([str(helm_bin.parent), "/usr/bin", "/bin"])

    done = _run([str(installed / "merge-https-redirects"), "install-helm-plugin"], empty, env)
    assert done.returncode == 0, done.stderr
    assert "installed Helm plugin merge-https-redirects" in done.stderr
    listed = _run([str(helm_bin), "plugin", "list"], empty, env)
    assert re.search(rf"^merge-https-redirects\s+{re.escape(__version__)}\s+postrenderer/v1",
                     listed.stdout, re.M), listed.stdout

    rendered = _run([str(helm_bin), "template", "shop", "./shop", "--post-renderer",
                     "merge-https-redirects"], empty, env)

    assert rendered.returncode == 0, rendered.stderr
    docs = [d for d in yaml.safe_load_all(rendered.stdout) if d]
    assert redirect_hosts(docs) == []
    assert is_dedicated(find(docs, "Gateway", "http-to-https-redirect"))

    # Installing again replaces our own plugin; a foreign one needs --force.
    again = _run([str(installed / "merge-https-redirects"), "install-helm-plugin"], empty, env)
    assert again.returncode == 0, again.stderr
    plugins = _run([str(helm_bin), "env", "HELM_PLUGINS"], empty, env).stdout.strip()
    (Path(plugins) / "merge-https-redirects" / "run-function").write_text("#!/bin/sh\n")
    refused = _run([str(installed / "merge-https-redirects"), "install-helm-plugin"], empty, env)
    assert refused.returncode == 1
    assert "was not installed by merge-https-redirects install-helm-plugin" in refused.stderr
    assert "--force" in refused.stderr
    forced = _run([str(installed / "merge-https-redirects"), "install-helm-plugin", "--force"],
                  empty, env)
    assert forced.returncode == 0, forced.stderr


def test_install_helm_plugin_without_helm_says_so(installed: Path, tmp_path: Path) -> None:
    env = _user_env(tmp_path, installed)
    env["PATH"] = "/nonexistent"
    done = _run([str(installed / "merge-https-redirects"), "install-helm-plugin"], tmp_path, env)
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1, done.stderr
    assert "helm not found" in done.stderr
    assert "Traceback" not in done.stderr
