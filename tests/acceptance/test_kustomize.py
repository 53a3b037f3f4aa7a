"""kustomize: KRM function transformer (route a) and legacy exec plugin (route b).

What each test proves:
- the commands in README.md "## kustomize" are exactly the ones exercised here;
- route (a), which needs a standalone kustomize that CI cannot install: the function, given the
  ResourceList kustomize sends for each example overlay (the transformer as functionConfig with
  `local-config` and `config.kubernetes.io/function`; items carrying `kustomize.config.k8s.io/id`
  and index annotations, captured from kubectl's own kustomize), merges the redirects, keeps every
  kustomize id annotation so kustomize can map results back, and adds the dedicated Gateway;
  the exec path resolves to the console script, the container image is the published one;
- route (a) failures reach the user on stderr (kustomize drops results) with exit 1;
- `kubectl kustomize` really skips exec functions without a word (the README warning);
- route (b) with the real `kubectl kustomize --enable-alpha-plugins`: the installer prints exactly
  the committed transformer config, installs an executable plugin that rewrites the build, and a
  conflict fails the build with MHR008 in kubectl's error; `--dir` + KUSTOMIZE_PLUGIN_HOME works;
- the installer's pure helpers: kustomize's plugin-home precedence, the plugin path, quoting,
  refusal to overwrite a foreign file, errors without traceback.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from _integrations import (
    doc_commands,
    find,
    is_dedicated,
    isolated_env,
    load_all,
    redirect_hosts,
    run,
    workspace,
)

from merge_https_redirects.hosts import kustomize_plugin

KRM_EXEC = "kustomize build --enable-alpha-plugins --enable-exec examples/kustomize-krm/exec"
KRM_CONTAINER = "kustomize build --enable-alpha-plugins examples/kustomize-krm/container"
INSTALL = (
    "merge-https-redirects install-kustomize-plugin > "
    "examples/kustomize-legacy-plugin/merge-https-redirects.yaml"
)
LEGACY_BUILD = "kubectl kustomize --enable-alpha-plugins examples/kustomize-legacy-plugin"

#: Every documented kustomize command and the test that exercises it.
DOC_COMMANDS = {
    KRM_EXEC: "test_krm_function_overlay (emulated: ResourceList as kustomize sends it)",
    KRM_CONTAINER: "test_krm_function_overlay (emulated: the image runs the same console script)",
    INSTALL: "test_legacy_plugin_with_kubectl",
    LEGACY_BUILD: "test_legacy_plugin_with_kubectl",
}

ID_ANNOTATION = "kustomize.config.k8s.io/id"
#: A plain catch-all with a default backend bound to it (the catch-all redirect would take
#: its hosts over): MHR008.
CONFLICT = {
    "apiVersion": "networking.istio.io/v1beta1",
    "kind": "Gateway",
    "metadata": {"name": "plain-catch-all", "namespace": "istio-system"},
    "spec": {
        "selector": {"istio": "ingressgateway"},
        "servers": [{"port": {"number": 80, "name": "http", "protocol": "HTTP"},
                     "hosts": ["*"]}],
    },
}
CONFLICT_BACKEND = {
    "apiVersion": "networking.istio.io/v1beta1",
    "kind": "VirtualService",
    "metadata": {"name": "default-backend", "namespace": "istio-system"},
    "spec": {"hosts": ["*", "shop.example.com"], "gateways": ["plain-catch-all"],
             "http": [{"route": [{"destination": {"host": "default-backend"}}]}]},
}
CAPTURE_PLUGIN = """#!/bin/sh
# Test double of a legacy exec plugin: records what kustomize sends, returns it unchanged.
cat > "$CAPTURE_FILE"
cat "$CAPTURE_FILE"
"""


def test_doc_commands_are_the_tested_ones(repo_root: Path) -> None:
    assert set(doc_commands(repo_root, "kustomize")) == set(DOC_COMMANDS)


# --------------------------------------------------------------------------------------------
# Route (a): KRM function transformer
# --------------------------------------------------------------------------------------------
def _kustomize_items(
    base: Path, tmp_path: Path, function_bin: Path, kubectl_bin: Path
) -> list[dict[str, Any]]:
    """The base's resources exactly as kustomize hands them to a transformer plugin.

    kubectl's kustomize runs a capturing legacy plugin; kustomize annotates the resources with
    `kustomize.config.k8s.io/id` through the same helper (GetResMapWithIDAnnotation) for exec
    plugins and KRM functions.
    """
    overlay = tmp_path / "capture-overlay"
    overlay.mkdir()
    shutil.copytree(base, overlay / "base")
    (overlay / "kustomization.yaml").write_text(
        "resources: [base]\ntransformers: [capture.yaml]\n", encoding="utf-8")
    (overlay / "capture.yaml").write_text(
        "apiVersion: test.merge-https-redirects.dev/v1\nkind: Capture\n"
        "metadata:\n  name: capture\n", encoding="utf-8")
    plugin_home = tmp_path / "capture-plugins"
    plugin = plugin_home / "test.merge-https-redirects.dev/v1/capture/Capture"
    plugin.parent.mkdir(parents=True)
    plugin.write_text(CAPTURE_PLUGIN, encoding="utf-8")
    plugin.chmod(0o755)
    captured = tmp_path / "captured.yaml"
    env = isolated_env(tmp_path, function_bin, KUSTOMIZE_PLUGIN_HOME=str(plugin_home),
                       CAPTURE_FILE=str(captured))
    done = run([str(kubectl_bin), "kustomize", "--enable-alpha-plugins", str(overlay)],
               tmp_path, env)
    assert done.returncode == 0, done.stderr
    items = load_all(captured.read_text(encoding="utf-8"))
    assert items
    assert all(ID_ANNOTATION in i["metadata"]["annotations"] for i in items)
    return items


def _resource_list(items: list[dict[str, Any]], transformer: dict[str, Any]) -> dict[str, Any]:
    """What kyaml's runfn writes to the function: index and id annotations, transformer config."""
    wrapped = []
    for index, item in enumerate(items):
        item = yaml.safe_load(yaml.safe_dump(item))
        annotations = item["metadata"].setdefault("annotations", {})
        annotations["config.kubernetes.io/index"] = str(index)
        annotations["internal.config.kubernetes.io/index"] = str(index)
        annotations["config.k8s.io/id"] = str(index + 1)
        wrapped.append(item)
    function_config = yaml.safe_load(yaml.safe_dump(transformer))
    function_config["metadata"].setdefault("annotations", {})[
        "config.kubernetes.io/local-config"] = "true"
    return {"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList",
            "functionConfig": function_config, "items": wrapped}


