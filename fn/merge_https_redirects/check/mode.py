"""Check mode and ``explain`` on resources: no I/O (the hosts read and print)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from merge_https_redirects.check.report import check_results, explain_table
from merge_https_redirects.config import Config, check_options
from merge_https_redirects.model import http01
from merge_https_redirects.model.gateway import is_subset
from merge_https_redirects.model.workloads import gateway_selectors
from merge_https_redirects.results import ResourceRef, Result
from merge_https_redirects.rewrite.proof import after_values, merge
from merge_https_redirects.rewrite.resources import Outcome, Resource, values_of
from merge_https_redirects.rules import rule


def check_mode(resources: Sequence[Resource], config: Config) -> Outcome:
    """``mode: check``: nothing changes; one finding per DNS name that fails, and a summary."""
    outcome = Outcome()
    values = values_of(resources)
    options = check_options(config)
    verdicts = http01.check(values, options)
    outcome.results.extend(check_results(verdicts, config.fail_on_unknown))
    outcome.results.extend(_unselected_assumptions(values, options, verdicts))
    outcome.results.extend(gateway_assumptions(verdicts))
    _, overridden = http01.issuers_with(values, options)
    for issuer in overridden:
        outcome.results.append(Result(
            rule("MHR027"), f"{issuer.label} of the issuers setting is also in the input: the "
            "input's copy is judged",
            resource=ResourceRef(issuer.api_version, issuer.kind, issuer.name,
                                 issuer.namespace)))
    return outcome


#: The results that say which shape serves a workload's redirect, and why.
STRATEGY_RULES = ("MHR002", "MHR003", "MHR030", "MHR031")


def _unselected_assumptions(values: Sequence[Mapping[str, Any]], options: http01.CheckOptions,
                            verdicts: Sequence[http01.NameVerdict]) -> list[Result]:
    """A pass judged on assumed pods that none of the bundle's own Gateways selects proves
    little (a bundle whose only Gateway selects ``app: rancher-ingressgateway`` passed on the
    assumed ``istio=ingressgateway`` pods): say so."""
    # Gateway API names are judged on their Gateway's pods, never on assumed ones
    if not any(v.verdict == "pass" and v.solver.startswith("http01.ingress")
               for v in verdicts):
        return []
    selectors = [dict(s) for s in gateway_selectors(values)]
    out = []
    for w in http01.gateway_workloads(values, options):
        if w.assumed and not any(is_subset(s, w.label_map) for s in selectors):
            out.append(Result(rule("MHR028"), (
                f"the names that pass were judged on {w.describe()}, which none of the "
                "bundle's Gateways selects: set gatewayLabels to the gateway pods' labels")))
    return out


def gateway_assumptions(verdicts: Sequence[http01.NameVerdict]) -> list[Result]:
    """MHR041: a Gateway API name that passes on an assumption (a namespace selector run
    against a Namespace that is not in the input, a manually deployed Gateway's unknown pods)
    says which, as MHR028 does for assumed pods of the Ingress solver."""
    out: list[Result] = []
    seen: set[tuple[object, ...]] = set()
    for v in verdicts:
        if v.verdict != "pass" or not v.solver.startswith("http01.gatewayHTTPRoute"):
            continue
        for assumed in v.assumed:
            if (v.key, assumed) not in seen:
                seen.add((v.key, assumed))
                out.append(Result(rule("MHR041"), f"{v.name}: passes on an assumption: "
                                  f"{assumed}", resource=v.subject, field_path=v.field_path,
                                  extra_tags=(("dnsName", v.name), ("verdict", v.verdict))))
    return out


def explain(resources: Sequence[Resource], config: Config, other_paths: set[str]
            ) -> tuple[str, list[Result]]:
    """The before/after table of the proven rewrite, then per workload the strategy chosen
    and why (``auto``: the `*` Gateway where the simulation proves it, else routes); and the
    findings for stderr: the error results (refusals name, per shape, the host whose answer
    would change) and a warning when a pass rests on assumed pods no Gateway selects."""
    options = check_options(config)
    outcome = merge(resources, config, other_paths)
    before = http01.check(values_of(resources), options)
    after = http01.check(after_values(resources, outcome), options)
    lines = [f"- {_strategy_of(r.rule.id)}: {r.message}" for r in outcome.results
             if r.rule.id in STRATEGY_RULES]
    refusal = next((r.rule.id for r in outcome.results
                    if r.rule.id in ("MHR008", "MHR009", "MHR011")), None)
    text = explain_table(before, after, refusal)
    notes = [r for r in outcome.results if r.level == "error"]
    notes += _unselected_assumptions(values_of(resources), options, [*before, *after])
    notes += gateway_assumptions([*before, *after])
    if lines:
        text += (f"\nStrategy (`{config.strategy}`) per gateway workload:\n\n"
                 + "\n".join(lines) + "\n")
    return text, notes


def _strategy_of(rule_id: str) -> str:
    return "route" if rule_id in ("MHR030", "MHR031") else "gateway"
