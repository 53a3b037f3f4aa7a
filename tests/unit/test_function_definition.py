"""functions/merge-https-redirects.yaml: the KRMFunctionDefinition and its functionConfig schema.

What each test proves:
- the file is what tools/function_definition.py generates from config.py and metadata.yaml (run
  the tool to refresh it), and it is a KRMFunctionDefinition as the krm-functions-registry
  validates them (the registry's required fields, its license spelling), naming the image of
  metadata.yaml, whose tag is the package version, and every example's README;
- the openAPIV3Schema keeps to the keywords of Kubernetes' JSONSchemaProps, and is a valid
  schema;
- the schema and the function's own validation (``config.parse_config``) agree, both ways, on
  every ``MergeHttpsRedirects`` config in examples/ and tests/golden/, on the schema's own
  defaults and examples, on hand-written boundary cases and on generated configs: what the
  function accepts validates, and what it rejects is invalid, but for the one rule the schema
  cannot state (label keys: OpenAPI v3 has no ``propertyNames``).

Validation follows OpenAPI v3's JSON Schema (draft 4 semantics: ``1.0`` is no integer), with
``pattern`` read as ECMA-262 and Go's RE2 read it (``$`` is the end of the text; Python's ``re``
would also match before a final newline).
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from jsonschema.exceptions import ValidationError

import merge_https_redirects
from merge_https_redirects import yamlio
from merge_https_redirects.config import (
    API_VERSION,
    FIELDS,
    KIND,
    ConfigProblems,
    parse_config,
)

ROOT = Path(__file__).resolve().parents[2]
DEFINITION = ROOT / "functions" / "merge-https-redirects.yaml"
#: As tests/property: CI judges a change on the same generated examples every time.
IN_CI = os.environ.get("CI") == "true"
#: The one config rule the schema cannot express.
INEXPRESSIBLE = re.compile(r"has an invalid label key")


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("function_definition",
                                                  ROOT / "tools" / "function_definition.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _definition() -> dict[str, Any]:
    (doc,) = yamlio.loads_all(DEFINITION.read_text(encoding="utf-8"))
    assert isinstance(doc, dict)
    return doc


def _schema() -> dict[str, Any]:
    (version,) = _definition()["spec"]["versions"]
    schema = version["schema"]["openAPIV3Schema"]
    assert isinstance(schema, dict)
    return schema


def _ecma_pattern(validator: Any, pattern: str, instance: Any, _schema: Any
                  ) -> Iterator[ValidationError]:
    assert pattern.endswith("$"), pattern
    assert pattern.count("$") == 1, pattern
    if validator.is_type(instance, "string") and not re.search(pattern[:-1] + r"\Z", instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


Validator = jsonschema.validators.extend(jsonschema.Draft4Validator, {"pattern": _ecma_pattern})
VALIDATOR = Validator(_schema())


# --------------------------------------------------------------------------------------------
# The file
# --------------------------------------------------------------------------------------------
def test_definition_is_generated_and_current() -> None:
    assert DEFINITION.read_text(encoding="utf-8") == _tool().render(ROOT), (
        "functions/merge-https-redirects.yaml is stale: run "
        ".venv/bin/python tools/function_definition.py")
    check = subprocess.run([sys.executable, str(ROOT / "tools" / "function_definition.py"),
                            "--check"], capture_output=True, text=True, check=False, timeout=60)
    assert check.returncode == 0, check.stderr


#: The registry's requirements of a KRMFunctionDefinition (krm-functions-registry
#: tests/validate-metadata_test.go and the schema of KEP 2906), as JSON Schema.
_STRING = {"type": "string", "minLength": 1}
REGISTRY_SHAPE = {
    "type": "object",
    "required": ["apiVersion", "kind", "spec"],
    "properties": {
        "apiVersion": {"enum": ["config.kubernetes.io/v1alpha1"]},
        "kind": {"enum": ["KRMFunctionDefinition"]},
        "spec": {
            "type": "object",
            "required": ["group", "names", "description", "publisher", "versions"],
            "properties": {
                "group": _STRING, "description": _STRING, "publisher": _STRING,
                "home": _STRING,
                "names": {"type": "object", "required": ["kind"],
                          "properties": {"kind": _STRING}},
                "maintainers": {"type": "array", "items": _STRING},
                "tags": {"type": "array", "items": _STRING},
                "versions": {"type": "array", "minItems": 1, "items": {
                    "type": "object",
                    "required": ["name", "schema", "idempotent", "runtime", "usage",
                                 "examples", "license"],
                    "properties": {
                        "name": _STRING,
                        "schema": {"type": "object", "required": ["openAPIV3Schema"],
                                   "properties": {"openAPIV3Schema": {"type": "object"}}},
                        "idempotent": {"type": "boolean"},
                        "usage": _STRING,
                        "examples": {"type": "array", "minItems": 1, "items": _STRING},
                        "license": {"enum": ["Apache 2.0"]},
                        "maintainers": {"type": "array", "items": _STRING},
                        "runtime": {"type": "object", "minProperties": 1, "properties": {
                            "container": {"type": "object", "required": ["image"],
                                          "properties": {"image": _STRING}},
                        }},
                    },
                }},
            },
        },
    },
}


def test_definition_is_a_registry_krm_function_definition() -> None:
    definition = _definition()
    jsonschema.Draft4Validator(REGISTRY_SHAPE).validate(definition)
    spec = definition["spec"]
    (version,) = spec["versions"]
    assert f"{spec['group']}/{version['name']}" == API_VERSION
    assert spec["names"]["kind"] == KIND

    metadata = yamlio.loads_all((ROOT / "metadata.yaml").read_text(encoding="utf-8"))[0]
    image = version["runtime"]["container"]["image"]
    assert image == metadata["image"]
    assert image.endswith(f":v{merge_https_redirects.__version__}")
    assert spec["description"] == metadata["description"]
    assert spec["tags"] == metadata["tags"]
    assert spec["maintainers"] == metadata["emails"]
    assert metadata["sourceURL"].startswith(spec["publisher"] + "/")
    readmes = sorted(p.relative_to(ROOT).as_posix() for p in ROOT.glob("examples/*/README.md"))
    assert version["examples"] == [f"{metadata['sourceURL']}/blob/main/{r}" for r in readmes]
    assert version["usage"] == f"{metadata['sourceURL']}/blob/main/README.md"
    for url in metadata["examplePackageURLs"]:
        assert url.replace("/tree/main/", "/blob/main/") + "/README.md" in version["examples"]


#: The keywords of Kubernetes' JSONSchemaProps the generated schema may use (no $ref, const,
#: propertyNames, patternProperties: not OpenAPI v3, or not understood by every consumer).
KEYWORDS = {"type", "description", "enum", "default", "example", "pattern", "minLength",
            "maxLength", "minimum", "maximum", "items", "minItems", "uniqueItems", "properties",
            "additionalProperties", "required", "oneOf", "minProperties"}


def _subschemas(schema: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield schema
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            yield from _subschemas(schema[key])
    for sub in [*schema.get("properties", {}).values(), *schema.get("oneOf", [])]:
        yield from _subschemas(sub)


def test_schema_keywords_and_fields() -> None:
    schema = _schema()
    jsonschema.Draft4Validator.check_schema(schema)
    for sub in _subschemas(schema):
        assert set(sub) <= KEYWORDS, set(sub) - KEYWORDS
        assert "type" in sub or "oneOf" in sub, sub
    assert list(schema["properties"]) == ["apiVersion", "kind", "metadata",
                                          *(f.name for f in FIELDS)]
    for field in FIELDS:
        assert schema["properties"][field.name]["description"].startswith(field.meaning)


# --------------------------------------------------------------------------------------------
# Schema and validators agree
# --------------------------------------------------------------------------------------------
def _verdicts(config: Any) -> tuple[bool, bool, list[str]]:
    """(accepted by the function, valid by the schema, the function's problems)."""
    try:
        parse_config(config)
    except ConfigProblems as problems:
        messages = [r.message for r in problems.results]
        return False, VALIDATOR.is_valid(config), messages
    return True, VALIDATOR.is_valid(config), []


def _agree(config: Any) -> bool:
    """Assert the two agree; returns whether the function accepted the config."""
    accepted, valid, problems = _verdicts(config)
    if accepted:
        errors = [e.message for e in VALIDATOR.iter_errors(config)]
        assert valid, f"the function accepts {config!r}, the schema does not: {errors}"
    elif valid:
        assert all(INEXPRESSIBLE.search(p) for p in problems), (
            f"the function rejects {config!r} ({problems}), the schema accepts it")
    return accepted


def _typed(**fields: Any) -> dict[str, Any]:
    return {"apiVersion": API_VERSION, "kind": KIND, "metadata": {"name": "fn"}, **fields}


def _documents(path: Path) -> list[Any]:
    return [d for d in yamlio.loads_all(path.read_text(encoding="utf-8")) if d is not None]


def _repository_configs() -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    candidates = [*sorted(ROOT.glob("examples/**/*.yaml")),
                  *sorted(ROOT.glob("examples/**/.*.yaml")),
                  *sorted(ROOT.glob("tests/golden/*/config.yaml"))]
    for path in candidates:
        if "templates" in path.parts:  # Helm templates: not YAML before Helm renders them
            continue
        for doc in _documents(path):
            if isinstance(doc, dict) and doc.get("kind") == KIND:
                found.append((str(path.relative_to(ROOT)), doc))
    for path in sorted(ROOT.glob("tests/golden/krm-*/input.yaml")):
        for doc in _documents(path):
            config = doc.get("functionConfig") if isinstance(doc, dict) else None
            if isinstance(config, dict) and config.get("kind") == KIND:
                found.append((str(path.relative_to(ROOT)), config))
    return found


REPOSITORY_CONFIGS = _repository_configs()


def test_repository_configs_found() -> None:
    where = {w.split("/")[0] for w, _ in REPOSITORY_CONFIGS}
    assert where == {"examples", "tests"}
    accepted = [w for w, c in REPOSITORY_CONFIGS if _verdicts(c)[0]]
    rejected = [w for w, c in REPOSITORY_CONFIGS if not _verdicts(c)[0]]
    assert len(accepted) >= 10, accepted
    assert "tests/golden/bad-config/config.yaml" in rejected
    assert "tests/golden/krm-typed-config/input.yaml" in accepted  # a ResourceList's config


@pytest.mark.parametrize(("where", "config"), REPOSITORY_CONFIGS,
                         ids=[w for w, _ in REPOSITORY_CONFIGS])
def test_repository_config(where: str, config: dict[str, Any]) -> None:
    accepted = _agree(config)
    if where.startswith("examples/"):
        assert accepted, f"{where}: an example the function rejects"


def test_schema_defaults_and_examples_are_accepted() -> None:
    properties = _schema()["properties"]
    for field in FIELDS:
        for key in ("default", "example"):
            if key in properties[field.name]:
                config = _typed(**{field.name: properties[field.name][key]})
                assert _agree(config), (field.name, key)
    assert _agree(_typed())
    # A config holding every field's example at once.
    assert _agree(_typed(**{f.name: properties[f.name]["example"] for f in FIELDS}))


LONG_LABEL = "a" * 63
BOUNDARIES: list[tuple[dict[str, Any], bool]] = [
    (_typed(name=LONG_LABEL), True),
    (_typed(name=LONG_LABEL + "a"), False),
    (_typed(name="redirect\n"), False),  # '$' in a schema pattern is the end of the text
    (_typed(name="Upper"), False),
    (_typed(name="-x"), False),
    (_typed(namespace="istio.system"), False),
    (_typed(ingressClass="x" * 253), True),
    (_typed(ingressClass="x" * 254), False),
    (_typed(ingressClass="istio nginx"), False),
    (_typed(ingressClass=""), False),
    (_typed(ports=1), True),
    (_typed(ports=[65535, 80]), True),
    (_typed(ports=[0]), False),
    (_typed(ports=[65536]), False),
    (_typed(ports=[80, 80]), False),
    (_typed(ports=[]), False),
    (_typed(ports=[True]), False),
    (_typed(ports=80.0), False),
    (_typed(ports="80"), False),
    (_typed(strict="true"), False),
    (_typed(failOnUnknown=None), False),
    (_typed(mode="Check"), False),
    (_typed(strategy="route"), True),
    (_typed(ingressSelector={}), False),
    (_typed(ingressSelector={"istio": ""}), True),
    (_typed(ingressSelector={"istio": "-x"}), False),
    (_typed(ingressSelector={"istio": 1}), False),
    (_typed(gatewayLabels={"istio": "ingress"}), True),
    (_typed(gatewayLabels=[{"istio": "a"}, {"istio": "a"}]), True),
    (_typed(gatewayLabels=[]), False),
    (_typed(gatewayLabels=[{}]), False),
    (_typed(gatewayLabels="istio=ingress"), False),
    (_typed(issuers=[]), True),
    (_typed(issuers=[{"kind": "Issuer", "name": "le", "namespace": "certs"}]), True),
    (_typed(issuers=[{"kind": "Issuer", "name": "le"}]), False),
    (_typed(issuers=[{"kind": "ClusterIssuer", "name": "le", "namespace": "certs"}]), False),
    (_typed(issuers=[{"kind": "ClusterIssuer", "name": ""}]), False),
    (_typed(issuers=[{"kind": "ClusterIssuer", "name": "le", "solvers": [1]}]), False),
    (_typed(issuers=[{"kind": "ClusterIssuer", "name": "le", "server": "x"}]), False),
    (_typed(issuers=[{"kind": "ClusterIssuer", "name": "le", "solvers": [{}]}]), True),
    (_typed(mod="merge"), False),
    ({"apiVersion": API_VERSION, "kind": KIND}, True),
    ({"apiVersion": "merge-https-redirects.dev/v1", "kind": KIND}, False),
    ({"kind": KIND}, False),
]


def _case_id(case: tuple[dict[str, Any], bool]) -> str:
    config, accepted = case
    fields = {k: v for k, v in config.items() if k not in ("apiVersion", "kind", "metadata")}
    return f"{'accept' if accepted else 'reject'}:{fields or config}"[:60]


@pytest.mark.parametrize(("config", "accepted"), BOUNDARIES, ids=[_case_id(c) for c in BOUNDARIES])
def test_boundary(config: dict[str, Any], accepted: bool) -> None:
    assert _agree(config) == accepted


def test_label_keys_are_the_inexpressible_rule() -> None:
    """The function checks label keys, the schema cannot: the only allowed disagreement."""
    config = _typed(ingressSelector={"-bad key": "x"})
    assert _verdicts(config)[:2] == (False, True)
    _agree(config)


# Generated configs: every field drawn from values near its rules and from arbitrary data.
_ANY = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 70000) | st.floats(allow_nan=False)
    | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                 max_size=3),
    max_leaves=6)
