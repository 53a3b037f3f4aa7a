"""Glue between the rewrite and the HTTP-01 checker (``mode: check`` and the merge guard)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from merge_https_redirects.config import Config
from merge_https_redirects.results import Result
from merge_https_redirects.rules import rule
from merge_https_redirects.transform import Outcome, Resource, transform


def check_mode(resources: Sequence[Resource], config: Config) -> Outcome:
    outcome = Outcome()
    outcome.results.append(Result(rule("MHR100"), "mode `check` is not available yet"))
    return outcome


def guard(resources: Sequence[Resource], config: Config, outcome: Outcome) -> Outcome:
    return outcome


class BundleError(Exception):
    """The bundle given to a subcommand could not be read (one line, names the place)."""


def read_resources(paths: Sequence[str]) -> list[Resource]:
    """Resources from files/directories (``-`` or nothing: stdin), as the CLI reads them."""
    import sys

    from merge_https_redirects.files import FilesError, _resources, discover, load_sources

    wanted_paths = list(paths) or ["-"]
    stdin = sys.stdin.buffer.read() if "-" in wanted_paths else None
    try:
        files, _ = discover([p for p in wanted_paths if p != "-"])
    except FilesError as exc:
        raise BundleError(str(exc)) from None
    if stdin is not None:
        from pathlib import Path

        files.append(Path("-"))
    sources, problems = load_sources(files, stdin)
    if problems:
        raise BundleError(problems[0].message)
    return _resources(sources)


def plan_dedicated(paths: list[str]) -> list[dict[str, Any]]:
    """The dedicated Gateways the function would add or reuse for the bundle at ``paths``."""
    outcome = transform(read_resources(paths), Config())
    errors = [r for r in outcome.results if r.level == "error"]
    if errors:
        raise BundleError(errors[0].one_line())
    return outcome.dedicated
