"""``yamlio.resolve`` is PyYAML's resolution and construction of plain scalars, without PyYAML:
the same tag and the same value (or the same error) for every text."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from merge_https_redirects import yamlio
from merge_https_redirects.yamlio import resolve

_RESOLVER = yaml.resolver.Resolver()
_CONSTRUCTOR = yaml.constructor.SafeConstructor()

#: Texts at the edges of every implicit expression (and of none).
EDGES = [
    "", " ", "~", "null", "Null", "NULL", "nULL", "yes", "Yes", "YES", "yEs", "y", "n", "on",
    "Off", "true", "False", "TRUE", "0", "-0", "+0", "00", "0o7", "07", "08", "0_7", "0b101",
    "-0b1_0", "0b", "0x1F", "0xg", "0x_", "1_000", "1:30", "-1:30:00", "1:60", "190:20:30",
    "1.0", "1.", ".5", "-.5", "1e3", "1.0e+3", "1.0e3", "1_0.0_1", ".inf", "-.Inf", "+.INF",
    ".nan", ".NaN", "-.nan", "1:30.5", "2024-01-01", "2024-1-1T00:00:00Z",
    "2024-01-01 00:00:00.5 +01:00", "<<", "=", "!", "&", "*", "*x", "8080", "80", "443",
    "v1", "1.2.3", "12:34:56:78", "0x", "+", "-", ".", "._", "0.", "-1_", "_1",
]


def _pyyaml_tag(text: str) -> str:
    return str(_RESOLVER.resolve(yaml.ScalarNode, text, (True, False)))  # type: ignore[no-untyped-call]


def _outcome(make: Any) -> tuple[str, Any]:
    """What ``make()`` gives: ("value", it) or ("error", its type and message)."""
    try:
        return "value", make()
    except (ValueError, KeyError, IndexError, TypeError, OverflowError) as exc:
        return "error", (type(exc), str(exc))


def _same_value(tag: str, text: str) -> None:
    node = yaml.ScalarNode(tag, text)
    kind, expected = _outcome(lambda: _CONSTRUCTOR.yaml_constructors[tag](_CONSTRUCTOR, node))
    got_kind, got = _outcome(lambda: resolve.construct(tag, text))
    assert got_kind == kind
    if kind == "error":
        assert got == expected
        return
    assert type(got) is type(expected)
    if isinstance(expected, float) and math.isnan(expected):
        assert math.isnan(got)
        assert math.copysign(1, got) == math.copysign(1, expected)
    else:
        assert got == expected


@pytest.mark.parametrize("text", EDGES)
def test_edges_resolve_and_construct_as_pyyaml_does(text: str) -> None:
    tag = _pyyaml_tag(text)
    assert resolve.plain_tag(text) == tag
    if tag in resolve.CONSTRUCTED:
        _same_value(tag, text)


@given(st.text(alphabet="0123456789+-._:eEbxXoOaAfFlLnNsStTrRuUyY~<=!&* \t", max_size=12))
@example("1_0:5_9.2_5")
@settings(max_examples=3000, deadline=None)
def test_every_text_resolves_as_pyyaml_resolves_it(text: str) -> None:
    tag = _pyyaml_tag(text)
    assert resolve.plain_tag(text) == tag
    if tag in resolve.CONSTRUCTED:
        _same_value(tag, text)


@given(tag=st.sampled_from(sorted(resolve.CONSTRUCTED)),
       text=st.text(alphabet="0123456789+-._:exobXnanifINF ", max_size=8))
@settings(max_examples=1500, deadline=None)
def test_explicit_tags_construct_as_pyyaml_does(tag: str, text: str) -> None:
    """``!!int "..."`` and the like: whatever the text, PyYAML's value or PyYAML's error."""
    _same_value(tag, text)


def test_a_resource_list_on_the_compiled_scanner_never_imports_pyyaml() -> None:
    """Start-up is the floor of every run: the compiled scanner's path reads, rewrites and
    writes a ResourceList without PyYAML (its import is as costly as the rest together)."""
    if yamlio.SCANNER != "c":
        pytest.skip("the compiled scanner is not built here (MHR_SCANNER or no compiler)")
    generate = Path(__file__).resolve().parents[3] / "bench" / "generate.py"
    bundle = subprocess.run([sys.executable, str(generate), "20"], capture_output=True,
                            check=True).stdout
    for data in (b"apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n",
                 bundle):
        code = ("import sys\nfrom merge_https_redirects.cli import main\nmain([])\n"
                "assert 'yaml' not in sys.modules, 'PyYAML was imported'\n")
        done = subprocess.run([sys.executable, "-c", code], input=data, capture_output=True,
                              check=False)
        assert done.returncode in (0, 1), done.stderr.decode()
        assert b"PyYAML was imported" not in done.stderr
        assert b"kind: ResourceList" in done.stdout


def test_every_nan_is_one_object_as_in_pyyaml() -> None:
    """PyYAML returns its one ``nan_value`` for every ``.nan``; containers compare by identity
    first, so two of them are equal keys and values (compiled, a float is a new object each
    time unless kept boxed)."""
    from merge_https_redirects.yamlio.resolve import FLOAT, construct

    first, second = construct(FLOAT, ".nan"), construct(FLOAT, ".NaN")
    assert first is second
    assert [first] == [second]
    loaded = yaml.safe_load("[.nan, .NaN]")
    assert loaded[0] is loaded[1]
