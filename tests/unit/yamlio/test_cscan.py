"""The compiled scanner (``yamlio/_cscan.c``, issue 19) against the pure-Python one it stands in
for: on every input it takes, the same Bundle (items, heads, spans, values with their types,
house style); on every input the pure-Python scanner treats specially, it declines (``None``),
so the pure-Python scanner answers. Skipped where the extension is not built."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from merge_https_redirects import yamlio
from merge_https_redirects.rewrite.resources import retain, wanted
from merge_https_redirects.yamlio import fast, scan, splice

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("merge_https_redirects.yamlio._cscan") is None,
    reason="the compiled scanner is not built (pure-Python install)")

REPO = Path(__file__).resolve().parents[3]
GOLDEN = REPO / "tests" / "golden"


def typed(value: Any) -> Any:
    """A value with every scalar's type spelled out: 1, 1.0 and True are equal in Python."""
    if isinstance(value, dict):
        return [("map", typed(k), typed(v)) for k, v in value.items()]
    if isinstance(value, list):
        return ["seq", *(typed(v) for v in value)]
    return (type(value).__name__, value)


def summary(bundle: yamlio.Bundle) -> Any:
    items = [(i.position, i.start, i.end, i.api_version, i.kind, i.name, i.namespace,
              i.annotations, i.wanted, i.is_mapping, repr(i.head_error),
              typed(i.eager) if not isinstance(i.eager, Exception) else repr(i.eager))
             for i in bundle.items]
    # (not vars(): compiled by mypyc, a Bundle has no __dict__)
    attributes = {k: getattr(bundle, k) for k in dir(bundle)
                  if not k.startswith("__") and not callable(getattr(bundle, k))}
    fields = {k: repr(v) if isinstance(v, Exception) else v for k, v in attributes.items()
              if k not in ("items", "function_config")}
    return items, typed(bundle.function_config), fields


def compiled(text: str) -> yamlio.Bundle | None:
    from merge_https_redirects.yamlio.fast import _scan_compiled

    return _scan_compiled(text, wanted, retain)


def python(text: str) -> yamlio.Bundle:
    return scan.scan_resource_list(text, wanted, retain)


def resource_lists() -> list[Path]:
    return sorted(p / "input.yaml" for p in GOLDEN.iterdir()
                  if p.name.startswith("krm-") and (p / "input.yaml").exists())


def test_the_package_runs_the_compiled_scanner() -> None:
    assert yamlio.SCANNER == "c" or fast._choice == "python"


@pytest.mark.parametrize("path", resource_lists(), ids=lambda p: p.parent.name)
def test_golden_resource_lists_scan_the_same(path: Path) -> None:
    try:
        text = yamlio.decode(path.read_bytes()).body
        expected = summary(python(text))
    except yamlio.YamlError:
        assert compiled_or_error(path) is None
        return
    got = compiled(text)
    if got is not None:
        assert summary(got) == expected


def compiled_or_error(path: Path) -> yamlio.Bundle | None:
    try:
        return compiled(yamlio.decode(path.read_bytes()).body)
    except yamlio.YamlError:
        return None


def test_a_generated_bundle_scans_the_same_and_the_compiled_scanner_takes_it() -> None:
    import sys

    sys.path.insert(0, str(REPO / "bench"))
    try:
        from generate import make_resource_list
    finally:
        sys.path.pop(0)
    for seqindent in ("compact", "wide", "mixed"):
        text = make_resource_list(60, seqindent=seqindent)
        got = compiled(text)
        assert got is not None
        assert summary(got) == summary(python(text))


GATEWAY = """\
apiVersion: config.kubernetes.io/v1
kind: ResourceList
items:
- apiVersion: networking.istio.io/v1beta1
  kind: Gateway
  metadata:
    name: gw
    namespace: ns
    annotations:
      config.kubernetes.io/path: 'gw.yaml'
      cert-manager.io/issuer: {issuer}
  spec:
    selector:
      istio: ingressgateway
    servers:
    - port: {{number: {port}, name: http, protocol: HTTP}}
      hosts: [{host}]
      tls:
        httpsRedirect: {flag}
"""

