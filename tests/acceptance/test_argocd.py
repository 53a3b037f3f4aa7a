"""Argo CD: the Config Management Plugin's generate command, run the way the cmp-server runs it.

What each test proves:
- the command in README.md "## Argo CD" is the one exercised here (built with a local
  stand-in for Argo CD's install.yaml: the ConfigMap holds plugin.yaml verbatim, the patch adds
  the sidecar with the published image, user 999, the CMP socket/plugin mounts and kustomize);
- plugin.yaml is a CMP v2 plugin: discover, generate with `set -o pipefail`, the parameters the
  script reads;
- generate (cwd = the application's path, ARGOCD_* env) on plain manifests prints a plain stream
  (never a ResourceList) with the redirects merged, using the discovered
  `.merge-https-redirects.yaml` as config;
- generate on a kustomization runs kustomize (kubectl's, or $MHR_KUSTOMIZE as in the sidecar)
  and takes settings from parameters (PARAM_*) over env (ARGOCD_ENV_MHR_*);
- failures (a conflict, a broken kustomization, bad settings) exit non-zero with the reason on
  stderr and nothing on stdout — the broken kustomization case is what `pipefail` is for.
(Helm charts: test_argocd_helm.py.)
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from _integrations import (
    PLAIN_CATCH_ALL_GATEWAY,
    doc_commands,
    find,
    is_dedicated,
    isolated_env,
    load_all,
    redirect_hosts,
    run,
    workspace,
)

APPLY = "kubectl apply -n argocd -k integrations/argocd"
DOC_COMMANDS = {APPLY: "test_install_kustomization_builds (with a local install.yaml)"}

ARGOCD_INSTALL_STUB = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: argocd-repo-server
spec:
  selector:
    matchLabels:
      app.kubernetes.io/name: argocd-repo-server
  template:
    metadata:
      labels:
        app.kubernetes.io/name: argocd-repo-server
    spec:
      initContainers:
        - name: copyutil
          image: quay.io/argoproj/argocd:v2.13.3
          command: [/bin/cp, -n, /usr/local/bin/argocd, /var/run/argocd/argocd-cmp-server]
          volumeMounts:
            - {name: var-files, mountPath: /var/run/argocd}
      containers:
        - name: argocd-repo-server
          image: quay.io/argoproj/argocd:v2.13.3
          volumeMounts:
            - {name: var-files, mountPath: /var/run/argocd}
            - {name: plugins, mountPath: /home/argocd/cmp-server/plugins}
      volumes:
        - {name: var-files, emptyDir: {}}
        - {name: plugins, emptyDir: {}}
"""


def test_doc_commands_are_the_tested_ones(repo_root: Path) -> None:
    assert set(doc_commands(repo_root, "Argo CD")) == set(DOC_COMMANDS)


def _plugin(repo_root: Path) -> dict[str, Any]:
    plugin: dict[str, Any] = yaml.safe_load(
        (repo_root / "integrations/argocd/plugin.yaml").read_text(encoding="utf-8"))
    return plugin


def test_plugin_yaml_is_a_cmp_v2_plugin(repo_root: Path) -> None:
    plugin = _plugin(repo_root)
    assert plugin["apiVersion"] == "argoproj.io/v1alpha1"
    assert plugin["kind"] == "ConfigManagementPlugin"
    assert plugin["metadata"]["name"] == "merge-https-redirects"
    spec = plugin["spec"]
    assert spec["discover"] == {"fileName": ".merge-https-redirects.yaml"}
    assert spec["generate"]["command"] == ["bash", "-c"]
    (script,) = spec["generate"]["args"]
    assert "set -euo pipefail" in script
    assert "ResourceList" not in script
    names = {p["name"] for p in spec["parameters"]["static"] if not p["name"].startswith("helm")}
    assert names == {"mode", "name", "namespace", "ports", "onConflict", "strategy"}
    assert set(script.split("for key in ", 1)[1].split(";", 1)[0].split()) == names
    # The example Application names this plugin and a directory that exists.
    app = yaml.safe_load((repo_root / "examples/argocd/application.yaml").read_text())
    assert app["spec"]["source"]["plugin"]["name"] == plugin["metadata"]["name"]
    assert (repo_root / app["spec"]["source"]["path"] / "kustomization.yaml").is_file()


