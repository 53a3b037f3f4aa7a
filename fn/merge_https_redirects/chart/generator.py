"""The Helm chart generator: the dedicated redirect Gateways as a Helm chart.

``merge-https-redirects chart`` writes a chart whose ``values.yaml`` lists exactly the dedicated
Gateways the function adds or reuses for a bundle; the default chart (one Gateway for
``istio: ingressgateway`` in ``istio-system`` on port 80) is committed under
``charts/http-to-https-redirect`` and :func:`regenerate_default` rewrites it.

One definition: the chart's Gateway template is rendered from :mod:`merge_https_redirects.dedicated`
(the port-name rule, the kind, the static part of every server), and the generator refuses to run
when ``dedicated`` changes shape in a way the template cannot follow, so what ``helm template``
renders and what the function emits cannot drift apart (``tests/acceptance/test_chart.py`` proves
they are equal object for object).

The templates live in the repository's top-level ``templates/chart/`` and are rendered with
jinja2 using ``<@ @>`` / ``<% %>`` / ``<# #>`` delimiters, so Helm's own ``{{ }}`` passes through
untouched.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from merge_https_redirects import __version__, yamlio
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

#: Annotations that kpt and kustomize add to track items; they are not part of the Gateway.
TOOLING_ANNOTATIONS = frozenset(
    {
        "config.kubernetes.io/index",
        "config.kubernetes.io/path",
        "config.kubernetes.io/id",
        "config.k8s.io/id",
        "kustomize.config.k8s.io/id",
    }
)
TOOLING_ANNOTATION_PREFIXES = ("internal.config.kubernetes.io/",)

# Chart names as Helm recommends them; versions are SemVer 2 (Helm refuses anything else).
_CHART_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_SEMVER = re.compile(
    r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(-((0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(\.(0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(\+([0-9a-zA-Z-]+(\.[0-9a-zA-Z-]+)*))?"
)
# The Helm template names ports "<prefix><number>" except for a short table of special ports.
_MAX_SPECIAL_PORT_NAMES = 16
_PROBE_PORTS = (1, 80, 443, 8080, 65535)
_MAX_PORT = 65535

Gateway = dict[str, Any]
Plan = Callable[[list[str], str | None], list[dict[str, Any]]]


class ChartError(Exception):
    """A chart cannot be written; the message is one line, fit for the command line."""


# ---------------------------------------------------------------------------------------------
# Gateways -> values
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ChartGateway:
    """One entry of the chart's ``gateways`` value (everything ``dedicated_gateway()`` takes)."""

    name: str
    namespace: str
    selector: dict[str, str] | None
    ports: tuple[int, ...]
    api_version: str = dedicated.DEFAULT_API_VERSION
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None

    def render(self) -> Gateway:
        """The Gateway object, built by the one definition in :mod:`dedicated`."""
        return dedicated.dedicated_gateway(
            self.name,
            self.namespace,
            self.selector,
            list(self.ports),
            api_version=self.api_version,
            labels=self.labels,
            annotations=self.annotations,
        )


def default_chart_gateways() -> list[Gateway]:
    """The default chart's Gateway: ``http-to-https-redirect`` in ``istio-system`` for
    ``istio: ingressgateway``, port 80."""
    return [
        dedicated.dedicated_gateway(
            dedicated.DEFAULT_NAME,
            dedicated.DEFAULT_NAMESPACE,
            dict(dedicated.DEFAULT_SELECTOR),
            list(dedicated.DEFAULT_PORTS),
        )
    ]


def is_tooling_annotation(key: str) -> bool:
    return key in TOOLING_ANNOTATIONS or key.startswith(TOOLING_ANNOTATION_PREFIXES)


