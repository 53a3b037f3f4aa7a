"""Scanning bundles (a ResourceList or a stream): items, their heads and where they are."""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from typing import Any

from .build import _alias_nodes, _Builder, _register_anchors, _skip, loads
from .events import _HEAD_KEYS, _META_KEYS, _Events, reparse_item
from .resolve import lazy_import
from .scalars import _resolved_key
from .text import (
    Wanted,
    YamlError,
    _end,
    _mark,
    _start,
    _start_column,
    item_text,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from yaml import events as ev
# PyYAML is imported on first use (the compiled scanner's path never needs it)
lazy_import("yaml.events", globals(), "ev")

if TYPE_CHECKING:
    from .protocols import Retain
    from .text import Keep



def _whole_if_needed(events: _Events, node: list[Any], text: str, wanted: Wanted
                     ) -> tuple[list[Any], YamlError | None]:
    """``node`` as :meth:`_Events.collect` gave it, or, for a skeleton whose kind the caller
    reads or that holds anchors, the item's events read again; and the duplicate key found in
    the parts a skeleton left out."""
    skeleton = events.skeleton
    if skeleton is None:
        return node, None
    try:
        api_version, kind = _head(node)[:2]
    except YamlError:
        api_version = kind = ""  # reported from the skeleton's head like any item's
    if not skeleton.anchored and wanted(api_version, kind) is False:
        return node, skeleton.problem
    return reparse_item(text, node[0].start_mark.index, _content_end(node, text)), None


#: The annotations an item keeps from its head (everything else stays in the text only).
BOOKKEEPING_ANNOTATIONS = frozenset({
    "config.kubernetes.io/path",
    "config.kubernetes.io/index",
    "internal.config.kubernetes.io/path",
    "internal.config.kubernetes.io/index",
    "config.kubernetes.io/local-config",
    "internal.config.kubernetes.io/seqindent",
})


_BOOKKEEPING_KEYS = {k: k for k in BOOKKEEPING_ANNOTATIONS}


class Item:
    """One resource of a bundle and where its text is (kept small: a bundle may hold 50k).

    ``start`` is the offset of its first character (first key), ``end`` the offset just after
    its last content character. The full value is built only for the kinds the caller reads
    (``wanted``); :meth:`Bundle.load` returns it. ``eager``: the value (or the YamlError that
    prevented it) when ``wanted``; ``head_error``: apiVersion/kind/metadata unreadable (e.g.
    twice).
    """

    __slots__ = ("annotations", "api_version", "eager", "end", "head_error", "is_mapping",
                 "kind", "name", "namespace", "position", "start", "wanted")

    def __init__(self, position: int, start: int, end: int, api_version: str, kind: str,
                 name: str, namespace: str, annotations: dict[str, str], wanted: bool = False,
                 is_mapping: bool = True, eager: Any = None,
                 head_error: YamlError | None = None) -> None:
        self.position = position
        self.start = start
        self.end = end
        self.api_version = api_version
        self.kind = kind
        self.name = name
        self.namespace = namespace
        self.annotations = annotations
        self.wanted = wanted
        self.is_mapping = is_mapping
        self.eager = eager
        self.head_error = head_error

    def __repr__(self) -> str:
        return (f"Item({self.position}, {self.kind} {self.namespace}/{self.name}, "
                f"[{self.start}:{self.end}], wanted={self.wanted})")


class Bundle:
    """A scanned input: its items, plus where to put what the function adds."""

    def __init__(self, text: str, items: list[Item], kind: str) -> None:
        self.text = text
        self.items = items
        self.kind = kind  # "ResourceList" or "stream"
        #: ResourceList: anchor -> position of the item defining it, and (position, anchor)
        #: pairs of aliases; anchors span the whole document, so removing an item may strand
        #: an alias.
        self.anchor_owner: dict[str, int] = {}
        self.alias_count = 0
        self.alias_users: list[tuple[int, str]] = []
        # ResourceList only:
        self.header_version = ""
        self.function_config: Any = None
        self.function_config_error: YamlError | None = None
        self.items_dash_indent = 0  # column of the "-" of items
        self.items_block = True
        self.results_span: tuple[int, int] | None = None  # value span of a results key
        self.results_block = False
        self.results_dash_indent = 0
        self.top_indent = 0
        self.top_flow = False  # a flow-style (e.g. JSON) ResourceList: re-emitted, not spliced
        self.doc_end = 0  # end of the last content of the ResourceList
        #: stream only: document starts (offset of '---' or first token)
        self.doc_starts: list[int] = []
        self.wide_sequences = False  # house style: sequences indented under their key

    def load(self, item: Item) -> Any:
        """The item's value as the scan built it (only the parts the caller reads; raises
        :class:`YamlError`)."""
        if item.eager is not None:
            if isinstance(item.eager, YamlError):
                raise item.eager
            return item.eager
        return self.load_full(item)

    def load_full(self, item: Item) -> Any:
        """The item's whole value, read again from its text (raises :class:`YamlError`)."""
        text = self.text
        line_start, local = item_text(text, item.start, item.end)
        try:
            return loads(local)
        except YamlError as exc:
            # report the place in the whole input, not in the slice
            line = text.count("\n", 0, line_start) + (exc.line or 1)
            raise YamlError(exc.message, line, exc.column) from None


def _content_end(events: Sequence[Any], text: str) -> int:
    """Offset after the last non-blank character that belongs to the node of ``events``."""
    # The content ends with its last scalar, alias or flow-collection end: these follow one
    # another in the text, so the last of them (found from the back) ends furthest.
    end = 0
    for event in reversed(events):
        k = type(event)
        if k is ev.ScalarEvent or k is ev.AliasEvent or (
            (k is ev.SequenceEndEvent or k is ev.MappingEndEvent)
            and text[event.start_mark.index : event.end_mark.index] in ("]", "}")
        ):
            end = event.end_mark.index
            break
    while end > 0 and text[end - 1] in " \t\r\n":
        end -= 1
    return end


def _head(events: list[Any]) -> tuple[str, str, str, str, dict[str, str]]:
    """apiVersion, kind, name, namespace and string annotations of an item, from its events,
    without building the rest."""
    api_version = kind = name = namespace = ""
    annotations: dict[str, str] = {}
    n = len(events)
    if not events or type(events[0]) is not ev.MappingStartEvent:
        return api_version, kind, name, namespace, annotations
    pos = 1
    seen: set[str] = set()
    while pos < n and type(events[pos]) is not ev.MappingEndEvent:
        key = events[pos]
        pos += 1
        value = events[pos]
        if type(key) is not ev.ScalarEvent or key.value not in _HEAD_KEYS:
            pos = _skip(events, pos)
            continue
        if key.value in seen:
            raise YamlError(f"duplicate key {key.value!r} (the result would depend on which "
                            "copy wins)", *_mark(key))
        seen.add(key.value)
        if key.value == "metadata" and type(value) is ev.MappingStartEvent:
            pos += 1
            meta_seen: set[str] = set()
            while type(events[pos]) is not ev.MappingEndEvent:
                mkey = events[pos]
                pos += 1
                mval = events[pos]
                if type(mkey) is ev.ScalarEvent and mkey.value in _META_KEYS:
                    if mkey.value in meta_seen:
                        raise YamlError(f"duplicate key 'metadata.{mkey.value}' (the result "
                                        "would depend on which copy wins)", *_mark(mkey))
                    meta_seen.add(mkey.value)
                if type(mkey) is ev.ScalarEvent and type(mval) is ev.ScalarEvent:
                    if mkey.value == "name":
                        name = mval.value
                    elif mkey.value == "namespace":
                        namespace = mval.value
                elif (
                    type(mkey) is ev.ScalarEvent
                    and mkey.value == "annotations"
                    and type(mval) is ev.MappingStartEvent
                ):
                    pos += 1
                    while type(events[pos]) is not ev.MappingEndEvent:
                        akey = events[pos]
                        aval = events[pos + 1]
                        if type(akey) is ev.ScalarEvent and type(aval) is ev.ScalarEvent:
                            annotations[akey.value] = aval.value
                            pos += 2
                        else:
                            pos = _skip(events, _skip(events, pos))
                    pos += 1
                    continue
                pos = _skip(events, pos)
            pos += 1
            continue
        if type(value) is ev.ScalarEvent:
            if key.value == "apiVersion":
                api_version = value.value
            elif key.value == "kind":
                kind = value.value
        pos = _skip(events, pos)
    return api_version, kind, name, namespace, annotations


def _make_item(
    position: int,
    node: list[Any],
    text: str,
    wanted: Wanted,
    anchors: dict[str, tuple[list[Any], int]],
    retain: Retain | None = None,
    shared: dict[tuple[Any, ...], Any] | None = None,
    has_anchor: bool = True,
    dropped_problem: YamlError | None = None,
) -> Item:
    first = node[0]
    start = first.start_mark.index
    end = _content_end(node, text)
    if type(first) is not ev.MappingStartEvent:
        return Item(position, start, end, "", "", "", "", {}, is_mapping=False)
    try:
        api_version, kind, name, namespace, annotations = _head(node)
    except YamlError as exc:
        return Item(position, start, end, "", "", "", "", {}, head_error=exc)
    problem = _find_duplicate_key(node) or dropped_problem
    if problem is None and has_anchor and any(type(e) is ev.AliasEvent for e in node):
        try:  # aliases expand within the bound even where the function reads nothing
            _Builder(anchors).build(node, 0)
        except YamlError as exc:
            problem = exc
    # Keys and paths repeat across a bundle: share one string each (50k items, 4 entries each)
    kept = {_BOOKKEEPING_KEYS[k]: sys.intern(v) for k, v in annotations.items()
            if k in _BOOKKEEPING_KEYS}
    spec = wanted(api_version, kind)
    if (spec is not False and problem is None and retain is not None and not has_anchor
            and kind in retain.kinds and not retain.possible(kind, text[start:end])):
        spec = False  # its value would be dropped: do not build it
    if problem is not None:
        if spec is not False:  # a kind the caller reads: it reports the resource itself
            return Item(position, start, end, api_version, kind, name, namespace, kept, True,
                        eager=problem)
        return Item(position, start, end, api_version, kind, name, namespace, kept,
                    head_error=problem)
    item = Item(position, start, end, sys.intern(api_version), sys.intern(kind), name,
                sys.intern(namespace), kept, spec is not False)
    if item.wanted:
        # Built now from the events at hand: reading the item again later would cost a second
        # parse (aliases may also point into other items, whose anchors are known only now).
        # Only what the caller reads is built (``spec``): a 50k-item bundle must stay small.
        try:
            keep: Keep = None if spec is True or spec is False else spec
            item.eager, _ = _Builder(anchors, shared).build(node, 0, 0, keep)
        except YamlError as exc:
            item.eager = exc
        else:
            if retain is not None and kind in retain.kinds and not retain(kind, item.eager):
                item.eager, item.wanted = None, False
    return item


def _find_duplicate_key(node: list[Any]) -> YamlError | None:
    """A mapping key that appears twice anywhere in the item: refused even in resources the
    function does not read (whoever applies them would keep one copy or the other)."""
    # One tight pass (it runs over every event of the input): per open collection, the keys
    # seen (``None`` for a sequence) and whether the next node is a key.
    seen_stack: list[set[Any] | None] = []
    key_next: list[bool] = []
    scalar, map_start, seq_start = ev.ScalarEvent, ev.MappingStartEvent, ev.SequenceStartEvent
    ends = (ev.MappingEndEvent, ev.SequenceEndEvent)
    for event in node:
        kind = type(event)
        if kind in ends:
            seen_stack.pop()
            key_next.pop()
            if seen_stack and seen_stack[-1] is not None:
                key_next[-1] = not key_next[-1]
            continue
        seen = seen_stack[-1] if seen_stack else None
        if seen is not None:
            if key_next[-1] and kind is scalar:
                value = event.value
                key = _resolved_key(event)
                if key in seen and value != "<<":
                    return YamlError(f"duplicate key {value!r} (the result would depend on "
                                     "which copy wins)", *_mark(event))
                seen.add(key)
            if kind is not map_start and kind is not seq_start:
                key_next[-1] = not key_next[-1]
        if kind is map_start:
            seen_stack.append(set())
            key_next.append(True)
        elif kind is seq_start:
            seen_stack.append(None)
            key_next.append(False)
    return None


def _detect_wide(node: list[Any], text: str) -> bool | None:
    """Whether block sequences in this node sit deeper than their key (kpt 'wide' seqindent)."""
    for i, event in enumerate(node):
        if (
            type(event) is ev.SequenceStartEvent
            and not event.flow_style
            and i > 0
            and type(node[i - 1]) is ev.ScalarEvent
            and i + 1 < len(node)
            and type(node[i + 1]) is not ev.SequenceEndEvent
        ):
            key_column = node[i - 1].start_mark.column
            dash = _dash_before(text, node[i + 1].start_mark.index)
            if dash is not None:
                return bool(_column(text, dash) > key_column)
    return None


def _column(text: str, offset: int) -> int:
    return offset - (text.rfind("\n", 0, offset) + 1)


_COMMENT_START = re.compile(r"(^|[ \t])#")


def _dash_before(text: str, offset: int) -> int | None:
    """Offset of the block-sequence '-' that introduces the node at ``offset``.

    Walks up over blank and comment-only lines, and accepts a comment after the dash
    (``- # note`` then the node on the next line, as kpt writes a resource's head comment).
    """
    end = offset
    while True:
        line_start = text.rfind("\n", 0, end) + 1
        segment = text[line_start:end]
        comment = _COMMENT_START.search(segment)
        code = (segment[: comment.start()] if comment else segment).rstrip()
        if code:
            if code.endswith("-") and (len(code) == 1 or code[-2] in " \t"):
                return line_start + len(code) - 1
            return None
        if line_start == 0:
            return None
        end = line_start - 1


def first_document_kind(text: str) -> str | None:
    """``kind`` of the first document when its root is a mapping (reads no further than it
    must: kpt writes ``kind`` second)."""
    events = _Events(text)
    for event in events:
        k = type(event)
        if k is ev.DocumentStartEvent:
            root = next(events)
            if type(root) is not ev.MappingStartEvent:
                return None
            for key in events:
                if type(key) is ev.MappingEndEvent:
                    return None
                value = next(events)
                if type(key) is ev.ScalarEvent and key.value == "kind":
                    return value.value if type(value) is ev.ScalarEvent else None
                if type(value) is ev.MappingStartEvent or type(value) is ev.SequenceStartEvent:
                    events.skip_node()
            return None
    return None


def scan_resource_list(text: str, wanted: Wanted, retain: Retain | None = None) -> Bundle:
    """Scan a ``kind: ResourceList`` document (see :class:`Bundle`)."""
    bundle = Bundle(text=text, items=[], kind="ResourceList")
    _alias_nodes[0] = 0
    events = _Events(text)
    anchors: dict[str, tuple[list[Any], int]] = {}
    documents = 0
    for event in events:
        k = type(event)
        if k is ev.DocumentStartEvent:
            documents += 1
            if documents > 1:
                raise YamlError(
                    "a ResourceList must be the only document of the input", *_mark(event)
                )
            root = next(events)
            if type(root) is not ev.MappingStartEvent:
                raise YamlError("a ResourceList must be a mapping", *_mark(root))
            bundle.top_indent = _start_column(root)
            bundle.top_flow = bool(root.flow_style)
            _scan_resource_list_body(bundle, events, anchors, wanted, retain)
    bundle.alias_count = events.aliases
    return bundle


def _scan_resource_list_body(
    bundle: Bundle,
    events: _Events,
    anchors: dict[str, tuple[list[Any], int]],
    wanted: Wanted,
    retain: Retain | None,
) -> None:
    text = bundle.text
    seen: set[str] = set()
    wide: bool | None = None
    last_end = 0
    shared: dict[tuple[Any, ...], Any] = {}  # for the whole scan (see _Builder._share)
    for key in events:
        if type(key) is ev.MappingEndEvent:
            break
        value = next(events)
        if type(key) is not ev.ScalarEvent:
            raise YamlError("ResourceList keys must be strings", *_mark(key))
        name = key.value
        if name in seen:
            raise YamlError(f"duplicate key {name!r} in the ResourceList", *_mark(key))
        seen.add(name)
        if name == "items" and type(value) is ev.SequenceStartEvent:
            bundle.items_block = not value.flow_style
            position = 0
            while True:
                entry = next(events)
                if type(entry) is ev.SequenceEndEvent:
                    if bundle.items_block is False or position == 0:
                        last_end = max(last_end, _end(entry))
                    break
                node, dropped = _whole_if_needed(events, events.collect(entry, wanted), text,
                                                 wanted)
                has_anchor = events.had_anchor
                if has_anchor:
                    _register_anchors(node, anchors)
                    for event in node:
                        anchor = getattr(event, "anchor", None)
                        if anchor is None:
                            continue
                        if type(event) is ev.AliasEvent:
                            bundle.alias_users.append((position, anchor))
                        else:
                            bundle.anchor_owner[anchor] = position
                item = _make_item(position, node, text, wanted, anchors, retain, shared,
                                  has_anchor, dropped)
                if position == 0 and bundle.items_block:
                    dash = _dash_before(text, item.start)
                    bundle.items_dash_indent = _column(text, dash) if dash is not None else 0
                if wide is None and item.wanted:
                    wide = _detect_wide(node, text)
                bundle.items.append(item)
                last_end = max(last_end, item.end)
                position += 1
            continue
        node = events.collect(value)
        if events.had_anchor:
            _register_anchors(node, anchors)
        node_end = _content_end(node, text) or _end(key)
        last_end = max(last_end, node_end)
        if name == "items":
            if type(value) is ev.ScalarEvent and value.value in ("", "~", "null"):
                bundle.items_block = False
                continue
            raise YamlError("ResourceList 'items' must be a list", *_mark(value))
        if name == "apiVersion" and type(value) is ev.ScalarEvent:
            bundle.header_version = value.value
        elif name == "functionConfig":
            try:
                bundle.function_config, _ = _Builder(anchors).build(node, 0)
            except YamlError as exc:
                bundle.function_config_error = exc
        elif name == "results":
            bundle.results_span = (value.start_mark.index, node_end)
            bundle.results_block = type(value) is ev.SequenceStartEvent and not value.flow_style
            if bundle.results_block and len(node) > 1:
                dash = _dash_before(text, node[1].start_mark.index)
                bundle.results_dash_indent = _column(text, dash) if dash is not None else 0
            elif type(value) is ev.SequenceStartEvent or (
                type(value) is ev.ScalarEvent and value.value in ("", "~", "null")
            ):
                pass
            else:
                raise YamlError("ResourceList 'results' must be a list", *_mark(value))
    if "items" not in seen:
        raise YamlError("a ResourceList needs 'items'")
    bundle.doc_end = last_end
    bundle.wide_sequences = bool(wide)


def scan_stream(text: str, wanted: Wanted, retain: Retain | None = None) -> Bundle:
    """Scan a multi-document stream: every document is an item (empty ones are kept as
    non-mapping items and passed through)."""
    _alias_nodes[0] = 0
    bundle = Bundle(text=text, items=[], kind="stream")
    events = _Events(text)
    wide: bool | None = None
    position = 0
    shared: dict[tuple[Any, ...], Any] = {}  # for the whole scan (see _Builder._share)
    for event in events:
        if type(event) is not ev.DocumentStartEvent:
            continue
        doc_start = _start(event)
        root = next(events)
        node, dropped = _whole_if_needed(events, events.collect(root, wanted), text, wanted)
        anchors: dict[str, tuple[list[Any], int]] = {}
        if events.had_anchor:
            _register_anchors(node, anchors)
        item = _make_item(position, node, text, wanted, anchors, retain, shared,
                          events.had_anchor, dropped)
        if type(root) is ev.ScalarEvent and root.value == "" and root.implicit[0]:
            item.is_mapping = False  # empty document (comments only)
        if wide is None and item.wanted:
            wide = _detect_wide(node, text)
        bundle.items.append(item)
        bundle.doc_starts.append(doc_start)
        position += 1
    bundle.wide_sequences = bool(wide)
    return bundle
