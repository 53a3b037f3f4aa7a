"""Argo CD with Helm charts: the plugin's generate renders a chart with real Helm 4, the way
the cmp-server runs it, and pipes the output through the function.

Argo CD cannot post-render its own Helm source (argo-cd issues 3698, 16252), so an Application
whose path holds ``Chart.yaml`` uses this plugin instead. Every run here is spec.generate of
integrations/argocd/plugin.yaml with cwd = the application's path and the environment the
repo-server builds (``ARGOCD_APP_*``, ``KUBE_VERSION``/``KUBE_API_VERSIONS``, ``ARGOCD_ENV_*``,
``PARAM_*`` and ``ARGOCD_APP_PARAMETERS`` exactly as Argo CD spells them, see
``_integrations.argocd_generate_env``).

What each test proves:
- plugin.yaml declares the helm* parameters (arrays as ``collectionType: array``) and
  ``strategy``, and the script reads every declared parameter;
- examples/argocd/helm-application.yaml, rendered: its release name, values file and --set took
  effect, objects are in the destination namespace, and the per-host redirects are merged into
  the dedicated Gateway;
- defaults follow Argo CD's Helm source: release = the Application's name (without the
  ``<namespace>_`` of apps in other namespaces), namespace = destination namespace,
  .Capabilities from KUBE_VERSION/KUBE_API_VERSIONS, CRDs from crds/ included;
  helmReleaseName, helmNamespace, helmKubeVersion, helmApiVersions override them, and
  helmNamespace is not the function's ``namespace``; helm is found on PATH without MHR_HELM;
- values files apply in order, --set beats them, --set-string keeps a string; a map-shaped
  helmSet (whose keys Argo CD mangles) is refused;
- a bad values file path or release name fails before helm runs, with one line naming it;
- helm failing (a broken template, a dependency not vendored in charts/) fails generate with
  helm's message on stderr and nothing on stdout; a vendored dependency renders offline;
- a kustomization beside Chart.yaml wins (as in Argo CD), and helm* parameters on anything but a
  chart are an error.
"""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from _integrations import (
    PLAIN_CATCH_ALL_GATEWAY,
    argocd_generate_env,
    find,
    is_dedicated,
    isolated_env,
    load_all,
    redirect_hosts,
    run,
    servers_on,
    workspace,
)

EXAMPLE_APP = "examples/argocd/helm-application.yaml"
CHART = "examples/argocd/helm"
HELM_PARAMETERS = {"helmReleaseName", "helmNamespace", "helmValueFiles", "helmSet",
                   "helmSetString", "helmKubeVersion", "helmApiVersions"}
FUNCTION_SETTINGS = {"mode", "name", "namespace", "ports", "onConflict", "strategy"}

#: Shows what reached the chart: release, namespace, .Capabilities and two values.
CAPABILITIES_TEMPLATE = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-capabilities
  namespace: {{ .Release.Namespace }}
data:
  release: {{ .Release.Name | quote }}
  namespace: {{ .Release.Namespace | quote }}
  kubeVersion: {{ .Capabilities.KubeVersion.Version | quote }}
  hasIstioV1: {{ .Capabilities.APIVersions.Has "networking.istio.io/v1" | quote }}
  hasExample: {{ .Capabilities.APIVersions.Has "example.com/v1" | quote }}
  port: {{ .Values.backend.port | quote }}
  flag: {{ .Values.flag | toJson | quote }}
"""

WIDGET_CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names: {kind: Widget, plural: widgets, singular: widget}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema: {type: object}
"""


def _plugin(repo_root: Path) -> dict[str, Any]:
    plugin: dict[str, Any] = yaml.safe_load(
        (repo_root / "integrations/argocd/plugin.yaml").read_text(encoding="utf-8"))
    return plugin


def _application(repo_root: Path, **plugin: Any) -> dict[str, Any]:
    """The example Application, its plugin section replaced by ``plugin`` when given."""
    app: dict[str, Any] = yaml.safe_load((repo_root / EXAMPLE_APP).read_text(encoding="utf-8"))
    if plugin:
        app = copy.deepcopy(app)
        app["spec"]["source"]["plugin"] = {"name": "merge-https-redirects", **plugin}
    return app


