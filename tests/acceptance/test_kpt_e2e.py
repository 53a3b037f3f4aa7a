"""End to end with the real kpt on the machine (``kpt fn render --allow-exec``, ``kpt fn eval
--exec``), and the repository's own top-level Kptfile rendering examples/seed."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from _integrations import site_gateway

pytestmark = pytest.mark.slow

GOLDEN = Path(__file__).resolve().parent.parent / "golden"
SEED_FILES = ("gateway.yaml", "virtualservice.yaml", "certificate.yaml", "clusterissuer.yaml")


def _kptfile(exec_path: str) -> str:
    return f"""\
apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: ingress
  annotations:
    config.kubernetes.io/local-config: "true"
pipeline:
  mutators:
    - exec: {exec_path}
"""


def _package(root: Path, repo_root: Path, function_bin: Path) -> Path:
    """The seed, a flow-style two-selector bundle in a sub-directory, and a file already
    occupying the path a new dedicated Gateway would get."""
    pkg = root / "ingress"
    (pkg / "gateways").mkdir(parents=True)
    for name in SEED_FILES:
        shutil.copy(repo_root / "examples" / "seed" / name, pkg / name)
    shutil.copy(GOLDEN / "two-selectors" / "input.yaml", pkg / "gateways" / "selectors.yaml")
    (pkg / "gateways" / "http-to-https-redirect.yaml").write_text(
        "# notes, not a Gateway\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\n"
        "data:\n  enabled: \"yes\"\n"
    )
    (pkg / "Kptfile").write_text(_kptfile(str(function_bin)))
    return pkg


def _kpt(kpt_bin: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(kpt_bin), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, check=False)


def _snapshot(pkg: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(p.relative_to(pkg)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(pkg.rglob("*")) if p.is_file()
    }


def _docs(path: Path) -> list[dict[str, object]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def _check_seed(pkg: Path) -> None:
    text = (pkg / "gateway.yaml").read_text()
    general, lcc = _docs(pkg / "gateway.yaml")
    assert general["metadata"]["name"] == "http-general-gateway"  # kept as is: the dedicated one
    assert general["spec"]["servers"][0]["tls"] == {"httpsRedirect": True}
    assert lcc["metadata"]["name"] == "lcc3108-gateway"
    assert [s["port"]["number"] for s in lcc["spec"]["servers"]] == [443]  # port 80 gone
    assert "# The catch-all redirect already in the cluster" in text
    assert "# Per-host Gateway: its port-80 redirect server" in text
    assert "the line that breaks HTTP-01" not in text  # went with its server
    vs = _docs(pkg / "virtualservice.yaml")[0]
    assert vs["spec"]["gateways"] == ["istio-system/lcc3108-gateway"]


def test_render_twice(kpt_bin: Path, function_bin: Path, repo_root: Path,
                      tmp_path: Path) -> None:
    pkg = _package(tmp_path, repo_root, function_bin)
    notes = (pkg / "gateways" / "http-to-https-redirect.yaml")
    notes_before = notes.read_bytes()
    first = _kpt(kpt_bin, "fn", "render", "--allow-exec", str(pkg), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    _check_seed(pkg)

    # The other selector gets a new dedicated Gateway (the first new one: plain `name`) in a new
    # file beside its source, never overwriting the file that already holds that name.
    assert notes.read_bytes() == notes_before
    new = sorted(p.name for p in (pkg / "gateways").iterdir())
    assert new == [
        "http-to-https-redirect-2.yaml",
        "http-to-https-redirect.yaml",
        "selectors.yaml",
    ]
    dedicated = _docs(pkg / "gateways" / new[0])
    assert len(dedicated) == 1
    assert dedicated[0]["spec"] == {
        "selector": {"istio": "ingressgateway-internal", "topology.istio.io/network": "corp"},
        "servers": [{"port": {"number": 80, "name": "http", "protocol": "HTTP"},
                     "hosts": ["*"], "tls": {"httpsRedirect": True}}],
    }
    assert not any(k.startswith("internal.config.kubernetes.io/")
                   for k in (dedicated[0]["metadata"].get("annotations") or {}))
    # istio=ingressgateway reuses the seed's catch-all: no second '*' redirect for it (IST0145).
    assert sorted(p.name for p in pkg.iterdir()) == sorted([*SEED_FILES, "Kptfile", "gateways"])
    selectors = (pkg / "gateways" / "selectors.yaml").read_text()
    assert "# Public and internal ingress gateways" in selectors
    assert "httpsRedirect: true" not in selectors

    # Second render: no file changes, no file appears or disappears.
    before = _snapshot(pkg)
    second = _kpt(kpt_bin, "fn", "render", "--allow-exec", str(pkg), cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    after = _snapshot(pkg)
    assert {k: v[0] for k, v in after.items()} == {k: v[0] for k, v in before.items()}
    if {k: v[1] for k, v in after.items()} != {k: v[1] for k, v in before.items()}:
        # kpt render rewrites every file of the package, whatever the functions do: show that
        # a pass-through function touches them too, so the function is not the cause.
        (pkg / "Kptfile").write_text(_kptfile(shutil.which("cat") or "/bin/cat"))
        baseline = _snapshot(pkg)
        cat = _kpt(kpt_bin, "fn", "render", "--allow-exec", str(pkg), cwd=tmp_path)
        assert cat.returncode == 0, cat.stderr
        touched = _snapshot(pkg)
        assert {k: v[0] for k, v in touched.items()} == {k: v[0] for k, v in baseline.items()}
        assert all(touched[k][1] != baseline[k][1] for k in baseline if k != "Kptfile")

    # Checked last so a failure here does not hide the rest: kept servers keep their style (the
    # flow maps of the 443 servers are not rewritten in block style).
    assert "  - port: {number: 443, name: https, protocol: HTTPS}\n" in selectors, selectors


def test_eval_exec(kpt_bin: Path, function_bin: Path, repo_root: Path, tmp_path: Path) -> None:
    pkg = _package(tmp_path, repo_root, function_bin)
    run = _kpt(kpt_bin, "fn", "eval", "--exec", str(function_bin), str(pkg), cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    _check_seed(pkg)
    assert "removed 3 redirect server(s) from 3 Gateway(s)" in run.stderr
    assert (pkg / "gateways" / "http-to-https-redirect-2.yaml").exists()
    # eval again: nothing left to do.
    before = {k: v[0] for k, v in _snapshot(pkg).items()}
    again = _kpt(kpt_bin, "fn", "eval", "--exec", str(function_bin), str(pkg), cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert {k: v[0] for k, v in _snapshot(pkg).items()} == before
    assert "removed 0 redirect server(s)" in again.stderr


def test_eval_conflict_fails_and_leaves_package(kpt_bin: Path, function_bin: Path,
                                                tmp_path: Path) -> None:
    pkg = tmp_path / "conflict"
    pkg.mkdir()
    shutil.copy(GOLDEN / "conflict-plain-same-host" / "input.yaml", pkg / "gateways.yaml")
    before = (pkg / "gateways.yaml").read_bytes()
    run = _kpt(kpt_bin, "fn", "eval", "--exec", str(function_bin), str(pkg), cwd=tmp_path)
    assert run.returncode != 0
    assert "MHR008" in run.stderr or "tunnel" in run.stderr
    assert (pkg / "gateways.yaml").read_bytes() == before


def test_repository_kptfile_renders_seed(kpt_bin: Path, repo_root: Path, tmp_path: Path) -> None:
    """The top-level Kptfile (+ .krmignore) renders examples/seed in a copy of the repository."""
    venv = repo_root / ".venv" / "bin" / "merge-https-redirects"
    if not venv.exists():
        pytest.skip(".venv/bin/merge-https-redirects is absent")
    copy = tmp_path / "repo"
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=repo_root, capture_output=True,
                             check=True).stdout.decode().split("\0")
    for rel in [t for t in tracked if t] + ["Kptfile", ".krmignore"]:
        source = repo_root / rel
        if source.is_file():
            (copy / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy / rel)
    os.symlink(repo_root / ".venv", copy / ".venv")
    before = {p: p.read_bytes() for p in copy.rglob("*") if p.is_file() and ".venv" not in p.parts}

    # kpt renders every subpackage too (a .krmignore cannot hide a directory holding a
    # Kptfile): the kpt examples run the function from PATH, as the README says.
    env = {**os.environ, "PATH": f"{repo_root / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    run = subprocess.run([str(kpt_bin), "fn", "render", "--allow-exec"], cwd=copy, env=env,
                         capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stderr
    _check_seed(copy / "examples" / "seed")
    changed = sorted(str(p.relative_to(copy)) for p, data in before.items()
                     if not p.exists() or p.read_bytes() != data)
    assert "examples/seed/gateway.yaml" in changed
    packages = {"examples/seed/", "examples/kpt-render/", "examples/kpt-validate/"}
    assert all(any(c.startswith(p) for p in packages) for c in changed), changed
    new = sorted(str(p.relative_to(copy)) for p in copy.rglob("*")
                 if p.is_file() and p not in before and ".venv" not in p.parts)
    assert all(any(n.startswith(p) for p in packages) for n in new), new
    assert not any(n.startswith("examples/seed/") for n in new), new  # seed reuses its Gateway


def _gateways(pkg: Path) -> dict[tuple[str, str], list[dict[str, object]]]:
    found: dict[tuple[str, str], list[dict[str, object]]] = {}
    for path in sorted(pkg.rglob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and doc.get("kind") == "Gateway":
                meta = doc["metadata"]
                found.setdefault((meta["namespace"], meta["name"]), []).append(doc)
    return found


def test_nested_packages_that_each_run_the_function(
    kpt_bin: Path, function_bin: Path, tmp_path: Path
) -> None:
    """A root package and two subpackages, each running the function: every subpackage keeps
    its dedicated Gateway (the same object in each), the root's own per-host redirect reuses
    it, there is one dedicated Gateway per workload, and rendering again changes nothing."""
    root = tmp_path / "platform"
    for sub in ("shop", "blog"):
        (root / sub).mkdir(parents=True)
        (root / sub / "Kptfile").write_text(_kptfile(str(function_bin)).replace(
            "name: ingress", f"name: {sub}"))
        (root / sub / "gateway.yaml").write_text(site_gateway(sub))
    (root / "Kptfile").write_text(_kptfile(str(function_bin)).replace("name: ingress",
                                                                        "name: platform"))
    (root / "status.yaml").write_text(site_gateway("status"))

    first = _kpt(kpt_bin, "fn", "render", "--allow-exec", cwd=root)
    assert first.returncode == 0, first.stderr
    gateways = _gateways(root)
    dedicated = [k for k, docs in gateways.items()
                 if all(s["hosts"] == ["*"] for d in docs for s in d["spec"]["servers"])]
    assert dedicated == [("istio-system", "http-to-https-redirect")]  # one per workload
    copies = gateways[dedicated[0]]
    assert len(copies) == 2  # shop/ and blog/ each keep theirs
    assert (root / "shop" / "http-to-https-redirect.yaml").is_file()
    assert (root / "blog" / "http-to-https-redirect.yaml").is_file()
    assert not (root / "http-to-https-redirect.yaml").exists()  # the root reused it
    for name in ("shop", "blog", "status"):
        (site,) = gateways[("istio-system", name)]
        assert [s["port"]["number"] for s in site["spec"]["servers"]] == [443]

    before = _snapshot(root)
    again = _kpt(kpt_bin, "fn", "render", "--allow-exec", cwd=root)
    assert again.returncode == 0, again.stderr
    assert {k: v[0] for k, v in _snapshot(root).items()} == {k: v[0] for k, v in before.items()}


def test_nested_packages_with_different_copies_fail_loudly(
    kpt_bin: Path, function_bin: Path, tmp_path: Path
) -> None:
    """Two subpackages defining one Gateway differently: the render fails naming both files."""
    root = tmp_path / "platform"
    for sub in ("a", "b"):
        (root / sub).mkdir(parents=True)
        (root / sub / "gateway.yaml").write_text(
            site_gateway("site").replace("site.example.com", f"{sub}.example.com"))
    (root / "Kptfile").write_text(_kptfile(str(function_bin)))
    done = _kpt(kpt_bin, "fn", "render", "--allow-exec", cwd=root)
    assert done.returncode != 0
    assert "MHR013" in done.stderr
    assert "a/gateway.yaml" in done.stderr
    assert "b/gateway.yaml" in done.stderr


CHECK_GOLDENS = sorted(p.name for p in GOLDEN.iterdir() if p.name.startswith("check-"))


@pytest.mark.parametrize("case", CHECK_GOLDENS)
def test_check_goldens_through_the_kpt_validator(kpt_bin: Path, function_bin: Path,
                                                 tmp_path: Path, case: str) -> None:
    """Issue 16: every check-mode golden case through ``kpt fn render`` with the function as a
    validator: the render fails exactly when the golden exits 1, with the same error rules, and
    never changes a file."""
    source = GOLDEN / case
    pkg = tmp_path / case
    pkg.mkdir()
    (pkg / "bundle.yaml").write_text((source / "input.yaml").read_text())
    config = yaml.safe_load((source / "config.yaml").read_text())
    config.setdefault("metadata", {}).setdefault("annotations", {})[
        "config.kubernetes.io/local-config"] = "true"
    (pkg / "check.yaml").write_text(yaml.safe_dump(config))
    (pkg / "Kptfile").write_text(
        "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: check\n  annotations:\n"
        '    config.kubernetes.io/local-config: "true"\npipeline:\n  validators:\n'
        f"    - exec: {function_bin}\n      configPath: check.yaml\n")
    before = {p.name: p.read_bytes() for p in pkg.iterdir()}
    done = _kpt(kpt_bin, "fn", "render", "--allow-exec", str(pkg), cwd=tmp_path)
    expected_code = int((source / "exit_code").read_text()) if (source / "exit_code").exists() \
        else 0
    assert (done.returncode != 0) == (expected_code != 0), done.stdout + done.stderr
    results = yaml.safe_load((source / "results.yaml").read_text()) or []
    for r in results:
        if r.get("severity") == "error":
            assert r["tags"]["rule"] in done.stdout + done.stderr
    assert {p.name: p.read_bytes() for p in pkg.iterdir()} == before
