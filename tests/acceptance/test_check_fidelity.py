"""Check mode and explain tell the truth (issue 16): refusals in the "after" column and the exit
code, unknown names never silent."""

from __future__ import annotations

import subprocess
from pathlib import Path

GOLDEN = Path(__file__).resolve().parent.parent / "golden"

ISSUER_AND_CERTIFICATE = """\
apiVersion: cert-manager.io/v1
kind: ClusterIssuer
metadata: {name: le}
spec:
  acme:
    server: https://acme.example/directory
    privateKeySecretRef: {name: le}
    solvers: [{http01: {ingress: {class: istio}}}]
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: lag0, namespace: istio-system}
spec:
  secretName: lag0-tls
  dnsNames: [www.lag0.example]
  issuerRef: {name: le, kind: ClusterIssuer}
---
"""


def _run(function_bin: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(function_bin), *args], capture_output=True, text=True,
                          timeout=120, check=False)


def test_explain_says_refused_and_fails(function_bin: Path, tmp_path: Path) -> None:
    """A refused rewrite: the "after" column says so (with the rule) instead of repeating the
    "before" verdict as the result of the rewrite, and the run exits 1."""
    bundle = tmp_path / "bundle.yaml"
    bundle.write_text(ISSUER_AND_CERTIFICATE
                      + (GOLDEN / "conflict-plain-same-host" / "input.yaml").read_text())
    done = _run(function_bin, "explain", str(bundle))
    assert done.returncode == 1, done.stdout + done.stderr
    row = next(line for line in done.stdout.splitlines() if line.startswith("| www.lag0"))
    assert "| redirected | refused (MHR008): redirected |" in row
    assert "error MHR008" in done.stderr


def test_check_mode_fails_on_names_it_cannot_judge(function_bin: Path) -> None:
    case = GOLDEN / "check-unknown-issuer"
    done = _run(function_bin, "--config", str(case / "config.yaml"), str(case / "input.yaml"))
    assert done.returncode == 1
    assert "2 unknown" in done.stderr
    assert done.stderr.count("error MHR026") == 2


def test_explain_warns_when_a_pass_rests_on_assumed_pods(function_bin: Path) -> None:
    """The bundle's only Gateway selects app=rancher-ingressgateway: the pass on the assumed
    istio=ingressgateway pods is said to be an assumption."""
    done = _run(function_bin, "explain",
                str(GOLDEN / "check-assumed-workload-unselected" / "input.yaml"))
    assert done.returncode == 0, done.stderr
    assert "warning MHR028" in done.stderr
    assert "| pass |" in done.stdout


def _golden_verdicts(case: Path) -> dict[str, set[str]]:
    """Per DNS name, the verdicts the golden's check-mode results give it (failures, unknown
    and out-of-scope names by their tags; passing names by the summary)."""
    import re

    import yaml

    out: dict[str, set[str]] = {}
    for result in yaml.safe_load((case / "results.yaml").read_text()) or []:
        tags = result.get("tags", {})
        if "dnsName" in tags and "verdict" in tags:
            out.setdefault(tags["dnsName"], set()).add(tags["verdict"])
        elif tags.get("rule") == "MHR020":
            passing = re.search(r"name\(s\) pass \(([^)]*)\)", result["message"])
            for name in passing.group(1).split(", ") if passing else ():
                out.setdefault(name, set()).add("pass")
    return out


def test_explain_agrees_with_check_mode_on_every_gateway_api_golden(function_bin: Path) -> None:
    """``explain``'s "before" verdict of every name is the one check mode gives it in each
    ``check-gwapi-*`` golden."""
    cases = sorted(p for p in GOLDEN.glob("check-gwapi-*") if p.is_dir())
    assert len(cases) >= 18
    for case in cases:
        expected = _golden_verdicts(case)
        assert expected, case.name
        done = _run(function_bin, "explain", str(case / "input.yaml"))
        rows = [[c.strip() for c in line.strip("|").split(" | ")]
                for line in done.stdout.splitlines()
                if line.startswith("| ") and not line.startswith(("| name ", "| ---"))]
        table: dict[str, set[str]] = {}
        for row in rows:
            table.setdefault(row[0], set()).add(row[4])
        assert table == expected, (case.name, done.stdout, done.stderr)