def _generate(
    repo_root: Path, app_dir: Path, base_env: dict[str, str], app: dict[str, Any]
) -> subprocess.CompletedProcess[str]:
    """spec.generate as argocd-cmp-server runs it: cwd = app path, the repo-server's env."""
    generate = _plugin(repo_root)["spec"]["generate"]
    env = {**base_env, **argocd_generate_env(app)}
    return run([*generate["command"], *generate.get("args", [])], app_dir, env)


def _stream(done: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    assert done.returncode == 0, done.stderr
    docs = load_all(done.stdout)
    assert docs, "generate printed nothing"
    assert all(d.get("kind") != "ResourceList" for d in docs), "must be a plain stream"
    assert all({"apiVersion", "kind", "metadata"} <= set(d) for d in docs)
    return docs


def _failed(done: subprocess.CompletedProcess[str]) -> str:
    """A failed generate: non-zero, nothing on stdout, no traceback; returns stderr."""
    assert done.returncode != 0, done.stdout
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    return done.stderr


@pytest.fixture
def chart(repo_root: Path, tmp_path: Path) -> Path:
    """A copy of the example chart with the capabilities template added."""
    app_dir = workspace(repo_root, tmp_path, CHART) / CHART
    (app_dir / "templates/capabilities.yaml").write_text(CAPABILITIES_TEMPLATE, encoding="utf-8")
    (app_dir / "values.yaml").write_text(
        (app_dir / "values.yaml").read_text(encoding="utf-8") + "flag: false\n", encoding="utf-8")
    return app_dir


@pytest.fixture
def helm_env(tmp_path: Path, function_bin: Path, helm_bin: Path) -> dict[str, str]:
    """The sidecar's environment: helm at $MHR_HELM (as repo-server-patch.yaml sets it)."""
    return isolated_env(tmp_path, function_bin, MHR_HELM=str(helm_bin))


@pytest.fixture
def recording_helm(tmp_path: Path, function_bin: Path) -> tuple[dict[str, str], Path]:
    """An environment whose $MHR_HELM only records that it ran (for checks before helm)."""
    called = tmp_path / "helm-called"
    fake = tmp_path / "fake-helm"
    fake.write_text(f'#!/bin/sh\necho "$@" >> {called}\nexit 0\n', encoding="utf-8")
    fake.chmod(0o755)
    return isolated_env(tmp_path, function_bin, MHR_HELM=str(fake)), called


def _configmap(docs: list[dict[str, Any]], release: str) -> dict[str, str]:
    data: dict[str, str] = find(docs, "ConfigMap", f"{release}-capabilities")["data"]
    return data


def test_plugin_declares_the_helm_parameters(repo_root: Path) -> None:
    spec = _plugin(repo_root)["spec"]
    static = {p["name"]: p for p in spec["parameters"]["static"]}
    assert set(static) == FUNCTION_SETTINGS | HELM_PARAMETERS
    arrays = {name for name, p in static.items() if p.get("collectionType") == "array"}
    assert arrays == {"helmValueFiles", "helmSet", "helmSetString"}
    assert all(p.get("collectionType", "string") in ("string", "array") for p in static.values())
    (script,) = spec["generate"]["args"]
    settings_loop = script.split("for key in ", 1)[1].split(";", 1)[0].split()
    assert set(settings_loop) == FUNCTION_SETTINGS
    helm_loop = script.split("helm_given=()", 1)[1].split("for key in ", 1)[1].split(";", 1)[0]
    assert set(helm_loop.replace("\\", " ").split()) == HELM_PARAMETERS
    assert 'helm="${MHR_HELM:-helm}"' in script
    # The example Application uses only declared parameters on a directory holding a chart.
    app = _application(repo_root)
    source = app["spec"]["source"]
    assert source["plugin"]["name"] == _plugin(repo_root)["metadata"]["name"]
    assert {p["name"] for p in source["plugin"]["parameters"]} <= set(static)
    assert (repo_root / source["path"] / "Chart.yaml").is_file()
    assert source["path"] == CHART


@pytest.mark.slow
def test_example_application_renders(
    repo_root: Path, tmp_path: Path, helm_env: dict[str, str]
) -> None:
    app_dir = workspace(repo_root, tmp_path, CHART) / CHART
    app = _application(repo_root)
    assert app["metadata"]["name"] == "storefront-prod"  # the release name is a parameter

    docs = _stream(_generate(repo_root, app_dir, helm_env, app))

    # helmValueFiles: values-prod.yaml adds the www host.
    hosts = ["shop.example.com", "www.shop.example.com"]
    for host in hosts:
        slug = host.replace(".", "-")
        gateway = find(docs, "Gateway", slug)
        assert gateway["metadata"]["namespace"] == "storefront"  # destination namespace
        # helmReleaseName, not the Application's name.
        assert gateway["metadata"]["labels"]["app.kubernetes.io/instance"] == "storefront"
        assert servers_on(gateway, 80) == [], "the per-host redirect must be merged away"
        assert [s["hosts"] for s in servers_on(gateway, 443)] == [[host]]
        route = find(docs, "VirtualService", slug)["spec"]["http"][0]["route"][0]
        # helmSet: backend.port=9090 beats values.yaml's 8080.
        assert route["destination"] == {"host": "storefront.storefront.svc.cluster.local",
                                        "port": {"number": 9090}}
    assert redirect_hosts(docs) == []
    dedicated = find(docs, "Gateway", "http-to-https-redirect")
    assert dedicated["metadata"]["namespace"] == "istio-system"
    assert is_dedicated(dedicated)
    assert len(docs) == 5


@pytest.mark.slow
def test_defaults_follow_argocd_helm_source_and_parameters_override(
    repo_root: Path, tmp_path: Path, chart: Path, function_bin: Path, helm_bin: Path
) -> None:
    # helm found on PATH (no MHR_HELM); an Application outside the argocd namespace reaches the
    # plugin as "<namespace>_<name>", and Argo CD's Helm source drops that prefix.
    env = isolated_env(tmp_path, function_bin)
    env["PATH"] = f"{helm_bin.parent}:{env['PATH']}"
    # CRDs in crds/ are rendered, as Argo CD's Helm source does (--include-crds).
    (chart / "crds").mkdir()
    (chart / "crds/widgets.yaml").write_text(WIDGET_CRD, encoding="utf-8")
    app = _application(repo_root, parameters=[])
    app["metadata"].update(name="shop", namespace="team-apps")
    app["spec"]["destination"]["namespace"] = "shop-ns"
    assert argocd_generate_env(app)["ARGOCD_APP_NAME"] == "team-apps_shop"

    docs = _stream(_generate(repo_root, chart, env, app))

    assert _configmap(docs, "shop") == {
        "release": "shop", "namespace": "shop-ns", "kubeVersion": "v1.32.0",
        "hasIstioV1": "true", "hasExample": "false", "port": "8080", "flag": "false"}
    assert find(docs, "Gateway", "shop-example-com")["metadata"]["namespace"] == "shop-ns"
    assert find(docs, "CustomResourceDefinition", "widgets.example.com")

    app = _application(repo_root, parameters=[
        {"name": "helmReleaseName", "string": "web"},
        {"name": "helmNamespace", "string": "web-ns"},
        {"name": "helmKubeVersion", "string": "1.29.3"},
        {"name": "helmApiVersions", "string": "v1,example.com/v1"},
        # The function's own namespace setting: the dedicated Gateway's, not the release's.
        {"name": "namespace", "string": "istio-ingress"},
    ])
    docs = _stream(_generate(repo_root, chart, env, app))

    assert _configmap(docs, "web") == {
        "release": "web", "namespace": "web-ns", "kubeVersion": "v1.29.3",
        "hasIstioV1": "false", "hasExample": "true", "port": "8080", "flag": "false"}
    gateway = find(docs, "Gateway", "shop-example-com")
    assert gateway["metadata"]["namespace"] == "web-ns"
    assert gateway["metadata"]["labels"]["app.kubernetes.io/instance"] == "web"
    dedicated = find(docs, "Gateway", "http-to-https-redirect")
    assert dedicated["metadata"]["namespace"] == "istio-ingress"
    assert is_dedicated(dedicated)


@pytest.mark.slow
def test_values_files_in_order_then_set_and_set_string(
    repo_root: Path, chart: Path, helm_env: dict[str, str]
) -> None:
    (chart / "values-a.yaml").write_text(
        "hosts: [a.example.com]\nbackend: {port: 7000}\n", encoding="utf-8")
    (chart / "overrides").mkdir()
    (chart / "overrides/b.yaml").write_text("backend: {port: 7100}\n", encoding="utf-8")

    def render(*parameters: dict[str, Any]) -> dict[str, str]:
        app = _application(repo_root, parameters=[
            {"name": "helmValueFiles", "array": ["values-a.yaml", "./overrides/b.yaml"]},
            *parameters])
        docs = _stream(_generate(repo_root, chart, helm_env, app))
        assert find(docs, "Gateway", "a-example-com")  # values-a.yaml's hosts
        assert redirect_hosts(docs) == []
        return _configmap(docs, "storefront-prod")

    # The later file wins.
    assert render()["port"] == "7100"
    # --set beats every file; entries apply in order; --set parses, --set-string does not.
    values = render({"name": "helmSet", "array": ["backend.port=7200", "flag=true"]})
    assert (values["port"], values["flag"]) == ("7200", "true")
    values = render({"name": "helmSetString", "array": ["flag=true"]})
    assert values["flag"] == '"true"'
    # A string parameter is one entry (helm's own syntax: commas separate assignments).
    values = render({"name": "helmSet", "string": "backend.port=7300,flag=true"})
    assert (values["port"], values["flag"]) == ("7300", "true")


def test_map_parameters_are_refused(
    repo_root: Path, tmp_path: Path, recording_helm: tuple[dict[str, str], Path]
) -> None:
    env, called = recording_helm
    app_dir = workspace(repo_root, tmp_path, CHART) / CHART
    # Argo CD passes a map's keys escaped: backend.port arrives as PARAM_HELMSET_BACKEND_PORT.
    app = _application(repo_root, parameters=[{"name": "helmSet", "map": {"backend.port": "1"}}])
    assert "PARAM_HELMSET_BACKEND_PORT" in argocd_generate_env(app)

    stderr = _failed(_generate(repo_root, app_dir, env, app))

    assert "parameter helmSet must be an array (or a string), not a map" in stderr
    assert not called.exists(), "helm must not run"


@pytest.mark.parametrize(
    ("value_file", "reason"),
    [
        ("../outside.yaml", "is not a relative path inside the application directory"),
        ("sub/../values.yaml", "is not a relative path inside the application directory"),
        ("", "is not a relative path inside the application directory"),
        ("ABSOLUTE", "is not a relative path inside the application directory"),
        ("missing.yaml", "not found in the application directory"),
        ("templates", "not found in the application directory"),
        ("https://example.com/values.yaml", "not found in the application directory"),
        ("link.yaml", "leads outside the application directory"),
    ],
)
def test_bad_values_file_fails_before_helm(
    repo_root: Path, tmp_path: Path, recording_helm: tuple[dict[str, str], Path],
    value_file: str, reason: str,
) -> None:
    env, called = recording_helm
    root = workspace(repo_root, tmp_path, CHART)
    app_dir = root / CHART
    outside = app_dir.parent / "outside.yaml"
    outside.write_text("backend: {port: 1}\n", encoding="utf-8")
    (app_dir / "link.yaml").symlink_to(outside)
    if value_file == "ABSOLUTE":
        value_file = str(outside)
    app = _application(repo_root, parameters=[
        {"name": "helmValueFiles", "array": ["values-prod.yaml", value_file]}])

    stderr = _failed(_generate(repo_root, app_dir, env, app))

    assert stderr == (f"merge-https-redirects: values file '{value_file}' {reason}"
                      " (parameter helmValueFiles)\n")
    assert not called.exists(), "helm must not run"


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ([{"name": "helmReleaseName", "string": "Shop_1"}],
         "Helm release name 'Shop_1' is invalid"),
        ([{"name": "helmReleaseName", "string": "--dry-run"}],
         "Helm release name '--dry-run' is invalid"),
        ([{"name": "helmReleaseName", "string": "a" * 54}], "at most 53 characters"),
        ([{"name": "helmNamespace", "string": "web.ns"}],
         "Helm release namespace 'web.ns' is not a valid namespace name"),
        ([{"name": "helmSet", "array": ["backend.port"]}],
         "helmSet entry 'backend.port' is not key=value"),
        ([{"name": "helmSetString", "array": ["=1"]}], "helmSetString entry '=1' is not key=value"),
    ],
)
def test_bad_helm_settings_fail_before_helm(
    repo_root: Path, tmp_path: Path, recording_helm: tuple[dict[str, str], Path],
    parameters: list[dict[str, Any]], message: str,
) -> None:
    env, called = recording_helm
    app_dir = workspace(repo_root, tmp_path, CHART) / CHART

    stderr = _failed(_generate(repo_root, app_dir, env, _application(repo_root,
                                                                       parameters=parameters)))

    assert message in stderr
    assert stderr.startswith("merge-https-redirects: ")
    assert stderr.count("\n") == 1
    assert not called.exists(), "helm must not run"


