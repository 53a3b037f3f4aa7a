"""Glue between the rewrite and the HTTP-01 checker (``mode: check`` and the merge guard)."""

from __future__ import annotations

from collections.abc import Sequence

from merge_https_redirects.config import Config
from merge_https_redirects.results import Result
from merge_https_redirects.rules import rule
from merge_https_redirects.transform import Outcome, Resource


def check_mode(resources: Sequence[Resource], config: Config) -> Outcome:
    outcome = Outcome()
    outcome.results.append(Result(rule("MHR100"), "mode `check` is not available yet"))
    return outcome


def guard(resources: Sequence[Resource], config: Config, outcome: Outcome) -> Outcome:
    return outcome
