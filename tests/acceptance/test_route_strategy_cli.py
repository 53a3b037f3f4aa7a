"""The route strategy through the command line: explain names the shape per workload, the
chart generator refuses a bundle that needs routes, the files mode writes both objects."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

GOLDEN = Path(__file__).resolve().parent.parent / "golden"
CASE = GOLDEN / "route-plain-catch-all" / "input.yaml"


def _run(function_bin: Path, *args: str, cwd: Path | None = None
         ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(function_bin), *args], capture_output=True, text=True,
                          timeout=120, check=False, cwd=cwd)


def test_explain_names_the_strategy_per_workload(function_bin: Path) -> None:
    done = _run(function_bin, "explain", str(CASE))
    assert done.returncode == 0, done.stderr
    assert "Strategy (`auto`) per gateway workload:" in done.stdout
    assert "- gateway: added dedicated redirect Gateway" in done.stdout
    route = next(line for line in done.stdout.splitlines() if line.startswith("- route: "))
    assert "the dedicated '*' Gateway would change routing" in route


def test_the_chart_generator_refuses_a_bundle_that_needs_routes(function_bin: Path,
                                                                  tmp_path: Path) -> None:
    done = _run(function_bin, "chart", str(CASE), "--output", str(tmp_path / "chart"))
    assert done.returncode != 0
    assert "MHR030" in done.stderr
    assert "renders only the dedicated '*' Gateway" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "chart").exists() or not any((tmp_path / "chart").iterdir())


def test_files_mode_writes_the_route_objects_once(function_bin: Path, tmp_path: Path) -> None:
    work = tmp_path / "deploy"
    work.mkdir()
    (work / "gateways.yaml").write_text(CASE.read_text())
    first = _run(function_bin, "--in-place", str(work))
    assert first.returncode == 0, first.stderr
    written = {p.name: list(yaml.safe_load_all(p.read_text())) for p in work.glob("*.yaml")}
    kinds = sorted(d["kind"] for docs in written.values() for d in docs if d)
    assert kinds.count("VirtualService") >= 2  # the bundle's default backend and the redirect
    second = _run(function_bin, "--in-place", str(work))
    assert second.returncode == 0, second.stderr
    assert {p.name: list(yaml.safe_load_all(p.read_text())) for p in work.glob("*.yaml")} \
        == written