PLAIN = st.sampled_from([
    "", "~", "null", "Null", "NULL", "yes", "No", "ON", "off", "y", "n", "true", "False",
    "0", "-1", "+2", "0x1F", "0o17", "017", "1_000", "1:30", "1.5", ".5", "-.inf", ".NaN",
    "1e3", "6.8523015e+5", "2001-12-14", "2001-12-14t21:59:43.10-05:00", "<<x", "=", "80",
    "app", "team-12", "ok", "nope", "tls", "yesterday", "1.2.3", "0b101", "-", "+",
]) | st.from_regex(r"\A[a-zA-Z0-9.+\-_:]{1,8}\Z")


@settings(max_examples=300, deadline=None)
@given(issuer=PLAIN, port=PLAIN, host=PLAIN, flag=PLAIN)
def test_plain_scalars_resolve_as_the_python_scanner_resolves_them(
        issuer: str, port: str, host: str, flag: str) -> None:
    text = GATEWAY.format(issuer=issuer, port=port, host=host, flag=flag)
    try:
        yaml.safe_load(text)
    except yaml.YAMLError:
        return  # not YAML at all (e.g. "-" as a flow value)
    try:
        expected = summary(python(text))
    except yamlio.YamlError:
        expected = None
    got = compiled(text)
    if got is not None:
        assert summary(got) == expected


def test_the_table_of_first_characters_covers_the_resolver() -> None:
    """Every first character PyYAML's resolver looks at is one the compiled scanner resolves
    through Python (``may_resolve`` in _cscan.c): a new resolver would make it guess."""
    source = (REPO / "fn" / "merge_https_redirects" / "yamlio" / "_cscan.c").read_text()
    table = source.split('strchr("', 1)[1].split('"', 1)[0] + "yYnNtTfFoO"
    for first in yaml.resolver.Resolver.yaml_implicit_resolvers:
        assert first == "" or first in table


DECLINED = {
    "anchor": "  metadata: &m {name: a}\n",
    "alias": "  metadata: {name: a}\n  spec: {a: &x 1, b: *x}\n",
    "tag": "  metadata: {name: !!str a}\n",
    "duplicate key": "  metadata: {name: a}\n  spec: {a: 1, a: 2}\n",
    "duplicate resolved key": "  metadata: {name: a}\n  spec: {1: a, 0x1: b}\n",
    "true and 1": "  metadata: {name: a}\n  spec: {true: a, 1: b}\n",
    "merge key": "  metadata: {name: a}\n  spec: {<<: {a: 1}}\n",
    "mapping key": "  metadata: {name: a}\n  spec: {[a]: 1}\n",
}


@pytest.mark.parametrize("name", sorted(DECLINED))
def test_the_compiled_scanner_declines_what_the_python_scanner_treats_specially(
        name: str) -> None:
    text = ("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n"
            "- apiVersion: v1\n  kind: ConfigMap\n" + DECLINED[name])
    assert compiled(text) is None
    # and the package answers as the pure-Python scanner does
    try:
        expected = summary(python(text))
    except yamlio.YamlError as exc:
        with pytest.raises(yamlio.YamlError, match=exc.message[:20]):
            yamlio.scan_resource_list(text, wanted, retain)
    else:
        assert summary(yamlio.scan_resource_list(text, wanted, retain)) == expected


@pytest.mark.parametrize("text", [
    "{apiVersion: v1, kind: ResourceList, items: []}\n",
    "apiVersion: v1\nkind: ResourceList\nitems: [{kind: A}]\n",
    "apiVersion: v1\nkind: ResourceList\nitems: ~\n",
    "apiVersion: v1\nkind: ResourceList\n",
    "apiVersion: v1\nkind: ResourceList\nitems:\n- a\n",
    "apiVersion: v1\nkind: ResourceList\nitems: []\nresults: 3\n",
    "apiVersion: v1\nkind: ResourceList\nitems: []\nkind: again\n",
    "apiVersion: v1\nkind: ResourceList\nitems: []\n---\na: 1\n",
    "apiVersion: v1\nkind: ResourceList\nitems:\n- a: [\n",
    "apiVersion: v1\nkind: ResourceList\nfunctionConfig: {a: 1, a: 2}\nitems: []\n",
])
def test_unusual_resource_lists_are_left_to_the_python_scanner(text: str) -> None:
    assert compiled(text) is None


