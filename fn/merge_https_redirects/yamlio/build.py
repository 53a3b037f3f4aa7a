"""Events to plain values: safe, no duplicate keys, aliases bounded per input."""

from __future__ import annotations

import sys
from typing import Any

from .events import _Events
from .resolve import lazy_import
from .scalars import _SAFE_MAP_TAGS, _SAFE_SEQ_TAGS, _scalar
from .text import MAX_ALIAS_NODES, MAX_DEPTH, YamlError, _mark

TYPE_CHECKING = False
if TYPE_CHECKING:
    from yaml import events as ev
# PyYAML is imported on first use (the compiled scanner's path never needs it)
lazy_import("yaml.events", globals(), "ev")

if TYPE_CHECKING:
    from .text import Keep



def _skip(events: list[Any], pos: int) -> int:
    """Position after the node starting at ``pos``."""
    level = 0
    while True:
        k = type(events[pos])
        if k is ev.MappingStartEvent or k is ev.SequenceStartEvent:
            level += 1
        elif k is ev.MappingEndEvent or k is ev.SequenceEndEvent:
            level -= 1
        pos += 1
        if level <= 0:
            return pos


_SHARED_MAX = 4096  # distinct leaf values remembered for sharing (see _Builder._share)


#: Nodes built from aliases so far in the input being read (reset by each reader entry).
_alias_nodes = [0]