_LABEL = st.from_regex(r"[a-z0-9]([-a-z0-9]{0,66}[a-z0-9])?", fullmatch=True)
_KEYS = st.sampled_from(["istio", "app", "topology.istio.io/network", "app.kubernetes.io/name",
                         "", "-x", "a/b/c", "Example.com/x", "x_", "a b"]) | st.text(max_size=4)
_VALUES = st.sampled_from(["ingressgateway", "", "a.b-c_d", "-x", "x-", "a b", "é", "x\n"]) \
    | st.text(max_size=4) | _ANY
_LABELS = st.dictionaries(_KEYS, _VALUES, max_size=3)
_PORT = st.integers(-1, 65537) | st.sampled_from([80, 443, 8080, True, 80.0, "80"])
# Never generated, where the schema is stricter than the function: ``metadata`` (the function
# ignores it; the schema types it as KRM's ObjectMeta).
_ISSUER = st.fixed_dictionaries(
    {"kind": st.sampled_from(["ClusterIssuer", "Issuer", "issuer", None])},
    optional={"name": st.sampled_from(["letsencrypt", "", 5, None]),
              "namespace": st.sampled_from(["certs", "", 5, None]),
              "solvers": st.sampled_from([[], [{"http01": {}}], [5], {}, None]),
              "server": st.just("x")})