def _generate(
    repo_root: Path,
    app_dir: Path,
    env: dict[str, str],
    parameters: dict[str, str] | None = None,
    plugin_env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run spec.generate as argocd-cmp-server does: cwd = app path, ARGOCD_* variables set."""
    generate = _plugin(repo_root)["spec"]["generate"]
    full = dict(env)
    full.update({
        "ARGOCD_APP_NAME": "shop",
        "ARGOCD_APP_NAMESPACE": "shop",
        "ARGOCD_APP_REVISION": "0123456789abcdef0123456789abcdef01234567",
        "ARGOCD_APP_SOURCE_PATH": app_dir.name,
        "ARGOCD_APP_SOURCE_REPO_URL": "https://example.com/repo.git",
        "ARGOCD_APP_SOURCE_TARGET_REVISION": "main",
        "KUBE_VERSION": "1.32.0",
        "ARGOCD_APP_PARAMETERS": json.dumps(
            [{"name": k, "string": v} for k, v in (parameters or {}).items()]),
    })
    for key, value in (parameters or {}).items():
        full[f"PARAM_{key.upper()}"] = value
    for key, value in (plugin_env or {}).items():
        full[f"ARGOCD_ENV_{key}"] = value
    return run([*generate["command"], *generate.get("args", [])], app_dir, full)


def _stream(stdout: str) -> list[dict[str, Any]]:
    docs = load_all(stdout)
    assert docs, "generate printed nothing"
    assert all(d.get("kind") != "ResourceList" for d in docs), "must be a plain stream"
    assert all({"apiVersion", "kind", "metadata"} <= set(d) for d in docs)
    return docs


def _discovered(app_dir: Path, plugin: dict[str, Any]) -> bool:
    return any(app_dir.glob(plugin["spec"]["discover"]["fileName"]))


@pytest.mark.slow
def test_generate_plain_manifests(repo_root: Path, tmp_path: Path, function_bin: Path) -> None:
    app = workspace(repo_root, tmp_path, "examples/argocd/plain") / "examples/argocd/plain"
    assert _discovered(app, _plugin(repo_root))
    config = yaml.safe_load((app / ".merge-https-redirects.yaml").read_text())

    done = _generate(repo_root, app, isolated_env(tmp_path, function_bin))

    assert done.returncode == 0, done.stderr
    docs = _stream(done.stdout)
    assert redirect_hosts(docs) == []
    dedicated = find(docs, "Gateway", config["name"])
    assert is_dedicated(dedicated)
    assert dedicated["metadata"]["namespace"] == config["namespace"]
    assert {d["kind"] for d in docs} == {"Gateway", "VirtualService"}
    assert "MHR002" in done.stderr


@pytest.mark.slow
def test_generate_kustomization_with_settings(
    repo_root: Path, tmp_path: Path, function_bin: Path, kubectl_bin: Path
) -> None:
    app = workspace(repo_root, tmp_path, "examples/argocd/kustomize") / "examples/argocd/kustomize"
    assert not _discovered(app, _plugin(repo_root))  # named in the Application instead
    env = isolated_env(tmp_path, function_bin)

    done = _generate(repo_root, app, env, parameters={"name": "argo-redirect"},
                     plugin_env={"MHR_NAME": "loses-to-the-parameter",
                                 "MHR_NAMESPACE": "istio-ingress", "MHR_PORTS": "80"})

    assert done.returncode == 0, done.stderr
    docs = _stream(done.stdout)
    assert redirect_hosts(docs) == []
    dedicated = find(docs, "Gateway", "argo-redirect")
    assert dedicated["metadata"]["namespace"] == "istio-ingress"
    # kustomize ran: the kustomization's label is on the rendered objects.
    shop = find(docs, "Gateway", "shop")
    assert shop["metadata"]["labels"] == {"app.kubernetes.io/part-of": "shop"}

    # The sidecar points MHR_KUSTOMIZE at the kustomize copied from the Argo CD image.
    fake_bin = tmp_path / "tools"
    fake_bin.mkdir()
    called = tmp_path / "kustomize-called"
    fake = fake_bin / "kustomize"
    fake.write_text(f'#!/bin/sh\necho "$@" > {called}\nexec {kubectl_bin} kustomize "$2"\n')
    fake.chmod(0o755)
    sidecar = _generate(repo_root, app, {**env, "MHR_KUSTOMIZE": str(fake)})
    assert sidecar.returncode == 0, sidecar.stderr
    assert called.read_text().split() == ["build", "."]
    assert is_dedicated(find(_stream(sidecar.stdout), "Gateway", "http-to-https-redirect"))


@pytest.mark.slow
def test_generate_failures(
    repo_root: Path, tmp_path: Path, function_bin: Path, kubectl_bin: Path
) -> None:
    root = workspace(repo_root, tmp_path, "examples/argocd")
    env = isolated_env(tmp_path, function_bin)

    plain = root / "examples/argocd/plain"
    (plain / "conflict.yaml").write_text(PLAIN_CATCH_ALL_GATEWAY, encoding="utf-8")
    conflict = _generate(repo_root, plain, env)
    assert conflict.returncode != 0
    assert "error MHR008" in conflict.stderr
    assert conflict.stdout == "", "a failed generate prints nothing"
    assert "Traceback" not in conflict.stderr

    # kustomize fails: without pipefail the function would turn the empty input into success.
    kustomize = root / "examples/argocd/kustomize"
    (kustomize / "virtualservices.yaml").unlink()
    broken = _generate(repo_root, kustomize, env)
    assert broken.returncode != 0
    assert "virtualservices.yaml" in broken.stderr

    # A renderer that prints a valid stream and then fails must still fail the generate.
    half = tmp_path / "half-kustomize"
    half.write_text("#!/bin/sh\nprintf 'apiVersion: v1\\nkind: ConfigMap\\nmetadata:\\n"
                    "  name: partial\\n'\necho 'kustomize: boom' >&2\nexit 1\n")
    half.chmod(0o755)
    (kustomize / "virtualservices.yaml").write_text("---\n")
    partial = _generate(repo_root, kustomize, {**env, "MHR_KUSTOMIZE": str(half)})
    assert partial.returncode != 0, "set -o pipefail must surface the renderer's failure"
    assert "kustomize: boom" in partial.stderr
    assert partial.stdout == ""

    injected = _generate(repo_root, plain, env, plugin_env={"MHR_NAME": 'x"\nmode: check'})
    assert injected.returncode == 1
    assert "setting name has unexpected characters" in injected.stderr

    both = _generate(repo_root, plain, env, parameters={"ports": "80"})
    assert both.returncode == 1
    assert "both .merge-https-redirects.yaml and plugin settings" in both.stderr


@pytest.mark.slow
def test_install_kustomization_builds(
    repo_root: Path, tmp_path: Path, kubectl_bin: Path, function_bin: Path
) -> None:
    root = workspace(repo_root, tmp_path, "integrations/argocd")
    directory = root / "integrations/argocd"
    kustomization_file = directory / "kustomization.yaml"
    kustomization = yaml.safe_load(kustomization_file.read_text())
    (remote,) = kustomization["resources"]
    assert remote.startswith("https://raw.githubusercontent.com/argoproj/argo-cd/v")
    kustomization["resources"] = ["install.yaml"]
    kustomization_file.write_text(yaml.safe_dump(kustomization), encoding="utf-8")
    (directory / "install.yaml").write_text(ARGOCD_INSTALL_STUB, encoding="utf-8")

    done = run([str(kubectl_bin), "kustomize", str(directory)], tmp_path,
               isolated_env(tmp_path, function_bin))

    assert done.returncode == 0, done.stderr
    docs = load_all(done.stdout)
    configmap = find(docs, "ConfigMap", "merge-https-redirects-cmp")
    assert configmap["metadata"]["namespace"] == "argocd"
    assert configmap["data"]["plugin.yaml"] == (directory / "plugin.yaml").read_text()
    deployment = find(docs, "Deployment", "argocd-repo-server")
    pod = deployment["spec"]["template"]["spec"]
    containers = {c["name"]: c for c in pod["containers"]}
    assert set(containers) == {"argocd-repo-server", "merge-https-redirects"}
    sidecar = containers["merge-https-redirects"]
    metadata = yaml.safe_load((repo_root / "metadata.yaml").read_text())
    assert sidecar["image"] == metadata["image"]
    assert sidecar["command"] == ["/var/run/argocd/argocd-cmp-server"]
    assert sidecar["securityContext"]["runAsUser"] == 999
    assert sidecar["securityContext"]["readOnlyRootFilesystem"] is True
    mounts = {m["mountPath"]: m for m in sidecar["volumeMounts"]}
    assert mounts["/var/run/argocd"]["name"] == "var-files"
    assert mounts["/home/argocd/cmp-server/plugins"]["name"] == "plugins"
    assert mounts["/home/argocd/cmp-server/config/plugin.yaml"]["subPath"] == "plugin.yaml"
    assert "/tmp" in mounts
    volumes = {v["name"]: v for v in pod["volumes"]}
    plugin_volume = volumes[mounts["/home/argocd/cmp-server/config/plugin.yaml"]["name"]]
    assert plugin_volume["configMap"]["name"] == "merge-https-redirects-cmp"
    assert {m["name"] for m in sidecar["volumeMounts"]} <= set(volumes)
    env = {e["name"]: e["value"] for e in sidecar["env"]}
    tools = {i["name"]: i for i in pod["initContainers"]}["merge-https-redirects-tools"]
    # kustomize and helm copied from the Argo CD image into the shared tools volume.
    cp, *binaries, target = tools["command"]
    assert cp == "cp"
    assert binaries == ["/usr/local/bin/kustomize", "/usr/local/bin/helm"]
    assert tools["image"].startswith("quay.io/argoproj/argocd:v")
    tools_mount = {m["name"]: m["mountPath"] for m in tools["volumeMounts"]}
    assert tools_mount["merge-https-redirects-tools"] == target.rstrip("/") == "/custom-tools"
    assert mounts["/custom-tools"]["name"] == "merge-https-redirects-tools"
    assert env["MHR_KUSTOMIZE"] == "/custom-tools/kustomize"
    assert env["MHR_HELM"] == "/custom-tools/helm"
    # helm's directories on the writable /tmp (the root file system is read-only).
    for name in ("HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME"):
        assert env[name].startswith("/tmp/")
    assert "copyutil" in {i["name"] for i in pod["initContainers"]}