def _apply_like_kustomize(
    before: list[dict[str, Any]], after: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """kustomize's UpdateResMapValues: match outputs to inputs by id, append new, drop missing."""
    by_id = {i["metadata"]["annotations"][ID_ANNOTATION]: i for i in before}
    seen: set[str] = set()
    result = []
    for item in after:
        annotations = item["metadata"].get("annotations") or {}
        rid = annotations.get(ID_ANNOTATION)
        if rid is not None:
            assert rid in by_id, f"unknown kustomize id {rid!r}: kustomize would fail"
            assert rid not in seen, "duplicate resource"
            seen.add(rid)
        result.append(item)
    return result


@pytest.mark.slow
@pytest.mark.parametrize("overlay", ["exec", "container"])
def test_krm_function_overlay(
    overlay: str, repo_root: Path, tmp_path: Path, function_bin: Path, kubectl_bin: Path
) -> None:
    example = repo_root / "examples/kustomize-krm"
    kustomization = yaml.safe_load((example / overlay / "kustomization.yaml").read_text())
    assert kustomization["resources"] == ["../base"]
    (transformer_file,) = kustomization["transformers"]
    transformer = yaml.safe_load((example / overlay / transformer_file).read_text())
    spec = yaml.safe_load(transformer["metadata"]["annotations"]["config.kubernetes.io/function"])
    env = isolated_env(tmp_path, function_bin)
    if overlay == "exec":
        assert transformer["kind"] == "MergeHttpsRedirects"
        # kustomize execs `path` with Go's exec.Command: a bare name is looked up on PATH.
        resolved = shutil.which(spec["exec"]["path"], path=env["PATH"])
        assert resolved is not None
        assert Path(resolved) == function_bin
    else:
        assert transformer["kind"] == "ConfigMap"
        metadata = yaml.safe_load((repo_root / "metadata.yaml").read_text())
        assert spec["container"]["image"] == metadata["image"]

    items = _kustomize_items(example / "base", tmp_path, function_bin, kubectl_bin)
    request = _resource_list(items, transformer)
    done = run([str(function_bin)], tmp_path, env, stdin=yaml.safe_dump(request))

    assert done.returncode == 0, done.stderr
    response = yaml.safe_load(done.stdout)
    assert response["kind"] == "ResourceList"
    assert response["apiVersion"] == request["apiVersion"]
    out = response["items"]
    assert not any(i["kind"] == transformer["kind"] and i["metadata"]["name"] ==
                   transformer["metadata"]["name"] for i in out), "functionConfig leaked"
    # Every kept resource still carries kustomize's id, byte for byte.
    ids_in = {i["metadata"]["annotations"][ID_ANNOTATION] for i in items}
    ids_out = {(i["metadata"].get("annotations") or {}).get(ID_ANNOTATION) for i in out}
    assert ids_in <= ids_out
    final = _apply_like_kustomize(items, out)
    assert redirect_hosts(final) == []
    dedicated = find(final, "Gateway", "http-to-https-redirect")
    assert is_dedicated(dedicated)
    assert ID_ANNOTATION not in (dedicated["metadata"].get("annotations") or {})
    assert any(r["tags"]["rule"] == "MHR002" for r in response.get("results", []))


@pytest.mark.slow
def test_krm_function_failure_is_on_stderr(
    repo_root: Path, tmp_path: Path, function_bin: Path, kubectl_bin: Path
) -> None:
    example = repo_root / "examples/kustomize-krm"
    base = tmp_path / "base-src"
    shutil.copytree(example / "base", base)
    (base / "conflict.yaml").write_text(yaml.safe_dump_all([CONFLICT, CONFLICT_BACKEND]),
                                        encoding="utf-8")
    kustomization = yaml.safe_load((base / "kustomization.yaml").read_text())
    kustomization["resources"].append("conflict.yaml")
    (base / "kustomization.yaml").write_text(yaml.safe_dump(kustomization), encoding="utf-8")
    transformer = yaml.safe_load((example / "exec/merge-https-redirects.yaml").read_text())
    items = _kustomize_items(base, tmp_path, function_bin, kubectl_bin)

    done = run([str(function_bin)], tmp_path, isolated_env(tmp_path, function_bin),
               stdin=yaml.safe_dump(_resource_list(items, transformer)))

    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert any(line.startswith("error MHR008") for line in done.stderr.splitlines()), done.stderr


@pytest.mark.slow
def test_kubectl_kustomize_silently_skips_exec_functions(
    repo_root: Path, tmp_path: Path, function_bin: Path, kubectl_bin: Path
) -> None:
    """Why the README sends kubectl users to the legacy plugin: the exec is never started."""
    sentinel_bin = tmp_path / "sentinel-bin"
    sentinel_bin.mkdir()
    started = tmp_path / "started"
    fake = sentinel_bin / "merge-https-redirects"
    fake.write_text(f"#!/bin/sh\ntouch {started}\ncat\n", encoding="utf-8")
    fake.chmod(0o755)
    env = isolated_env(tmp_path, function_bin)
    env["PATH"] = f"{sentinel_bin}{os.pathsep}{env['PATH']}"

    done = run([str(kubectl_bin), "kustomize", "--enable-alpha-plugins",
                str(repo_root / "examples/kustomize-krm/exec")], tmp_path, env)

    assert done.returncode == 0, done.stderr
    assert not started.exists()
    assert sorted(redirect_hosts(load_all(done.stdout))) == ["api.example.com",
                                                              "shop.example.com"]


# --------------------------------------------------------------------------------------------
# Route (b): legacy exec plugin with kubectl's kustomize
# --------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_legacy_plugin_with_kubectl(
    repo_root: Path, tmp_path: Path, function_bin: Path, kubectl_bin: Path
) -> None:
    root = workspace(repo_root, tmp_path, "examples/kustomize-legacy-plugin")
    env = isolated_env(tmp_path, function_bin)
    config_file = root / "examples/kustomize-legacy-plugin/merge-https-redirects.yaml"
    committed = config_file.read_text(encoding="utf-8")

    installed = run(INSTALL, root, env)

    assert installed.returncode == 0, installed.stderr
    # stdout is the transformer config and nothing else: the committed example is that output.
    assert config_file.read_text(encoding="utf-8") == committed
    config = yaml.safe_load(committed)
    assert config["apiVersion"] == "merge-https-redirects.dev/v1alpha1"
    assert config["kind"] == "MergeHttpsRedirects"
    plugin = (Path(env["XDG_CONFIG_HOME"]) / "kustomize/plugin/merge-https-redirects.dev"
              / "v1alpha1/mergehttpsredirects/MergeHttpsRedirects")
    assert plugin.is_file()
    assert plugin.stat().st_mode & stat.S_IXUSR
    assert str(plugin) in installed.stderr

    built = run(LEGACY_BUILD, root, env)

    assert built.returncode == 0, built.stderr
    docs = load_all(built.stdout)
    assert redirect_hosts(docs) == []
    assert is_dedicated(find(docs, "Gateway", "http-to-https-redirect"))
    assert [s["port"]["number"] for s in find(docs, "Gateway", "shop")["spec"]["servers"]] == [443]
    assert ID_ANNOTATION not in built.stdout
    assert not any(d["kind"] == "MergeHttpsRedirects" for d in docs)

    # The plugin reads the transformer config kustomize passes as its argument.
    custom = committed.replace("name: http-to-https-redirect", "name: custom-redirect")
    assert custom != committed
    config_file.write_text(custom, encoding="utf-8")
    customised = run(LEGACY_BUILD, root, env)
    assert customised.returncode == 0, customised.stderr
    assert is_dedicated(find(load_all(customised.stdout), "Gateway", "custom-redirect"))

    # A conflict fails the build, with the finding in kubectl's error message.
    kustomization_file = root / "examples/kustomize-legacy-plugin/kustomization.yaml"
    kustomization = yaml.safe_load(kustomization_file.read_text())
    kustomization["resources"].append("conflict.yaml")
    kustomization_file.write_text(yaml.safe_dump(kustomization), encoding="utf-8")
    (kustomization_file.parent / "conflict.yaml").write_text(
        yaml.safe_dump_all([CONFLICT, CONFLICT_BACKEND]))

    failed = run(LEGACY_BUILD, root, env)

    assert failed.returncode != 0
    assert failed.stdout == ""
    assert "error MHR008" in failed.stderr, failed.stderr
    assert "Traceback" not in failed.stderr


