"""Files mode under kustomize: which files a kustomize tree builds as manifests (and which are
patches or generator inputs that only look like manifests), and the minimal edit that lists a
new file in a kustomization."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from merge_https_redirects import yamlio
from merge_https_redirects.hosts.kustomization_edit import add_resource
from merge_https_redirects.hosts.kustomize_tree import (
    KUSTOMIZATION_NAMES,
    KustomizeTreeError,
    Tree,
    find_kustomization,
    tree,
)

GATEWAY = """\
apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: {name}
  namespace: istio-ingress
spec:
  selector:
    istio: ingressgateway
  servers:
  - port: {{number: 80, name: http, protocol: HTTP}}
    hosts: ["*.example.com"]
    tls: {{httpsRedirect: true}}
"""

#: A base, a component and two overlays, as kustomize's docs lay them out.
TREE = {
    "base/kustomization.yaml": """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- gateway.yaml
- deployment.yaml
configMapGenerator:
- name: app
  files:
  - config/app.properties
  - extra.yaml=config/extra.yaml
  envs:
  - config/env.txt
""",
    "base/gateway.yaml": GATEWAY.format(name="public"),
    "base/deployment.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  selector: {matchLabels: {app: app}}
  template:
    metadata: {labels: {app: app}}
    spec:
      containers: [{name: app, image: nginx}]
""",
    "base/config/app.properties": "a=1\n",
    # Looks like a manifest; it is ConfigMap data.
    "base/config/extra.yaml": GATEWAY.format(name="not-a-resource"),
    "base/config/env.txt": "A=1\n",
    "components/extra/kustomization.yaml": """\
apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
resources:
- extra-gateway.yaml
patches:
- path: component-patch.yaml
  target: {group: networking.istio.io, kind: Gateway, name: public}
""",
    "components/extra/extra-gateway.yaml": GATEWAY.format(name="extra"),
    "components/extra/component-patch.yaml": """\
- op: add
  path: /metadata/annotations
  value: {component: extra}
""",
    "overlays/prod/kustomization.yaml": """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- ../../base
components:
- ../../components/extra
patches:
- path: gateway-patch.yaml
patchesStrategicMerge:
- gateway-smp.yaml
""",
    "overlays/prod/gateway-patch.yaml": """\
apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: public
  namespace: istio-ingress
  labels: {env: prod}
""",
    "overlays/prod/gateway-smp.yaml": """\
apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: extra
  namespace: istio-ingress
  labels: {env: prod}
""",
    "overlays/staging/kustomization.yaml": """\
bases:
- ../../base
patches:
- target:
    kind: Gateway
    name: public
  patch: |
    - op: add
      path: /metadata/labels
      value: {env: staging}
- patch: |
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: app}
    spec: {replicas: 2}
patchesJson6902:
- target: {group: apps, version: v1, kind: Deployment, name: app}
  path: deployment-ops.yaml
""",
    "overlays/staging/deployment-ops.yaml": "- {op: add, path: /spec/paused, value: false}\n",
}


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def kustomize_tree(*paths: Path) -> Tree:
    found = tree(list(paths))
    assert found is not None
    return found


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return write(tmp_path / "repo", TREE)


# ---------------------------------------------------------------------------------------------
# find_kustomization
# ---------------------------------------------------------------------------------------------
def test_finds_each_recognised_name(tmp_path: Path) -> None:
    assert find_kustomization(tmp_path) is None
    for name in KUSTOMIZATION_NAMES:
        directory = tmp_path / name.replace(".", "-")
        directory.mkdir()
        (directory / name).write_text("resources: []\n")
        assert find_kustomization(directory) == directory / name


