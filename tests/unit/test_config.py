"""FunctionConfig parsing: every accepted form, every field, every bad value, all at once."""

from __future__ import annotations

from typing import Any

import pytest

from merge_https_redirects.config import API_VERSION, KIND, Config, ConfigProblems, parse_config


def configmap(**data: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "function-input"},
            "data": data}


def typed(**fields: Any) -> dict[str, Any]:
    return {"apiVersion": API_VERSION, "kind": KIND, "metadata": {"name": "merge"}, **fields}


def problems(obj: Any) -> list[str]:
    with pytest.raises(ConfigProblems) as info:
        parse_config(obj)
    for result in info.value.results:
        assert result.level == "error"
        assert result.rule.id == "MHR100"
    return [r.message for r in info.value.results]


DEFAULT = Config(mode="merge", name="http-to-https-redirect", namespace="istio-system",
                 ports=(80,), on_conflict="error")


# --- accepted forms -----------------------------------------------------------------------------
@pytest.mark.parametrize("obj", [
    None,
    configmap(),
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "function-input"}},
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": None},
    typed(),
], ids=["none", "empty-data", "no-data", "null-data", "typed-empty"])
def test_defaults(obj: Any) -> None:
    config = parse_config(obj)
    assert config == Config()
    assert (config.mode, config.name, config.namespace, config.ports, config.on_conflict) == (
        DEFAULT.mode, DEFAULT.name, DEFAULT.namespace, DEFAULT.ports, DEFAULT.on_conflict)


def test_configmap_every_field() -> None:
    config = parse_config(configmap(mode="merge", name="redirect-to-https", namespace="gw-1",
                                    ports="8080, 80", onConflict="skip"))
    assert config.mode == "merge"
    assert config.name == "redirect-to-https"
    assert config.namespace == "gw-1"
    assert config.ports == (80, 8080)
    assert config.on_conflict == "skip"


@pytest.mark.parametrize(("text", "ports"), [
    ("80", (80,)), ("80,8080", (80, 8080)), ("8080 80", (80, 8080)), ("[80, 8080]", (80, 8080)),
    (" 443 ", (443,)), ("65535,1", (1, 65535)),
])
def test_configmap_ports_forms(text: str, ports: tuple[int, ...]) -> None:
    assert parse_config(configmap(ports=text)).ports == ports


def test_typed_every_field() -> None:
    config = parse_config(typed(mode="check", name="redirect", namespace="istio-ingress",
                                ports=[8080, 80], onConflict="error"))
    assert (config.mode, config.name, config.namespace, config.ports, config.on_conflict) == (
        "check", "redirect", "istio-ingress", (80, 8080), "error")


def test_typed_single_port_number() -> None:
    assert parse_config(typed(ports=8080)).ports == (8080,)


def test_typed_metadata_and_annotations_are_not_fields() -> None:
    obj = typed(name="x")
    obj["metadata"]["annotations"] = {"config.kubernetes.io/local-config": "true"}
    assert parse_config(obj).name == "x"