_ENUMS = {f.name: re.findall(r"`([^`]+)`", f.type) for f in FIELDS
          if f.type.startswith("string: ")}
_FIELD_VALUES: dict[str, st.SearchStrategy[Any]] = {
    **{name: st.sampled_from([*values, values[0].upper(), ""]) | _ANY
       for name, values in _ENUMS.items()},
    "name": _LABEL | st.sampled_from(["a\n", "UPPER", "a.b", "a_b"]) | _ANY,
    "namespace": _LABEL | _ANY,
    "ports": _PORT | st.lists(_PORT, max_size=3) | _ANY,
    "issuers": st.lists(_ISSUER | _ANY, max_size=2) | _ANY,
    "failOnUnknown": _ANY,
    "strict": _ANY,
    "ingressClass": st.sampled_from(["istio", "", "a b", "x" * 254, "é\t"]) | _ANY,
    "ingressSelector": _LABELS | _ANY,
    "gatewayLabels": _LABELS | st.lists(_LABELS, max_size=2) | _ANY,
}
assert set(_FIELD_VALUES) == {f.name for f in FIELDS}
_CONFIGS = st.fixed_dictionaries(
    {"apiVersion": st.sampled_from([API_VERSION, API_VERSION, "v1"]),
     "kind": st.sampled_from([KIND, KIND, "Mergehttpsredirects"])},
    optional={"metadata": st.just({"name": "fn"}), "mod": _ANY, **_FIELD_VALUES})