def test_two_kustomization_files_are_an_error(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text("resources: []\n")
    (tmp_path / "Kustomization").write_text("resources: []\n")
    with pytest.raises(KustomizeTreeError, match="more than one kustomization file") as err:
        find_kustomization(tmp_path)
    assert str(tmp_path) in str(err.value)
    with pytest.raises(KustomizeTreeError):
        tree([tmp_path])


# ---------------------------------------------------------------------------------------------
# tree
# ---------------------------------------------------------------------------------------------
def test_base_component_and_overlays(repo: Path) -> None:
    found = kustomize_tree(repo)
    real = repo.resolve()
    assert set(found.resources) == {
        real / "base/gateway.yaml",
        real / "base/deployment.yaml",
        real / "components/extra/extra-gateway.yaml",
    }
    assert set(found.patches) == {
        real / "base/config/app.properties",
        real / "base/config/extra.yaml",
        real / "base/config/env.txt",
        real / "components/extra/component-patch.yaml",
        real / "overlays/prod/gateway-patch.yaml",
        real / "overlays/prod/gateway-smp.yaml",
        real / "overlays/staging/deployment-ops.yaml",
    }
    assert found.owner == {
        real / d: real / d / "kustomization.yaml"
        for d in ("base", "components/extra", "overlays/prod", "overlays/staging")
    }
    assert found.roots == (real / "overlays/prod", real / "overlays/staging")
    assert found.skipped == ()


def test_gateway_patches_by_content_and_by_target(repo: Path) -> None:
    real = repo.resolve()
    prod = real / "overlays/prod/kustomization.yaml"
    staging = real / "overlays/staging/kustomization.yaml"
    component = real / "components/extra/kustomization.yaml"
    assert set(kustomize_tree(repo).gateway_patches) == {
        (prod, real / "overlays/prod/gateway-patch.yaml"),  # patches: path, kind: Gateway
        (prod, real / "overlays/prod/gateway-smp.yaml"),  # patchesStrategicMerge
        (staging, staging),  # inline JSON patch, target kind: Gateway
        (component, real / "components/extra/component-patch.yaml"),  # target in a component
    }


def test_inline_patches_and_other_gateway_kinds(tmp_path: Path) -> None:
    write(tmp_path, {
        "kustomization.yaml": """\
resources: [gw.yaml]
patchesStrategicMerge:
- |-
  apiVersion: networking.istio.io/v1beta1
  kind: Gateway
  metadata: {name: public}
patches:
- patch: |
    apiVersion: gateway.networking.k8s.io/v1
    kind: Gateway
    metadata: {name: k8s}
- target: {kind: Gateway, group: gateway.networking.k8s.io}
  patch: '[{"op": "remove", "path": "/spec/listeners/0"}]'
- target: {name: public}
  patch: '[{"op": "remove", "path": "/spec/servers/0"}]'
""",
        "gw.yaml": GATEWAY.format(name="public"),
    })
    found = kustomize_tree(tmp_path)
    kfile = (tmp_path / "kustomization.yaml").resolve()
    # Only the Istio Gateway is counted; a target by name alone names no kind.
    assert found.gateway_patches == ((kfile, kfile),)
    assert found.resources == ((tmp_path / "gw.yaml").resolve(),)
    assert found.patches == ()


def test_given_kustomization_directory_is_the_only_root(repo: Path) -> None:
    real = repo.resolve()
    found = kustomize_tree(repo / "overlays/prod", repo / "base", repo / "components")
    assert found.roots == (real / "overlays/prod",)
    assert real / "base/gateway.yaml" in found.resources
    assert real / "overlays/staging" not in found.owner


def test_references_leaving_the_given_directories_are_skipped(repo: Path) -> None:
    found = kustomize_tree(repo / "overlays/prod")
    prod = (repo / "overlays/prod/kustomization.yaml").resolve()
    assert found.resources == ()
    assert found.skipped == (
        f"{prod}: resources[0]: '../../base' leaves the given directories; not read",
        f"{prod}: components[0]: '../../components/extra' leaves the given directories; "
        "not read",
    )
    assert found.roots == ((repo / "overlays/prod").resolve(),)


def test_remote_resources_are_skipped(tmp_path: Path) -> None:
    remote = [
        "https://github.com/org/repo//deploy?ref=v1.0.0",
        "github.com/org/repo/deploy?ref=main",
        "git@github.com:org/repo.git/deploy",
        "git::https://example.com/org/repo",
        "https://raw.githubusercontent.com/org/repo/main/gateway.yaml",
    ]
    write(tmp_path, {
        "kustomization.yaml": "resources:\n" + "".join(f"- {r}\n" for r in remote)
        + "- gw.yaml\n",
        "gw.yaml": GATEWAY.format(name="public"),
    })
    found = kustomize_tree(tmp_path)
    assert found.resources == ((tmp_path / "gw.yaml").resolve(),)
    assert len(found.skipped) == len(remote)
    for entry, message in zip(remote, found.skipped, strict=True):
        assert f"resources[{remote.index(entry)}]: {entry!r} is remote" in message


def test_resource_directory_without_kustomization_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, {
        "kustomization.yaml": "resources:\n- manifests\n",
        "manifests/gw.yaml": GATEWAY.format(name="public"),
    })
    with pytest.raises(KustomizeTreeError) as err:
        tree([tmp_path])
    message = str(err.value)
    assert "\n" not in message
    assert str((tmp_path / "kustomization.yaml").resolve()) in message
    assert "resources[0]" in message
    assert "has no kustomization file" in message


