"""The subcommands that read bundles from paths: ``explain`` and the chart generator's plan."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from merge_https_redirects import yamlio
from merge_https_redirects.config import Config, ConfigProblems, parse_config
from merge_https_redirects.rewrite.resources import Resource


class BundleError(Exception):
    """The bundle given to a subcommand could not be read (one line, names the place)."""


def read_resources(paths: Sequence[str]) -> tuple[list[Resource], set[str]]:
    """Resources from files/directories (``-`` or nothing: stdin), as the CLI reads them, and
    the path annotations of the resources the function does not read."""
    from merge_https_redirects.hosts.files import FilesError, _resources, discover, load_sources

    wanted_paths = list(paths) or ["-"]
    stdin = sys.stdin.buffer.read() if "-" in wanted_paths else None
    try:
        files, _ = discover([p for p in wanted_paths if p != "-"])
    except FilesError as exc:
        raise BundleError(str(exc)) from None
    if stdin is not None:
        files.append(Path("-"))
    sources, problems = load_sources(files, stdin)
    if problems:
        raise BundleError(problems[0].one_line())
    return _resources(sources)


def load_config(path: str | None) -> Config:
    """A :class:`Config` from a FunctionConfig file (``None``: defaults)."""
    if path is None:
        return Config()
    try:
        docs = [d for d in yamlio.loads_all(yamlio.decode(Path(path).read_bytes()).body)
                if d is not None]
    except OSError as exc:
        raise BundleError(f"{path}: cannot read ({exc.strerror})") from None
    except yamlio.YamlError as exc:
        raise BundleError(f"{path}: {exc}") from None
    if len(docs) != 1:
        raise BundleError(f"{path}: expected one FunctionConfig document, found {len(docs)}")
    try:
        return parse_config(docs[0])
    except ConfigProblems as exc:
        raise BundleError(f"{path}: {exc}") from None


def plan_dedicated(paths: list[str], config_path: str | None = None) -> list[dict[str, Any]]:
    """The dedicated Gateways the function would add or reuse for the bundle at ``paths``."""
    from merge_https_redirects.rewrite.proof import merge

    resources, other_paths = read_resources(paths)
    outcome = merge(resources, load_config(config_path), other_paths)
    errors = [r for r in outcome.results if r.level == "error"]
    if errors:
        raise BundleError(errors[0].one_line())
    routes = [r for r in outcome.results if r.rule.id == "MHR030"]
    if routes:
        # The chart renders the dedicated '*' Gateway only: a chart that left the route shape
        # out would not redirect these hosts (see README, "The Helm chart").
        raise BundleError(
            f"{routes[0].one_line()}; the chart renders only the dedicated '*' Gateway, so it "
            "cannot serve this bundle: apply the function's output (or set strategy: gateway "
            "and resolve the conflict)")
    return outcome.dedicated


def explain_main(argv: list[str]) -> int:
    """``merge-https-redirects explain [--config FILE] PATH...``: a Markdown table per name."""
    from merge_https_redirects.check.mode import explain

    parser = argparse.ArgumentParser(
        prog="merge-https-redirects explain",
        description="Per DNS name: issuer, solver, HTTP-01 verdict before and after the "
        "rewrite, and the cause. Paste it into a pull request.",
    )
    parser.add_argument("paths", nargs="*", metavar="PATH", help="files/directories; '-' = stdin")
    parser.add_argument("--config", metavar="FILE", help="FunctionConfig file")
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
        resources, other_paths = read_resources(args.paths)
    except BundleError as exc:
        sys.stderr.write(f"error MHR101 {exc}\n")
        return 1
    table, findings = explain(resources, config, other_paths)
    sys.stdout.write(table + "\n")
    for result in findings:
        sys.stderr.write(result.one_line() + "\n")
    # a refused rewrite is a failure here too: the table is not a plan that can be applied
    return 1 if any(r.level == "error" for r in findings) else 0
