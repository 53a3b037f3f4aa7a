"""The container image, checked statically (tests/acceptance/test_container.py builds and runs
it with podman).

What each test proves:
- multi-stage build from one pinned slim Python base (full patch version, never `latest`); the
  wheels come from a stage the `WHEELS` build argument names (`index`: built here from the
  package index, the default; `wheelhouse`: made on the host, for offline builds);
- the final stage runs as a numeric non-root user, does not write bytecode (read-only root file
  system), and its ENTRYPOINT is the console script declared in pyproject.toml, reachable through
  the PATH of the virtualenv the build stage created and the final stage copies;
- the install step builds the wheel from this repository's sources and installs that wheel (not
  a package from an index); build and run-time dependencies are pinned with `==` in
  container/constraints.txt and the pins satisfy pyproject.toml;
- the build context (.dockerignore) holds every file the COPY steps and the package build need
  and nothing heavy (.venv, .git, .tools);
- a wheel built from exactly that context contains the package and the console script.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [arg for kw, arg in self.instructions if kw == keyword]


def _instructions(text: str) -> list[tuple[str, str]]:
    """(KEYWORD, arguments) with continuation lines joined and comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        full = pending + stripped
        pending = ""
        keyword, _, args = full.partition(" ")
        out.append((keyword.upper(), args.strip()))
    return out


def _parse(repo_root: Path) -> tuple[dict[str, str], list[Stage]]:
    instructions = _instructions((repo_root / "Dockerfile").read_text(encoding="utf-8"))
    global_args: dict[str, str] = {}
    stages: list[Stage] = []
    for keyword, args in instructions:
        if keyword == "FROM":
            match = re.fullmatch(r"(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?", args, re.I)
            assert match, args
            stages.append(Stage(match.group(1), match.group(2)))
        elif not stages:
            assert keyword == "ARG", f"only ARG may precede FROM, got {keyword}"
            name, _, default = args.partition("=")
            global_args[name] = default
        else:
            stages[-1].instructions.append((keyword, args))
    return global_args, stages


def _env(stage: Stage) -> dict[str, str]:
    env: dict[str, str] = {}
    for args in stage.all("ENV"):
        for key, value in re.findall(r"(\w+)=(\"[^\"]*\"|\S+)", args):
            env[key] = value.strip('"')
    return env


def _pyproject(repo_root: Path) -> dict[str, Any]:
    return tomllib.loads((repo_root / "pyproject.toml").read_text(encoding="utf-8"))


def _stage(stages: list[Stage], name: str) -> Stage:
    (stage,) = [s for s in stages if s.name == name]
    return stage


def test_multi_stage_from_a_pinned_slim_python(repo_root: Path) -> None:
    global_args, stages = _parse(repo_root)
    assert len(stages) >= 2
    names = {s.name for s in stages if s.name}
    for stage in stages:
        base = stage.base
        if base.startswith("wheels-"):  # FROM wheels-${WHEELS}: a stage, chosen by WHEELS
            assert base == "wheels-${WHEELS}", base
            assert f"wheels-{global_args['WHEELS']}" in names
            assert {"wheels-index", "wheels-wheelhouse"} <= names
            continue
        var = re.fullmatch(r"\$\{?(\w+)\}?", base)
        if var:
            base = global_args[var.group(1)]
        match = re.fullmatch(r"python:(3\.\d+\.\d+)-slim(-\w+)?(@sha256:[0-9a-f]{64})?", base)
        assert match, f"base image {base!r} must be a slim Python pinned to a patch version"
        requires = SpecifierSet(_pyproject(repo_root)["project"]["requires-python"])
        assert requires.contains(match.group(1)), (base, str(requires))
    assert global_args["WHEELS"] == "index", "docker build . must work unchanged for users"


def test_final_stage_runs_the_console_script_as_non_root(repo_root: Path) -> None:
    _, stages = _parse(repo_root)
    final = stages[-1]
    (user,) = final.all("USER")
    uid = user.split(":")[0]
    assert uid not in {"0", "root"}
    assert uid.isdigit(), "a numeric user lets Kubernetes runAsNonRoot verify it"

    (entrypoint,) = final.all("ENTRYPOINT")
    argv = json.loads(entrypoint)  # exec form: signals reach the function directly
    scripts = _pyproject(repo_root)["project"]["scripts"]
    assert argv[0].rsplit("/", 1)[-1] in scripts
    assert len(argv) == 1, "no arguments: the function picks its mode from stdin"

    env = _env(final)
    assert env.get("PYTHONDONTWRITEBYTECODE") == "1", "read-only root file system"
    venv_bins = [p for p in env["PATH"].split(":") if p.endswith("/bin") and p.startswith("/opt")]
    assert venv_bins, "the virtualenv's bin must be on PATH"
    venv = venv_bins[0][: -len("/bin")]
    assert any(args == f"--from=build {venv} {venv}" for args in final.all("COPY")), (
        "the final stage must copy the virtualenv built in the build stage")
    build_runs = " ".join(_stage(stages, "build").all("RUN"))
    assert f"python3 -m venv {venv}" in build_runs


def test_version_label_is_the_package_version(repo_root: Path) -> None:
    from merge_https_redirects import __version__

    _, stages = _parse(repo_root)
    labels = " ".join(stages[-1].all("LABEL"))
    assert f'org.opencontainers.image.version="{__version__}"' in labels


