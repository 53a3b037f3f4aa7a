"""libyaml's event stream: bounded nesting, checked aliases, whole nodes in one tight loop,
and large items the caller does not read kept as skeletons.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .resolve import lazy_import
from .scalars import _resolved_key
from .text import (
    MAX_DEPTH,
    Wanted,
    YamlError,
    _mark,
    _yaml_error,
    item_text,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    import yaml
    from yaml import events as ev
# PyYAML is imported on first use (the compiled scanner's path never needs it)
lazy_import("yaml", globals(), "yaml")
lazy_import("yaml.events", globals(), "ev")


def _loader(stream: Any) -> Any:
    """libyaml's loader (an order of magnitude faster; the pure-Python parser gives the same
    events) on ``stream``."""
    loader = getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader
    return loader(stream)


class _Chunks:
    """``text`` as a file libyaml reads piece by piece: given a ``str``, PyYAML's parser would
    first copy the whole input to UTF-8 bytes (one more input-sized buffer for the whole scan).
    Marks are the same: libyaml counts characters either way."""

    __slots__ = ("pos", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def read(self, size: int = -1) -> str:
        start = self.pos
        self.pos = end = len(self.text) if size < 0 else start + size
        return self.text[start:end]


class _Events:
    """libyaml's events as an iterator, libyaml errors as :class:`YamlError`, nesting bounded.

    :meth:`collect` reads a whole node in one tight loop: the hot path of a large bundle.
    """

    def __init__(self, text: str) -> None:
        self.loader = _loader(_Chunks(text))
        self.text = text
        self.depth = 0
        #: anchors defined so far in the current document (libyaml's parser does not check
        #: aliases; an alias to nothing would make the output invalid YAML)
        self.anchors: set[str] = set()
        self.aliases = 0  # how many alias events the input holds
        #: whether the node :meth:`collect` returned last defines or uses an anchor
        self.had_anchor = False
        #: the :class:`_Skeleton` the node :meth:`collect` returned last is, if it is one
        self.skeleton: _Skeleton | None = None

    def _check_anchor(self, event: Any) -> None:
        kind = type(event)
        if kind is ev.AliasEvent:
            self.aliases += 1
            if event.anchor not in self.anchors:
                raise YamlError(f"undefined alias *{event.anchor}", *_mark(event))
        elif kind is ev.DocumentStartEvent:
            self.anchors = set()
        elif event.anchor is not None:
            self.anchors.add(event.anchor)

    def __iter__(self) -> _Events:
        return self

    def __next__(self) -> Any:
        try:
            event = self.loader.get_event()
        except yaml.YAMLError as exc:
            raise _yaml_error(exc, self.text) from None
        if event is None:
            raise StopIteration
        kind = type(event)
        if kind is not ev.MappingEndEvent and kind is not ev.SequenceEndEvent and (
            kind is not ev.StreamStartEvent and kind is not ev.StreamEndEvent
            and kind is not ev.DocumentEndEvent
        ):
            self._check_anchor(event)
        if kind is ev.MappingStartEvent or kind is ev.SequenceStartEvent:
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise YamlError(f"nesting deeper than {MAX_DEPTH} levels", *_mark(event))
        elif kind is ev.MappingEndEvent or kind is ev.SequenceEndEvent:
            self.depth -= 1
        return event

    def collect(self, first: Any, wanted: Wanted | None = None) -> list[Any]:
        """The events of the node starting with ``first`` (already consumed).

        With ``wanted`` (an item of a bundle): an item past :data:`STREAM_AFTER` events that
        holds no anchor and whose kind the caller does not read (or does not say yet) is read
        on without keeping its events: what comes back is a skeleton (see :class:`_Skeleton`)
        and :attr:`skeleton` says so. The memory of an opaque resource stays bounded however
        large it is."""
        out = [first]
        kind = type(first)
        has_anchor = first.anchor is not None
        self.had_anchor = has_anchor
        self.skeleton = None
        if kind is ev.ScalarEvent or kind is ev.AliasEvent:
            return out
        base = self.depth - 1  # ``first`` was counted by __next__
        level = 1
        append = out.append
        get: Callable[[], Any] = self.loader.get_event
        starts = (ev.MappingStartEvent, ev.SequenceStartEvent)
        ends = (ev.MappingEndEvent, ev.SequenceEndEvent)
        anchors = self.anchors
        chunk = range(_CHECK_EVERY)
        try:
            while level:
                for _ in chunk:  # a check per chunk, not per event: this is the hot loop
                    event = get()
                    append(event)
                    k = type(event)
                    if k in starts:
                        level += 1
                        if base + level > MAX_DEPTH:
                            raise YamlError(f"nesting deeper than {MAX_DEPTH} levels",
                                            *_mark(event))
                        if event.anchor is not None:
                            anchors.add(event.anchor)
                            has_anchor = True
                    elif k in ends:
                        level -= 1
                        if level == 0:
                            break
                    elif k is ev.ScalarEvent:
                        if event.anchor is not None:
                            anchors.add(event.anchor)
                            has_anchor = True
                    else:  # an alias
                        self._check_anchor(event)
                        has_anchor = True
                else:
                    if wanted is not None and not has_anchor and len(out) >= STREAM_AFTER:
                        skeleton = _Skeleton(out)
                        if not skeleton.may_stream(wanted):
                            wanted = None  # a kind the caller reads: kept whole, asked once
                        else:
                            self._stream(skeleton, level, base)
                            self.depth = base
                            self.had_anchor = skeleton.anchored
                            self.skeleton = skeleton
                            return skeleton.out
        except yaml.YAMLError as exc:
            raise _yaml_error(exc, self.text) from None
        self.depth = base
        self.had_anchor = has_anchor
        return out

    def skip_node(self) -> None:
        """Read past the collection just started, keeping nothing (a large first document
        before its ``kind`` must not cost its events)."""
        level = 1
        while level:
            k = type(next(self))
            if k is ev.MappingStartEvent or k is ev.SequenceStartEvent:
                level += 1
            elif k is ev.MappingEndEvent or k is ev.SequenceEndEvent:
                level -= 1

    def _stream(self, skeleton: _Skeleton, level: int, base: int) -> None:
        """Feed the rest of the item to ``skeleton`` (depth and aliases still checked)."""
        get: Callable[[], Any] = self.loader.get_event
        feed = skeleton.feed
        starts = (ev.MappingStartEvent, ev.SequenceStartEvent)
        ends = (ev.MappingEndEvent, ev.SequenceEndEvent)
        while level:
            event = get()
            k = type(event)
            if k in starts:
                level += 1
                if base + level > MAX_DEPTH:
                    raise YamlError(f"nesting deeper than {MAX_DEPTH} levels", *_mark(event))
            elif k in ends:
                level -= 1
            if k is ev.AliasEvent:
                self._check_anchor(event)
            elif k is not ev.MappingEndEvent and k is not ev.SequenceEndEvent \
                    and event.anchor is not None:
                self.anchors.add(event.anchor)
            feed(event)


#: Events an item may hold before the scan considers reading it as a skeleton.
STREAM_AFTER = 16384


_CHECK_EVERY = 4096


class _Skeleton:
    """A large item read without keeping its events: the head keys (``apiVersion``, ``kind``,
    ``metadata``) keep theirs, every other top-level value becomes one empty scalar spanning
    it (so the item's extent stays known), and the checks that need every event run as the
    events pass: duplicate keys (:attr:`problem`) and anchors (:attr:`anchored`; such an item
    is read again whole)."""

    def __init__(self, prefix: list[Any]) -> None:
        self.out: list[Any] = []
        self.problem: YamlError | None = None
        self.anchored = False
        self.head: dict[str, str] = {}
        self._keys = _DuplicateKeys()
        self._depth = 0
        self._key_next = False
        self._key: Any = None
        self._keep = False  # the current top-level value is kept
        self._dropped_start: Any = None  # first event of the value being dropped
        self._last: Any = None  # its last content event so far
        self._sequence_root = False
        for event in prefix:
            self.feed(event)

    def may_stream(self, wanted: Wanted) -> bool:
        api_version, kind = self.head.get("apiVersion"), self.head.get("kind")
        return api_version is None or kind is None or wanted(api_version, kind) is False

    def feed(self, event: Any) -> None:
        if self.problem is None:
            self.problem = self._keys.feed(event)
        kind = type(event)
        if kind is ev.AliasEvent or (
                kind is not ev.MappingEndEvent and kind is not ev.SequenceEndEvent
                and getattr(event, "anchor", None) is not None):
            self.anchored = True
        opens = kind is ev.MappingStartEvent or kind is ev.SequenceStartEvent
        closes = kind is ev.MappingEndEvent or kind is ev.SequenceEndEvent
        depth = self._depth
        if depth == 0:
            self.out.append(event)
            if opens:
                self._depth = 1
                self._sequence_root = kind is ev.SequenceStartEvent
                self._key_next = not self._sequence_root
            return
        if depth == 1 and closes:
            self.out.append(event)
            self._depth = 0
            return
        if depth == 1 and self._key_next:  # a top-level key
            self.out.append(event)
            self._key = event.value if kind is ev.ScalarEvent else None
            self._keep = self._key in _HEAD_KEYS or kind is not ev.ScalarEvent
            self._key_next = False
            if opens:  # a collection as a key: kept whole (it is never large in practice)
                self._depth += 1
                self._key_next = None  # type: ignore[assignment]
            return
        if self._key_next is None:  # inside a collection key
            self.out.append(event)
            self._depth += 1 if opens else -1 if closes else 0
            if self._depth == 1:
                self._key_next = False
            return
        # a top-level value (or a root sequence's entry), or inside one
        if self._keep and not self._sequence_root:
            self.out.append(event)
            if depth == 1 and kind is ev.ScalarEvent and self._key in ("apiVersion", "kind"):
                self.head[self._key] = event.value
        else:
            if depth == 1:
                self._dropped_start = event
            if kind is ev.ScalarEvent or kind is ev.AliasEvent or (
                    closes and event.end_mark.index - event.start_mark.index == 1):
                self._last = event  # content ends here (a block collection's end does not)
        if opens:
            self._depth += 1
        elif closes:
            self._depth -= 1
        if self._depth == 1:  # the value is complete
            if not (self._keep and not self._sequence_root):
                start, last = self._dropped_start, self._last or self._dropped_start
                self.out.append(ev.ScalarEvent(None, None, (True, False), "", start.start_mark,
                                               last.end_mark))
            self._key_next = not self._sequence_root
            self._last = None


class _DuplicateKeys:
    """The duplicate-key check as a state machine over events (see
    :func:`_find_duplicate_key`)."""

    def __init__(self) -> None:
        self.seen_stack: list[set[Any] | None] = []
        self.key_next: list[bool] = []

    def feed(self, event: Any) -> YamlError | None:
        kind = type(event)
        seen_stack, key_next = self.seen_stack, self.key_next
        if kind is ev.MappingEndEvent or kind is ev.SequenceEndEvent:
            seen_stack.pop()
            key_next.pop()
            if seen_stack and seen_stack[-1] is not None:
                key_next[-1] = not key_next[-1]
            return None
        seen = seen_stack[-1] if seen_stack else None
        problem = None
        if seen is not None:
            if key_next[-1] and kind is ev.ScalarEvent:
                key = _resolved_key(event)
                if key in seen and event.value != "<<":
                    problem = YamlError(f"duplicate key {event.value!r} (the result would "
                                        "depend on which copy wins)", *_mark(event))
                seen.add(key)
            if kind is not ev.MappingStartEvent and kind is not ev.SequenceStartEvent:
                key_next[-1] = not key_next[-1]
        if kind is ev.MappingStartEvent:
            seen_stack.append(set())
            key_next.append(True)
        elif kind is ev.SequenceStartEvent:
            seen_stack.append(None)
            key_next.append(False)
        return problem


def reparse_item(text: str, start: int, end: int) -> list[Any]:
    """The events of the item at ``text[start:end]`` parsed again, with the marks of ``text``
    (for an item read as a :class:`_Skeleton` that turns out to be needed whole)."""
    line_start, local = item_text(text, start, end)
    lines_before = text.count("\n", 0, line_start)
    loader = _loader(local)
    out: list[Any] = []
    try:
        event = loader.get_event()
        while type(event) is not ev.DocumentStartEvent:
            event = loader.get_event()
        level = 0
        while True:
            event = loader.get_event()
            for name in ("start_mark", "end_mark"):
                mark = getattr(event, name)
                setattr(event, name, yaml.Mark(mark.name, mark.index + line_start,
                                               mark.line + lines_before, mark.column, None,
                                               0))
            out.append(event)
            k = type(event)
            if k is ev.MappingStartEvent or k is ev.SequenceStartEvent:
                level += 1
            elif k is ev.MappingEndEvent or k is ev.SequenceEndEvent:
                level -= 1
            if level == 0:
                return out
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, text) from None
    finally:
        loader.dispose()


_HEAD_KEYS = {"apiVersion", "kind", "metadata"}


_META_KEYS = {"name", "namespace", "annotations"}