@pytest.mark.slow
def test_install_dir_with_kustomize_plugin_home(
    repo_root: Path, tmp_path: Path, function_bin: Path, kubectl_bin: Path
) -> None:
    plugin_home = tmp_path / "plugins"
    env = isolated_env(tmp_path, function_bin)
    installed = run([str(function_bin), "install-kustomize-plugin", "--dir", str(plugin_home)],
                    tmp_path, env)
    assert installed.returncode == 0, installed.stderr
    assert (plugin_home / kustomize_plugin.plugin_relpath()).is_file()
    assert f"KUSTOMIZE_PLUGIN_HOME={plugin_home}" in installed.stderr
    assert yaml.safe_load(installed.stdout)["kind"] == "MergeHttpsRedirects"
    assert not (Path(env["XDG_CONFIG_HOME"]) / "kustomize").exists()

    built = run([str(kubectl_bin), "kustomize", "--enable-alpha-plugins",
                 str(repo_root / "examples/kustomize-legacy-plugin")], tmp_path,
                {**env, "KUSTOMIZE_PLUGIN_HOME": str(plugin_home)})
    assert built.returncode == 0, built.stderr
    assert redirect_hosts(load_all(built.stdout)) == []


def test_plugin_home_follows_kustomize_precedence(tmp_path: Path) -> None:
    home = tmp_path / "home"
    xdg = tmp_path / "xdg"
    explicit = tmp_path / "explicit"
    env = {"XDG_CONFIG_HOME": str(xdg), "KUSTOMIZE_PLUGIN_HOME": str(explicit)}
    # Nothing exists yet: the first configured candidate is created.
    assert kustomize_plugin.default_plugin_home(env, home).path == explicit
    assert kustomize_plugin.default_plugin_home({"XDG_CONFIG_HOME": str(xdg)}, home).path == (
        xdg / "kustomize/plugin")
    assert kustomize_plugin.default_plugin_home({}, home).path == (
        home / ".config/kustomize/plugin")
    # kustomize takes the first that exists.
    (xdg / "kustomize/plugin").mkdir(parents=True)
    assert kustomize_plugin.default_plugin_home(env, home).path == xdg / "kustomize/plugin"