@pytest.mark.parametrize(("files", "expected"), [
    ({"kustomization.yaml": "resources: [missing.yaml]\n"}, "no such file or directory"),
    ({"kustomization.yaml": "resources: a.yaml\n"}, "resources: must be a list of strings"),
    ({"kustomization.yaml": "resources: [..]\n"}, "cycle detected"),
    ({"kustomization.yaml": "components: [c]\n", "c/kustomization.yaml": "resources: []\n"},
     "is not a kind: Component"),
    ({"kustomization.yaml": "resources: [c]\n",
      "c/kustomization.yaml": "kind: Component\napiVersion: kustomize.config.k8s.io/v1alpha1\n"},
     "is a kind: Component"),
    ({"kustomization.yaml": "patches:\n- path: missing.yaml\n"}, "no such file"),
    ({"kustomization.yaml": "- a\n"}, "not a mapping"),
    ({"kustomization.yaml": "resources: [a.yaml\n"}, "line"),
], ids=["missing", "not-a-list", "cycle", "not-component", "component-as-resource",
        "missing-patch", "not-a-mapping", "bad-yaml"])
def test_trees_kustomize_refuses(tmp_path: Path, files: dict[str, str], expected: str) -> None:
    write(tmp_path / "k", files)
    with pytest.raises(KustomizeTreeError, match=expected) as err:
        tree([tmp_path])
    assert "\n" not in str(err.value)


def test_plugin_configs_are_not_resources(tmp_path: Path) -> None:
    write(tmp_path, {
        "kustomization.yaml": """\
resources: [gw.yaml]
transformers:
- transformer.yaml
- plugins
- |
  apiVersion: builtin
  kind: LabelTransformer
  metadata: {name: inline}
  labels: {a: b}
replacements:
- path: replacement.yaml
crds: [crd.yaml]
configurations: [config.yaml]
openapi: {path: schema.json}
""",
        "gw.yaml": GATEWAY.format(name="public"),
        "transformer.yaml": "apiVersion: builtin\nkind: NamespaceTransformer\n",
        "plugins/kustomization.yaml": "resources: [plugin.yaml]\n",
        "plugins/plugin.yaml": "apiVersion: builtin\nkind: PrefixTransformer\n",
    })
    found = kustomize_tree(tmp_path)
    real = tmp_path.resolve()
    assert found.resources == (real / "gw.yaml",)
    assert set(found.patches) == {real / n for n in (
        "transformer.yaml", "plugins/plugin.yaml", "replacement.yaml", "crd.yaml",
        "config.yaml", "schema.json")}
    assert found.roots == (real,)


def test_plain_directory_is_not_a_kustomize_tree(tmp_path: Path) -> None:
    gateway = write(tmp_path, {"a/gw.yaml": GATEWAY.format(name="public")}) / "a/gw.yaml"
    assert tree([tmp_path]) is None
    assert tree([gateway]) is None  # files are the caller's, never a tree


def test_walk_skips_dot_directories(tmp_path: Path) -> None:
    write(tmp_path, {".git/kustomization.yaml": "resources: []\n",
                     "app/kustomization.yaml": "resources: []\n"})
    assert kustomize_tree(tmp_path).roots == ((tmp_path / "app").resolve(),)


# ---------------------------------------------------------------------------------------------
# add_resource
# ---------------------------------------------------------------------------------------------
def added(tmp_path: Path, text: str, entry: str = "gateway-http01.yaml",
          name: str = "kustomization.yaml") -> str:
    """The new text; also checks that running again changes nothing."""
    path = tmp_path / name
    path.write_bytes(text.encode())
    new = add_resource(path, entry)
    assert new is not None
    path.write_bytes(new)
    assert add_resource(path, entry) is None
    value = yamlio.loads(new.decode())
    assert value["resources"][-1] == entry
    return new.decode()


def test_add_to_block_list_keeps_comments_and_order(tmp_path: Path) -> None:
    text = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
