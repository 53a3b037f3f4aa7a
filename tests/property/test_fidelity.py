"""Fidelity property (issue "Fidelity and speed"): for generated bundles, every item the function
does not edit comes out text-identical, every edited Gateway loses exactly its port-80
httpsRedirect servers (their lines and their own comment lines, nothing else) and re-parses to the
input value without them, deleted Gateways are gone, and the new dedicated Gateway is written in
the input's house style (sequence indentation, newline style, BOM).

Bundles are generated as text together with what the rule must do to them (computed here from
the rule, not from the function): streams and kpt ResourceLists; compact or wide sequence
indentation; LF or CRLF; with or without BOM; Gateways with 1-4 servers (port-80 HTTP/HTTP2
httpsRedirect servers, plain port-80 servers, HTTPS servers), servers lists in block or flow
style, comments above, between and after entries, inline comments, every quoting style;
ConfigMaps with block scalars and tricky quoted strings.

Known bugs are kept out of the generator (they have failing golden cases instead): multi-line
flow servers lists (tests/golden/fidelity-flow-multiline), comment lines indented deeper than the
dash directly above a removed entry (tests/golden/fidelity-comment-indented-foot), trailing
comment lines and ">+" blank lines of a ResourceList's last item
(tests/golden/krm-fidelity-last-item-foot-comment, krm-fidelity-last-item-keep-scalar), trailing
comment lines of a deleted ResourceList item (krm-fidelity-deleted-item-trailing-comment).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from hypothesis import given
from hypothesis import strategies as st

from merge_https_redirects import yamlio
from merge_https_redirects.config import Config
from merge_https_redirects.hosts import pipeline

API = "networking.istio.io/v1beta1"
BOM = b"\xef\xbb\xbf"


# ---------------------------------------------------------------------------------------------
# Generated items: lines at column 0 (without newlines), and what the rule does to them
# ---------------------------------------------------------------------------------------------
@dataclass
class Segment:
    """Lines of an item; ``server`` is the index of the servers-list entry they belong to
    (the entry's own comment lines included), ``None`` for lines of no entry."""

    lines: list[str]
    server: int | None = None


@dataclass
class GenItem:
    name: str
    kind: str  # "Gateway" or "ConfigMap"
    segments: list[Segment]
    removed: list[int] = field(default_factory=list)  # server indices the rule removes
    deleted: bool = False  # every server is removed: the Gateway goes
    has_block_sequence: bool = False  # a Gateway with a non-empty block sequence
    #: a one-line flow servers list: (position of its segment, the entries' texts, the line's
    #: inline comment); the function rewrites that line with the kept entries
    flow: tuple[int, list[str], str] | None = None

    def lines(self, drop: frozenset[int] = frozenset()) -> list[str]:
        out = []
        for i, segment in enumerate(self.segments):
            if self.flow is not None and i == self.flow[0] and drop:
                kept = [t for j, t in enumerate(self.flow[1]) if j not in drop]
                out.append("  servers: [" + ", ".join(kept) + "]" + self.flow[2])
            elif segment.server is None or segment.server not in drop:
                out.extend(segment.lines)
        return out

    @property
    def edited(self) -> bool:
        return bool(self.removed) and not self.deleted


_COMMENT_WORDS = st.sampled_from(["note", "kept", "TODO: check", "see #12", "a: b", "--- not"])


def _comment(draw: st.DrawFn) -> str:
    return "# " + draw(_COMMENT_WORDS)


def _inline(draw: st.DrawFn) -> str:
    return draw(st.sampled_from(["", "", "", " # inline", "  # two spaces: x"]))


def _quote(draw: st.DrawFn, value: str) -> str:
    """``value`` (a string that is also a plain string) in a random quoting style."""
    style = draw(st.sampled_from(["plain", "single", "double"]))
    if style == "single":
        return f"'{value}'"
    if style == "double":
        return f'"{value}"'
    return value


def _key(draw: st.DrawFn, key: str) -> str:
    return draw(st.sampled_from([key, key, key, f'"{key}"', f"'{key}'"]))


@st.composite
def configmap(draw: st.DrawFn, index: int) -> GenItem:
    name = f"cm-{index}"
    lines = [
        "apiVersion: v1",
        "kind: ConfigMap" + _inline(draw),
        "metadata:",
        f"  name: {_quote(draw, name)}",
        "  namespace: web",
    ]
    if draw(st.booleans()):
        lines += ["  annotations:", "    description: >-", "      folded", "      annotation"]
    lines.append("data:")
    entries = draw(st.lists(st.sampled_from([
        ["  enabled: \"yes\""],
        ["  mode: '0755'" + _inline(draw)],
        ['  version: "1.10"'],
        ["  it: 'it''s'"],
        ['  tab: "a\\tb\tc"'],
        ["  hash: \"a # b\""],
        ["  # a comment between keys", "  other: x"],
        ["  script: |", "    #!/bin/sh", "    echo \"- not a list\"", "      indented"],
        ["  strip: |-", "    no newline"],
        ["  folded: >", "    folded", "    text", "", "    paragraph"],
        ["  keep: >+", "    kept", ""],
        ["  list:", "  - a", "  - 'b'"],
    ]), min_size=1, max_size=4, unique_by=lambda e: e[0].split(":")[0]))
    for entry in entries:
        lines += entry
    return GenItem(name, "ConfigMap", [Segment(lines)])


@st.composite
def server(draw: st.DrawFn, gw: int, i: int) -> tuple[str, dict[str, Any]]:
    """(kind of server, its value): "redirect" (port 80, HTTP/HTTP2, httpsRedirect true),
    "plain" (port 80, no redirect), "https" (443)."""
    kind = draw(st.sampled_from(["redirect", "redirect", "https", "plain", "other-redirect"]))
    host = f"s{gw}-{i}.example.com"
    if kind == "redirect":
        return kind, {"port": {"number": 80, "name": f"http-{i}",
                               "protocol": draw(st.sampled_from(["HTTP", "HTTP2"]))},
                      "hosts": [host], "tls": {"httpsRedirect": True}}
    if kind == "plain":
        return kind, {"port": {"number": 80, "name": f"http-{i}", "protocol": "HTTP"},
                      "hosts": [host]}
    if kind == "other-redirect":  # a redirect on a port that is not configured: kept
        return kind, {"port": {"number": 8080, "name": f"http-alt-{i}", "protocol": "HTTP"},
                      "hosts": [host], "tls": {"httpsRedirect": True}}
    return kind, {"port": {"number": 443, "name": f"https-{i}", "protocol": "HTTPS"},
                  "hosts": [host, f"www.{host}"],
                  "tls": {"mode": "SIMPLE", "credentialName": f"tls-{gw}-{i}"}}


def _flow(draw: st.DrawFn, value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_flow(draw, v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(draw, v) for v in value) + "]"
    if value is True:
        return "true"
    if isinstance(value, int):
        return str(value)
    return _quote(draw, value)


def _block_server(draw: st.DrawFn, value: dict[str, Any], dash: str, wide: bool) -> list[str]:
    """A server as block-sequence entry lines starting with ``dash`` (the indentation plus
    "- ")."""
    pad = " " * len(dash)
    lines: list[str] = []
    first = True
    for key, val in value.items():
        if not first and draw(st.integers(0, 5)) == 0:
            lines.append(pad + _comment(draw))  # a comment between the keys of a server
        head = (dash if first else pad) + _key(draw, key) + ":"
        first = False
        if key in ("port", "hosts") and draw(st.booleans()):
            lines.append(head + " " + _flow(draw, val) + _inline(draw))
        elif isinstance(val, list):
            lines.append(head + _inline(draw))
            seq_pad = pad + ("  " if wide else "")
            for j, host in enumerate(val):
                if j and draw(st.booleans()):
                    lines.append(seq_pad + _comment(draw))  # between list items
                lines.append(seq_pad + "- " + _quote(draw, host) + _inline(draw))
        else:
            lines.append(head + _inline(draw))
            for k, v in val.items():
                text = "true" if v is True else str(v) if isinstance(v, int) else _quote(draw, v)
                lines.append(pad + "  " + _key(draw, k) + ": " + text + _inline(draw))
    return lines


@st.composite
def gateway(draw: st.DrawFn, index: int, wide: bool) -> GenItem:
    name = f"gw-{index}"
    servers = [draw(server(index, i)) for i in range(draw(st.integers(1, 4)))]
    head = [
        "apiVersion: " + _quote(draw, API),
        "kind: Gateway" + _inline(draw),
        "metadata:",
        f"  name: {_quote(draw, name)}" + _inline(draw),
        "  namespace: web",
    ]
    if draw(st.booleans()):
        head += ["  annotations:", "    note: |", "      a literal", "      annotation"]
    head += ["spec:", "  selector:", "    istio: " + _quote(draw, "ingressgateway")]
    if draw(st.booleans()):
        head.append("  " + _comment(draw))
    segments = [Segment(head)]
    removed = [i for i, (k, _) in enumerate(servers) if k == "redirect"]
    item = GenItem(name, "Gateway", segments, removed, len(removed) == len(servers))
    if draw(st.integers(0, 3)) == 0:  # a flow servers list, on one line
        entries = [_flow(draw, v) for _, v in servers]
        inline = _inline(draw)
        item.flow = (len(segments), entries, inline)
        segments.append(Segment(["  servers: [" + ", ".join(entries) + "]" + inline]))
        return item
    segments.append(Segment(["  servers:" + _inline(draw)]))
    dash = "  " + ("  " if wide else "") + "- "
    for i, (_, value) in enumerate(servers):
        if i and draw(st.integers(0, 3)) == 0:
            segments.append(Segment([""]))  # a blank line: the comments below it are the entry's
        own = [dash[:-2] + _comment(draw) for _ in range(draw(st.integers(0, 2)))]
        segments.append(Segment(own + _block_server(draw, value, dash, wide), server=i))
        item.has_block_sequence = True
    if draw(st.booleans()):
        segments.append(Segment([dash[:-2] + _comment(draw)]))  # foot comment of the list
    return item


@dataclass
class Bundle:
    data: bytes
    items: list[GenItem]
    texts: list[str]  # each item's text as it sits in the input (indented, newline style)
    edited_texts: dict[int, str]  # position -> expected text of an edited item
    resource_list: bool
    wide: bool
    newline: str
    bom: bool


def _place(lines: list[str], resource_list: bool, wide: bool, newline: str) -> str:
    """An item's lines as they sit in the bundle: as they are in a stream, as a block-sequence
    entry of ``items`` in a ResourceList."""
    if not resource_list:
        return newline.join(lines)
    dash = "  - " if wide else "- "
    pad = " " * len(dash)
    out = [dash + lines[0]] + [(pad + ln) if ln else "" for ln in lines[1:]]
    return newline.join(out)


@st.composite
def bundles(draw: st.DrawFn) -> Bundle:
    resource_list = draw(st.booleans())
    wide = draw(st.booleans())
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    bom = draw(st.booleans())
    items: list[GenItem] = []
    for i in range(draw(st.integers(1, 5))):
        items.append(draw(gateway(i, wide) if draw(st.booleans()) else configmap(i)))
    for i, item in enumerate(items):
        if resource_list and (i + 1 == len(items) or items[i + 1].deleted or item.deleted):
            # Known bugs, kept out of the generator: a ResourceList's new items go in before the
            # last item's trailing comment lines (tests/golden/krm-fidelity-last-item-foot-
            # comment); the comment lines directly above a deleted item go with it, even when
            # indented as the previous item's (tests/golden/fidelity-comment-indented-foot); a
            # deleted item's trailing comment lines stay, and may join the block scalar ending
            # the item above (tests/golden/krm-fidelity-deleted-item-trailing-comment).
            while item.segments[-1].lines[-1].lstrip().startswith("#"):
                item.segments.pop()
    if resource_list and items[-1].lines()[-1] == "":
        # Known bug (tests/golden/krm-fidelity-last-item-keep-scalar): new items go in before
        # the trailing blank lines of a ">+" scalar that ends the last item.
        items[-1].segments.append(Segment(["  last: key"]))
    texts = [_place(it.lines(), resource_list, wide, newline) for it in items]
    edited = {
        pos: _place(it.lines(frozenset(it.removed)), resource_list, wide, newline)
        for pos, it in enumerate(items) if it.edited
    }
    chunks: list[str] = []
    if resource_list:
        chunks.append("apiVersion: config.kubernetes.io/v1")
        chunks.append("kind: ResourceList")
        chunks.append("items:")
        for text in texts:
            if draw(st.integers(0, 3)) == 0:
                chunks.append(("  " if wide else "") + _comment(draw))  # an item's head comment
            chunks.append(text)
        if draw(st.booleans()):
            chunks.append(_comment(draw))
        chunks += ["functionConfig:", "  apiVersion: v1", "  kind: ConfigMap",
                   "  metadata:", "    name: fn-config"]
    else:
        if draw(st.booleans()):
            chunks.append(_comment(draw))
        for i, text in enumerate(texts):
            if i or draw(st.booleans()):
                chunks.append(draw(st.sampled_from(["---", "--- # marker comment"])))
            if draw(st.integers(0, 3)) == 0:
                chunks.append(_comment(draw))
            chunks.append(text)
            if draw(st.integers(0, 4)) == 0:
                chunks.append(_comment(draw))
    # No newline at the end of the input, sometimes; not after a ConfigMap, whose block scalar
    # would then end without a line break: appending a document after it adds one, which
    # changes a clipped scalar's value (unavoidable without rewriting the scalar).
    final = newline if resource_list or items[-1].kind == "ConfigMap" or draw(
        st.integers(0, 5)) else ""
    body = newline.join(chunks) + final
    data = (BOM if bom else b"") + body.encode("utf-8")
    return Bundle(data, items, texts, edited, resource_list, wide, newline, bom)


# ---------------------------------------------------------------------------------------------
# The property
# ---------------------------------------------------------------------------------------------
def _dedicated_text(wide: bool, newline: str, resource_list: bool) -> str:
    seq = "  " if wide else ""
    lines = [
        f"apiVersion: {API}",
        "kind: Gateway",
        "metadata:",
        "  name: http-to-https-redirect",
        "  namespace: istio-system",
        "spec:",
        "  selector:",
        "    istio: ingressgateway",
        "  servers:",
        f"  {seq}- port:",
        f"  {seq}    number: 80",
        f"  {seq}    name: http",
        f"  {seq}    protocol: HTTP",
        f"  {seq}  hosts:",
        f"  {seq}  {seq}- \"*\"",
        f"  {seq}  tls:",
        f"  {seq}    httpsRedirect: true",
    ]
    return _place(lines, resource_list, wide, newline) + newline


def _values(data: bytes, resource_list: bool) -> list[Any]:
    """The items of a bundle as PyYAML reads them."""
    if resource_list:
        return list(yaml.safe_load(data)["items"])
    return [d for d in yaml.safe_load_all(data) if d is not None]


def _without(value: dict[str, Any], drop: list[int]) -> dict[str, Any]:
    """``value`` with the servers at ``drop`` removed."""
    if drop:
        value["spec"]["servers"] = [
            s for i, s in enumerate(value["spec"]["servers"]) if i not in drop
        ]
    return value


def _run(bundle: Bundle) -> bytes:
    text = yamlio.decode(bundle.data)
    run = (pipeline.run_resource_list(text) if bundle.resource_list
           else pipeline.run_stream(text, Config()))
    assert run.exit_code == 0, run.stderr_lines()
    return run.stdout


@given(bundles())
def test_untouched_items_identical_edited_items_lose_only_their_redirect_servers(
    bundle: Bundle,
) -> None:
    out = _run(bundle)
    assert out.startswith(BOM) == bundle.bom
    body = out.removeprefix(BOM).decode("utf-8")
    if bundle.newline == "\r\n":
        assert "\n" not in body.replace("\r\n", ""), "a bare LF in a CRLF output"
    else:
        assert "\r" not in body

    # 1. Text: untouched items byte for byte, edited ones with exactly the server lines cut, in
    #    their input order.
    cursor = 0
    for pos, item in enumerate(bundle.items):
        if item.deleted:
            continue
        expected = bundle.edited_texts[pos] if item.edited else bundle.texts[pos]
        found = body.find(expected, cursor)
        while found >= 0 and not (
            expected.endswith("\n") or body.startswith(bundle.newline, found + len(expected))
            or found + len(expected) == len(body)
        ):
            found = body.find(expected, found + 1)  # a prefix of a longer line: look further
        assert found >= 0, f"item {pos} ({item.name}) not found as\n{expected}\nin\n{body}"
        cursor = found + len(expected)

    # 2. Values: every item but the deleted ones, edited ones without the removed servers, then
    #    the dedicated Gateway when some redirect server was removed.
    inputs = _values(bundle.data, bundle.resource_list)
    assert len(inputs) == len(bundle.items)
    expected_values = [
        _without(value, it.removed)
        for it, value in zip(bundle.items, inputs, strict=True) if not it.deleted
    ]
    any_removed = any(it.removed for it in bundle.items)
    got = _values(out, bundle.resource_list)
    if bundle.resource_list:
        assert yaml.safe_load(out)["functionConfig"] == {
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "fn-config"}}
    assert got[: len(expected_values)] == expected_values
    added = got[len(expected_values):]
    assert len(added) == (1 if any_removed else 0)

    # 3. House style of the new Gateway: the input's sequence indentation and newlines.
    if any_removed:
        assert added[0]["metadata"] == {"name": "http-to-https-redirect",
                                        "namespace": "istio-system"}
        if any(it.has_block_sequence for it in bundle.items):
            assert _dedicated_text(bundle.wide, bundle.newline, bundle.resource_list) in body


@given(bundles())
def test_output_is_a_fixed_point(bundle: Bundle) -> None:
    """The output run again comes back with the same items, byte for byte (streams), and the
    same items plus appended results (ResourceLists)."""
    first = _run(bundle)
    again = Bundle(first, bundle.items, bundle.texts, {}, bundle.resource_list, bundle.wide,
                   bundle.newline, bundle.bom)
    second = _run(again)
    if bundle.resource_list:
        head = first[: first.index(b"results:")]
        assert second.startswith(head)
    else:
        assert second == first
