"""``merge-https-redirects install-helm-plugin``: the Helm 4 post-renderer plugin, from a wheel.

Helm 4 runs a post-renderer only as a plugin (``helm template … --post-renderer NAME`` looks
``NAME`` up among the installed plugins of type ``postrenderer/v1``); Helm 3 ran any executable.
The plugin's files ship inside the package (:data:`SOURCE`: ``plugin.yaml`` and
``postrender.sh``, also reachable as ``integrations/helm-postrenderer`` in a checkout), so an
installation from a wheel or ``pipx`` needs no source checkout.

``helm plugin install DIR`` would only link Helm's plugin directory to ``DIR`` (Helm 4.1:
"development mode", a symbolic link), so the installer writes a real directory instead:
``<HELM_PLUGINS>/merge-https-redirects/`` where ``HELM_PLUGINS`` is what ``helm env`` reports
for the ``helm`` that will run it (first entry of the path list). Beside the two files it writes
``run-function``, a launcher that runs *this* installation (``<this interpreter> -m
merge_https_redirects``), whatever ``PATH`` holds when Helm runs the plugin later. The directory
is laid out in a temporary sibling and renamed into place; an existing one is replaced only when
an earlier run of this installer wrote it (the launcher's marker line), or with ``--force``.
Finally ``helm plugin list`` must show the plugin, so a Helm that reads plugins elsewhere fails
the install instead of the first ``helm template``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from merge_https_redirects.hosts.kustomize_plugin import (
    InstallError,
    import_path_needed,
    interpreter_command,
    plugin_script,
)

PROG = "merge-https-redirects install-helm-plugin"
PLUGIN_NAME = "merge-https-redirects"
SOURCE = Path(__file__).resolve().parent / "helm_plugin"
LAUNCHER = "run-function"
MARKER = "# Installed by `merge-https-redirects install-helm-plugin`"
_FILES = ("plugin.yaml", "postrender.sh")


def find_helm(explicit: str | None) -> str:
    """``--helm``, else ``$HELM_BIN`` (what Helm sets for its plugins), else ``helm`` on PATH."""
    candidate = explicit or os.environ.get("HELM_BIN") or "helm"
    found = shutil.which(candidate)
    if found is None:
        where = "--helm" if explicit else "$HELM_BIN" if os.environ.get("HELM_BIN") else "PATH"
        raise InstallError(f"helm not found ({candidate!r} from {where}); "
                           "install Helm 4 or name it with --helm PATH")
    return found


def _helm(helm: str, *args: str) -> str:
    try:
        done = subprocess.run([helm, *args], stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, check=False, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise InstallError(f"cannot run {helm} {' '.join(args)}: {exc}") from exc
    if done.returncode != 0:
        message = (done.stderr.strip() or done.stdout.strip()).splitlines()
        raise InstallError(f"{helm} {' '.join(args)} failed: "
                           f"{message[-1] if message else f'exit {done.returncode}'}")
    return done.stdout


def plugins_dir(helm: str) -> Path:
    """The first directory of ``helm env HELM_PLUGINS``: where Helm reads and installs plugins."""
    value = _helm(helm, "env", "HELM_PLUGINS").strip()
    first = value.split(os.pathsep)[0] if value else ""
    if not first:
        raise InstallError(f"{helm} env HELM_PLUGINS printed nothing")
    return Path(first)


def launcher_script() -> str:
    """The executable ``postrender.sh`` runs: stream mode of this installation."""
    command = interpreter_command()
    return plugin_script(
        command, import_path_needed(command[0], os.environ), marker=MARKER,
        comment="postrender.sh passes Helm's --post-renderer-args; manifests come on stdin.",
        arguments='"$@"')


def _ours(target: Path) -> bool:
    launcher = target / LAUNCHER
    try:
        return not target.is_symlink() and MARKER in launcher.read_text(encoding="utf-8")
    except OSError:
        return False


def install(plugins: Path, launcher: str, *, force: bool = False) -> Path:
    """Lay out ``<plugins>/merge-https-redirects`` (atomically replaced); return it."""
    target = plugins / PLUGIN_NAME
    if (target.exists() or target.is_symlink()) and not force and not _ours(target):
        raise InstallError(f"{target} exists and was not installed by {PROG}; "
                           "use --force to replace it")
    try:
        plugins.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{PLUGIN_NAME}.", dir=plugins))
        try:
            for name in _FILES:
                shutil.copyfile(SOURCE / name, staging / name)
            (staging / LAUNCHER).write_text(launcher, encoding="utf-8")
            for name in ("postrender.sh", LAUNCHER):
                os.chmod(staging / name, 0o755)
            os.chmod(staging, 0o755)
            if target.is_symlink() or target.is_file():
                target.unlink()
            elif target.exists():
                shutil.rmtree(target)
            os.replace(staging, target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    except OSError as exc:
        raise InstallError(f"cannot write {exc.filename or target}: {exc.strerror or exc}"
                           ) from exc
    return target


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Install merge-https-redirects as a Helm 4 post-renderer plugin that runs "
                    "this installation; then: helm template RELEASE CHART --post-renderer "
                    f"{PLUGIN_NAME}.",
    )
    parser.add_argument("--helm", metavar="PATH",
                        help="the helm to install for (default: $HELM_BIN, else helm on PATH)")
    parser.add_argument("--force", action="store_true",
                        help="replace a plugin directory this installer did not write")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Install the plugin; where it went on stderr; exit 1 with one line on any problem."""
    args = _parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    try:
        helm = find_helm(args.helm)
        target = install(plugins_dir(helm), launcher_script(), force=args.force)
        listed = _helm(helm, "plugin", "list")
        if not any(line.split()[:1] == [PLUGIN_NAME] for line in listed.splitlines()):
            raise InstallError(f"wrote {target}, but `{helm} plugin list` does not show "
                               f"{PLUGIN_NAME}")
    except InstallError as exc:
        print(f"merge-https-redirects: {exc}", file=sys.stderr)
        return 1
    print(f"installed Helm plugin {PLUGIN_NAME} in {target} (for {helm})", file=sys.stderr)
    print(f"use: helm template RELEASE CHART --post-renderer {PLUGIN_NAME} "
          "[--post-renderer-args --config=FILE]", file=sys.stderr)
    return 0