def test_plugin_path_and_script() -> None:
    assert kustomize_plugin.plugin_relpath() == Path(
        "merge-https-redirects.dev/v1alpha1/mergehttpsredirects/MergeHttpsRedirects")
    script = kustomize_plugin.plugin_script(["/opt/my env/bin/python", "-m",
                                             "merge_https_redirects"])
    assert script.startswith("#!/bin/sh\n")
    assert kustomize_plugin.MARKER in script
    assert script.rstrip().endswith(
        "exec '/opt/my env/bin/python' -m merge_https_redirects --config \"$1\"")
    with_path = kustomize_plugin.plugin_script(["python3"], "/src/fn")
    assert "PYTHONPATH=/src/fn${PYTHONPATH:+:$PYTHONPATH}" in with_path


def test_installed_script_runs_this_installation(tmp_path: Path, function_bin: Path) -> None:
    """The plugin works whatever PATH kustomize runs it with: it names the interpreter."""
    target = kustomize_plugin.install(
        tmp_path, kustomize_plugin.plugin_script(kustomize_plugin.interpreter_command()))
    config = tmp_path / "config.yaml"
    config.write_text(kustomize_plugin.transformer_config(), encoding="utf-8")
    gateway = yaml.safe_dump(CONFLICT | {"spec": {
        "selector": {"istio": "ingressgateway"},
        "servers": [{"port": {"number": 80, "name": "http", "protocol": "HTTP"},
                     "hosts": ["a.example.com"], "tls": {"httpsRedirect": True}}]}})
    done = subprocess.run([str(target), str(config)], input=gateway, capture_output=True,
                          text=True, env={"PATH": "/nonexistent"}, check=False, timeout=60)
    assert done.returncode == 0, done.stderr
    docs = load_all(done.stdout)
    assert is_dedicated(find(docs, "Gateway", "http-to-https-redirect"))
    assert redirect_hosts(docs) == []


