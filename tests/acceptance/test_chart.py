"""The Helm chart generator, checked with a real Helm 4 binary.

What ``helm template`` renders must equal, object for object, what ``dedicated_gateway()`` (the
function's one definition of the dedicated Gateway) builds for the same Gateways; the committed
default chart must be the generator's output byte for byte.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from merge_https_redirects import __version__
from merge_https_redirects.chart import generator as chart
from merge_https_redirects.chart import values as chart_values_module
from merge_https_redirects.chart.generator import write_chart
from merge_https_redirects.chart.values import ChartError, default_chart_gateways
from merge_https_redirects.model import dedicated
from merge_https_redirects.model.dedicated import dedicated_gateway

CHART_NAME = "http-to-https-redirect"
REGENERATE = ".venv/bin/python -m merge_https_redirects.chart"
STRICT_YAMLLINT = "{extends: default, rules: {document-start: disable}}"
RELAXED_YAMLLINT = "{extends: relaxed, rules: {line-length: {max: 160}}}"

Helm = Callable[..., subprocess.CompletedProcess[str]]


# ---------------------------------------------------------------------------------------------
# Fixtures and helpers
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def helm(helm_bin: Path, tmp_path_factory: pytest.TempPathFactory) -> Helm:
    """Run the real helm with its own config, cache and data homes (and no cluster)."""
    home = tmp_path_factory.mktemp("helm-home")
    env = {
        **os.environ,
        "HELM_CONFIG_HOME": str(home / "config"),
        "HELM_CACHE_HOME": str(home / "cache"),
        "HELM_DATA_HOME": str(home / "data"),
        "KUBECONFIG": str(home / "no-kubeconfig"),
    }

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [str(helm_bin), *args], capture_output=True, text=True, env=env, timeout=120,
            check=False,
        )
        if check and proc.returncode != 0:
            pytest.fail(f"helm {' '.join(args)} exited {proc.returncode}:\n{proc.stderr}")
        return proc

    return run


@pytest.fixture(scope="session")
def committed_chart(repo_root: Path) -> Path:
    return repo_root / "charts" / CHART_NAME


@pytest.fixture(scope="session", params=["committed", "generated"])
def default_chart(
    request: pytest.FixtureRequest, committed_chart: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The default chart, as committed and as the generator writes it now (so a template change
    is tested before the committed chart is regenerated)."""
    if request.param == "committed":
        return committed_chart
    out = tmp_path_factory.mktemp("default-chart") / CHART_NAME
    write_chart(default_chart_gateways(), out)
    return out


def rendered(helm: Helm, chart_dir: Path, *args: str) -> list[dict[str, Any]]:
    out = helm("template", "release", str(chart_dir), *args).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc is not None]


def files_of(directory: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(directory)): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


