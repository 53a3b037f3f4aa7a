"""What check mode and ``explain`` report: findings per DNS name and the before/after table.

The verdicts themselves come from the model (:func:`..model.http01.check`); this layer only
turns them into results and text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from merge_https_redirects.model.http01 import NameVerdict
from merge_https_redirects.results import Result, sorted_results
from merge_https_redirects.rules import rule

_FAIL_RULES = {"redirected": "MHR021", "unroutable": "MHR022", "impossible": "MHR023"}


def check_results(verdicts: Sequence[NameVerdict], fail_on_unknown: bool = True
                  ) -> list[Result]:
    """KRM results: one error per failing name, one info per out-of-scope name, warnings for
    missing issuers and legacy APIs, and one summary."""
    results: list[Result] = []
    seen: set[tuple[Any, ...]] = set()
    for v in verdicts:
        tags = (("dnsName", v.name), ("verdict", v.verdict))
        if v.verdict in _FAIL_RULES:
            results.append(Result(rule(v.rule or _FAIL_RULES[v.verdict]),
                                  f"{v.name}: {v.verdict}: {v.cause}",
                                  resource=v.subject, field_path=v.field_path, extra_tags=tags))
        elif v.verdict == "unknown":
            # never a silent pass: a name nobody judged fails the check unless configured
            results.append(Result(rule("MHR026"), f"{v.name}: unknown: {v.cause}",
                                  severity=None if fail_on_unknown else "warning",
                                  resource=v.subject, field_path=v.field_path, extra_tags=tags))
        elif v.verdict == "out-of-scope":
            results.append(Result(rule("MHR024"), f"{v.name}: out of scope: {v.cause}",
                                  resource=v.subject, field_path=v.field_path, extra_tags=tags))
        if v.issuer_missing and ("MHR025", v.subject, v.issuer) not in seen:
            seen.add(("MHR025", v.subject, v.issuer))
            results.append(Result(rule("MHR025"),
                                  f"{v.issuer.removesuffix(' (missing)')} is not in the input",
                                  resource=v.subject))
        for issuer, warning in v.issuer_warnings:
            if ("MHR012", issuer, warning) not in seen:
                seen.add(("MHR012", issuer, warning))
                results.append(Result(rule("MHR012"), warning, resource=issuer))
        for warning in v.warnings:
            if ("MHR012", v.subject, warning) not in seen:
                seen.add(("MHR012", v.subject, warning))
                results.append(Result(rule("MHR012"), warning, resource=v.subject))
    passing = sorted({v.name for v in verdicts if v.verdict == "pass"})
    failing = [v for v in verdicts if v.verdict in _FAIL_RULES]
    out_of_scope = [v for v in verdicts if v.verdict == "out-of-scope"]
    unknown = [v for v in verdicts if v.verdict == "unknown"]
    if not verdicts:
        summary = ("HTTP-01 check: no Certificate or cert-manager-annotated Ingress in the input "
                   "names a DNS name")
    else:
        summary = (f"HTTP-01 check: {len(passing)} name(s) pass"
                   + (f" ({', '.join(passing)})" if passing else "")
                   + f", {len(failing)} fail, {len(unknown)} unknown, "
                   f"{len(out_of_scope)} out of scope")
    results.append(Result(rule("MHR020"), summary))
    return sorted_results(results)


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").strip() or "-"


def explain_table(before: Sequence[NameVerdict], after: Sequence[NameVerdict],
                  refused: str | None = None) -> str:
    """A Markdown table, one row per name, ready to paste into a pull request. ``refused``:
    the rule of the run's refusal; a name that fails before and after then says so in the
    "after" column instead of repeating the verdict as if the rewrite had left it so."""
    lines = ["| name | resource | issuer | solver | before | after | cause |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    after_by_key = {v.key: v for v in after}
    before_keys = {v.key for v in before}
    rows: list[tuple[NameVerdict | None, NameVerdict | None]] = [
        (v, after_by_key.get(v.key)) for v in before
    ] + [(None, v) for v in after if v.key not in before_keys]
    for old, new in rows:
        ref = new or old
        assert ref is not None
        if old is not None and new is not None and old.verdict != new.verdict:
            cause = f"before: {old.cause}; after: {new.cause}"
        else:
            cause = ref.cause
        after_cell: str = new.verdict if new else "-"
        if (refused and old is not None and new is not None and old.verdict == new.verdict
                and new.verdict in _FAIL_RULES):
            after_cell = f"refused ({refused}): {new.verdict}"
        lines.append("| " + " | ".join(_cell(c) for c in (
            ref.name, str(ref.subject), ref.issuer, ref.solver,
            old.verdict if old else "-", after_cell, cause,
        )) + " |")
    if not rows:
        lines.append("| - | - | - | - | - | - | no Certificate or cert-manager-annotated Ingress "
                     "names a DNS name |")
    return "\n".join(lines) + "\n"