def test_install_step_installs_the_wheel_built_here(repo_root: Path) -> None:
    _, stages = _parse(repo_root)
    index = _stage(stages, "wheels-index")
    steps = [s.strip() for s in " && ".join(index.all("RUN")).split("&&")]
    assert any(s.endswith("pip wheel --wheel-dir /wheels .") for s in steps), (
        "the wheel must be built from the copied repository sources")
    assert _stage(stages, "wheels-wheelhouse").all("COPY") == ["build/wheelhouse/ /wheels/"]
    build = _stage(stages, "build")
    assert build.all("COPY") == ["--from=wheels /wheels /wheels"]
    steps = [s.strip() for s in " && ".join(build.all("RUN")).split("&&")]
    installs = [s.split("pip install", 1)[1].split() for s in steps if "pip install" in s]
    assert installs, "the wheel must be installed"
    for args in installs:
        assert "--no-index" in args, f"install from the wheels, nothing from an index: {args}"
        assert args[-1] == "merge-https-redirects"
    copied = " ".join(a for a in index.all("COPY") if not a.startswith("--from"))
    for needed in ("pyproject.toml", "setup.py", "fn/", "LICENSE"):
        assert needed in copied
    readme = _pyproject(repo_root)["project"].get("readme")
    if readme:
        assert readme in copied, "setuptools needs the readme named in pyproject.toml"


def _constraints(repo_root: Path) -> dict[str, str]:
    text = (repo_root / "container" / "constraints.txt").read_text(encoding="utf-8")
    return {name.lower(): version for name, version in
            re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)$", text, re.M)}


def test_dependencies_are_pinned_and_satisfy_pyproject(repo_root: Path) -> None:
    _, stages = _parse(repo_root)
    pins = _constraints(repo_root)
    index = _stage(stages, "wheels-index")
    assert _env(index).get("PIP_CONSTRAINT") == "/constraints.txt", (
        "the pins must reach pip's isolated build too")
    assert "container/constraints.txt /constraints.txt" in index.all("COPY")
    project = _pyproject(repo_root)
    requirements = [Requirement(r) for r in project["project"]["dependencies"]]
    requirements += [Requirement(r) for r in project["build-system"]["requires"]]
    requirements.append(Requirement("pip"))
    for requirement in requirements:
        name = requirement.name.lower()
        assert name in pins, f"{name} is not pinned in container/constraints.txt"
        assert requirement.specifier.contains(pins[name]), (name, pins[name])


def _dockerignore(repo_root: Path) -> list[tuple[bool, str]]:
    rules = []
    for line in (repo_root / ".dockerignore").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            negate = line.startswith("!")
            rules.append((negate, line.lstrip("!").rstrip("/")))
    return rules


def _in_context(relative: str, rules: list[tuple[bool, str]]) -> bool:
    """Docker's rule: the last matching pattern wins; a pattern matching a parent matches too."""
    parts = relative.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    included = True
    for negate, pattern in rules:
        if any(fnmatch.fnmatchcase(c, pattern) for c in candidates):
            included = negate
    return included


def _context_files(repo_root: Path) -> list[str]:
    rules = _dockerignore(repo_root)
    files = []
    for path in repo_root.rglob("*"):
        relative = path.relative_to(repo_root).as_posix()
        if relative.split("/")[0] in {".git", ".venv", ".tools"}:
            continue
        if path.is_file() and _in_context(relative, rules):
            files.append(relative)
    return sorted(files)


def test_build_context_holds_what_the_build_copies(repo_root: Path) -> None:
    rules = _dockerignore(repo_root)
    _, stages = _parse(repo_root)
    for stage in stages:
        for args in stage.all("COPY"):
            if args.startswith("--from="):
                continue
            *sources, _dest = args.split()
            for source in sources:
                # build/wheelhouse/ is made by tools/container_image.py before a build
                assert source.startswith("build/") or (repo_root / source).exists(), (
                    f"COPY {source}: missing from the repository")
                assert _in_context(source.rstrip("/") + "/x" * source.endswith("/"), rules), (
                    f"COPY {source}: excluded")
    for heavy in (".venv/bin/python", ".git/HEAD", ".tools/bin/helm", "tests/conftest.py"):
        assert not _in_context(heavy, rules), heavy
    context = _context_files(repo_root)
    assert "fn/merge_https_redirects/cli.py" in context
    assert not any("__pycache__" in f or ".egg-info" in f for f in context)


@pytest.mark.slow
def test_wheel_builds_from_the_context(repo_root: Path, tmp_path: Path) -> None:
    context = tmp_path / "context"
    for relative in _context_files(repo_root):
        target = context / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(repo_root / relative, target)
    # Build isolation, as in the image: pip fetches the pinned setuptools.
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("".join(f"{name}=={version}\n" for name, version in
                                   _constraints(repo_root).items() if name != "pip"))
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet",
         "--wheel-dir", str(tmp_path / "wheels"), str(context)],
        capture_output=True, text=True, check=False, timeout=300,
        env={**os.environ, "PIP_CONSTRAINT": str(constraints),
             "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (wheel,) = (tmp_path / "wheels").glob("merge_https_redirects-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        entry_points = next(n for n in names if n.endswith("entry_points.txt"))
        scripts = archive.read(entry_points).decode()
    for script, target in _pyproject(repo_root)["project"]["scripts"].items():
        assert f"{script} = {target}" in scripts
    assert "merge_https_redirects/cli.py" in names
    assert "merge_https_redirects/hosts/kustomize_plugin.py" in names


def test_documented_build_command(repo_root: Path) -> None:
    """The one command of the docs' "Container image" section, also named in the Dockerfile."""
    text = (repo_root / "README.md").read_text(encoding="utf-8")
    section = text.split("## Container image", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"^```sh\n(.*?)^```", section, re.M | re.S)
    commands = [line.strip() for block in blocks for line in block.splitlines() if line.strip()]
    assert commands == ["docker build -t merge-https-redirects:dev ."]
    assert f"#   {commands[0]}" in (repo_root / "Dockerfile").read_text(encoding="utf-8")
