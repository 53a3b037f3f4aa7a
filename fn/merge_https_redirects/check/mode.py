"""Check mode and ``explain`` on resources: no I/O (the hosts read and print)."""

from __future__ import annotations

from collections.abc import Sequence

from merge_https_redirects.check.report import check_results, explain_table
from merge_https_redirects.config import Config, check_options
from merge_https_redirects.model import http01
from merge_https_redirects.results import Result
from merge_https_redirects.rewrite.proof import after_values, merge
from merge_https_redirects.rewrite.resources import Outcome, Resource, values_of


def check_mode(resources: Sequence[Resource], config: Config) -> Outcome:
    """``mode: check``: nothing changes; one finding per DNS name that fails, and a summary."""
    outcome = Outcome()
    verdicts = http01.check(values_of(resources), check_options(config))
    outcome.results.extend(check_results(verdicts))
    return outcome


#: The results that say which shape serves a workload's redirect, and why.
STRATEGY_RULES = ("MHR002", "MHR003", "MHR030", "MHR031")


def explain(resources: Sequence[Resource], config: Config, other_paths: set[str]
            ) -> tuple[str, list[Result]]:
    """The before/after table of the proven rewrite, then per workload the strategy chosen
    and why (``auto``: the `*` Gateway where the simulation proves it, else routes); and the
    error results (refusals name, per shape, the host whose answer would change)."""
    options = check_options(config)
    outcome = merge(resources, config, other_paths)
    before = http01.check(values_of(resources), options)
    after = http01.check(after_values(resources, outcome), options)
    lines = [f"- {_strategy_of(r.rule.id)}: {r.message}" for r in outcome.results
             if r.rule.id in STRATEGY_RULES]
    text = explain_table(before, after)
    if lines:
        text += (f"\nStrategy (`{config.strategy}`) per gateway workload:\n\n"
                 + "\n".join(lines) + "\n")
    return text, [r for r in outcome.results if r.level == "error"]


def _strategy_of(rule_id: str) -> str:
    return "route" if rule_id in ("MHR030", "MHR031") else "gateway"
