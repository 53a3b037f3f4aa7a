"""The HTTP-01 checker through the real console script: `mode: check`, `explain`, and the
merge guard's promise (a rewrite never turns a passing name into a failing one)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

CHECK_CONFIG = """\
apiVersion: merge-https-redirects.dev/v1alpha1
kind: MergeHttpsRedirects
metadata:
  name: check
mode: check
"""


def _run(function_bin: Path, *args: str, stdin: bytes = b"", cwd: Path | None = None
         ) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([str(function_bin), *args], input=stdin, capture_output=True,
                          check=False, timeout=120, cwd=cwd)


def test_check_mode_fails_the_seed_and_passes_after_the_rewrite(
    function_bin: Path, repo_root: Path, tmp_path: Path
) -> None:
    config = tmp_path / "check.yaml"
    config.write_text(CHECK_CONFIG)
    seed = repo_root / "examples" / "seed"
    before = _run(function_bin, "--config", str(config), str(seed))
    assert before.returncode == 1
    line = next(x for x in before.stderr.decode().splitlines() if x.startswith("error"))
    for word in ("MHR021", "lcc3108.example.com", "redirected"):
        assert word in line
    assert "istio-system/lcc3108-gateway" in line  # the cause names the Gateway
    # check mode changes nothing
    assert _run(function_bin, "--config", str(config), str(seed)).stdout == _run(
        function_bin, "--config", str(config), str(seed)).stdout
    rewritten = _run(function_bin, str(seed))
    assert rewritten.returncode == 0
    out = tmp_path / "out.yaml"
    out.write_bytes(rewritten.stdout)
    after = _run(function_bin, "--config", str(config), str(out))
    assert after.returncode == 0, after.stderr.decode()
    assert "1 name(s) pass (lcc3108.example.com)" in after.stderr.decode()


def test_check_mode_in_krm_mode_reports_results_with_resource_refs(
    function_bin: Path, repo_root: Path
) -> None:
    docs = []
    for path in sorted((repo_root / "examples" / "seed").glob("*.yaml")):
        docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    resource_list = {"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList",
                     "items": docs, "functionConfig": yaml.safe_load(CHECK_CONFIG)}
    run = _run(function_bin, stdin=yaml.safe_dump(resource_list).encode())
    assert run.returncode == 1
    out = yaml.safe_load(run.stdout)
    assert out["items"] == docs  # nothing changed
    (error,) = [r for r in out["results"] if r["severity"] == "error"]
    assert error["tags"]["rule"] == "MHR021"
    assert error["resourceRef"] == {"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
                                    "name": "lcc3108-tls", "namespace": "istio-system"}


def test_explain_prints_before_and_after(function_bin: Path, repo_root: Path) -> None:
    run = _run(function_bin, "explain", str(repo_root / "examples" / "seed"))
    assert run.returncode == 0, run.stderr.decode()
    table = run.stdout.decode().splitlines()
    assert table[0].startswith("| name | resource | issuer | solver | before | after |")
    row = next(r for r in table if r.startswith("| lcc3108.example.com"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1] == "Certificate istio-system/lcc3108-tls"
    assert cells[2] == "ClusterIssuer/letsencrypt"
    assert (cells[4], cells[5]) == ("redirected", "pass")


def test_explain_refuses_a_missing_path(function_bin: Path, tmp_path: Path) -> None:
    run = _run(function_bin, "explain", str(tmp_path / "missing"))
    assert run.returncode == 1
    assert b"no such file" in run.stderr
    assert b"Traceback" not in run.stderr


def test_whole_corpus_through_explain(function_bin: Path, shared_dir: Path,
                                      tmp_path: Path) -> None:
    """Every corpus file but the raw Helm template (not YAML on purpose)."""
    files = sorted(p for p in (shared_dir / "corpus").iterdir()
                   if p.name != "INDEX.tsv" and not p.name.endswith("gateway-cluster.yaml"))
    assert len(files) > 60
    for source in files:
        copy = tmp_path / (source.name + ".yaml")
        copy.write_bytes(source.read_bytes())
        run = _run(function_bin, "explain", str(copy))
        err = run.stderr.decode()
        assert "Traceback" not in err, (source.name, err)
        assert "internal error" not in err, (source.name, err)
        if run.returncode == 0:
            assert run.stdout.startswith(b"| name |"), source.name
        else:  # unreadable on purpose (placeholders that are not YAML): one clear line
            assert err.startswith("error MHR101"), (source.name, err)


@pytest.mark.parametrize("host_labels", [{"istio": "ingress"}, {"app": "istio-gateway"}])
def test_helm_installed_gateway_labels_make_the_solver_unroutable(
    function_bin: Path, repo_root: Path, tmp_path: Path, host_labels: dict[str, str]
) -> None:
    """Istio issues 37329/49154: the Ingress-derived Gateway selects istio=ingressgateway,
    which a Helm-installed gateway does not carry."""
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    for path in (repo_root / "examples" / "seed").glob("*.yaml"):
        (bundle / path.name).write_bytes(path.read_bytes())
    (bundle / "gateway-deployment.yaml").write_text(yaml.safe_dump({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "istio-ingress", "namespace": "istio-ingress"},
        "spec": {"selector": {"matchLabels": host_labels},
                 "template": {"metadata": {"labels": host_labels,
                                           "annotations": {"inject.istio.io/templates": "gateway"}},
                              "spec": {"containers": [{"name": "istio-proxy", "image": "auto"}]}}},
    }))
    config = tmp_path / "check.yaml"
    config.write_text(CHECK_CONFIG)
    run = _run(function_bin, "--config", str(config), str(bundle))
    assert run.returncode == 1
    line = next(x for x in run.stderr.decode().splitlines() if x.startswith("error"))
    for word in ("MHR022", "unroutable", "37329"):
        assert word in line


def test_configured_gateway_labels_decide_which_pods_serve_the_solver(
    function_bin: Path, repo_root: Path, tmp_path: Path
) -> None:
    """`gatewayLabels` when the bundle does not hold the gateway Deployment: pods labelled
    istio=ingress are not selected by the Ingress-derived Gateway (istio=ingressgateway)."""
    config = tmp_path / "check.yaml"
    config.write_text(CHECK_CONFIG + "gatewayLabels:\n  istio: ingress\n")
    seed = repo_root / "examples" / "seed"
    rewritten = tmp_path / "out.yaml"
    rewritten.write_bytes(_run(function_bin, str(seed)).stdout)
    run = _run(function_bin, "--config", str(config), str(rewritten))
    assert run.returncode == 1
    line = next(x for x in run.stderr.decode().splitlines() if x.startswith("error"))
    assert "MHR022" in line
    assert "istio=ingress" in line
