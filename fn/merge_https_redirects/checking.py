"""Glue between the rewrite and the HTTP-01 checker.

- ``mode: check``: change nothing, report per DNS name whether the challenge would pass;
- the merge guard: the rewrite must not change which names pass nor stop redirecting a host
  that was redirected (else: error ``MHR011`` and no change at all);
- ``explain``: the before/after table for a pull request;
- ``plan_dedicated``: the dedicated Gateways for the chart generator.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from merge_https_redirects import http01, yamlio
from merge_https_redirects.config import Config, ConfigProblems, parse_config
from merge_https_redirects.results import Result
from merge_https_redirects.rules import rule
from merge_https_redirects.transform import Outcome, Resource, transform, wanted


def options_for(config: Config) -> http01.CheckOptions:
    return http01.CheckOptions(
        ingress_selector=dict(config.ingress_selector),
        ingress_class=config.ingress_class,
        workload_labels=dict(config.gateway_labels) if config.gateway_labels else None,
    )


def _values(resources: Sequence[Resource]) -> list[dict[str, Any]]:
    """Full values of the resources the checker reads (local config excluded)."""
    out = []
    for res in resources:
        if res.local_config or res.load is None:
            continue
        value = res.value
        if value is not None:
            out.append(value)
    return out


def after_values(resources: Sequence[Resource], outcome: Outcome) -> list[dict[str, Any]]:
    """The checker's view of the bundle once ``outcome`` is applied."""
    out = []
    for res in resources:
        if res.local_config or res.load is None:
            continue
        change = outcome.changes.get(res.position)
        if change is not None and change.delete:
            continue
        value = res.value
        if value is None:
            continue
        out.append(yamlio.apply_removals(value, change.remove) if change else value)
    return out + list(outcome.added)


def check_mode(resources: Sequence[Resource], config: Config) -> Outcome:
    outcome = Outcome()
    verdicts = http01.check(_values(resources), options_for(config))
    outcome.results.extend(http01.check_results(verdicts))
    return outcome


def guard(resources: Sequence[Resource], config: Config, outcome: Outcome) -> Outcome:
    """Refuse a rewrite that would break a passing name or drop a redirect (a bug guard)."""
    if not outcome.changes and not outcome.added:
        return outcome
    problems = http01.regressions(_values(resources), after_values(resources, outcome),
                                  options=options_for(config))
    if not problems:
        return outcome
    refused = Outcome()
    refused.results = [r for r in outcome.results if r.level != "info"]
    refused.results += [Result(rule("MHR011"), f"{p}; nothing was changed") for p in problems]
    return refused


class BundleError(Exception):
    """The bundle given to a subcommand could not be read (one line, names the place)."""


def read_resources(paths: Sequence[str]) -> tuple[list[Resource], set[str]]:
    """Resources from files/directories (``-`` or nothing: stdin), as the CLI reads them, and
    the path annotations of the resources the function does not read."""
    from merge_https_redirects.files import FilesError, _resources, discover, load_sources

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
    resources, other_paths = read_resources(paths)
    outcome = transform(resources, load_config(config_path), other_paths)
    errors = [r for r in outcome.results if r.level == "error"]
    if errors:
        raise BundleError(errors[0].one_line())
    return outcome.dedicated


def explain_main(argv: list[str]) -> int:
    """``merge-https-redirects explain [--config FILE] PATH...``: a Markdown table per name."""
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
    options = options_for(config)
    outcome = transform(resources, config, other_paths)
    before = http01.check(_values(resources), options)
    after = http01.check(after_values(resources, outcome), options)
    sys.stdout.write(http01.explain_table(before, after) + "\n")
    for result in outcome.results:
        if result.level == "error":
            sys.stderr.write(result.one_line() + "\n")
    return 0


__all__ = ["check_mode", "explain_main", "guard", "plan_dedicated", "wanted"]