@pytest.mark.slow
def test_helm_failures_reach_stderr_and_nothing_reaches_stdout(
    repo_root: Path, tmp_path: Path, chart: Path, helm_env: dict[str, str]
) -> None:
    app = _application(repo_root, parameters=[])

    # A template helm cannot render.
    broken = chart / "templates/broken.yaml"
    broken.write_text("data: {{ .Values.backend.port | nosuchfunction }}\n", encoding="utf-8")
    stderr = _failed(_generate(repo_root, chart, helm_env, app))
    assert 'function "nosuchfunction" not defined' in stderr
    assert "templates/broken.yaml" in stderr
    assert stderr.endswith("merge-https-redirects: helm template failed\n")
    broken.unlink()

    # helm is missing.
    stderr = _failed(_generate(repo_root, chart, {**helm_env, "MHR_HELM": "/nonexistent/helm"},
                               app))
    assert stderr == ("merge-https-redirects: helm not found: /nonexistent/helm"
                      " (put helm on PATH or set MHR_HELM)\n")

    # The function refuses the rendered bundle: its finding, a failed generate.
    (chart / "templates/conflict.yaml").write_text(PLAIN_CATCH_ALL_GATEWAY, encoding="utf-8")
    stderr = _failed(_generate(repo_root, chart, helm_env, app))
    assert "error MHR008" in stderr


