"""Golden cases (tests/golden/<case>/), run through the real console script.

Stream cases (every folder not starting with ``krm-``):

- ``input.yaml``: a plain multi-document stream;
- ``config.yaml`` (optional): a functionConfig, passed with ``--config``;
- ``expected.yaml``: the expected stdout, byte for byte;
- ``results.yaml``: the expected results as the KRM ``results`` list (what ``Result.to_krm()``
  gives, in the function's order);
- ``exit_code`` (optional, default 0).

Each stream case runs twice over: as a stream (stdout compared byte for byte, stderr lines
compared with the results) and as a KRM ResourceList built from the same documents with the
config as ``functionConfig`` (items compared structurally with ``expected.yaml``, results
exactly with ``results.yaml``). Each run is then repeated on its own output: nothing may change.

KRM cases (``krm-*``): ``input.yaml`` is a whole ResourceList, ``expected.yaml`` the whole output
ResourceList (byte for byte) and ``results.yaml`` the results the run appended.

``UPDATE_GOLDEN=1`` rewrites ``expected.yaml``, ``results.yaml`` and ``exit_code`` from what the
function does now: read every rewritten file before committing it. A case holding a file named
``HAND_WRITTEN`` is never rewritten: its expected output was written by hand because the function
got it wrong when the case was added (the file says what was wrong).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

GOLDEN = Path(__file__).resolve().parent.parent / "golden"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
#: Results that report a change: a second run over the output must produce none of them.
CHANGE_RULES = {"MHR001", "MHR002", "MHR004", "MHR005", "MHR006"}

STREAM_CASES = sorted(
    p.name for p in GOLDEN.iterdir() if p.is_dir() and not p.name.startswith("krm-")
)
KRM_CASES = sorted(p.name for p in GOLDEN.iterdir() if p.is_dir() and p.name.startswith("krm-"))


def _run(binary: Path, stdin: bytes, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [str(binary), *args], input=stdin, capture_output=True, timeout=60, check=False
    )


def _docs(data: bytes) -> list[Any]:
    return [d for d in yaml.safe_load_all(data) if d is not None]


def _dump(value: Any) -> str:
    return yaml.safe_dump(value, sort_keys=False, width=4096, allow_unicode=True)


def _expected(case: Path) -> tuple[bytes, list[dict[str, Any]], int]:
    """The case's expected stdout, results (their shape checked) and exit code."""
    results = yaml.safe_load((case / "results.yaml").read_text()) or []
    _check_results_shape(results)
    return (case / "expected.yaml").read_bytes(), results, _expected_exit(case)


def _expected_exit(case: Path) -> int:
    path = case / "exit_code"
    return int(path.read_text().strip()) if path.exists() else 0


def _write_golden(case: Path, stdout: bytes, results: list[Any], code: int) -> None:
    if (case / "HAND_WRITTEN").exists():
        return
    (case / "expected.yaml").write_bytes(stdout)
    (case / "results.yaml").write_text(_dump(results))
    if code:
        (case / "exit_code").write_text(f"{code}\n")
    elif (case / "exit_code").exists():
        (case / "exit_code").unlink()


def _resource_list(case: Path, items: list[Any]) -> bytes:
    rl: dict[str, Any] = {
        "apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": items,
    }
    if (case / "config.yaml").exists():
        rl["functionConfig"] = yaml.safe_load((case / "config.yaml").read_text())
    return _dump(rl).encode()


def _check_stderr(stderr: bytes, results: list[dict[str, Any]]) -> None:
    """Stream mode prints one line per result: severity, rule ID, the message."""
    lines = [line for line in stderr.decode().splitlines() if line.strip()]
    assert len(lines) == len(results), stderr.decode()
    for line, result in zip(lines, results, strict=True):
        prefix = f"{result['severity']} {result['tags']['rule']}"
        assert line.startswith(prefix), (line, prefix)
        assert result["message"].replace("\n", " ") in line, (line, result["message"])
        ref = result.get("resourceRef")
        if ref and ref.get("name"):
            assert ref["name"] in line, (line, ref)


def _check_results_shape(results: list[dict[str, Any]]) -> None:
    for result in results:
        assert result["severity"] in ("error", "warning", "info")
        assert result["tags"]["rule"].startswith("MHR")
        assert result["message"]
    assert [r["tags"]["rule"] for r in results].count("MHR000") <= 1


@pytest.mark.parametrize("name", STREAM_CASES)
def test_stream_case(name: str, function_bin: Path) -> None:
    case = GOLDEN / name
    source = (case / "input.yaml").read_bytes()
    args = ["--config", str(case / "config.yaml")] if (case / "config.yaml").exists() else []
    first = _run(function_bin, source, *args)
    if UPDATE:
        krm = _run(function_bin, _resource_list(case, _docs(source)))
        results = yaml.safe_load(krm.stdout).get("results") or []
        _write_golden(case, first.stdout, results, first.returncode)
    expected, results, code = _expected(case)

    assert first.returncode == code, first.stderr.decode()
    assert first.stdout == expected
    _check_stderr(first.stderr, results)

    # Idempotent: the output run again comes back byte for byte, reporting no change.
    second = _run(function_bin, first.stdout, *args)
    assert second.returncode == code, second.stderr.decode()
    assert second.stdout == first.stdout
    for line in second.stderr.decode().splitlines():
        assert line.split(" ")[1] not in CHANGE_RULES, line