# Valid values of every field, so that a config with one field drawn from the values above
# differs from an accepted one in that field only.
_GOOD_KEYS = st.sampled_from(["istio", "app", "topology.istio.io/network", "x_y.z-1",
                              "app.kubernetes.io/name"])
_GOOD_VALUES = st.from_regex(r"([A-Za-z0-9]([-A-Za-z0-9_.]{0,8}[A-Za-z0-9])?)?", fullmatch=True)
_GOOD_LABELS = st.dictionaries(_GOOD_KEYS, _GOOD_VALUES, min_size=1, max_size=3)
_GOOD_SOLVERS = st.lists(st.dictionaries(st.sampled_from(["http01", "dns01"]), _ANY), max_size=2)
_GOOD_ISSUER = st.fixed_dictionaries(
    {"kind": st.just("ClusterIssuer"), "name": st.text(min_size=1, max_size=5)},
    optional={"solvers": _GOOD_SOLVERS}) | st.fixed_dictionaries(
    {"kind": st.just("Issuer"), "name": st.text(min_size=1, max_size=5),
     "namespace": st.text(min_size=1, max_size=5)}, optional={"solvers": _GOOD_SOLVERS})
_GOOD_PORT = st.integers(1, 65535)
_GOOD_FIELD_VALUES: dict[str, st.SearchStrategy[Any]] = {
    **{name: st.sampled_from(values) for name, values in _ENUMS.items()},
    "name": _LABEL,
    "namespace": _LABEL,
    "ports": _GOOD_PORT | st.lists(_GOOD_PORT, min_size=1, max_size=3, unique=True),
    "issuers": st.lists(_GOOD_ISSUER, max_size=2),
    "failOnUnknown": st.booleans(),
    "strict": st.booleans(),
    "ingressClass": st.from_regex(r"[!-~]{1,12}", fullmatch=True),
    "ingressSelector": _GOOD_LABELS,
    "gatewayLabels": _GOOD_LABELS | st.lists(_GOOD_LABELS, min_size=1, max_size=2),
}
assert set(_GOOD_FIELD_VALUES) == {f.name for f in FIELDS}
_GOOD_CONFIGS = st.fixed_dictionaries(
    {"apiVersion": st.just(API_VERSION), "kind": st.just(KIND)},
    optional={"metadata": st.just({"name": "fn"}), **_GOOD_FIELD_VALUES})


@st.composite
def _one_field_off(draw: st.DrawFn) -> dict[str, Any]:
    config = draw(_GOOD_CONFIGS)
    name = draw(st.sampled_from(sorted(_FIELD_VALUES)))
    config[name] = draw(_FIELD_VALUES[name])
    return config


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow],
          derandomize=IN_CI)
@given(_GOOD_CONFIGS | _one_field_off())
def test_accepted_configs_validate(config: dict[str, Any]) -> None:
    _agree(config)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow],
          derandomize=IN_CI)
@given(_CONFIGS)
@example(_typed(ports=[1, 65535], name="a", strict=True, gatewayLabels=[{"a": ""}]))
@example(_typed(issuers=[{"kind": "ClusterIssuer", "name": "x", "namespace": ""}]))
def test_schema_and_validators_agree(config: dict[str, Any]) -> None:
    _agree(config)