def test_deep_nesting_is_left_to_the_python_scanner() -> None:
    deep = "[" * 300 + "]" * 300
    text = f"apiVersion: v1\nkind: ResourceList\nitems:\n- a: {deep}\n"
    assert compiled(text) is None
    with pytest.raises(yamlio.YamlError, match="nesting"):
        yamlio.scan_resource_list(text, wanted, retain)


def test_node_trees_are_the_python_ones() -> None:
    from merge_https_redirects.yamlio.events import _Events

    for path in resource_lists():
        try:
            bundle = python(yamlio.decode(path.read_bytes()).body)
        except yamlio.YamlError:
            continue
        for item in bundle.items:
            _, local = yamlio.scan.item_text(bundle.text, item.start, item.end)
            tree = fast.node_tree(local)
            if tree is None:
                continue
            events = list(_Events(local))
            root = next(i for i, e in enumerate(events)
                        if type(e) is yaml.DocumentStartEvent) + 1
            expected, _ = splice._node_tree(events, root, local)
            assert _plain(tree) == _plain(expected)


def _plain(node: Any) -> Any:
    kind, start, end, flow, children = node
    return (kind, start, end, flow, [(k, _plain(c)) for k, c in children])


@pytest.mark.parametrize("text", [
    "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n",
    "apiVersion: v1\nkind: ResourceList\nitems: [ ]  # none\nresults: []\n",
    "kind: ResourceList\nitems: []\nfunctionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n"
    "  data: {mode: check}\n",
    "# head\napiVersion: v1\nkind: ResourceList\nitems: []\n\n# tail\n",
])
def test_an_empty_flow_items_scans_the_same(text: str) -> None:
    """``items: []`` (what kpt sends for an empty package, and the start-up benchmark) is
    the compiled scanner's: a flow list with entries is not."""
    bundle = compiled(text)
    assert bundle is not None
    assert summary(bundle) == summary(python(text))
    assert compiled(text.replace("items: []", "items: [{kind: A}]", 1)
                    .replace("items: [ ]", "items: [{kind: A}]", 1)) is None


@pytest.mark.parametrize("text", [
    "apiVersion: v1\nkind: ResourceList\nitems: []\n",
    "kind: 'ResourceList'\n",
    '"kind": "List"\n',
    "metadata: {name: a, labels: {kind: x}}\nspec: [1, [2, {kind: y}]]\nkind: Deep\n",
    "a: 1\n",
    "- kind: A\n",
    "just text\n",
    "",
    "--- \n...\n---\nkind: Second\n",
    "kind: {a: 1}\n",
    "kind:\n",
    "kind: ünïcödé\n",
    "a: [\nkind: Broken\n",
    "kind: First\n} broken later\n",
    "a: &x 1\nkind: Anchored\n",
    "kind: !!str Tagged\n",
    "? [a]\n: 1\nkind: ComplexKey\n",
    "a: " + "[" * 150 + "]" * 150 + "\nkind: Deep\n",
])
def test_the_first_documents_kind_is_the_python_ones(text: str) -> None:
    """``first_document_kind`` (which tells a ResourceList from a stream) answers as the
    pure-Python reader, or leaves the text to it (anchors, tags, errors, deep nesting)."""
    from merge_https_redirects.yamlio import _cscan  # type: ignore[attr-defined]

    try:
        expected: Any = scan.first_document_kind(text)
    except yamlio.YamlError as exc:
        expected = exc
    found = _cscan.first_document_kind(text)
    if found is NotImplemented:
        assert isinstance(expected, yamlio.YamlError) or any(
            mark in text for mark in ("&", "!!", "? ", "[" * 150))
    else:
        assert found == expected
    # the package's answer is always the pure-Python one
    if isinstance(expected, yamlio.YamlError):
        with pytest.raises(yamlio.YamlError):
            yamlio.first_document_kind(text)
    else:
        assert yamlio.first_document_kind(text) == expected


def test_the_first_documents_kind_of_every_golden_input_is_the_python_ones() -> None:
    from merge_https_redirects.yamlio import _cscan  # type: ignore[attr-defined]

    for path in sorted(GOLDEN.glob("*/input.yaml")):
        text = yamlio.decode(path.read_bytes()).body
        try:
            expected: Any = scan.first_document_kind(text)
        except yamlio.YamlError:
            expected = NotImplemented  # an error before the answer: the Python path reports it
        found = _cscan.first_document_kind(text)
        assert found is NotImplemented or found == expected, path


