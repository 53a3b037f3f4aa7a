"""Laying YAML out again (``reblock``) and emitting new values (``yamlio.dumps``): a YAML 1.1
reader (libyaml, as the function reads) and a YAML 1.2 reader (ruamel.yaml's core schema, as
kpt, kubectl and Helm read) each read the output as they read the input."""

from __future__ import annotations

import itertools
import math
from typing import Any

import yaml
from hypothesis import example, given
from hypothesis import strategies as st

from merge_https_redirects import yamlio
from merge_https_redirects.yamlio import reblock

#: Plain scalars the two YAML versions read differently, or read as non-strings.
AMBIGUOUS = ["on", "off", "yes", "no", "y", "n", "0755", "0o17", "0x1F", "1e3", "1_000",
             "12:30:00", ".inf", "-.Inf", ".nan", "~", "null", "true", "False", "2001-12-14",
             "1.5", "-7", "+3", "a.example.com", "plain", "=", "0b101", "1.0e+3"]
SCALAR_TEXT = st.one_of(
    st.sampled_from([a for a in AMBIGUOUS if a != "="]),  # plain '=' PyYAML cannot read
    st.sampled_from(AMBIGUOUS).map(lambda s: f'"{s}"'),
    st.sampled_from(AMBIGUOUS).map(lambda s: f"'{s}'"),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")),
            max_size=8).map(reblock.double_quoted),
)
KEY_TEXT = st.sampled_from(["a", "b", "c", "d", "e", "on", '"1e3"', "'x y'"])


def _flow(draw: Any, depth: int) -> str:
    if depth <= 0 or draw(st.booleans()):
        return str(draw(SCALAR_TEXT))
    if draw(st.booleans()):
        n = draw(st.integers(0, 3))
        return "[" + ", ".join(_flow(draw, depth - 1) for _ in range(n)) + "]"
    keys = draw(st.lists(KEY_TEXT, max_size=3, unique_by=yaml.safe_load))
    keys = [k for k in keys if not _clashes_in_12(k, keys)]
    return "{" + ", ".join(f"{k}: {_flow(draw, depth - 1)}" for k in keys) + "}"


def _clashes_in_12(key: str, keys: list[str]) -> bool:
    """Keys distinct for YAML 1.1 but equal for 1.2 (``on`` vs ``"on"``) would be a duplicate
    key to one reader: not a case the layout has to keep."""
    return key == "on" and any(k.strip("'\"") == "on" and k != key for k in keys)


@st.composite
def flow_documents(draw: Any) -> str:
    keys = draw(st.lists(KEY_TEXT, min_size=1, max_size=4, unique_by=yaml.safe_load))
    keys = [k for k in keys if not _clashes_in_12(k, keys)] or ["a"]
    return "{" + ", ".join(f"{k}: {_flow(draw, 3)}" for k in keys) + "}\n"


def _read_12(text: str) -> Any:
    from ruamel.yaml import YAML

    return YAML(typ="safe", pure=True).load(text)


def _same(a: Any, b: Any) -> bool:
    """Equal values of equal types (``nan`` equals itself here)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _relaid(text: str, wide: bool) -> str:
    layout, root = reblock.Reblock.of_document(text, wide)
    return "\n".join(layout.node(root, 0)) + "\n"


@given(flow_documents(), st.booleans())
@example("{a: [on, 0755, 12:30:00], b: {c: .inf, d: '1e3'}, c: \"x\\ny\"}\n", False)
def test_a_relaid_document_reads_the_same_in_both_versions(text: str, wide: bool) -> None:
    out = _relaid(text, wide)
    assert _same(yaml.safe_load(out), yaml.safe_load(text)), out
    assert _same(_read_12(out), _read_12(text)), out
    events = list(yaml.parse(out))
    for event, following in itertools.pairwise(events):
        if isinstance(event, yaml.CollectionStartEvent) and event.flow_style:
            assert isinstance(following, yaml.CollectionEndEvent), out  # block style, but {}


def test_an_anchor_of_a_removed_entry_moves_to_its_first_use() -> None:
    text = "{s: [{h: &h [a, on]}, {h: *h}, {h: *h}]}\n"
    layout, root = reblock.Reblock.of_document(text, False)
    out = "\n".join(layout.node(root, 0, [("s", 0)])) + "\n"
    assert out.count("&h") == 1
    assert out.count("*h") == 1
    assert yaml.safe_load(out) == {"s": [{"h": ["a", True]}, {"h": ["a", True]}]}
    assert _read_12(out) == {"s": [{"h": ["a", "on"]}, {"h": ["a", "on"]}]}


SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(AMBIGUOUS),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12),
)
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3),
    st.dictionaries(st.text("abcxyz-.", min_size=1, max_size=4), inner, max_size=3)),
    max_leaves=12)


@given(st.dictionaries(st.text("abcxyz", min_size=1, max_size=4), VALUES, max_size=4),
       st.booleans())
@example({"f": 1e20, "g": float("inf"), "s": "1e3", "o": "0o755", "n": "n"}, False)
def test_new_values_read_back_the_same_in_both_versions(value: dict[str, Any],
                                                        wide: bool) -> None:
    out = yamlio.dumps(value, wide=wide)
    assert _same(yaml.safe_load(out), value), out
    assert _same(_read_12(out), value), out