@pytest.mark.slow
def test_dependencies_render_offline_only_when_vendored(
    repo_root: Path, chart: Path, helm_env: dict[str, str]
) -> None:
    # The repository cannot resolve: a helm that tried the network would fail.
    chart_yaml = chart / "Chart.yaml"
    chart_yaml.write_text(chart_yaml.read_text(encoding="utf-8") + (
        "dependencies:\n"
        "  - name: extra-gateway\n"
        "    version: 0.1.0\n"
        "    repository: https://charts.invalid/\n"), encoding="utf-8")
    app = _application(repo_root, parameters=[
        {"name": "helmSet", "array": ["extra-gateway.host=extra.example.com"]}])

    stderr = _failed(_generate(repo_root, chart, helm_env, app))
    assert "missing in charts/ directory: extra-gateway" in stderr
    assert stderr.endswith(
        "merge-https-redirects: helm template failed: vendor the chart's dependencies in"
        " charts/ (helm dependency build, then commit charts/)\n")

    # Vendored (as `helm dependency build` leaves it, unpacked here): renders offline.
    sub = chart / "charts/extra-gateway"
    (sub / "templates").mkdir(parents=True)
    (sub / "Chart.yaml").write_text(
        "apiVersion: v2\nname: extra-gateway\nversion: 0.1.0\n", encoding="utf-8")
    (sub / "values.yaml").write_text("host: none.example.com\n", encoding="utf-8")
    gateway = load_all(
        (repo_root / "examples/argocd/kustomize/gateways.yaml").read_text(encoding="utf-8"))[0]
    gateway["metadata"] = {"name": "extra", "namespace": "{{ .Release.Namespace }}"}
    for server in gateway["spec"]["servers"]:
        server["hosts"] = ["{{ .Values.host }}"]
    (sub / "templates/gateway.yaml").write_text(yaml.safe_dump(gateway), encoding="utf-8")

    docs = _stream(_generate(repo_root, chart, helm_env, app))

    extra = find(docs, "Gateway", "extra")
    assert extra["metadata"]["namespace"] == "storefront"
    assert [s["hosts"] for s in servers_on(extra, 443)] == [["extra.example.com"]]
    assert servers_on(extra, 80) == []
    assert redirect_hosts(docs) == []
    assert is_dedicated(find(docs, "Gateway", "http-to-https-redirect"))