@pytest.mark.parametrize("duplicate", [None, "k0", "k31", "k32", "k4999", "0x10"])
def test_large_mappings_are_checked_for_duplicates_in_linear_time(duplicate: str | None) -> None:
    """A ConfigMap of thousands of keys: the compiled scanner's duplicate test indexes them
    (no comparison of every pair) and still declines a duplicate anywhere."""
    keys = [f"k{i}" for i in range(5000)] + ["16"]
    if duplicate is not None:
        keys.append(duplicate)
    data = "".join(f"    {k}: v\n" for k in keys)
    text = ("apiVersion: v1\nkind: ResourceList\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n"
            f"  metadata: {{name: big}}\n  data:\n{data}")
    bundle = compiled(text)
    if duplicate is None:
        assert bundle is not None
        assert summary(bundle) == summary(python(text))
    else:
        assert bundle is None
        item = python(text).items[0]
        assert "duplicate key" in str(item.head_error)


@pytest.mark.parametrize("size", [0, 1, 15, 16, 17, 479, 480, 495, 496, 497, 512, 4096, 70000])
def test_scalars_of_every_allocation_size_scan_the_same(size: int) -> None:
    """libyaml grows a scalar's buffer by realloc through the compiled scanner's allocator:
    small blocks by class, then malloc's (setup.py's --wrap). Texts around each boundary, in
    every style, read as the pure-Python scanner reads them, scan after scan (reused blocks)."""
    word = ("abcdefghij" * (size // 10 + 1))[:size]
    data = {"plain": word or "x", "single": f"'{word}'", "double": f'"{word}\\t"',
            "literal": "|\n        " + (word or "x"),
            "key": word[:1000] or "k"}  # an implicit key holds at most 1024 characters
    text = ("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n"
            "- apiVersion: networking.istio.io/v1\n  kind: Gateway\n  metadata:\n"
            f"    name: g\n  spec:\n    selector:\n      {data['key']}: {data['plain']}\n"
            f"      single: {data['single']}\n      double: {data['double']}\n"
            f"      literal: {data['literal']}\n")
    expected = summary(python(text))
    assert len(python(text).items[0].eager["spec"]["selector"]) == 4  # (compared: built)
    for _ in range(3):
        bundle = compiled(text)
        assert bundle is not None
        assert summary(bundle) == expected


#: Characters the fast paths of the carried libyaml take (printable ASCII) and those they leave
#: to the per-character code (':' and flow indicators, blanks, breaks, DEL, non-ASCII).
_SCALAR_CHARS = st.sampled_from(
    [*"abz09-_./#'\"!&*|>%@`?:,[]{} \t", "\x7f", "é", "€", "😀", "\n        ", ": ", " #"])


@settings(max_examples=200, deadline=None)
@given(lead=st.integers(min_value=0, max_value=40), body=st.lists(_SCALAR_CHARS, max_size=40),
       pad=st.sampled_from([0, 16300, 16384 - 120, 16384 * 3 - 90]))
def test_plain_scalars_around_libyamls_buffers_scan_as_pyyaml_reads_them(
        lead: int, body: list[str], pad: int) -> None:
    """The carried libyaml copies runs of plain ASCII at once (``libyaml/README.md``): scalars
    of any characters, placed across the 16 KB boundaries of its input buffer, read as the
    pure-Python scanner (over PyYAML's own libyaml) reads them, or are refused alike."""
    value = "v" * lead + "".join(body)
    text = ("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n"
            f"- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: pad\n"
            f"  data:\n    pad: {'p' * pad or 'p'}\n"
            "- apiVersion: networking.istio.io/v1\n  kind: Gateway\n  metadata:\n"
            f"    name: g\n  spec:\n    selector:\n      a: {value or 'x'}\n"
            f"      b: x{value}y\n")
    try:
        expected = summary(python(text))
    except yamlio.YamlError as exc:
        expected = None
        python_error = str(exc)
    got = compiled(text)
    if got is None:  # declined: the pure-Python scanner reads it (or reports its error)
        return
    assert expected is not None, python_error
    assert summary(got) == expected
    assert got.items[1].eager["spec"]["selector"]  # (the values compared are built)