# --- bad values, one at a time ------------------------------------------------------------------
@pytest.mark.parametrize(("obj", "expected"), [
    (typed(mode="rewrite"), "field `mode` must be one of merge, check, got 'rewrite'"),
    (typed(mode=1), "field `mode` must be a string, got an integer"),
    (typed(name="Redirect"), "field `name` must be a DNS-1123 label"),
    (typed(name="-redirect"), "field `name` must be a DNS-1123 label"),
    (typed(name="a" * 64), "field `name` must be a DNS-1123 label"),
    # istiod's ValidateGateway rejects a dotted Gateway name
    (typed(name="redirect.to-https"), "field `name` must be a DNS-1123 label"),
    (typed(name=["x"]), "field `name` must be a string, got a list"),
    (typed(namespace="istio.system"), "field `namespace` must be a DNS-1123 label"),
    (typed(namespace="a" * 64), "field `namespace` must be a DNS-1123 label"),
    (typed(namespace=""), "field `namespace` must be a DNS-1123 label"),
    (typed(namespace=None), "field `namespace` must be a string, got null"),
    (typed(onConflict="ignore"), "field `onConflict` must be one of error, skip, got 'ignore'"),
    (typed(onConflict=True), "field `onConflict` must be a string, got a boolean"),
    (typed(ports=[]), "field `ports` must name at least one port"),
    (typed(ports=[80, 80]), "field `ports` lists a port twice"),
    (typed(ports=[0]), "field `ports` entries must be integers from 1 to 65535, got 0"),
    (typed(ports=[65536]), "field `ports` entries must be integers from 1 to 65535, got 65536"),
    (typed(ports=["80"]), "field `ports` entries must be integers from 1 to 65535, got '80'"),
    (typed(ports=[True]), "field `ports` entries must be integers from 1 to 65535, got True"),
    (typed(ports=[80.5]), "field `ports` entries must be integers from 1 to 65535, got 80.5"),
    (typed(ports="80"), "field `ports` must be a list of port numbers, got a string"),
    (typed(ports={"a": 80}), "field `ports` must be a list of port numbers, got a map"),
    (configmap(ports="eighty"), "field `ports` entries must be integers from 1 to 65535, "
                                "got 'eighty'"),
    (configmap(ports="80,-1"), "field `ports` entries must be integers from 1 to 65535"),
    (configmap(ports="99999"), "field `ports` entries must be integers from 1 to 65535, got 99999"),
    (configmap(ports=""), "field `ports` must name at least one port"),
    (configmap(ports="80,80"), "field `ports` lists a port twice"),
    (configmap(mode="Merge"), "field `mode` must be one of merge, check, got 'Merge'"),
    (configmap(onConflict="skip "), "field `onConflict` must be one of error, skip"),
    (configmap(ports=80), "ConfigMap data.ports must be a string (ConfigMap values are strings), "
                          "got an integer"),
    (configmap(name=None), "ConfigMap data.name must be a string"),
    (typed(nmae="x"), "unknown field `nmae`, expect one of:"),
    (configmap(port="80"), "unknown field `port`, expect one of:"),
    (typed(spec={"ports": [80]}), "unknown field `spec`"),
])
def test_bad_value(obj: dict[str, Any], expected: str) -> None:
    found = problems(obj)
    assert len(found) == 1, found
    assert found[0].startswith(expected), found


def test_unknown_field_lists_the_known_ones() -> None:
    (message,) = problems(typed(onconflict="skip"))
    assert message == ("unknown field `onconflict`, expect one of: failOn, failOnUnknown, "
                       "gatewayLabels, ingressClass, ingressSelector, issuers, mode, name, "
                       "namespace, onConflict, ports, strategy, strict")


def test_issuers_setting_is_validated_entry_by_entry() -> None:
    found = problems(typed(issuers=[
        {"kind": "Issuer", "name": "le"},
        {"kind": "ClusterIssuer", "name": "", "namespace": "x", "solvers": "no"},
        "text",
    ]))
    assert any("issuers[0]" in m and "`namespace` is required" in m for m in found)
    assert any("issuers[1]" in m and "`name` must be a non-empty string" in m
               and "has no `namespace`" in m and "`solvers` must be a list" in m for m in found)
    assert any("issuers[2]" in m and "must be a map" in m for m in found)


# --- every problem at once ----------------------------------------------------------------------
def test_all_problems_reported_at_once_typed() -> None:
    found = problems(typed(mod="merge", name=42, namespace="Istio_System",
                           ports=["eighty", 70000], onConflict="ignore", mode="fix"))
    assert len(found) == 7, found
    for fragment in ("unknown field `mod`", "field `name`", "field `namespace`",
                     "got 'eighty'", "got 70000", "field `onConflict`", "field `mode`"):
        assert sum(fragment in m for m in found) == 1, (fragment, found)