@pytest.mark.parametrize("name", STREAM_CASES)
def test_stream_case_as_resource_list(name: str, function_bin: Path) -> None:
    """The same case through KRM mode: same items, exactly the results of results.yaml."""
    if UPDATE:
        pytest.skip("updating golden files")
    case = GOLDEN / name
    items = _docs((case / "input.yaml").read_bytes())
    run = _run(function_bin, _resource_list(case, items))
    assert run.returncode == _expected_exit(case), run.stderr.decode()
    out = yaml.safe_load(run.stdout)
    assert out["apiVersion"] == "config.kubernetes.io/v1"
    assert out["kind"] == "ResourceList"
    assert out["items"] == _docs((case / "expected.yaml").read_bytes())
    assert out.get("results") == (yaml.safe_load((case / "results.yaml").read_text()) or None)
    if (case / "config.yaml").exists():
        assert out["functionConfig"] == yaml.safe_load((case / "config.yaml").read_text())

    # Idempotent in KRM mode too: feed the output back (its results are kept and appended to).
    again = _run(function_bin, run.stdout)
    assert again.returncode == run.returncode, again.stderr.decode()
    out2 = yaml.safe_load(again.stdout)
    assert out2["items"] == out["items"]
    previous = out.get("results") or []
    assert out2["results"][: len(previous)] == previous
    assert not {r["tags"]["rule"] for r in out2["results"][len(previous):]} & CHANGE_RULES


@pytest.mark.parametrize("name", KRM_CASES)
def test_krm_case(name: str, function_bin: Path) -> None:
    case = GOLDEN / name
    source = (case / "input.yaml").read_bytes()
    previous = yaml.safe_load(source).get("results") or []
    first = _run(function_bin, source)
    if UPDATE:
        appended = (yaml.safe_load(first.stdout).get("results") or [])[len(previous):]
        _write_golden(case, first.stdout, appended, first.returncode)
    expected, results, code = _expected(case)

    assert first.returncode == code, first.stderr.decode()
    assert first.stdout == expected
    inp, out = yaml.safe_load(source), yaml.safe_load(first.stdout)
    assert out["apiVersion"] == inp["apiVersion"]  # the version received is echoed
    assert out.get("functionConfig") == inp.get("functionConfig")
    assert out["results"][: len(previous)] == previous  # existing results kept, first
    assert out["results"][len(previous):] == results
    # KRM mode reports only problems on stderr.
    problems = [r for r in results if r["severity"] in ("error", "warning")]
    assert len([ln for ln in first.stderr.decode().splitlines() if ln.strip()]) == len(problems)

    again = _run(function_bin, first.stdout)
    assert again.returncode == code, again.stderr.decode()
    out2 = yaml.safe_load(again.stdout)
    assert out2["items"] == out["items"]
    new = out2["results"][len(out["results"]):]
    assert not {r["tags"]["rule"] for r in new} & CHANGE_RULES
    # Only the results grow: everything before them is byte for byte the first output.
    head = first.stdout[: first.stdout.index(b"\nresults:")]
    assert again.stdout.startswith(head)


#: Conflict cases: (the plain or non-HTTP server, the redirect server it conflicts with).
CONFLICT_PARTIES = {
    "conflict-plain-catch-all": ("istio-system/acme-solver", "shop/shop"),
    "conflict-plain-any-namespace": (
        "istio-system/tls-istio-autogenerated-k8s-ingress-bar", "bar/foo"),
    "conflict-plain-same-host": ("istio-system/tunnel", "istio-system/lag0-gateway"),
    "conflict-plain-wildcard-covers": (
        "istio-system/apps spec.servers[0]", "istio-system/apps spec.servers[1]"),
    "conflict-non-http": ("istio-system/legacy-tcp", "istio-system/web"),
}


@pytest.mark.parametrize("name", sorted(CONFLICT_PARTIES))
def test_conflict_error_names_both_servers(name: str, function_bin: Path) -> None:
    """"an error result explaining which servers conflict and why": the error names the plain
    server AND the redirect server it collides with, so the user knows what to reconcile."""
    case = GOLDEN / name
    items = _docs((case / "input.yaml").read_bytes())
    run = _run(function_bin, _resource_list(case, items))
    assert run.returncode == 1
    errors = [r for r in yaml.safe_load(run.stdout)["results"] if r["severity"] == "error"]
    assert errors
    assert all(r["tags"]["rule"] == "MHR008" for r in errors)
    plain, redirect = CONFLICT_PARTIES[name]
    message = " ".join(r["message"] for r in errors)
    assert plain in message
    assert redirect in message, f"the conflict error does not name the redirect server: {message}"
