"""``merge-https-redirects install-kustomize-plugin``: a legacy exec plugin for kustomize.

``kubectl kustomize`` (kustomize built into kubectl) has no ``--enable-exec``: it silently skips
transformers configured with ``config.kubernetes.io/function: {exec: ...}``. It does run the
legacy exec plugins of ``--enable-alpha-plugins``: an executable at
``<plugin home>/<group>/<version>/<lower-case kind>/<Kind>``, called with the path of the
transformer config file as its only argument, resources as a YAML stream on stdin, the
transformed stream expected on stdout, and stderr copied into kustomize's error on failure.

This module writes that executable for the typed config kind and prints a ready-to-use
transformer config on stdout. The plugin home is found the way kustomize finds it (the first of
``$KUSTOMIZE_PLUGIN_HOME``, ``$XDG_CONFIG_HOME/kustomize/plugin``,
``~/.config/kustomize/plugin``), unless ``--dir`` names it.

The executable is a three-line ``/bin/sh`` script that runs ``<this interpreter> -m
merge_https_redirects --config "$1"`` (stream mode). The interpreter is ``sys.executable``
as given (a virtualenv's ``bin/python`` symlink is kept, not resolved, so the venv's
site-packages stay visible): it is the installation that ran the installer, whatever ``PATH``
holds when kustomize runs later.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from merge_https_redirects import __version__
from merge_https_redirects.config import API_GROUP, API_VERSION, KIND
from merge_https_redirects.model import dedicated

PROG = "merge-https-redirects install-kustomize-plugin"
#: The line that marks a plugin file as ours: only such a file is overwritten without --force.
MARKER = "# Installed by `merge-https-redirects install-kustomize-plugin`"
#: Name of the transformer config the printed snippet declares (kustomize requires one).
CONFIG_NAME = "merge-https-redirects"


class InstallError(Exception):
    """A problem the user can fix; printed as one line on stderr, exit 1."""


@dataclass(frozen=True)
class PluginHome:
    path: Path
    #: Where the path came from, for the message on stderr.
    source: str


def plugin_version() -> str:
    """The version part of the apiVersion (``v1alpha1``)."""
    return API_VERSION.split("/", 1)[1]


def plugin_relpath() -> Path:
    """``<group>/<version>/<lower-case kind>/<Kind>``, relative to the plugin home."""
    return Path(API_GROUP, plugin_version(), KIND.lower(), KIND)


def default_plugin_home(env: Mapping[str, str], home: Path) -> PluginHome:
    """The directory kustomize searches first (``konfig.DefaultAbsPluginHome``).

    kustomize takes the first candidate that exists; when none exists yet, the installer creates
    the first one that is configured, so kustomize finds it next time.
    """
    candidates: list[PluginHome] = []
    if env.get("KUSTOMIZE_PLUGIN_HOME"):
        candidates.append(PluginHome(Path(env["KUSTOMIZE_PLUGIN_HOME"]), "$KUSTOMIZE_PLUGIN_HOME"))
    if env.get("XDG_CONFIG_HOME"):
        candidates.append(
            PluginHome(Path(env["XDG_CONFIG_HOME"], "kustomize", "plugin"), "$XDG_CONFIG_HOME")
        )
    candidates.append(
        PluginHome(home / ".config" / "kustomize" / "plugin", "the default of $XDG_CONFIG_HOME")
    )
    for candidate in candidates:
        if candidate.path.is_dir():
            return candidate
    return candidates[0]


def interpreter_command() -> list[str]:
    """The command that runs this installation of the function, independent of ``PATH``."""
    return [os.path.abspath(sys.executable), "-m", "merge_https_redirects"]


def import_path_needed(python: str, env: Mapping[str, str]) -> str | None:
    """The ``PYTHONPATH`` the plugin needs, or ``None`` when ``python`` imports the package as is.

    The installer may run from a source tree through ``PYTHONPATH``; kustomize later runs the
    plugin with whatever environment the user has, so that directory is written into the script.
    """
    clean = {k: v for k, v in env.items() if k != "PYTHONPATH"}
    probe = subprocess.run(
        [python, "-c", "import merge_https_redirects"],
        env=clean,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        check=False,
    )
    if probe.returncode == 0:
        return None
    package_parent = Path(__file__).resolve().parent.parent
    return str(package_parent)


def plugin_script(
    command: list[str],
    pythonpath: str | None = None,
    *,
    marker: str = MARKER,
    comment: str = "kustomize passes the transformer config file as $1 and the resources on stdin.",
    arguments: str = '--config "$1"',
) -> str:
    """The executable kustomize runs: stream mode, config file from kustomize's first argument.

    The Helm plugin's launcher is the same script with its own marker and arguments.
    """
    lines = ["#!/bin/sh", f"{marker} (merge-https-redirects {__version__}).", f"# {comment}"]
    if pythonpath is not None:
        lines.append(f"PYTHONPATH={shlex.quote(pythonpath)}${{PYTHONPATH:+:$PYTHONPATH}}")
        lines.append("export PYTHONPATH")
    lines.append(f"exec {shlex.join(command)} {arguments}")
    return "\n".join(lines) + "\n"


def transformer_config() -> str:
    """A ready-to-use transformer config for ``transformers:`` in a kustomization, as YAML."""
    return "\n".join(
        [
            "---",
            f"apiVersion: {API_VERSION}",
            f"kind: {KIND}",
            "metadata:",
            f"  name: {CONFIG_NAME}",
            "mode: merge",
            f"name: {dedicated.DEFAULT_NAME}",
            f"namespace: {dedicated.DEFAULT_NAMESPACE}",
            "ports:",
            *[f"  - {port}" for port in dedicated.DEFAULT_PORTS],
            "onConflict: error",
            "",
        ]
    )


def install(plugin_home: Path, script: str, *, force: bool = False) -> Path:
    """Write the plugin executable atomically under ``plugin_home``; return its path."""
    target = plugin_home / plugin_relpath()
    if target.is_dir():
        raise InstallError(f"{target} is a directory, not a plugin file")
    if target.exists() and not force:
        try:
            current = target.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise InstallError(f"cannot read {target}: {exc.strerror or exc}") from exc
        if MARKER not in current:
            raise InstallError(
                f"{target} exists and was not installed by merge-https-redirects; "
                "use --force to replace it"
            )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{KIND}.", dir=target.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(script)
            os.chmod(tmp_name, 0o755)
            os.replace(tmp_name, target)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
    except OSError as exc:
        where = exc.filename or target
        raise InstallError(f"cannot write {where}: {exc.strerror or exc}") from exc
    return target


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Install merge-https-redirects as a kustomize legacy exec plugin, for "
            "`kubectl kustomize --enable-alpha-plugins` (which cannot run exec KRM functions), "
            "and print a transformer config to list under `transformers:`."
        ),
    )
    parser.add_argument(
        "--dir",
        metavar="DIR",
        type=Path,
        help=(
            "plugin home to install into (default: the first existing of "
            "$KUSTOMIZE_PLUGIN_HOME, $XDG_CONFIG_HOME/kustomize/plugin, "
            "~/.config/kustomize/plugin). kustomize only looks in DIR when "
            "KUSTOMIZE_PLUGIN_HOME=DIR is set."
        ),
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="replace a plugin file that merge-https-redirects did not install",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Install the plugin; transformer config on stdout, where it went on stderr."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["install-kustomize-plugin"]:
        args_list = args_list[1:]
    args = _parser().parse_args(args_list)
    env = os.environ
    if args.dir is not None:
        home = PluginHome(args.dir.expanduser().absolute(), "--dir")
    else:
        home = default_plugin_home(env, Path.home())
    command = interpreter_command()
    try:
        pythonpath = import_path_needed(command[0], env)
        target = install(home.path, plugin_script(command, pythonpath), force=args.force)
    except InstallError as exc:
        print(f"merge-https-redirects: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"merge-https-redirects: cannot run {command[0]}: {exc.strerror or exc}",
              file=sys.stderr)
        return 1
    print(f"installed kustomize plugin {target} (plugin home from {home.source})",
          file=sys.stderr)
    if default_plugin_home(env, Path.home()).path.absolute() != home.path.absolute():
        print(
            f"note: kustomize finds it with KUSTOMIZE_PLUGIN_HOME={shlex.quote(str(home.path))}",
            file=sys.stderr,
        )
    print("use: kubectl kustomize --enable-alpha-plugins DIR, with the config below listed "
          "under `transformers:`", file=sys.stderr)
    sys.stdout.write(transformer_config())
    sys.stdout.flush()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