# the manifests
resources:
- gateway.yaml  # the public gateway
- deployment.yaml
# patches come next
patches:
- path: p.yaml
"""
    assert added(tmp_path, text) == text.replace(
        "- deployment.yaml\n", "- deployment.yaml\n- gateway-http01.yaml\n")


def test_add_to_indented_block_list(tmp_path: Path) -> None:
    text = "namespace: web\nresources:\n  - 'gateway.yaml'\n  - 'app.yaml'\n    # about app\n" \
           "images:\n  - name: nginx\n"
    assert added(tmp_path, text) == text.replace(
        "    # about app\n", "    # about app\n  - 'gateway-http01.yaml'\n")


@pytest.mark.parametrize(("before", "after"), [
    ("resources: [a.yaml, b.yaml]  # two\n", "resources: [a.yaml, b.yaml, gateway-http01.yaml]"
     "  # two\n"),
    ("resources: []\n", "resources: [gateway-http01.yaml]\n"),
    ('resources: ["a.yaml"]\n', 'resources: ["a.yaml", "gateway-http01.yaml"]\n'),
    ("resources: [\n  a.yaml,\n  b.yaml  # last\n]\n",
     "resources: [\n  a.yaml,\n  b.yaml,  # last\n  gateway-http01.yaml\n]\n"),
    ("resources: [\n  a.yaml,\n]\n", "resources: [\n  a.yaml,\n  gateway-http01.yaml,\n]\n"),
], ids=["inline", "empty", "quoted", "one-per-line", "trailing-comma"])
def test_add_to_flow_list(tmp_path: Path, before: str, after: str) -> None:
    assert added(tmp_path, before) == after


@pytest.mark.parametrize(("before", "after"), [
    ("kind: Kustomization\nnamespace: web\n",
     "kind: Kustomization\nnamespace: web\nresources:\n- gateway-http01.yaml\n"),
    ("patches:\n  - path: p.yaml\nnamespace: web",
     "patches:\n  - path: p.yaml\nnamespace: web\nresources:\n  - gateway-http01.yaml\n"),
    ("", "resources:\n- gateway-http01.yaml\n"),
    ("resources:  # none yet\nnamespace: web\n",
     "resources:  # none yet\n- gateway-http01.yaml\nnamespace: web\n"),
    ("resources: ~\n", "resources:\n- gateway-http01.yaml\n"),
    ("---\nnamespace: web\n...\n", "---\nnamespace: web\nresources:\n- gateway-http01.yaml\n"
     "...\n"),
], ids=["missing", "missing-indented-style", "empty-file", "empty-value", "null",
        "document-markers"])
def test_add_creates_the_list(tmp_path: Path, before: str, after: str) -> None:
    assert added(tmp_path, before) == after


def test_add_keeps_crlf_and_bom(tmp_path: Path) -> None:
    path = tmp_path / "kustomization.yaml"
    path.write_bytes(b"\xef\xbb\xbfresources:\r\n- a.yaml\r\nnamespace: web")
    new = add_resource(path, "gateway-http01.yaml")
    assert new == b"\xef\xbb\xbfresources:\r\n- a.yaml\r\n- gateway-http01.yaml\r\n" \
                  b"namespace: web\r\n"


def test_add_quotes_what_must_be_quoted(tmp_path: Path) -> None:
    assert added(tmp_path, "resources: [a.yaml]\n", "odd: name.yaml") \
        == 'resources: [a.yaml, "odd: name.yaml"]\n'
    assert added(tmp_path, "resources:\n- a.yaml\n", "#hash.yaml", "Kustomization") \
        == 'resources:\n- a.yaml\n- "#hash.yaml"\n'


def test_add_finds_an_entry_already_listed(tmp_path: Path) -> None:
    path = tmp_path / "kustomization.yaml"
    path.write_text("resources:\n- ./gateway-http01.yaml\n")
    assert add_resource(path, "gateway-http01.yaml") is None
    path.write_text("bases: [gateway-http01.yaml]\n")
    assert add_resource(path, "gateway-http01.yaml") is None


@pytest.mark.parametrize(("text", "expected"), [
    ("resources: gateway.yaml\n", "resources: is not a list"),
    ("resources: {a: b}\n", "resources: is not a list"),
    ('{"resources": ["a.yaml"]}\n', "flow-style"),
    ("common: &r [a.yaml]\nresources: *r\n", "cannot add"),
    ("resources: []\n---\nresources: []\n", "several YAML documents"),
], ids=["string", "mapping", "json", "alias", "two-documents"])
def test_add_refuses(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "kustomization.yaml"
    path.write_text(text)
    with pytest.raises(KustomizeTreeError, match=expected) as err:
        add_resource(path, "gateway-http01.yaml")
    assert str(path) in str(err.value)
    assert "\n" not in str(err.value)
    assert path.read_text() == text  # never written


# ---------------------------------------------------------------------------------------------
# kubectl kustomize agrees
# ---------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_kubectl_builds_the_added_resource(repo: Path, kubectl_bin: Path) -> None:
    base = repo / "base/kustomization.yaml"
    new = add_resource(base, "gateway-http01.yaml")
    assert new is not None
    base.write_bytes(new)
    (repo / "base/gateway-http01.yaml").write_text(GATEWAY.format(name="http01"))
    for overlay in ("overlays/prod", "overlays/staging"):
        done = subprocess.run([str(kubectl_bin), "kustomize", str(repo / overlay)],
                              capture_output=True, text=True, check=False, timeout=120)
        assert done.returncode == 0, done.stderr
        built = yamlio.loads_all(done.stdout)
        names = {(d["kind"], d["metadata"]["name"]) for d in built}
        assert ("Gateway", "http01") in names
        assert ("Gateway", "not-a-resource") not in names  # ConfigMap data stays data
    assert (repo / "base/gateway-http01.yaml").resolve() in kustomize_tree(repo).resources