def gw(
    name: str = CHART_NAME,
    namespace: str = "istio-system",
    selector: dict[str, str] | None = None,
    ports: list[int] | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    return dedicated_gateway(
        name, namespace, {"istio": "ingressgateway"} if selector is None else selector,
        ports or [80], **kwargs,
    )


CASES: dict[str, list[dict[str, Any]]] = {
    "default": default_chart_gateways(),
    "two-selectors": [
        gw(),
        gw("http-to-https-redirect-internal", selector={"istio": "internal-ingressgateway"}),
    ],
    "custom-name-namespace": [gw("edge-redirect", "edge", {"app": "edge-gw", "tier": "public"})],
    "port-8080": [gw(ports=[8080])],
    "several-ports-unsorted": [gw(ports=[8443, 80, 8080, 81])],
    "no-selector": [dedicated_gateway("redirect-all", "gateways", None, [80])],
    "empty-selector": [dedicated_gateway("redirect-empty", "gateways", {}, [80])],
    "labels-annotations-v1": [
        gw(
            api_version="networking.istio.io/v1",
            labels={"app.kubernetes.io/part-of": "edge", "version": "1"},
            annotations={"owner": "platform team", "on": "true", "mode": "0755",
                         "note": "x: y # z 'q' \"dq\" é", "empty": ""},
        )
    ],
    "mixed-api-versions": [
        gw("a", api_version="networking.istio.io/v1"),
        gw("b", api_version="networking.istio.io/v1"),
        gw("c", selector={"istio": "eastwest"}),
    ],
}


# ---------------------------------------------------------------------------------------------
# The committed chart is the generator's output
# ---------------------------------------------------------------------------------------------
def test_committed_chart_is_the_generator_output(committed_chart: Path, tmp_path: Path) -> None:
    fresh = tmp_path / CHART_NAME
    write_chart(default_chart_gateways(), fresh)
    assert committed_chart.is_dir(), f"{committed_chart} is missing: run {REGENERATE}"
    want, got = files_of(fresh), files_of(committed_chart)
    assert sorted(got) == sorted(want), f"chart files differ: run {REGENERATE}"
    for name, data in want.items():
        assert got[name] == data, f"{name} differs from the generator's output: run {REGENERATE}"


def test_regenerate_default_writes_the_committed_layout(tmp_path: Path) -> None:
    written = chart.regenerate_default(tmp_path)
    target = tmp_path / "charts" / CHART_NAME
    assert written == sorted(target / name for name in files_of(target))
    assert {p.relative_to(target).as_posix() for p in written} == {
        ".helmignore", "Chart.yaml", "README.md", "values.yaml", "values.schema.json",
        "templates/gateway.yaml", "templates/NOTES.txt",
    }
    # A second run replaces the first (the committed chart is always regenerated with force).
    (target / "stale.txt").write_text("left over")
    chart.regenerate_default(tmp_path)
    assert not (target / "stale.txt").exists()


def test_default_values(committed_chart: Path) -> None:
    values = yaml.safe_load((committed_chart / "values.yaml").read_text())
    assert values == {
        "enabled": True,
        "apiVersion": dedicated.DEFAULT_API_VERSION,
        "labels": {},
        "annotations": {},
        "gateways": [
            {
                "name": "http-to-https-redirect",
                "namespace": "istio-system",
                "selector": {"istio": "ingressgateway"},
                "ports": [80],
            }
        ],
    }
    meta = yaml.safe_load((committed_chart / "Chart.yaml").read_text())
    assert meta["apiVersion"] == "v2"
    assert meta["name"] == CHART_NAME
    assert meta["version"] == __version__
    assert meta["appVersion"] == __version__


# ---------------------------------------------------------------------------------------------
# helm lint, helm template == dedicated_gateway(), helm package
# ---------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_helm_lint_strict_default(helm: Helm, default_chart: Path) -> None:
    helm("lint", "--strict", str(default_chart))


@pytest.mark.slow
@pytest.mark.parametrize("case", list(CASES))
def test_helm_template_equals_the_function(helm: Helm, tmp_path: Path, case: str) -> None:
    gateways = CASES[case]
    chart_dir = tmp_path / "chart"
    write_chart(gateways, chart_dir)
    helm("lint", "--strict", str(chart_dir))
    assert rendered(helm, chart_dir) == gateways


@pytest.mark.slow
def test_default_chart_renders_the_default_gateway(helm: Helm, default_chart: Path) -> None:
    assert rendered(helm, default_chart) == [
        dedicated_gateway("http-to-https-redirect", "istio-system",
                          {"istio": "ingressgateway"}, [80])
    ]


@pytest.mark.slow
def test_enabled_false_renders_nothing(helm: Helm, default_chart: Path) -> None:
    out = helm("template", "release", str(default_chart), "--set", "enabled=false").stdout
    assert list(yaml.safe_load_all(out)) == []
    notes = helm("install", "release", str(default_chart), "--dry-run=client",
                 "--set", "enabled=false").stdout
    assert "renders no Gateway: enabled is false" in notes


@pytest.mark.slow
def test_notes_name_the_gateways(helm: Helm, default_chart: Path) -> None:
    notes = helm("install", "release", str(default_chart), "--dry-run=client").stdout
    assert "istio-system/http-to-https-redirect: port 80, workloads labelled " \
           "istio=ingressgateway" in notes


@pytest.mark.slow
def test_values_written_by_hand_render_like_the_function(
    helm: Helm, default_chart: Path, tmp_path: Path
) -> None:
    """Chart-wide labels/annotations merge under a Gateway's own, a missing namespace is the
    release's, ports are sorted and de-duplicated like dedicated_gateway() does."""
    values = {
        "labels": {"team": "edge", "tier": "chart"},
        "annotations": {"note": "from chart"},
        "gateways": [
            {"name": "a", "selector": {"istio": "ingressgateway"}, "ports": [8080, 80],
             "labels": {"tier": "own"}},
            {"name": "b", "namespace": "other", "selector": None, "ports": [80],
             "apiVersion": "networking.istio.io/v1", "annotations": {"note": "own"}},
        ],
    }
    (tmp_path / "values.yaml").write_text(yaml.safe_dump(values))
    got = rendered(helm, default_chart, "-f", str(tmp_path / "values.yaml"), "-n", "edge")
    assert got == [
        dedicated_gateway("a", "edge", {"istio": "ingressgateway"}, [80, 8080],
                          labels={"team": "edge", "tier": "own"},
                          annotations={"note": "from chart"}),
        dedicated_gateway("b", "other", None, [80], api_version="networking.istio.io/v1",
                          labels={"team": "edge", "tier": "chart"}, annotations={"note": "own"}),
    ]


@pytest.mark.slow
def test_duplicate_gateways_fail_with_a_clear_message(
    helm: Helm, default_chart: Path
) -> None:
    entry = {"name": "a", "namespace": "x", "selector": None, "ports": [80]}
    proc = helm("template", "release", str(default_chart),
                "--set-json", f"gateways={json.dumps([entry, entry])}", check=False)
    assert proc.returncode != 0
    assert "gateways[1]: Gateway x/a is already listed" in proc.stderr


@pytest.mark.slow
def test_helm_package(helm: Helm, default_chart: Path, tmp_path: Path) -> None:
    helm("package", str(default_chart), "-d", str(tmp_path))
    archive = tmp_path / f"{CHART_NAME}-{__version__}.tgz"
    with tarfile.open(archive) as tgz:
        names = set(tgz.getnames())
    for member in ("Chart.yaml", "values.yaml", "values.schema.json", "README.md",
                   "templates/gateway.yaml", "templates/NOTES.txt"):
        assert f"{CHART_NAME}/{member}" in names
    # A generated chart with its own name and version packages too, and the package renders.
    generated = tmp_path / "generated"
    write_chart(CASES["two-selectors"], generated, name="edge-redirects", version="2.3.4-rc.1")
    helm("package", str(generated), "-d", str(tmp_path))
    packaged = tmp_path / "edge-redirects-2.3.4-rc.1.tgz"
    assert rendered(helm, packaged) == CASES["two-selectors"]


# ---------------------------------------------------------------------------------------------
# values.schema.json
# ---------------------------------------------------------------------------------------------
GOOD_ENTRY = {"name": "a", "namespace": "x", "selector": {"istio": "ingressgateway"}, "ports": [80]}
BAD_VALUES: dict[str, tuple[dict[str, Any], str]] = {
    "ports-string": ({"gateways": [{**GOOD_ENTRY, "ports": "80"}]},
                     "at '/gateways/0/ports': got string, want array"),
    "selector-list": ({"gateways": [{**GOOD_ENTRY, "selector": []}]},
                      "at '/gateways/0/selector': got array, want null or object"),
    "name-number": ({"gateways": [{**GOOD_ENTRY, "name": 5}]},
                    "at '/gateways/0/name': got number, want string"),
    "port-zero": ({"gateways": [{**GOOD_ENTRY, "ports": [0]}]},
                  "at '/gateways/0/ports/0': minimum: got 0, want 1"),
    "port-string": ({"gateways": [{**GOOD_ENTRY, "ports": ["80"]}]},
                    "at '/gateways/0/ports/0': got string, want integer"),
    "enabled-string": ({"enabled": "yes"}, "at '/enabled': got string, want boolean"),
    "label-number": ({"labels": {"version": 1}}, "at '/labels/version': got number, want string"),
    "typo-key": ({"gateways": [{**GOOD_ENTRY, "port": 80}]},
                 "at '/gateways/0': additional properties 'port' not allowed"),
    "bad-name": ({"gateways": [{**GOOD_ENTRY, "name": "Bad_Name"}]}, "at '/gateways/0/name'"),
    "missing-selector": ({"gateways": [{"name": "a", "ports": [80]}]},
                         "at '/gateways/0': missing property 'selector'"),
    "api-version": ({"apiVersion": "gateway.networking.k8s.io/v1"}, "at '/apiVersion'"),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(BAD_VALUES))
def test_schema_rejects_bad_values_with_a_helpful_message(
    helm: Helm, default_chart: Path, tmp_path: Path, case: str
) -> None:
    values, message = BAD_VALUES[case]
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(values))
    proc = helm("template", "release", str(default_chart), "-f", str(tmp_path / "bad.yaml"),
                check=False)
    assert proc.returncode != 0, proc.stdout
    assert "values don't meet the specifications of the schema" in proc.stderr
    assert message in proc.stderr


