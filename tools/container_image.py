"""Build the container image with podman on a machine that reaches no container registry.

    python tools/container_image.py [--tag TAG] [--wheel WHEEL]

Users build with ``docker build .`` (the Dockerfile's default: base image ``python:*-slim``
from a registry, wheels from the package index). Where neither is reachable (this project's
CI: package registries only), this script takes the Dockerfile's other path:

1. **base image** ``localhost/merge-https-redirects-base:bookworm`` (made once per machine):
   ``debootstrap --variant=minbase --include=python3,python3-venv bookworm``, from the Debian
   mirror the machine's own apt sources name, then ``podman import``;
2. **wheelhouse**: ``pip wheel`` on the host of the project (or ``--wheel``) and its
   dependencies into ``build/wheelhouse`` (pip inside a container build cannot verify the
   registry's TLS certificate here);
3. ``podman build --network none --build-arg WHEELS=wheelhouse --build-arg
   PYTHON_IMAGE=<base>``: the same Dockerfile, installing with ``--no-index``.

Podman runs with ``tools/containers.conf`` (``CONTAINERS_CONF``): ``runc`` instead of
``crun`` and no default ulimits, which fail on this kernel's cgroup layout. Prints the image
reference on stdout; exit 1 with one line on stderr when a step fails.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CONTAINERS_CONF = REPO / "tools" / "containers.conf"
BASE_IMAGE = "localhost/merge-https-redirects-base:bookworm"
DEFAULT_TAG = "localhost/merge-https-redirects:test"
SUITE = "bookworm"
WHEELHOUSE = REPO / "build" / "wheelhouse"


class BuildError(Exception):
    """A step failed; the message says which and why."""


def podman_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment every podman call here (and the tests' kpt/docker) runs with."""
    merged = dict(os.environ if env is None else env)
    merged.setdefault("CONTAINERS_CONF", str(CONTAINERS_CONF))
    return merged


def _run(argv: Sequence[str], *, stdin: int | None = None, timeout: float = 1800) -> str:
    try:
        done = subprocess.run(list(argv), stdin=stdin if stdin is not None else subprocess.DEVNULL,
                              capture_output=True, text=True, check=False, timeout=timeout,
                              env=podman_env())
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BuildError(f"{argv[0]}: {exc}") from exc
    if done.returncode != 0:
        tail = (done.stderr.strip() or done.stdout.strip()).splitlines()[-5:]
        raise BuildError(f"{' '.join(argv[:3])}… failed (exit {done.returncode}): "
                         + " | ".join(tail))
    return done.stdout


def image_exists(ref: str) -> bool:
    return subprocess.run(["podman", "image", "exists", ref], env=podman_env(),
                          check=False, capture_output=True).returncode == 0


def debian_mirror(sources: Path = Path("/etc/apt")) -> str:
    """The first ``http(s)`` URI of a ``bookworm`` main suite in the machine's apt sources."""
    candidates: list[str] = []
    for path in sorted(sources.glob("sources.list.d/*.sources")):
        uris: list[str] = []
        suites: list[str] = []
        for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
            key, _, value = line.partition(":")
            if key.strip() == "URIs":
                uris = value.split()
            elif key.strip() == "Suites":
                suites = value.split()
            elif not line.strip():
                if SUITE in suites:
                    candidates += uris
                uris, suites = [], []
    for path in [sources / "sources.list", *sorted(sources.glob("sources.list.d/*.list"))]:
        if path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines():
                words = line.split("#", 1)[0].split()
                if words[:1] == ["deb"] and SUITE in words:
                    candidates += [w for w in words if w.startswith(("http://", "https://"))]
    for uri in candidates:
        if uri.startswith(("http://", "https://")) and "security" not in uri:
            return uri
    raise BuildError(f"no apt source for Debian {SUITE} in {sources}: cannot debootstrap")


def build_base() -> str:
    """The Debian base image with python3 (about three minutes the first time)."""
    if image_exists(BASE_IMAGE):
        return BASE_IMAGE
    for tool in ("debootstrap", "podman"):
        if shutil.which(tool) is None:
            raise BuildError(f"{tool} not found (apt-get install podman runc debootstrap)")
    with tempfile.TemporaryDirectory(prefix="mhr-rootfs-") as tmp:
        rootfs = Path(tmp) / "rootfs"
        _run(["debootstrap", "--variant=minbase", "--include=python3,python3-venv", SUITE,
              str(rootfs), debian_mirror()])
        # Debian has no `python` command; the Dockerfile uses python3 everywhere, but users'
        # habits (and kpt's debugging docs) expect one.
        python = rootfs / "usr" / "bin" / "python"
        if not python.exists():
            python.symlink_to("python3")
        for package in (rootfs / "var/cache/apt/archives").glob("*.deb"):
            package.unlink()  # the downloaded packages: not part of the image
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        try:
            assert tar.stdout is not None
            _run(["podman", "import", "-", BASE_IMAGE], stdin=tar.stdout.fileno())
        finally:
            if tar.stdout is not None:
                tar.stdout.close()
            tar.wait()
    return BASE_IMAGE


def build_wheelhouse(wheel: Path | None = None, python: str = sys.executable) -> Path:
    """``build/wheelhouse``: the project's wheel and its dependencies' wheels, fresh."""
    shutil.rmtree(WHEELHOUSE, ignore_errors=True)
    WHEELHOUSE.mkdir(parents=True)
    constraints = REPO / "container" / "constraints.txt"
    source = str(wheel) if wheel is not None else str(REPO)
    _run([python, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check",
          "--constraint", str(constraints), "--wheel-dir", str(WHEELHOUSE), source], timeout=600)
    return WHEELHOUSE


def build_image(tag: str = DEFAULT_TAG, wheel: Path | None = None) -> str:
    base = build_base()
    build_wheelhouse(wheel)
    _run(["podman", "build", "--network", "none", "--pull=never",
          "--build-arg", f"PYTHON_IMAGE={base}", "--build-arg", "WHEELS=wheelhouse",
          "--tag", tag, str(REPO)])
    return tag


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tag", default=DEFAULT_TAG)
    parser.add_argument("--wheel", type=Path, help="install this wheel instead of building one")
    parser.add_argument("--base-only", action="store_true", help="only make the base image")
    args = parser.parse_args(argv)
    try:
        print(build_base() if args.base_only else build_image(args.tag, args.wheel))
    except BuildError as exc:
        print(f"container_image: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
