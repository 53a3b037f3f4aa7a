"""The container image, built and run for real with podman (no Docker engine, no registry).

``tools/container_image.py`` builds the repository's Dockerfile offline (local Debian base,
host-made wheelhouse, ``--network none``); then every host that runs the image runs it:

- kpt: ``kpt fn render`` with an ``image:`` mutator (the examples' container form), ``kpt fn
  eval --image``, ``kpt fn doc --image`` (``KPT_FN_RUNTIME=podman``);
- the Argo CD sidecar: the plugin's ``generate`` script inside the image as the cmp-server
  runs it (user 65534, read-only root, no network, an emptyDir at /tmp);
- kustomize: ``kubectl kustomize --enable-alpha-plugins`` with a ``container:`` function,
  through the docker client against podman's Docker-compatible API.

Skipped with a message where podman, runc or debootstrap are missing; in CI (``.ci/run``
installs them) a missing tool fails instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from _integrations import find, is_dedicated, redirect_hosts, workspace

from merge_https_redirects import __version__

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tools"))
import container_image  # noqa: E402  (tools/ is no package)

IN_CI = os.environ.get("CI") == "true"
PUBLISHED = f"ghcr.io/merge-https-redirects/merge-https-redirects:v{__version__}"
TAG = f"localhost/merge-https-redirects:test-{__version__}"

pytestmark = pytest.mark.slow


def _missing(*tools: str) -> list[str]:
    return [tool for tool in tools if shutil.which(tool) is None]


@pytest.fixture(scope="session")
def image() -> str:
    missing = _missing("podman", "runc", "debootstrap")
    if missing:
        message = f"{', '.join(missing)} not found: the container tests need podman"
        if IN_CI:
            pytest.fail(message + " in CI: .ci/run should have installed it")
        pytest.skip(message)
    try:
        return container_image.build_image(TAG)
    except container_image.BuildError as exc:
        pytest.fail(f"the image did not build: {exc}")


def _env(**extra: str) -> dict[str, str]:
    env = container_image.podman_env()
    env.update(extra)
    return env


def _run(argv: list[str], cwd: Path | None = None, stdin: str | None = None,
         env: dict[str, str] | None = None, timeout: float = 300
         ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, input=stdin, capture_output=True, text=True,
                          check=False, timeout=timeout, env=env or _env())


def _docs(text: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(text) if d]


def _package_docs(root: Path) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for path in sorted(root.glob("*.yaml")):
        docs += _docs(path.read_text(encoding="utf-8"))
    return docs


def _use_image(path: Path, image: str) -> None:
    """Point a documented container form at the image built here."""
    text = path.read_text(encoding="utf-8")
    assert PUBLISHED in text, f"{path.name} should name {PUBLISHED}"
    path.write_text(text.replace(PUBLISHED, image), encoding="utf-8")


def test_image_runs_as_nobody_and_reports_its_version(image: str) -> None:
    done = _run(["podman", "run", "--rm", "--network", "none", "--read-only", image,
                 "--version"])
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"merge-https-redirects {__version__}"
    user = _run(["podman", "image", "inspect", "--format", "{{.Config.User}}", image])
    assert user.stdout.strip() == "65534:65534"


def test_kpt_fn_render_with_the_image_mutator(
    image: str, repo_root: Path, tmp_path: Path, kpt_bin: Path
) -> None:
    root = workspace(repo_root, tmp_path, "examples/kpt-render") / "examples/kpt-render"
    kptfile = root / "Kptfile"
    data = yaml.safe_load(kptfile.read_text(encoding="utf-8"))
    # The Kptfile's documented container form instead of its exec form.
    data["pipeline"]["mutators"] = [{"image": PUBLISHED,
                                     "configPath": "merge-https-redirects.yaml"}]
    kptfile.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    _use_image(kptfile, image)
    results = tmp_path / "results"

    done = _run([str(kpt_bin), "fn", "render", str(root), "--results-dir", str(results),
                 "--image-pull-policy", "never"], env=_env(KPT_FN_RUNTIME="podman"))

    assert done.returncode == 0, done.stderr
    docs = _package_docs(root)
    assert redirect_hosts(docs) == []
    assert is_dedicated(find(docs, "Gateway", "http-to-https-redirect"))
    summary = yaml.safe_load((results / "results.yaml").read_text(encoding="utf-8"))
    assert summary["items"][0]["image"] == image
    assert any(r.get("tags", {}).get("rule") == "MHR002"
               for r in summary["items"][0]["results"])


def test_kpt_fn_eval_with_the_image(
    image: str, repo_root: Path, tmp_path: Path, kpt_bin: Path
) -> None:
    root = workspace(repo_root, tmp_path, "examples/kpt-render") / "examples/kpt-render"
    (root / "merge-https-redirects.yaml").unlink()  # the config comes from the command line

    done = _run([str(kpt_bin), "fn", "eval", str(root), "--image", image,
                 "--image-pull-policy", "never", "--", "name=redirect-all"],
                env=_env(KPT_FN_RUNTIME="podman"))

    assert done.returncode == 0, done.stderr
    docs = _package_docs(root)
    assert redirect_hosts(docs) == []
    assert is_dedicated(find(docs, "Gateway", "redirect-all"))


def test_kpt_fn_doc_prints_the_usage(image: str, kpt_bin: Path) -> None:
    done = _run([str(kpt_bin), "fn", "doc", "--image", image],
                env=_env(KPT_FN_RUNTIME="podman"))
    assert done.returncode == 0, done.stderr
    assert "usage: merge-https-redirects" in done.stdout
    assert "install-helm-plugin" in done.stdout


def _generate_script(repo_root: Path) -> str:
    plugin = yaml.safe_load((repo_root / "integrations/argocd/plugin.yaml").read_text())
    generate = plugin["spec"]["generate"]
    assert generate["command"] == ["bash", "-c"]
    script: str = generate["args"][0]
    return script


def test_argocd_generate_inside_the_image(
    image: str, repo_root: Path, tmp_path: Path
) -> None:
    app = workspace(repo_root, tmp_path, "examples/kpt-render") / "examples/kpt-render"
    (app / "Kptfile").unlink()
    (app / "merge-https-redirects.yaml").unlink()
    # As the cmp-server runs it: the app's path as working directory, plugin settings as
    # ARGOCD_ENV_* / PARAM_* variables, an emptyDir at /tmp, nothing else writable.
    done = _run([
        "podman", "run", "--rm", "--user", "65534:65534", "--read-only", "--network", "none",
        "--tmpfs", "/tmp:rw,size=16m", "--volume", f"{app}:/app:ro", "--workdir", "/app",
        "--env", "ARGOCD_APP_NAME=shop", "--env", "ARGOCD_APP_NAMESPACE=shop",
        "--env", "ARGOCD_ENV_MHR_NAME=argocd-redirect", "--env", "PARAM_PORTS=80",
        "--entrypoint", "bash", image, "-c", _generate_script(repo_root),
    ])

    assert done.returncode == 0, done.stderr
    docs = _docs(done.stdout)
    assert redirect_hosts(docs) == []
    assert is_dedicated(find(docs, "Gateway", "argocd-redirect"))


def test_argocd_generate_inside_the_image_fails_cleanly(
    image: str, repo_root: Path, tmp_path: Path
) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "broken.yaml").write_text("kind: [\n", encoding="utf-8")
    done = _run([
        "podman", "run", "--rm", "--user", "65534:65534", "--read-only", "--network", "none",
        "--tmpfs", "/tmp", "--volume", f"{app}:/app:ro", "--workdir", "/app",
        "--entrypoint", "bash", image, "-c", _generate_script(repo_root),
    ])
    assert done.returncode != 0
    assert done.stdout == ""
    assert "broken.yaml" in done.stderr


@pytest.fixture
def docker_host(image: str, tmp_path: Path) -> Iterator[str]:
    """podman's Docker-compatible API on a socket of this test; stopped afterwards."""
    if _missing("docker"):
        message = "the docker client is missing: kustomize's container functions need it"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    sock = tmp_path / "podman.sock"
    log = tmp_path / "podman-service.log"
    with log.open("wb") as stderr:
        service = subprocess.Popen(
            ["podman", "system", "service", "--time=0", f"unix://{sock}"],
            env=_env(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        deadline = time.monotonic() + 30
        while not sock.exists():
            if service.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"podman system service did not start: {log.read_text()!r}")
            time.sleep(0.1)
        yield f"unix://{sock}"
    finally:
        service.terminate()
        try:
            service.wait(timeout=20)
        except subprocess.TimeoutExpired:
            service.kill()
            service.wait()


def test_kustomize_container_function(
    docker_host: str, image: str, repo_root: Path, tmp_path: Path, kubectl_bin: Path
) -> None:
    root = workspace(repo_root, tmp_path, "examples/kustomize-krm/base",
                     "examples/kustomize-krm/container")
    _use_image(root / "examples/kustomize-krm/container/merge-https-redirects.yaml", image)
    env = _env(DOCKER_HOST=docker_host, HOME=str(tmp_path))
    env.pop("DOCKER_CONFIG", None)

    done = _run([str(kubectl_bin), "kustomize", "--enable-alpha-plugins",
                 str(root / "examples/kustomize-krm/container")], env=env)

    assert done.returncode == 0, done.stderr
    docs = _docs(done.stdout)
    assert redirect_hosts(docs) == []
    assert is_dedicated(find(docs, "Gateway", "http-to-https-redirect"))


def test_every_documented_image_reference_is_this_version(repo_root: Path) -> None:
    """The examples and integrations name the image of this release, and only that one."""
    stale = []
    for path in repo_root.rglob("*"):
        if any(part in {".git", ".venv", ".tools", "build", "node_modules"}
               for part in path.relative_to(repo_root).parts) or not path.is_file():
            continue
        if path.suffix not in {".yaml", ".yml", ".md", ".sh", ""} and path.name != "Kptfile":
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        for line in text.splitlines():
            if "ghcr.io/merge-https-redirects/merge-https-redirects:" in line and (
                    PUBLISHED not in line):
                stale.append(f"{path.relative_to(repo_root)}: {line.strip()}")
    assert not stale, stale
    assert os.path.basename(PUBLISHED).endswith(__version__)
