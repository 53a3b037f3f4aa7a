"""Files mode on a kustomize tree, checked with the real ``kubectl kustomize``.

``merge-https-redirects --in-place .`` on a base and two overlays reads what kustomize reads:
the base's resources, never the overlays' patches (a strategic-merge patch of a Gateway is not
a Gateway). The new dedicated Gateway is written beside the Gateway it replaces and listed in
that directory's kustomization, so every overlay builds exactly one catch-all redirect per
gateway workload and the HTTP-01 challenge passes there (check mode on the built output); a
patch that touches a Gateway is named in a warning; a second run changes nothing.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.slow

GATEWAY = """\
# the shop's Gateway: a per-host port-80 redirect breaks its HTTP-01 challenge
apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata:
  name: shop
  namespace: istio-system
spec:
  selector:
    istio: ingressgateway
  servers:
    - port: {number: 80, name: http, protocol: HTTP}
      hosts: [shop.example.com]
      tls: {httpsRedirect: true}
    - port: {number: 443, name: https, protocol: HTTPS}
      hosts: [shop.example.com]
      tls: {mode: SIMPLE, credentialName: shop-tls}
"""
CERTIFICATES = """\
apiVersion: cert-manager.io/v1
kind: ClusterIssuer
metadata:
  name: letsencrypt
spec:
  acme:
    server: https://acme-v02.api.letsencrypt.org/directory
    privateKeySecretRef: {name: account}
    solvers:
      - http01: {ingress: {class: istio}}
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata:
  name: shop
  namespace: istio-system
spec:
  secretName: shop-tls
  dnsNames: [shop.example.com]
  issuerRef: {name: letsencrypt, kind: ClusterIssuer}
"""
PATCH = """\
# the prod overlay labels the Gateway: a strategic-merge patch, not a Gateway to rewrite
apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata:
  name: shop
  namespace: istio-system
  labels:
    env: prod
"""


def _tree(root: Path) -> None:
    (root / "base").mkdir(parents=True)
    (root / "base" / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        "# what every environment runs\nresources:\n  - gateway.yaml\n  - certificates.yaml\n")
    (root / "base" / "gateway.yaml").write_text(GATEWAY)
    (root / "base" / "certificates.yaml").write_text(CERTIFICATES)
    for env, patched in (("prod", True), ("dev", False)):
        overlay = root / "overlays" / env
        overlay.mkdir(parents=True)
        text = ("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
                "resources:\n  - ../../base\n")
        if patched:
            text += "patches:\n  - path: gateway-label.yaml\n"
            (overlay / "gateway-label.yaml").write_text(PATCH)
        (overlay / "kustomization.yaml").write_text(text)


def _run(function_bin: Path, *args: str, cwd: Path, stdin: str | None = None
         ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(function_bin), *args], cwd=cwd, input=stdin,
                          capture_output=True, text=True, timeout=120, check=False)


def _files(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*"))
            if p.is_file()}


def _built(kubectl_bin: Path, overlay: Path) -> list[dict[str, Any]]:
    done = subprocess.run([str(kubectl_bin), "kustomize", str(overlay)], capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return [d for d in yaml.safe_load_all(done.stdout) if d]


def test_in_place_on_a_kustomize_tree(function_bin: Path, kubectl_bin: Path,
                                      tmp_path: Path) -> None:
    root = tmp_path / "repo"
    _tree(root)
    patch_before = (root / "overlays/prod/gateway-label.yaml").read_text()

    done = _run(function_bin, "--in-place", ".", cwd=root)

    assert done.returncode == 0, done.stderr
    assert (root / "overlays/prod/gateway-label.yaml").read_text() == patch_before
    assert (root / "base/http-to-https-redirect.yaml").is_file()
    kustomization = (root / "base/kustomization.yaml").read_text()
    assert kustomization == (
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        "# what every environment runs\nresources:\n  - gateway.yaml\n  - certificates.yaml\n"
        "  - http-to-https-redirect.yaml\n")
    assert "  - port:" in (root / "base/http-to-https-redirect.yaml").read_text()  # seqindent
    assert "warning MHR018" in done.stderr
    assert "overlays/prod/gateway-label.yaml" in done.stderr
    assert "wrote base/kustomization.yaml" in done.stderr

    for overlay in ("overlays/prod", "overlays/dev"):
        built = _built(kubectl_bin, root / overlay)
        redirects = [s for d in built if d["kind"] == "Gateway"
                     for s in d["spec"]["servers"] if (s.get("tls") or {}).get("httpsRedirect")]
        assert [s["hosts"] for s in redirects] == [["*"]], overlay
        check = _run(function_bin, "check", "-", cwd=root, stdin=yaml.safe_dump_all(built))
        assert check.returncode == 0, check.stdout
        assert "1 name(s) pass (shop.example.com)" in check.stdout

    after = _files(root)
    again = _run(function_bin, "--in-place", ".", cwd=root)
    assert again.returncode == 0, again.stderr
    assert _files(root) == after
    assert "wrote" not in again.stderr


def test_a_directory_no_kustomization_lists_is_refused(function_bin: Path,
                                                       tmp_path: Path) -> None:
    """The Gateway's file is listed from another directory: a new file beside it would be
    built by nobody, so nothing is written."""
    root = tmp_path / "repo"
    (root / "app").mkdir(parents=True)
    (root / "shared").mkdir()
    (root / "shared" / "gateway.yaml").write_text(GATEWAY)
    (root / "app" / "kustomization.yaml").write_text(
        "resources:\n  - ../shared/gateway.yaml\n")
    before = _files(root)
    done = _run(function_bin, "--in-place", ".", cwd=root)
    assert done.returncode == 1
    assert "error MHR102" in done.stderr
    assert "no kustomization lists" in done.stderr
    assert _files(root) == before