class _Builder:
    """Builds plain values from a list of events (one item), resolving aliases through a
    document-wide anchor table and counting every node built from an alias. Mapping keys are
    interned: a bundle repeats the same few hundred keys thousands of times."""

    def __init__(self, anchors: dict[str, tuple[list[Any], int]],
                 shared: dict[tuple[Any, ...], Any] | None = None) -> None:
        self.anchors = anchors
        self.in_alias = 0
        self.shared = shared

    def _share(self, value: Any, entries: tuple[Any, ...], values: Any) -> Any:
        """One instance per distinct leaf mapping or list (values all scalars) of a bundle:
        ports, TLS blocks, selectors, issuer references and host lists repeat per app. The
        values are read, never modified, by their users. Types are part of the key: ``1``,
        ``1.0`` and ``True`` are equal in Python but not in YAML."""
        shared = self.shared
        assert shared is not None
        if len(shared) >= _SHARED_MAX:
            # Most leaves are unique (names, hosts): a table of them all would cost more than
            # sharing saves. Starting afresh keeps the memory bounded; the common leaves are
            # back after a few resources.
            shared.clear()
        key = (entries, tuple(map(type, values)),
               tuple(map(type, value)) if type(value) is dict else ())
        return shared.setdefault(key, value)

    def build(self, events: list[Any], pos: int, depth: int = 0,
              keep: Keep = None) -> tuple[Any, int]:
        event = events[pos]
        kind = type(event)
        if depth > MAX_DEPTH:
            raise YamlError(f"nesting deeper than {MAX_DEPTH} levels", *_mark(event))
        if self.in_alias:
            # one budget for the whole input, not per item: a large anchor aliased by each
            # of thousands of small items must not cost thousands of budgets
            _alias_nodes[0] += 1
            if _alias_nodes[0] > MAX_ALIAS_NODES:
                raise YamlError(
                    f"aliases expand to more than {MAX_ALIAS_NODES} nodes in this input",
                    *_mark(event))
        if kind is ev.ScalarEvent:
            value = _scalar(event)
            if type(value) is str and len(value) <= 48:
                value = sys.intern(value)  # namespaces, protocols, labels repeat thousands of times
            return value, pos + 1
        if kind is ev.AliasEvent:
            target = self.anchors.get(event.anchor)
            if target is None:
                raise YamlError(f"unknown alias *{event.anchor}", *_mark(event))
            self.in_alias += 1
            try:
                value, _ = self.build(target[0], target[1], depth + 1, keep)
            finally:
                self.in_alias -= 1
            return value, pos + 1
        if kind is ev.SequenceStartEvent:
            if event.tag not in _SAFE_SEQ_TAGS:
                raise YamlError(f"unsupported tag {event.tag!r}", *_mark(event))
            seq: list[Any] = []
            entry_keep = keep if isinstance(keep, dict) else None
            pos += 1
            leaf = self.shared is not None
            while type(events[pos]) is not ev.SequenceEndEvent:
                value, pos = self.build(events, pos, depth + 1, entry_keep)
                seq.append(value)
                if leaf and type(value) in (dict, list):
                    leaf = False
            if leaf:
                return self._share(seq, tuple(seq), seq), pos + 1
            return seq, pos + 1
        if kind is ev.MappingStartEvent:
            if event.tag not in _SAFE_MAP_TAGS:
                raise YamlError(f"unsupported tag {event.tag!r}", *_mark(event))
            mapping: dict[Any, Any] = {}
            merged: dict[Any, Any] = {}
            seen: set[Any] = set()
            leaf = self.shared is not None  # no mapping or list among the values (so far)
            pos += 1
            while type(events[pos]) is not ev.MappingEndEvent:
                key_event = events[pos]
                key, pos = self.build(events, pos, depth + 1)
                if isinstance(key, (dict, list)):
                    raise YamlError("a mapping key must be a scalar", *_mark(key_event))
                is_merge = (key == "<<" and type(key_event) is ev.ScalarEvent
                            and key_event.implicit[0] and key_event.tag is None)
                if not is_merge:
                    if key in seen:
                        raise YamlError(
                            f"duplicate key {key!r} (the result would depend on which copy "
                            "wins)", *_mark(key_event))
                    seen.add(key)
                child: Keep = None
                if is_merge:
                    child = keep
                elif isinstance(keep, dict):
                    if key not in keep:
                        pos = _skip(events, pos)
                        continue
                    spec = keep[key]
                    child = None if spec is True else spec
                elif keep is not None and not keep(key):
                    pos = _skip(events, pos)
                    continue
                value, pos = self.build(events, pos, depth + 1, child)
                if is_merge:
                    for part in value if isinstance(value, list) else [value]:
                        if not isinstance(part, dict):
                            raise YamlError("merge key '<<' needs a mapping", *_mark(key_event))
                        for k, v in part.items():
                            merged.setdefault(k, v)
                    continue
                mapping[sys.intern(key) if type(key) is str else key] = value
                if leaf and (type(value) is dict or type(value) is list):
                    leaf = False
            for k, v in merged.items():
                mapping.setdefault(k, v)
            if leaf and not any(type(v) is dict or type(v) is list for v in merged.values()):
                return self._share(mapping, tuple(mapping.items()), mapping.values()), pos + 1
            return mapping, pos + 1
        raise YamlError(f"unexpected {kind.__name__}", *_mark(event))  # pragma: no cover


def _register_anchors(node_events: list[Any], anchors: dict[str, tuple[list[Any], int]]) -> None:
    for i, event in enumerate(node_events):
        anchor = getattr(event, "anchor", None)
        if anchor is not None and type(event) is not ev.AliasEvent:
            anchors[anchor] = (node_events, i)


def loads_all(text: str) -> list[Any]:
    """Every document of ``text`` as plain values (safe, strict: see module doc)."""
    docs: list[Any] = []
    _alias_nodes[0] = 0
    events = _Events(text)
    anchors: dict[str, tuple[list[Any], int]] = {}
    for event in events:
        if type(event) is ev.DocumentStartEvent:
            anchors = {}
            root = events.collect(next(events))
            _register_anchors(root, anchors)
            value, _ = _Builder(anchors).build(root, 0)
            docs.append(value)
    return docs


def loads(text: str) -> Any:
    """One document (``None`` for an empty input); several documents are an error."""
    docs = loads_all(text)
    if len(docs) > 1:
        raise YamlError(f"expected one YAML document, found {len(docs)}")
    return docs[0] if docs else None