def _string_map(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ChartError(f"{where} must map strings to strings")
    return dict(value)


def _first_difference(got: Any, want: Any, path: str = "") -> str:
    """Where two plain values first differ, as a dotted path (``""`` when equal)."""
    if isinstance(got, Mapping) and isinstance(want, Mapping):
        for key in list(want) + [k for k in got if k not in want]:
            if key not in got or key not in want:
                return f"{path}.{key}".lstrip(".")
            found = _first_difference(got[key], want[key], f"{path}.{key}")
            if found:
                return found
        return ""
    if isinstance(got, list) and isinstance(want, list):
        if len(got) != len(want):
            return path.lstrip(".") or "."
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            found = _first_difference(g, w, f"{path}[{i}]")
            if found:
                return found
        return ""
    if type(got) is not type(want) or got != want:
        return path.lstrip(".") or "."
    return ""


def chart_gateway(gateway: Mapping[str, Any], where: str = "gateway") -> ChartGateway:
    """The chart entry of a dedicated Gateway object (kpt/kustomize tracking annotations dropped).

    Raises :class:`ChartError` when the object is not exactly what ``dedicated_gateway()`` builds
    from its own name, namespace, selector, ports, labels and annotations: the chart could not
    render it, and a chart that renders something else would be a second, drifting copy.
    """
    if not isinstance(gateway, Mapping):
        raise ChartError(f"{where} is not a mapping")
    metadata = gateway.get("metadata")
    spec = gateway.get("spec")
    if not isinstance(metadata, Mapping) or not isinstance(spec, Mapping):
        raise ChartError(f"{where} needs metadata and spec mappings")
    name, namespace = metadata.get("name"), metadata.get("namespace")
    if not isinstance(name, str) or not name or not isinstance(namespace, str) or not namespace:
        raise ChartError(f"{where} needs metadata.name and metadata.namespace")
    where = f"{where} ({namespace}/{name})"
    api_version = gateway.get("apiVersion")
    if not isinstance(api_version, str) or not api_version:
        raise ChartError(f"{where} has no apiVersion")
    labels = _string_map(metadata.get("labels") or {}, f"{where} metadata.labels")
    annotations = {
        key: value
        for key, value in _string_map(
            metadata.get("annotations") or {}, f"{where} metadata.annotations"
        ).items()
        if not is_tooling_annotation(key)
    }
    selector = spec.get("selector")
    if selector is not None:
        selector = _string_map(selector, f"{where} spec.selector")
    servers = spec.get("servers")
    if not isinstance(servers, list) or not servers:
        raise ChartError(f"{where} has no servers")
    ports: list[int] = []
    for index, server in enumerate(servers):
        port = server.get("port") if isinstance(server, Mapping) else None
        number = port.get("number") if isinstance(port, Mapping) else None
        if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= _MAX_PORT:
            raise ChartError(f"{where} spec.servers[{index}].port.number is not a port number")
        ports.append(number)
    entry = ChartGateway(
        name=name,
        namespace=namespace,
        selector=selector,
        ports=tuple(sorted(ports)),
        api_version=api_version,
        labels=labels or None,
        annotations=annotations or None,
    )
    # Compare with tooling annotations dropped and servers in port order (the chart sorts them,
    # as dedicated_gateway() does).
    got: dict[str, Any] = {**gateway, "metadata": {**metadata}, "spec": {**spec}}
    if annotations:
        got["metadata"]["annotations"] = annotations
    else:
        got["metadata"].pop("annotations", None)
    if not labels:
        got["metadata"].pop("labels", None)
    got["spec"]["servers"] = sorted(servers, key=lambda s: s["port"]["number"])
    difference = _first_difference(got, entry.render())
    if difference:
        raise ChartError(
            f"{where} is not a dedicated redirect Gateway the chart can render "
            f"(it differs at {difference})"
        )
    return entry


def _shared_api_version(entries: Sequence[ChartGateway]) -> str:
    """The chart-wide ``apiVersion`` value: the one most Gateways use."""
    if not entries:
        return dedicated.DEFAULT_API_VERSION
    counts = Counter(entry.api_version for entry in entries)
    best = max(counts.values())
    tied = sorted(version for version, count in counts.items() if count == best)
    return dedicated.DEFAULT_API_VERSION if dedicated.DEFAULT_API_VERSION in tied else tied[0]


def chart_values(gateways: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The chart's values for ``gateways`` (dedicated Gateway objects), in ``values.yaml`` order."""
    entries = [chart_gateway(gw, f"gateways[{i}]") for i, gw in enumerate(gateways)]
    seen: set[tuple[str, str]] = set()
    for entry in entries:
        key = (entry.namespace, entry.name)
        if key in seen:
            raise ChartError(f"Gateway {entry.namespace}/{entry.name} is listed twice")
        seen.add(key)
    shared = _shared_api_version(entries)
    items: list[dict[str, Any]] = []
    for entry in entries:
        item: dict[str, Any] = {
            "name": entry.name,
            "namespace": entry.namespace,
            "selector": entry.selector,
            "ports": list(entry.ports),
        }
        if entry.api_version != shared:
            item["apiVersion"] = entry.api_version
        if entry.labels:
            item["labels"] = dict(entry.labels)
        if entry.annotations:
            item["annotations"] = dict(entry.annotations)
        items.append(item)
    return {
        "enabled": True, "apiVersion": shared, "labels": {}, "annotations": {}, "gateways": items
    }


# ---------------------------------------------------------------------------------------------
# The Helm Gateway template, derived from dedicated.py
# ---------------------------------------------------------------------------------------------
def _indented(obj: Any, indent: int) -> str:
    pad = " " * indent
    return "\n".join(pad + line for line in yamlio.dumps(obj, wide=True).rstrip("\n").split("\n"))


def gateway_template_context() -> dict[str, Any]:
    """What ``templates/gateway.yaml.j2`` needs from :mod:`dedicated`.

    Raises :class:`ChartError` when ``dedicated`` changed in a way the Helm template cannot
    express, so the change is noticed at generation time instead of drifting silently.
    """
    fix = "update templates/chart/templates/gateway.yaml.j2 and merge_https_redirects/chart.py"
    names = {port: dedicated.port_name(port) for port in range(1, _MAX_PORT + 1)}
    prefixes = Counter(
        name.removesuffix(str(port)) for port, name in names.items() if name.endswith(str(port))
    )
    if not prefixes:
        raise ChartError(f"dedicated.port_name() no longer ends names with the port: {fix}")
    prefix = prefixes.most_common(1)[0][0]
    special = {port: name for port, name in names.items() if name != f"{prefix}{port}"}
    if len(special) > _MAX_SPECIAL_PORT_NAMES:
        raise ChartError(
            f"dedicated.port_name() has {len(special)} exceptions to '{prefix}<port>': {fix}"
        )
    statics: set[str] = set()
    for port in _PROBE_PORTS:
        server = dedicated.redirect_server(port)
        server_port = server.get("port")
        if (
            not isinstance(server_port, dict)
            or server_port.get("number") != port
            or server_port.get("name") != names[port]
        ):
            raise ChartError(f"dedicated.redirect_server() changed its port block: {fix}")
        port_static = {k: v for k, v in server_port.items() if k not in ("number", "name")}
        server_static = {k: v for k, v in server.items() if k != "port"}
        statics.add(json.dumps([port_static, server_static], sort_keys=True))
    if len(statics) != 1:
        raise ChartError(
            f"dedicated.redirect_server() now depends on the port beyond its number and name: "
            f"{fix}"
        )
    kind = _check_gateway_shape(fix)
    return {
        "kind": kind,
        "port_name_prefix": prefix,
        "special_port_names": " ".join(
            f"{json.dumps(str(port))} {json.dumps(name)}" for port, name in sorted(special.items())
        ),
        "port_static": _indented(port_static, 8) if port_static else "",
        "server_static": _indented(server_static, 6) if server_static else "",
    }


def _check_gateway_shape(fix: str) -> str:
    """The Gateway's ``kind``, after checking ``dedicated_gateway()`` builds what the Helm
    template renders: metadata name/namespace/labels/annotations (empty ones left out), an
    optional selector (``None`` left out, ``{}`` kept), and sorted, de-duplicated servers."""
    servers = [dedicated.redirect_server(80), dedicated.redirect_server(8080)]
    full = dedicated.dedicated_gateway(
        "probe", "probe-ns", {"app": "gw"}, [8080, 80, 8080],
        api_version="probe.example/v1", labels={"l": "1"}, annotations={"a": "1"},
    )
    kind = full.get("kind")
    if not isinstance(kind, str):
        raise ChartError(f"dedicated.dedicated_gateway() builds no kind: {fix}")
    expected_full = {
        "apiVersion": "probe.example/v1",
        "kind": kind,
        "metadata": {
            "name": "probe", "namespace": "probe-ns",
            "labels": {"l": "1"}, "annotations": {"a": "1"},
        },
        "spec": {"selector": {"app": "gw"}, "servers": servers},
    }
    bare = dedicated.dedicated_gateway("probe", "probe-ns", None, [80], labels={}, annotations={})
    expected_bare = {
        "apiVersion": dedicated.DEFAULT_API_VERSION,
        "kind": kind,
        "metadata": {"name": "probe", "namespace": "probe-ns"},
        "spec": {"servers": servers[:1]},
    }
    empty_selector = dedicated.dedicated_gateway("probe", "probe-ns", {}, [80])
    for got, want in ((full, expected_full), (bare, expected_bare)):
        difference = _first_difference(got, want)
        if difference:
            raise ChartError(f"dedicated.dedicated_gateway() changed at {difference}: {fix}")
    if empty_selector.get("spec", {}).get("selector") != {}:
        raise ChartError(f"dedicated.dedicated_gateway() no longer keeps an empty selector: {fix}")
    return kind


# ---------------------------------------------------------------------------------------------
# Rendering and writing
# ---------------------------------------------------------------------------------------------
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


# ---------------------------------------------------------------------------------------------
# The `chart` subcommand
# ---------------------------------------------------------------------------------------------
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


if __name__ == "__main__":  # python -m merge_https_redirects.chart: regenerate the default chart
    _root = Path(__file__).resolve().parents[2]
    if not (_root / "pyproject.toml").is_file():
        sys.exit(f"{_root} is not the source tree: run this from a checkout")
    for _path in regenerate_default(_root):
        print(_path.relative_to(_root))
