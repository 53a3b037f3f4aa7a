"""Block-style text of parsed YAML nodes that keeps every scalar as the input wrote it.

Used where the input cannot be spliced (a flow-style or JSON ResourceList, flow ``items: [...]``,
an edit whose text cannot be cut): instead of rebuilding values and dumping them, which retypes
what a YAML 1.1 and a YAML 1.2 reader read differently (``on``, ``0755``, ``12:30:00``, ``1e3``),
the events are laid out again in block style and each scalar's own source text is copied, so
every reader reads exactly what it read in the input. Only scalars spanning several lines are
rewritten, as double-quoted strings of their value (they are strings in both YAML versions).
Anchors, tags and aliases are kept; an anchor whose defining node is removed moves to the first
alias that still uses it, so no alias is expanded and none is stranded.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from yaml import events as ev

from .emit import double_quoted, plain_safe
from .resolve import STR, plain_tag

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

Path = tuple[str | int, ...]

#: The longest implicit key YAML allows (spec 7.4.2); longer keys need the explicit form.
_MAX_IMPLICIT_KEY = 1024


class ReblockError(Exception):
    """A node this layout cannot express (e.g. a mapping used as a key)."""


def _removal_tree(remove: Sequence[Path]) -> dict[Any, Any]:
    """Paths of removed sequence entries as a nested dict; a removed entry maps to ``None``."""
    tree: dict[Any, Any] = {}
    for path in remove:
        node = tree
        for step in path[:-1]:
            child = node.setdefault(step, {})
            if child is None:
                break  # an ancestor is removed already
            node = child
        else:
            node[path[-1]] = None
    return tree


class Reblock:
    """Lays out nodes of one document's events (``events`` index the same ``text``)."""

    @classmethod
    def of_document(cls, text: str, wide: bool) -> tuple[Reblock, int]:
        """A layout of ``text``'s events and the position of its first document's root."""
        events = parse_events(text)
        root = next(i for i, e in enumerate(events) if type(e) is ev.DocumentStartEvent) + 1
        return cls(text, events, wide), root

    def __init__(self, text: str, events: Sequence[Any], wide: bool) -> None:
        self.text = text
        self.events = events
        self.wide = wide
        #: anchors defined inside removed nodes: name -> position of the defining event
        self.pending: dict[str, int] = {}
        #: position after each node (computed once: walking a subtree again per level would
        #: cost the bundle's size times its depth)
        self.after = [0] * len(events)
        stack: list[int] = []
        for pos, event in enumerate(events):
            kind = type(event)
            if kind is ev.MappingStartEvent or kind is ev.SequenceStartEvent:
                stack.append(pos)
            elif kind is ev.MappingEndEvent or kind is ev.SequenceEndEvent:
                if stack:
                    self.after[stack.pop()] = pos + 1
                self.after[pos] = pos + 1
            else:
                self.after[pos] = pos + 1

    # -- walking ---------------------------------------------------------------------------
    def skip(self, pos: int, *, removed: bool = False) -> int:
        """Position after the node at ``pos``; with ``removed``, its anchors become pending."""
        end = self.after[pos]
        if removed:
            for inner in range(pos, end):
                event = self.events[inner]
                if type(event) is not ev.AliasEvent and getattr(event, "anchor", None):
                    self.pending[event.anchor] = inner
        return end

    def entries(self, pos: int) -> Iterator[tuple[int, int]]:
        """(start, end) positions of the children of the collection at ``pos`` (for a mapping:
        keys and values alternate)."""
        pos += 1
        events = self.events
        while type(events[pos]) is not ev.MappingEndEvent \
                and type(events[pos]) is not ev.SequenceEndEvent:
            end = self.skip(pos)
            yield pos, end
            pos = end

    # -- rendering -------------------------------------------------------------------------
    def _properties(self, event: Any) -> str:
        parts = []
        if event.anchor is not None:
            self.pending.pop(event.anchor, None)  # defined here now
            parts.append("&" + event.anchor)
        tag = event.tag
        if tag is not None and not (type(event) is not ev.ScalarEvent and event.implicit):
            parts.append("!" if tag == "!" else f"!<{tag}>")
        return " ".join(parts)

    def _scalar(self, event: Any) -> str:
        start, end = event.start_mark.index, event.end_mark.index
        text = self.text
        while end > start and text[end - 1] in " \t\r\n":
            end -= 1
        source = text[start:end]
        if "\n" not in source and "\r" not in source:
            if event.anchor is not None:
                self.pending.pop(event.anchor, None)
            elif event.tag is None and event.style in ('"', "'") and plain_safe(event.value):
                return str(event.value)  # JSON's quotes where no reader needs them
            return source
        # A scalar over several lines (folded plain or quoted, a block scalar): its value, on
        # one line. Quoted and block scalars are strings; a plain one keeps its resolved type.
        props = self._properties(event)
        value = event.value
        if event.style is None and event.tag is None and "\n" not in value and \
                plain_tag(value) != STR:
            body = value
        else:
            body = double_quoted(value)
        return f"{props} {body}" if props else body

    def _resolve(self, pos: int) -> int:
        """``pos``, or for an alias whose anchor's node was removed, that node's position: the
        node is laid out at its first use still there."""
        event = self.events[pos]
        if type(event) is ev.AliasEvent and event.anchor in self.pending:
            return self.pending[event.anchor]
        return pos

    def inline(self, pos: int) -> str | None:
        """The node at ``pos`` on one line, or ``None`` for a non-empty collection."""
        pos = self._resolve(pos)
        event = self.events[pos]
        kind = type(event)
        if kind is ev.ScalarEvent:
            return self._scalar(event)
        if kind is ev.AliasEvent:
            return "*" + str(event.anchor)
        end = type(self.events[pos + 1])
        if end is ev.MappingEndEvent or end is ev.SequenceEndEvent:
            props = self._properties(event)
            body = "{}" if kind is ev.MappingStartEvent else "[]"
            return f"{props} {body}" if props else body
        return None

    def block(self, pos: int, indent: int, removals: Mapping[Any, Any] | None
              ) -> tuple[str, list[str], bool]:
        """A non-empty collection: its properties (to go on the line that introduces it), its
        lines at ``indent`` and whether it is a sequence."""
        pos = self._resolve(pos)
        event = self.events[pos]
        props = self._properties(event)
        out: list[str] = []
        pad = " " * indent
        if type(event) is ev.MappingStartEvent:
            children = list(self.entries(pos))
            for k in range(0, len(children), 2):
                key_pos, value_pos = children[k][0], children[k + 1][0]
                key_event = self.events[self._resolve(key_pos)]
                key_text = self.inline(key_pos)
                if key_text is None:
                    raise ReblockError("a collection used as a mapping key cannot be laid out")
                key = key_event.value if type(key_event) is ev.ScalarEvent else None
                sub = removals.get(key) if removals else None
                head = (pad + "? " + key_text + "\n" + pad + ":"
                        if len(key_text) > _MAX_IMPLICIT_KEY else pad + key_text + ":")
                self.value(value_pos, indent, head, out, sub)
            return props, out, False
        for index, (entry_pos, _) in enumerate(self.entries(pos)):
            if removals and index in removals and removals[index] is None:
                self.skip(entry_pos, removed=True)
                continue
            out.extend(self.entry(entry_pos, indent,
                                  removals.get(index) if removals else None))
        return props, out, True

    def value(self, pos: int, indent: int, head: str, out: list[str],
              removals: Mapping[Any, Any] | None = None) -> None:
        """``head`` (a key and its colon) followed by the node at ``pos``, appended to ``out``."""
        text = self.inline(pos)
        if text is not None:
            out.append(head + " " + text)
            return
        target = self.events[self._resolve(pos)]
        is_seq = type(target) is ev.SequenceStartEvent
        props, lines, _ = self.block(pos, indent + (2 if self.wide or not is_seq else 0),
                                     removals)
        out.append(f"{head} {props}" if props else head)
        out.extend(lines)

    def entry(self, pos: int, dash_indent: int,
              removals: Mapping[Any, Any] | Sequence[Path] | None = None) -> list[str]:
        """The node at ``pos`` as one block-sequence entry whose dash is at ``dash_indent``
        (``removals``: paths of sequence entries to leave out, or their tree)."""
        if removals is not None and not isinstance(removals, Mapping):
            removals = _removal_tree(removals) or None
        pad = " " * dash_indent
        text = self.inline(pos)
        if text is not None:
            return [pad + "- " + text]
        props, lines, _ = self.block(pos, dash_indent + 2, removals)
        if props:
            return [pad + "- " + props, *lines]
        return [pad + "- " + lines[0][dash_indent + 2 :], *lines[1:]]

    def node(self, pos: int, indent: int, remove: Sequence[Path] = ()) -> list[str]:
        """The node at ``pos`` as a document body at ``indent`` (no newlines), with the sequence
        entries at ``remove`` left out."""
        text = self.inline(pos)
        if text is not None:
            return [" " * indent + text]
        props, lines, _ = self.block(pos, indent, _removal_tree(remove) or None)
        return [" " * indent + props, *lines] if props else lines


def parse_events(text: str) -> list[Any]:
    """All events of ``text`` (aliases unchecked: anchors may live outside the slice)."""
    from yaml import CSafeLoader

    loader = CSafeLoader(text)
    try:
        out: list[Any] = []
        while True:
            event = loader.get_event()
            if event is None:
                return out
            out.append(event)
    finally:
        loader.dispose()