def test_schema_is_draft7_and_accepts_every_generated_values(committed_chart: Path) -> None:
    schema = json.loads((committed_chart / "values.schema.json").read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    validator = jsonschema.Draft7Validator(schema)
    for gateways in CASES.values():
        files = chart.render_chart(gateways)
        assert json.loads(files["values.schema.json"]) == schema
        validator.validate(yaml.safe_load(files["values.yaml"]))
    defaults = yaml.safe_load((committed_chart / "values.yaml").read_text())
    for values, _ in BAD_VALUES.values():
        assert not validator.is_valid({**defaults, **values})


# ---------------------------------------------------------------------------------------------
# jinja2 leaves Helm's {{ }} untouched
# ---------------------------------------------------------------------------------------------
HELM_ACTION = re.compile(r"\{\{.*?\}\}", re.DOTALL)
JINJA_COMMENT = re.compile(r"<#.*?#>", re.DOTALL)


def test_jinja_passes_helm_syntax_through(tmp_path: Path) -> None:
    probe = (
        '{{- /* a comment */ -}}\n{{ .Values.x | quote }} {{- if .Values.y }}{{ end -}}\n'
        '{% raw %} {# not jinja here #} {{ "{{" }}\n<@ value @> <% if flag %>on<% endif %>\n'
    )
    (tmp_path / "probe.j2").write_text(probe)
    env = chart.jinja_environment(tmp_path)
    out = env.get_template("probe.j2").render(value="V", flag=True)
    # (trim_blocks drops the newline after a block tag, as every chart template expects)
    assert out == probe.replace("<@ value @> <% if flag %>on<% endif %>\n", "V on")


@pytest.mark.parametrize(("source", "target"), chart.CHART_FILES)
def test_every_helm_action_survives_rendering(source: str, target: str) -> None:
    text = (chart.template_dir() / source).read_text()
    files = chart.render_chart(CASES["two-selectors"])
    want = HELM_ACTION.findall(JINJA_COMMENT.sub("", text))
    got = HELM_ACTION.findall(files[target])
    assert len(got) == len(want)
    for source_action, output_action in zip(want, got, strict=True):
        # An action with a jinja2 expression inside (e.g. the port-name table) must keep all its
        # Helm text around what jinja2 filled in.
        pattern = "".join(
            ".+?" if part.startswith("<@") else re.escape(part)
            for part in re.split(r"(<@.*?@>)", source_action)
        )
        assert re.fullmatch(pattern, output_action, re.DOTALL), (source_action, output_action)
    for delimiter in ("<@", "@>", "<%", "%>", "<#", "#>"):
        assert delimiter not in files[target]
    if target.startswith("templates/"):
        assert want, f"{source} has no Helm action: the check above would prove nothing"


def test_every_template_is_rendered() -> None:
    root = chart.template_dir()
    on_disk = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    assert on_disk == {source for source, _ in chart.CHART_FILES}


# ---------------------------------------------------------------------------------------------
# One definition: the Helm template follows dedicated.py
# ---------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_helm_template_follows_a_changed_definition(
    helm: Helm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Change the port-name rule and the static server fields in dedicated.py: the generated
    chart still renders exactly what dedicated_gateway() builds (no second copy to update)."""
    original = dedicated.redirect_server
    monkeypatch.setattr(dedicated, "port_name",
                        lambda port: {80: "web", 8080: "alt"}.get(port, f"plain-{port}"))
    monkeypatch.setattr(dedicated, "PROTOCOL", "HTTP2")
    monkeypatch.setattr(
        dedicated, "redirect_server",
        lambda port: {**original(port), "bind": "0.0.0.0", "defaultEndpoint": "127.0.0.1:8080"},
    )
    gateways = [gw(ports=[80, 8080, 81, 9000])]
    assert [s["port"]["name"] for s in gateways[0]["spec"]["servers"]] == [
        "web", "plain-81", "alt", "plain-9000"
    ]
    assert {s["port"]["protocol"] for s in gateways[0]["spec"]["servers"]} == {"HTTP2"}
    write_chart(gateways, tmp_path / "chart")
    assert rendered(helm, tmp_path / "chart") == gateways


def test_generator_refuses_a_definition_it_cannot_follow(monkeypatch: pytest.MonkeyPatch) -> None:
    original = dedicated.redirect_server
    monkeypatch.setattr(dedicated, "redirect_server",
                        lambda port: {**original(port), "tls": {"httpsRedirect": port == 80}})
    with pytest.raises(ChartError, match="depends on the port"):
        chart.render_chart(default_chart_gateways())
    monkeypatch.setattr(dedicated, "redirect_server", original)
    monkeypatch.setattr(dedicated, "port_name", lambda port: f"p{port % 7}")
    with pytest.raises(ChartError, match="port_name"):
        chart.render_chart(default_chart_gateways())


# ---------------------------------------------------------------------------------------------
# write_chart: input checks, refusal, atomicity
# ---------------------------------------------------------------------------------------------
def test_kpt_annotations_are_dropped_and_servers_sorted() -> None:
    source = gw(ports=[8080, 80], annotations={"keep": "me"})
    source["metadata"]["annotations"].update({
        "config.kubernetes.io/index": "0",
        "config.kubernetes.io/path": "gateways.yaml",
        "internal.config.kubernetes.io/path": "gateways.yaml",
    })
    source["spec"]["servers"].reverse()
    entry = chart_values_module.chart_gateway(source)
    assert entry.ports == (80, 8080)
    assert entry.annotations == {"keep": "me"}
    assert entry.render() == gw(ports=[8080, 80], annotations={"keep": "me"})


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda g: g["spec"]["servers"][0].update(bind="1.2.3.4"),
         r"differs at spec\.servers\[0\]\.bind"),
        (lambda g: g["spec"]["servers"][0].update(hosts=["example.com"]),
         r"differs at spec\.servers\[0\]\.hosts"),
        (lambda g: g["spec"]["servers"][0]["port"].update(name="web"),
         r"differs at spec\.servers\[0\]\.port\.name"),
        (lambda g: g["spec"].update(servers=[]), "has no servers"),
        (lambda g: g["metadata"].update(labels={"version": 1}), "must map strings to strings"),
        (lambda g: g["metadata"].pop("namespace"), "needs metadata.name and metadata.namespace"),
    ],
)
def test_gateways_the_chart_cannot_render_are_refused(
    mutate: Callable[[dict[str, Any]], object], message: str
) -> None:
    gateway = gw()
    mutate(gateway)
    with pytest.raises(ChartError, match=message):
        chart.render_chart([gateway])


def test_duplicate_gateways_are_refused() -> None:
    with pytest.raises(ChartError, match="istio-system/http-to-https-redirect is listed twice"):
        chart.render_chart([gw(), gw(ports=[8080])])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "Bad_Name"}, "chart name 'Bad_Name' is not valid"),
        ({"version": "1.0"}, "chart version '1.0' is not SemVer 2"),
        ({"app_version": "a\nb"}, "single line"),
    ],
)
def test_bad_name_or_version_is_refused(
    tmp_path: Path, kwargs: dict[str, str], message: str
) -> None:
    with pytest.raises(ChartError, match=message):
        write_chart(default_chart_gateways(), tmp_path / "out", **kwargs)
    assert not (tmp_path / "out").exists()


def test_non_empty_output_is_refused_without_force(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    with pytest.raises(ChartError) as info:
        write_chart(default_chart_gateways(), out)
    assert "\n" not in str(info.value)
    assert "--force" in str(info.value)
    assert files_of(out) == {"mine.txt": b"keep me"}
    written = write_chart(default_chart_gateways(), out, force=True)
    assert not (out / "mine.txt").exists()
    assert sorted(files_of(out)) == sorted(str(p.relative_to(out)) for p in written)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temporary left over


def test_empty_or_missing_output_is_fine(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    write_chart(default_chart_gateways(), tmp_path / "empty")
    write_chart(default_chart_gateways(), tmp_path / "new" / "deeper")
    assert files_of(tmp_path / "empty") == files_of(tmp_path / "new" / "deeper")
    assert oct((tmp_path / "new" / "deeper").stat().st_mode & 0o777) != oct(0o700)


def test_output_that_is_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(ChartError, match="is not a directory"):
        write_chart(default_chart_gateways(), tmp_path / "file", force=True)
    with pytest.raises(ChartError, match="cannot write the chart to"):
        write_chart(default_chart_gateways(), tmp_path / "file" / "below")


def test_a_failed_write_leaves_the_old_chart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    write_chart(default_chart_gateways(), out)
    before = files_of(out)
    real_rename = Path.rename

    def failing_rename(self: Path, target: Any) -> Path:
        if self.name.endswith(".tmp"):
            raise OSError("disk full")
        return real_rename(self, target)

    monkeypatch.setattr(Path, "rename", failing_rename)
    with pytest.raises(ChartError, match=r"cannot write the chart to .*: disk full"):
        write_chart(CASES["two-selectors"], out, force=True)
    assert files_of(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_refused_gateway_writes_nothing(tmp_path: Path) -> None:
    bad = gw()
    bad["spec"]["servers"][0]["hosts"] = ["example.com"]
    with pytest.raises(ChartError):
        write_chart([bad], tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------------------------
# The `chart` subcommand (the CLI injects the bundle planner)
# ---------------------------------------------------------------------------------------------
def test_main_writes_the_planned_gateways(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: list[list[str]] = []
    planned = CASES["two-selectors"]

    def plan(paths: list[str], config: str | None) -> list[dict[str, Any]]:
        seen.append(paths)
        assert config is None
        return planned

    out = tmp_path / "chart"
    code = chart.main(["a.yaml", "dir/", "--output", str(out), "--name", "edge",
                       "--version", "1.2.3"], plan=plan)
    assert code == 0
    assert seen == [["a.yaml", "dir/"]]
    values = yaml.safe_load((out / "values.yaml").read_text())
    assert [(g["namespace"], g["name"], g["selector"], g["ports"]) for g in values["gateways"]] == [
        ("istio-system", "http-to-https-redirect", {"istio": "ingressgateway"}, [80]),
        ("istio-system", "http-to-https-redirect-internal",
         {"istio": "internal-ingressgateway"}, [80]),
    ]
    meta = yaml.safe_load((out / "Chart.yaml").read_text())
    assert (meta["name"], meta["version"], meta["appVersion"]) == ("edge", "1.2.3", "1.2.3")
    assert "wrote chart edge 1.2.3" in capsys.readouterr().out
    # Non-empty now: refused with exit code 1 and one line on stderr, then --force works.
    assert chart.main(["--output", str(out)], plan=plan) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "is not empty: use --force" in err
    assert chart.main(["--output", str(out), "--force"], plan=plan) == 0
    assert yaml.safe_load((out / "Chart.yaml").read_text())["name"] == CHART_NAME
    assert seen[-1] == []  # no PATH: the planner reads standard input


def test_main_default_and_errors(
    tmp_path: Path, committed_chart: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert chart.main(["--default", "--output", str(tmp_path / "d")]) == 0
    assert files_of(tmp_path / "d") == files_of(committed_chart)
    assert chart.main(["--output", str(tmp_path / "e")], plan=lambda paths, config: []) == 1
    assert "nothing to put in a chart" in capsys.readouterr().err
    assert not (tmp_path / "e").exists()

    def refusing(paths: list[str], config: str | None) -> list[dict[str, Any]]:
        raise ChartError("bundle.yaml: line 3: bad YAML")

    assert chart.main(["bundle.yaml", "--output", str(tmp_path / "f")], plan=refusing) == 1
    assert "error: bundle.yaml: line 3: bad YAML" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        chart.main(["--default", "x.yaml", "--output", str(tmp_path / "g")])
    assert info.value.code == 2


# ---------------------------------------------------------------------------------------------
# yamllint
# ---------------------------------------------------------------------------------------------
def yamllint(config: str, *paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "yamllint", "--strict", "-f", "parsable", "-d", config,
         *map(str, paths)],
        capture_output=True, text=True, check=False, timeout=120,
    )


def helm_skeleton(text: str) -> str:
    """A Helm template as YAML: action-only lines dropped, inline actions made scalars."""
    lines = []
    for line in JINJA_COMMENT.sub("", HELM_ACTION.sub("\0", text)).splitlines():
        if line.strip().replace("\0", "") == "" and "\0" in line:
            continue
        lines.append(line.replace("\0", "x"))
    return "\n".join(lines) + "\n"


def chart_dirs(committed: Path, tmp_path: Path) -> Iterator[Path]:
    yield committed
    for case in ("two-selectors", "labels-annotations-v1", "no-selector"):
        write_chart(CASES[case], tmp_path / case)
        yield tmp_path / case


def test_yamllint_strict_on_chart_and_values(committed_chart: Path, tmp_path: Path) -> None:
    paths = [d / name for d in chart_dirs(committed_chart, tmp_path)
             for name in ("Chart.yaml", "values.yaml")]
    proc = yamllint(STRICT_YAMLLINT, *paths)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_yamllint_relaxed_on_the_helm_template(default_chart: Path, tmp_path: Path) -> None:
    skeleton = tmp_path / "gateway.yaml"
    skeleton.write_text(helm_skeleton((default_chart / "templates/gateway.yaml").read_text()))
    assert yaml.safe_load(skeleton.read_text())["kind"] == "Gateway"
    proc = yamllint(RELAXED_YAMLLINT, skeleton)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.slow
def test_yamllint_strict_on_what_helm_renders(
    helm: Helm, committed_chart: Path, tmp_path: Path
) -> None:
    for case in ("two-selectors", "labels-annotations-v1", "empty-selector"):
        write_chart(CASES[case], tmp_path / case)
        out = tmp_path / f"{case}.yaml"
        out.write_text(helm("template", "release", str(tmp_path / case)).stdout)
        proc = yamllint("{extends: default}", out)
        assert proc.returncode == 0, case + "\n" + proc.stdout


# ---------------------------------------------------------------------------------------------
# End to end: `merge-https-redirects chart BUNDLE` renders what `merge-https-redirects BUNDLE`
# emits, object for object
# ---------------------------------------------------------------------------------------------
def redirecting_gateway(name: str, selector: dict[str, str], port: int, host: str,
                        api_version: str = "networking.istio.io/v1beta1") -> dict[str, Any]:
    return {
        "apiVersion": api_version,
        "kind": "Gateway",
        "metadata": {"name": name, "namespace": "apps"},
        "spec": {
            "selector": selector,
            "servers": [
                {"port": {"number": port, "name": "http", "protocol": "HTTP"},
                 "hosts": [host], "tls": {"httpsRedirect": True}},
                {"port": {"number": 443, "name": "https", "protocol": "HTTPS"},
                 "hosts": [host], "tls": {"mode": "SIMPLE", "credentialName": f"{name}-cert"}},
            ],
        },
    }


INGRESS = {"istio": "ingressgateway"}
INTERNAL = {"istio": "internal-ingressgateway"}
E2E: dict[str, tuple[list[dict[str, Any]], dict[str, str] | None]] = {
    "default": ([redirecting_gateway("web", INGRESS, 80, "a.example.com")], None),
    "two-selectors": (
        [redirecting_gateway("web", INGRESS, 80, "a.example.com"),
         redirecting_gateway("internal", INTERNAL, 80, "b.example.com",
                             api_version="networking.istio.io/v1")],
        None,
    ),
    "custom-name-namespace": (
        [redirecting_gateway("web", INGRESS, 80, "a.example.com")],
        {"name": "redirect-to-https", "namespace": "istio-ingress"},
    ),
    "port-8080": (
        [redirecting_gateway("web", INGRESS, 8080, "a.example.com"),
         redirecting_gateway("internal", INTERNAL, 80, "b.example.com")],
        {"ports": "80,8080"},
    ),
}


def is_dedicated(obj: dict[str, Any]) -> bool:
    servers = obj.get("spec", {}).get("servers") or []
    return obj.get("kind") == "Gateway" and bool(servers) and all(
        s.get("hosts") == [dedicated.CATCH_ALL_HOST] and s.get("tls") == {"httpsRedirect": True}
        for s in servers
    )


def by_key(objs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(objs, key=lambda o: (o["metadata"]["namespace"], o["metadata"]["name"]))


@pytest.mark.slow
@pytest.mark.parametrize("case", list(E2E))
def test_chart_of_a_bundle_renders_what_the_function_emits(
    function_bin: Path, helm: Helm, tmp_path: Path, case: str
) -> None:
    resources, config = E2E[case]
    bundle = tmp_path / "bundle.yaml"
    bundle.write_text(yaml.safe_dump_all(resources, sort_keys=False))
    config_args: list[str] = []
    if config is not None:
        (tmp_path / "config.yaml").write_text(yaml.safe_dump({
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "config"},
            "data": config,
        }))
        config_args = ["--config", str(tmp_path / "config.yaml")]
    out = tmp_path / "chart"
    made = subprocess.run(
        [str(function_bin), "chart", str(bundle), *config_args, "--output", str(out)],
        capture_output=True, text=True, check=False, timeout=60,
    )
    assert made.returncode == 0, made.stderr
    emitted = subprocess.run(
        [str(function_bin), *config_args, str(bundle)],
        capture_output=True, text=True, check=False, timeout=60,
    )
    assert emitted.returncode == 0, emitted.stderr
    dedicated_gateways = [d for d in yaml.safe_load_all(emitted.stdout) if d and is_dedicated(d)]
    assert dedicated_gateways, "the function emitted no dedicated Gateway"
    helm("lint", "--strict", str(out))
    assert by_key(rendered(helm, out)) == by_key(dedicated_gateways)
