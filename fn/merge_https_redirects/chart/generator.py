"""The Helm chart generator: the dedicated redirect Gateways as a Helm chart.

``merge-https-redirects chart`` writes a chart whose ``values.yaml`` lists exactly the dedicated
Gateways the function adds or reuses for a bundle; the default chart (one Gateway for
``istio: ingressgateway`` in ``istio-system`` on port 80) is committed under
``charts/http-to-https-redirect`` and :func:`regenerate_default` rewrites it.

One definition: the chart's Gateway template is rendered from
:mod:`merge_https_redirects.model.dedicated` (the port-name rule, the kind, the static part of
every server), and the generator refuses to run when ``dedicated`` changes shape in a way the
template cannot follow, so what ``helm template`` renders and what the function emits cannot
drift apart (``tests/acceptance/test_chart.py`` proves
they are equal object for object).

The templates live in the repository's top-level ``templates/chart/`` and are rendered with
jinja2 using ``<@ @>`` / ``<% %>`` / ``<# #>`` delimiters, so Helm's own ``{{ }}`` passes through
untouched.

The values and the template context are :mod:`.values`; this module renders and writes.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import jinja2

from merge_https_redirects import __version__, yamlio
from merge_https_redirects.chart.values import (
    ChartError,
    chart_values,
    default_chart_gateways,
    gateway_template_context,
)
from merge_https_redirects.model import dedicated

DEFAULT_CHART_NAME = "http-to-https-redirect"


#: jinja2 delimiters of the chart templates: none of them occurs in Helm, YAML or JSON text.
JINJA_DELIMITERS: dict[str, str] = {
    "variable_start_string": "<@",
    "variable_end_string": "@>",
    "block_start_string": "<%",
    "block_end_string": "%>",
    "comment_start_string": "<#",
    "comment_end_string": "#>",
}


#: Every chart file: the template under ``templates/chart/`` and where it goes in the chart.
CHART_FILES: tuple[tuple[str, str], ...] = (
    ("Chart.yaml.j2", "Chart.yaml"),
    ("values.yaml.j2", "values.yaml"),
    ("values.schema.json.j2", "values.schema.json"),
    ("README.md.j2", "README.md"),
    ("helmignore.j2", ".helmignore"),
    ("templates/gateway.yaml.j2", "templates/gateway.yaml"),
    ("templates/NOTES.txt.j2", "templates/NOTES.txt"),
)


# Chart names as Helm recommends them; versions are SemVer 2 (Helm refuses anything else).
_CHART_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")


_SEMVER = re.compile(
    r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(-((0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(\.(0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(\+([0-9a-zA-Z-]+(\.[0-9a-zA-Z-]+)*))?"
)




Plan = Callable[[list[str], str | None], list[dict[str, Any]]]


def template_dir() -> Path:
    """``templates/chart``: shipped inside the package (``merge_https_redirects/templates`` is a
    symlink to the repository's ``templates/``, copied into wheels), else the source tree's."""
    here = Path(__file__).resolve().parent.parent  # the package directory
    for candidate in (here / "templates" / "chart", here.parent.parent / "templates" / "chart"):
        if (candidate / "Chart.yaml.j2").is_file():
            return candidate
    raise ChartError(f"chart templates not found beside {here}: the installation is incomplete")


def jinja_environment(directory: Path | None = None) -> jinja2.Environment:
    """The environment that renders chart templates (Helm's ``{{ }}`` is plain text to it)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(directory or template_dir())),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
        **JINJA_DELIMITERS,  # type: ignore[arg-type]
    )
    env.filters["json"] = json.dumps
    # the inside of a JSON string literal, for text within a JSON string
    env.filters["json_text"] = lambda value: json.dumps(str(value))[1:-1]
    return env


def _check_name_and_version(name: str, version: str, app_version: str) -> None:
    if not _CHART_NAME.fullmatch(name) or len(name) > 63:
        raise ChartError(
            f"chart name {name!r} is not valid: use lowercase letters, digits and '-' "
            "(at most 63 characters)"
        )
    if not _SEMVER.fullmatch(version):
        raise ChartError(f"chart version {version!r} is not SemVer 2 (e.g. 1.2.3)")
    if not app_version or any(c in app_version for c in "\n\r\"\\"):
        raise ChartError(f"app version {app_version!r} must be a non-empty single line")


def render_chart(
    gateways: Sequence[Mapping[str, Any]],
    *,
    name: str = DEFAULT_CHART_NAME,
    version: str = __version__,
    app_version: str | None = None,
) -> dict[str, str]:
    """Every file of the chart, by path relative to the chart directory."""
    app_version = version if app_version is None else app_version
    _check_name_and_version(name, version, app_version)
    values = chart_values(gateways)
    env = jinja_environment()
    context: dict[str, Any] = {
        "name": name,
        "version": version,
        "app_version": app_version,
        "generator_version": __version__,
        "values": values,
        "gateways_yaml": yamlio.dumps({"gateways": values["gateways"]}, wide=True).rstrip("\n"),
        "dedicated": {
            "default_api_version": dedicated.DEFAULT_API_VERSION,
            "default_name": dedicated.DEFAULT_NAME,
            "default_namespace": dedicated.DEFAULT_NAMESPACE,
            "catch_all_host": dedicated.CATCH_ALL_HOST,
            "protocol": dedicated.PROTOCOL,
        },
        **gateway_template_context(),
    }
    files = {target: env.get_template(source).render(context) for source, target in CHART_FILES}
    # Guard the generator itself: the machine-read files must parse to what was meant.
    try:
        json.loads(files["values.schema.json"])
    except ValueError as exc:
        raise ChartError(f"templates/chart/values.schema.json.j2 renders bad JSON: {exc}") from None
    if yamlio.loads(files["values.yaml"]) != values:
        raise ChartError("templates/chart/values.yaml.j2 renders values other than the chart's")
    return files


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _check_output(output: Path, force: bool) -> None:
    if output.is_symlink():
        raise ChartError(f"{output} is a symbolic link: give the directory it points to")
    if output.exists() and not output.is_dir():
        raise ChartError(f"{output} exists and is not a directory")
    if output.is_dir() and any(output.iterdir()) and not force:
        raise ChartError(f"{output} is not empty: use --force to replace its contents")


def write_chart(
    gateways: Sequence[Mapping[str, Any]],
    output: Path,
    *,
    name: str = DEFAULT_CHART_NAME,
    version: str = __version__,
    app_version: str | None = None,
    force: bool = False,
) -> list[Path]:
    """Write the chart for ``gateways`` to ``output``; return the files written, sorted.

    ``app_version`` defaults to ``version``. A non-empty ``output`` is refused unless ``force``,
    which replaces its whole contents. The chart is rendered into a temporary directory beside
    ``output`` and moved into place, so ``output`` never holds half a chart.
    """
    output = Path(output).absolute()
    _check_output(output, force)
    files = render_chart(gateways, name=name, version=version, app_version=app_version)
    try:
        _move_into_place(files, output, force)
    except OSError as exc:
        raise ChartError(f"cannot write the chart to {output}: {exc}") from exc
    return sorted(output / relative for relative in files)


def _move_into_place(files: Mapping[str, str], output: Path, force: bool) -> None:
    output.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{output.name}.", suffix=".tmp", dir=output.parent))
    old: Path | None = None
    try:
        dir_mode = 0o777 & ~_umask()
        staging.chmod(dir_mode)
        for relative, text in files.items():
            path = staging / relative
            path.parent.mkdir(mode=dir_mode, parents=True, exist_ok=True)
            path.write_bytes(text.encode("utf-8"))
        _check_output(output, force)  # again: something may have appeared meanwhile
        if output.is_dir():
            if any(output.iterdir()):
                old = Path(tempfile.mkdtemp(prefix=f".{output.name}.", suffix=".old",
                                            dir=output.parent))
                output.rename(old / output.name)
            else:
                output.rmdir()
        staging.rename(output)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if old is not None:
            if (old / output.name).exists() and not output.exists():
                (old / output.name).rename(output)  # put the previous chart back
            shutil.rmtree(old, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def regenerate_default(repo_root: Path) -> list[Path]:
    """Rewrite the committed default chart ``charts/http-to-https-redirect`` of ``repo_root``."""
    return write_chart(
        default_chart_gateways(),
        Path(repo_root) / "charts" / DEFAULT_CHART_NAME,
        name=DEFAULT_CHART_NAME,
        force=True,
    )


def _parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description=(
            "Write a Helm chart of the dedicated redirect Gateways: the ones the function adds "
            "or reuses for the bundle in PATHs, or the default one with --default."
        ),
    )
    parser.add_argument(
        "paths", nargs="*", metavar="PATH",
        help="files or directories of the bundle ('-' or none: standard input)",
    )
    parser.add_argument("--output", "-o", required=True, type=Path, metavar="DIR",
                        help="directory to write the chart to (created if missing)")
    parser.add_argument("--name", default=DEFAULT_CHART_NAME,
                        help=f"chart name (default: {DEFAULT_CHART_NAME})")
    parser.add_argument("--version", dest="chart_version", default=__version__, metavar="V",
                        help=f"chart version, SemVer 2 (default: {__version__})")
    parser.add_argument("--app-version", default=None, metavar="V",
                        help="chart appVersion (default: the chart version)")
    parser.add_argument("--force", action="store_true",
                        help="replace the contents of a non-empty DIR")
    parser.add_argument("--config", metavar="FILE", default=None,
                        help="FunctionConfig file (the same as the function's --config)")
    parser.add_argument(
        "--default", action="store_true",
        help=(
            f"write the default chart ({dedicated.DEFAULT_NAME} in {dedicated.DEFAULT_NAMESPACE}"
            " for istio: ingressgateway, port 80) instead of reading a bundle"
        ),
    )
    return parser


def main(
    argv: list[str] | None = None,
    *,
    plan: Plan | None = None,
    prog: str = "merge-https-redirects chart",
) -> int:
    """``merge-https-redirects chart [PATH...] --output DIR [--name N] [--version V] [--force]``.

    ``plan`` reads the bundle from PATHs (standard input when there are none) and returns the
    dedicated Gateways the function would add or reuse; it may raise :class:`ChartError` for a
    problem worth one line. Returns the exit code: 0 written, 1 refused, 2 usage error.
    """
    parser = _parser(prog)
    args = parser.parse_args(argv)
    try:
        if args.default:
            if args.paths:
                parser.error("--default reads no bundle: drop the PATHs")
            gateways = default_chart_gateways()
        else:
            if plan is None:
                raise ChartError("no bundle reader is wired to this command (a packaging bug)")
            gateways = plan(list(args.paths), args.config)
            if not gateways:
                raise ChartError(
                    "the bundle needs no dedicated redirect Gateway (it has no port-80 "
                    "httpsRedirect server): there is nothing to put in a chart"
                )
        written = write_chart(
            gateways,
            args.output,
            name=args.name,
            version=args.chart_version,
            app_version=args.app_version,
            force=args.force,
        )
    except ChartError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 1
    listed = ", ".join(
        f"{gw['metadata']['namespace']}/{gw['metadata']['name']}" for gw in gateways
    )
    print(
        f"wrote chart {args.name} {args.chart_version} to {args.output} "
        f"({len(written)} files; Gateways: {listed})"
    )
    return 0


__all__ = ["CHART_FILES", "ChartError", "jinja_environment", "main", "regenerate_default",
           "render_chart", "template_dir", "write_chart"]