def test_all_problems_reported_at_once_configmap() -> None:
    found = problems(configmap(ports="80,http", onConflict="never", namespce="x", name=7))
    assert len(found) == 4, found
    assert any("data.name" in m for m in found)
    assert any("`namespce`" in m for m in found)
    assert any("got 'http'" in m for m in found)
    assert any("`onConflict`" in m for m in found)


def test_problem_results_point_at_the_config() -> None:
    with pytest.raises(ConfigProblems) as info:
        parse_config(configmap(ports="x"))
    (result,) = info.value.results
    assert result.resource is not None
    assert result.resource.to_krm() == {"apiVersion": "v1", "kind": "ConfigMap",
                                        "name": "function-input"}
    assert result.to_krm()["tags"]["rule"] == "MHR100"


@pytest.mark.parametrize(("obj", "field"), [
    (typed(ports=[0]), "ports"),
    (typed(onConflict="x"), "onConflict"),
    (typed(nmae="x"), "nmae"),
    (configmap(namespace="A"), "namespace"),
])
def test_problem_results_carry_the_field_path(obj: dict[str, Any], field: str) -> None:
    """Every result has field.path where relevant: a config problem is about one field."""
    with pytest.raises(ConfigProblems) as info:
        parse_config(obj)
    (result,) = info.value.results
    assert result.field_path is not None, "the error result names no field.path"
    assert field in result.field_path


# --- not a FunctionConfig this function knows ---------------------------------------------------
@pytest.mark.parametrize(("obj", "named"), [
    ({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}}, "`Secret.v1`"),
    ({"apiVersion": "v2", "kind": "ConfigMap"}, "`ConfigMap.v2`"),
    ({"apiVersion": "merge-https-redirects.dev/v1", "kind": KIND},
     f"`{KIND}.merge-https-redirects.dev/v1`"),
    ({"kind": KIND}, f"`{KIND}.None`"),
])
def test_unknown_function_config(obj: dict[str, Any], named: str) -> None:
    (message,) = problems(obj)
    assert message.startswith(f"unknown functionConfig {named}")
    assert message.endswith(f"expect `ConfigMap.v1` or `{KIND}.{API_VERSION}`")


@pytest.mark.parametrize("obj", [[], "ports=80", 3])
def test_not_a_mapping(obj: Any) -> None:
    (message,) = problems(obj)
    assert message.startswith("functionConfig must be a mapping, got ")


def test_configmap_data_not_a_map() -> None:
    (message,) = problems({"apiVersion": "v1", "kind": "ConfigMap", "data": ["ports=80"]})
    assert message == "ConfigMap `data` must be a map of strings, got a list"


def test_gateway_labels_in_both_forms() -> None:
    assert parse_config(typed(gatewayLabels={"istio": "ingress"})).gateway_labels == (
        (("istio", "ingress"),),)
    assert parse_config(configmap(gatewayLabels="istio=ingress, app=gw")).gateway_labels == (
        (("app", "gw"), ("istio", "ingress")),)
    assert parse_config(None).gateway_labels is None


def test_gateway_labels_lists_one_label_set_per_workload() -> None:
    two = ((("istio", "ingressgateway"),), (("app", "edge"), ("istio", "edge")))
    assert parse_config(typed(gatewayLabels=[{"istio": "ingressgateway"},
                                             {"istio": "edge", "app": "edge"}])
                        ).gateway_labels == two
    assert parse_config(configmap(gatewayLabels="istio=ingressgateway; istio=edge,app=edge")
                        ).gateway_labels == two


@pytest.mark.parametrize("value", [[], "istio", {"istio": 1}, {}])
def test_gateway_labels_refused(value: Any) -> None:
    obj = configmap(gatewayLabels=value) if isinstance(value, str) else typed(gatewayLabels=value)
    with pytest.raises(ConfigProblems) as info:
        parse_config(obj)
    (result,) = info.value.results
    assert result.field_path is not None
    assert "gatewayLabels" in result.field_path