def test_installer_refuses_foreign_file_and_reports_errors(
    tmp_path: Path, function_bin: Path
) -> None:
    env = isolated_env(tmp_path, function_bin)
    target = tmp_path / "home/.config/kustomize/plugin" / kustomize_plugin.plugin_relpath()
    target.parent.mkdir(parents=True)
    target.write_text("#!/bin/sh\necho mine\n", encoding="utf-8")

    refused = run([str(function_bin), "install-kustomize-plugin"], tmp_path, env)
    assert refused.returncode == 1
    assert refused.stdout == ""
    assert "was not installed by merge-https-redirects" in refused.stderr
    assert "--force" in refused.stderr
    assert target.read_text() == "#!/bin/sh\necho mine\n"

    forced = run([str(function_bin), "install-kustomize-plugin", "--force"], tmp_path, env)
    assert forced.returncode == 0, forced.stderr
    assert kustomize_plugin.MARKER in target.read_text()
    # Re-installing over our own file needs no --force.
    again = run([str(function_bin), "install-kustomize-plugin"], tmp_path, env)
    assert again.returncode == 0, again.stderr

    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    broken = run([str(function_bin), "install-kustomize-plugin", "--dir", str(blocker / "sub")],
                 tmp_path, env)
    assert broken.returncode == 1
    assert broken.stdout == ""
    assert broken.stderr.startswith("merge-https-redirects: cannot write")
    assert "Traceback" not in broken.stderr
