"""The results and new items appended to a ResourceList are written as block-sequence entries
directly (``emit.emit_entries``); they must be exactly :func:`yamlio.dumps` of each entry,
indented under its dash, as they were when each was dumped and re-indented."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from merge_https_redirects.yamlio import dumps
from merge_https_redirects.yamlio.emit import _scalar_text, _str_text, double_quoted, plain_safe
from merge_https_redirects.yamlio.splice import _as_entries


def _dumped_entries(objs: list[Any], dash_indent: int, wide: bool, newline: str) -> str:
    """The entries as ``dumps`` of each, re-indented under its dash (the earlier way)."""
    out = []
    for obj in objs:
        body = dumps(obj, wide=wide).rstrip("\n").split("\n")
        lines = [" " * dash_indent + "- " + body[0]]
        lines += [(" " * (dash_indent + 2) + line) if line else "" for line in body[1:]]
        out.append(newline.join(lines) + newline)
    return "".join(out)


_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
    st.text(max_size=12), st.sampled_from(["", "yes", "1e3", "a: b", "x #y", "~", "spec.a[0]"]))
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(objs=st.lists(_values, max_size=4), dash_indent=st.sampled_from([0, 2, 4]),
       wide=st.booleans(), newline=st.sampled_from(["\n", "\r\n"]))
def test_entries_are_dumps_indented_under_the_dash(objs: list[Any], dash_indent: int,
                                                   wide: bool, newline: str) -> None:
    assert _as_entries(objs, dash_indent, wide, newline) == _dumped_entries(
        objs, dash_indent, wide, newline)


def test_a_result_as_an_entry() -> None:
    result = {"message": "removed redirect server(s) spec.servers[0] (port 80, hosts a.b)",
              "severity": "info",
              "resourceRef": {"apiVersion": "networking.istio.io/v1beta1", "kind": "Gateway",
                              "name": "g", "namespace": "team-1"},
              "field": {"path": "spec.servers[0]"}, "tags": {"rule": "MHR001"},
              "list": [{"a": 1, "b": [True, None]}, [], {}]}
    expected = (
        '  - message: "removed redirect server(s) spec.servers[0] (port 80, hosts a.b)"\n'
        "    severity: info\n"
        "    resourceRef:\n"
        "      apiVersion: networking.istio.io/v1beta1\n"
        "      kind: Gateway\n"
        "      name: g\n"
        "      namespace: team-1\n"
        "    field:\n"
        '      path: "spec.servers[0]"\n'
        "    tags:\n"
        "      rule: MHR001\n"
        "    list:\n"
        "      - a: 1\n"
        "        b:\n"
        "          - true\n"
        "          - null\n"
        "      - []\n"
        "      - {}\n")
    assert _as_entries([result], 2, True, "\n") == expected
    assert _as_entries([], 2, True, "\n") == ""


@pytest.mark.parametrize("text", ["info", "spec.servers[0]", "yes", "", "a: b", "01", "é"])
def test_remembered_string_scalars_are_the_computed_ones(text: str) -> None:
    computed = text if plain_safe(text) else double_quoted(text)
    assert _str_text(text) == computed
    assert _str_text(text) == computed  # from the cache
    assert _scalar_text(text) == computed


def test_string_subclass_written_as_its_text() -> None:
    class Name(str):
        pass

    assert _scalar_text(Name("yes")) == '"yes"'
    assert _scalar_text(Name("info")) == "info"