@pytest.mark.slow
def test_kustomization_beside_a_chart_wins_and_helm_parameters_need_a_chart(
    repo_root: Path, tmp_path: Path, kubectl_bin: Path,
    recording_helm: tuple[dict[str, str], Path],
) -> None:
    env, called = recording_helm
    root = workspace(repo_root, tmp_path, CHART, "examples/argocd/kustomize",
                     "examples/argocd/plain")
    app_dir = root / CHART
    for name in ("kustomization.yaml", "gateways.yaml", "virtualservices.yaml"):
        source = root / "examples/argocd/kustomize" / name
        (app_dir / name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")

    docs = _stream(_generate(repo_root, app_dir, env, _application(repo_root, parameters=[])))

    assert not called.exists(), "a kustomization wins over Chart.yaml, as in Argo CD"
    assert find(docs, "Gateway", "shop")["metadata"]["labels"] == {
        "app.kubernetes.io/part-of": "shop"}
    assert is_dedicated(find(docs, "Gateway", "http-to-https-redirect"))

    given = _application(repo_root, parameters=[{"name": "helmValueFiles",
                                                 "array": ["values-prod.yaml"]}])
    for directory in (app_dir, root / "examples/argocd/plain"):
        stderr = _failed(_generate(repo_root, directory, env, given))
        assert stderr == (
            f"merge-https-redirects: parameter helmValueFiles is given but {directory} is not"
            " rendered as a Helm chart (no Chart.yaml, or a kustomization beside it)\n")
    assert not called.exists()


def test_parameters_env_is_argocd_s(repo_root: Path) -> None:
    """The helper mirrors ApplicationSourcePluginParameters.Environ() (and the CMP docs'
    example: PARAM_SOME_MAP_PARAM_IMAGE_TAG, PARAM_SOME_ARRAY_PARAM_0)."""
    env = argocd_generate_env(_application(repo_root, parameters=[
        {"name": "some-string-param", "string": "v"},
        {"name": "some-array-param", "array": ["item1", "item2"]},
        {"name": "some-map-param", "map": {"image.tag": "v1.2.3"}},
    ], env=[{"name": "FOO", "value": "bar"}]))
    assert env["PARAM_SOME_STRING_PARAM"] == "v"
    assert (env["PARAM_SOME_ARRAY_PARAM_0"], env["PARAM_SOME_ARRAY_PARAM_1"]) == ("item1", "item2")
    assert env["PARAM_SOME_MAP_PARAM_IMAGE_TAG"] == "v1.2.3"
    assert env["ARGOCD_ENV_FOO"] == "bar"
    assert json.loads(env["ARGOCD_APP_PARAMETERS"]) == [
        {"name": "some-string-param", "string": "v"},
        {"name": "some-array-param", "array": ["item1", "item2"]},
        {"name": "some-map-param", "map": {"image.tag": "v1.2.3"}},
    ]
    assert env["ARGOCD_APP_PARAMETERS"].startswith('[{"name":"some-string-param","string":"v"}')
    assert env["ARGOCD_APP_NAME"] == "storefront-prod"
    assert env["ARGOCD_APP_NAMESPACE"] == "storefront"
    assert env["ARGOCD_APP_SOURCE_PATH"] == CHART
