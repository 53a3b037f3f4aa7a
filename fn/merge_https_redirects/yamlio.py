"""The YAML layer: the only module that imports a YAML library.

Design (see README, "Performance"): the input text is never re-serialised. libyaml's C parser
turns it into an event stream with character marks; one pass over the events finds every item
(a ResourceList entry or a stream document), reads the few fields every item needs (apiVersion,
kind, name, namespace, annotations) and builds plain Python values only for the items the caller
asks for (Istio and cert-manager kinds). Output is the input text with edits spliced in: removed
sequence entries lose exactly their lines, deleted items their lines, new items and results are
appended in the input's style. Everything the function does not touch is emitted byte for byte.

Public surface:
- :func:`loads`, :func:`loads_all`, :func:`dumps` for small documents (configs, new objects);
- :func:`decode` for raw bytes;
- :func:`scan_resource_list`, :func:`scan_stream`, :func:`first_document_kind` to read bundles;
- :func:`splice_resource_list`, :func:`splice_stream` to write them back with edits.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import NamedTuple

import yaml
from yaml import events as ev

from . import reblock

try:  # libyaml: an order of magnitude faster; the pure-Python parser gives the same events.
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - PyYAML wheels bundle libyaml
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

TYPE_CHECKING = False  # what follows is for annotations only, never needed at run time
if TYPE_CHECKING:
    from typing import Any, Protocol

    class Retain(Protocol):
        """Lets a caller read a kind but keep few of its resources: ``retain(kind, value)``
        says whether to keep a built value (``False``: the item stays opaque text, as if not
        wanted); ``possible(kind, text)``, from the item's text alone, whether ``retain``
        could say ``True`` (``False`` skips building it: the cheap test comes first)."""

        def __call__(self, kind: str, value: Any) -> bool: ...

        def possible(self, kind: str, text: str) -> bool: ...

    class Edit(Protocol):
        """What to do to one item (the transform's ``Change`` has this shape; so has
        :class:`ItemEdit`)."""

        @property
        def delete(self) -> bool: ...

        @property
        def remove(self) -> tuple[tuple[str | int, ...], ...]: ...

# ---------------------------------------------------------------------------------------------
# Limits (documented in the README, "Limits")
# ---------------------------------------------------------------------------------------------
#: Largest input accepted, in bytes.
MAX_INPUT_BYTES = 256 * 1024 * 1024
#: Deepest nesting of collections accepted anywhere in the input.
MAX_DEPTH = 200
#: Most nodes an item may expand to through aliases (a "billion laughs" input stops here).
MAX_ALIAS_NODES = 10_000

Path = tuple[str | int, ...]


class YamlError(Exception):
    """Bad YAML or a broken limit; ``line``/``column`` are 1-based when known."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        self.message = message
        self.line = line
        self.column = column
        where = f"line {line}, column {column}: " if line is not None else ""
        super().__init__(where + message)


# ---------------------------------------------------------------------------------------------
# Bytes and text
# ---------------------------------------------------------------------------------------------
_BOM = "\ufeff"


class Text(NamedTuple):
    """Decoded input: ``body`` without BOM; the BOM and newline style to restore on output.

    ``cr_only``: the input broke lines with CR alone (classic Mac OS); ``body`` has LF in their
    place, so every offset and line rule of the splice holds, and :meth:`restore` puts the CRs
    back in the output."""

    body: str
    bom: bool
    newline: str
    cr_only: bool = False

    def restore(self, piece: str) -> str:
        """Output text in the input's line breaks (a no-op but for CR-only input)."""
        return piece.replace("\n", "\r") if self.cr_only else piece


#: Line breaks of YAML 1.1 only (YAML 1.2 section 5.4 made them ordinary characters).
_YAML11_BREAKS = (("\x85", "U+0085 (NEL)"), ("\u2028", "U+2028 (LINE SEPARATOR)"),
                  ("\u2029", "U+2029 (PARAGRAPH SEPARATOR)"))


def decode(data: bytes) -> Text:
    """UTF-8 (with or without BOM) to :class:`Text`; anything else is a :class:`YamlError`."""
    if len(data) > MAX_INPUT_BYTES:
        raise YamlError(f"input is over the limit of {MAX_INPUT_BYTES} bytes")
    bom = data.startswith(b"\xef\xbb\xbf")
    if bom:
        data = data[3:]
    try:
        body = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise YamlError(
            f"input is not UTF-8 (byte 0x{data[exc.start]:02x})", line, column
        ) from None
    if body.startswith(_BOM):  # a second BOM would be content; refuse rather than guess
        raise YamlError("input starts with two byte order marks", 1, 1)
    cr_only = False
    if "\r" in body:
        # YAML reads a CR not followed by LF as a line break (spec 5.4); the splice works on
        # LF line breaks. CR-only input gets its CRs back on output; in input that also has LF,
        # a lone CR is written as LF (the same text to every reader).
        cr_only = "\n" not in body
        body = _LONE_CR.sub("\n", body)
    for char, name in _YAML11_BREAKS:
        if char in body:
            # libyaml (YAML 1.1) breaks lines there, kpt, kubectl and Helm (YAML 1.2) do not:
            # the function would read another document than the cluster gets.
            at = body.index(char)
            line = body.count("\n", 0, at) + 1
            raise YamlError(
                f"input contains {name}, a line break for YAML 1.1 (this function's parser) "
                "but not for YAML 1.2 (kpt, kubectl, Helm): write it as an escape in a "
                "double-quoted string", line, at - (body.rfind("\n", 0, at) + 1) + 1)
    newline = "\r\n" if "\r\n" in body[:65536] else "\n"
    return Text(body, bom, newline, cr_only)


_LONE_CR = re.compile("\r(?!\n)")


def encode(text: Text, body: str) -> bytes:
    return ((_BOM if text.bom else "") + text.restore(body)).encode("utf-8")


# ---------------------------------------------------------------------------------------------
# Events -> plain values (safe: no Python tags, no duplicate keys, bounded aliases and depth)
# ---------------------------------------------------------------------------------------------
_STR = "tag:yaml.org,2002:str"
_SAFE_SCALAR_TAGS = {
    _STR,
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
    "tag:yaml.org,2002:binary",
    "!",
}
_SAFE_SEQ_TAGS = {None, "tag:yaml.org,2002:seq", "!"}
_SAFE_MAP_TAGS = {None, "tag:yaml.org,2002:map", "!"}
_resolver = yaml.resolver.Resolver()
_constructor = yaml.constructor.SafeConstructor()


def _start(event: Any) -> int:
    return int(event.start_mark.index)


def _end(event: Any) -> int:
    return int(event.end_mark.index)


def _start_column(event: Any) -> int:
    return int(event.start_mark.column)


def _mark(event: Any) -> tuple[int, int]:
    return event.start_mark.line + 1, event.start_mark.column + 1


#: Tags of plain scalars already resolved (keys and values repeat throughout a bundle; the
#: resolver's regular expressions are the costly part of building values). Bounded.
_PLAIN_TAGS: dict[str, str] = {}
_PLAIN_TAGS_MAX = 65536


def _scalar(event: Any) -> Any:
    tag = event.tag
    if tag is None or tag == "!":
        if not event.implicit[0] or tag == "!":
            return event.value  # quoted or block scalar: always a string
        text = event.value
        tag = _PLAIN_TAGS.get(text)
        if tag is None:
            tag = _resolver.resolve(yaml.ScalarNode, text, (True, False))  # type: ignore[no-untyped-call]
            if len(text) <= 64 and len(_PLAIN_TAGS) < _PLAIN_TAGS_MAX:
                _PLAIN_TAGS[text] = tag
    if tag == "tag:yaml.org,2002:merge":
        # YAML 1.1 only: kubectl, kustomize and kpt (YAML 1.2) read '<<' as a plain key, so
        # the resource would mean one thing here and another there
        raise YamlError("merge keys ('<<') are not supported: YAML 1.2 readers (kubectl, "
                        "kustomize, kpt) take '<<' as a plain key; write the keys out",
                        *_mark(event))
    if tag not in _SAFE_SCALAR_TAGS:
        raise YamlError(f"unsupported tag {tag!r}", *_mark(event))
    if tag == _STR:
        return event.value
    if tag == "tag:yaml.org,2002:timestamp":
        return event.value  # Kubernetes reads timestamps as strings
    # The tag's constructor function itself: ``construct_object`` would remember every node
    # (and, through its marks, the event) in the constructor's cache for good.
    node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark)
    try:
        return _constructor.yaml_constructors[tag](_constructor, node)
    except (yaml.YAMLError, ValueError, KeyError, IndexError, TypeError, OverflowError) as exc:
        raise YamlError(f"bad {tag.rsplit(':', 1)[-1]} value {event.value!r}: {exc}",
                        *_mark(event)) from None


#: What to build of a node: ``None`` everything; a dict of key -> what to build of that key's
#: value (other keys are skipped, never built); a predicate on keys (their values are built
#: whole). A dict applies to each entry of a sequence.
if TYPE_CHECKING:
    Keep = dict[str, Any] | Callable[[Any], bool] | None


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


def _yaml_error(exc: yaml.YAMLError, text: str = "") -> YamlError:
    if isinstance(exc, yaml.reader.ReaderError):
        # libyaml reports control characters by position only: give line and column.
        pos = min(exc.position, len(text))
        line = text.count("\n", 0, pos) + 1
        column = pos - (text.rfind("\n", 0, pos) + 1) + 1
        char = chr(exc.character) if isinstance(exc.character, int) else str(exc.character)
        return YamlError(f"character {char!r} is not allowed in YAML", line, column)
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        if mark is not None:
            return YamlError(problem, mark.line + 1, mark.column + 1)
        return YamlError(problem)
    return YamlError(str(exc).replace("\n", " "))


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
        self.loader = _Loader(_Chunks(text))
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


def reparse_item(text: str, start: int, end: int) -> list[Any]:
    """The events of the item at ``text[start:end]`` parsed again, with the marks of ``text``
    (for an item read as a :class:`_Skeleton` that turns out to be needed whole)."""
    line_start = _line_start(text, start)
    local = " " * (start - line_start) + text[start : _line_end(text, end)]
    lines_before = text.count("\n", 0, line_start)
    loader = _Loader(local)
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


def _scalar_text(value: Any) -> str:
    """A scalar as YAML that YAML 1.1 and 1.2 readers both read back as the same value and
    type."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float_text(value)
    text = str(value)
    return text if reblock.plain_safe(text) else reblock.double_quoted(text)


def _float_text(value: float) -> str:
    if math.isnan(value):
        return ".nan"
    if value in (float("inf"), float("-inf")):
        return ".inf" if value > 0 else "-.inf"
    text = repr(value)  # the exponent, if any, carries its sign: 1e+20
    mantissa, e, exponent = text.partition("e")
    if e and "." not in mantissa:
        text = f"{mantissa}.0e{exponent}"  # YAML 1.1 reads a float only with a dot
    return text


def _emit(obj: Any, indent: int, wide: bool, out: list[str]) -> None:
    """Block-style YAML of plain data, appended line by line to ``out`` (without newlines)."""
    pad = " " * indent
    if isinstance(obj, dict):
        if not obj:
            out.append(pad + "{}")
            return
        for key, value in obj.items():
            head = pad + _scalar_text(key) + ":"
            if isinstance(value, dict) and value:
                out.append(head)
                _emit(value, indent + 2, wide, out)
            elif isinstance(value, list) and value:
                out.append(head)
                _emit(value, indent + (2 if wide else 0), wide, out)
            else:
                out.append(head + " " + _inline(value))
    elif isinstance(obj, list):
        if not obj:
            out.append(pad + "[]")
            return
        for value in obj:
            if isinstance(value, (dict, list)) and value:
                nested: list[str] = []
                _emit(value, indent + 2, wide, nested)
                first = nested[0][indent + 2 :]
                out.append(pad + "- " + first)
                out.extend(nested[1:])
            else:
                out.append(pad + "- " + _inline(value))
    else:
        out.append(pad + _inline(obj))


def _inline(value: Any) -> str:
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return _scalar_text(value)


def dumps(obj: Any, *, wide: bool = False, newline: str = "\n") -> str:
    """One document in block style, as kpt and kustomize write them (key order kept).

    A small emitter for plain data (maps, lists, strings, numbers, booleans): an order of
    magnitude faster than PyYAML's pure-Python representer, which matters for the thousands of
    results a large bundle produces. ``wide`` indents sequences under their key.
    """
    lines: list[str] = []
    _emit(obj, 0, wide, lines)
    return newline.join(lines) + newline


# ---------------------------------------------------------------------------------------------
# Scanning bundles
# ---------------------------------------------------------------------------------------------
#: For an item's (apiVersion, kind): ``False`` to keep it opaque, else what to build of it.
Wanted = Callable[[str, str], "Keep | bool"]


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
        line_start = _line_start(text, item.start)
        local = " " * (item.start - line_start) + text[item.start : _line_end(text, item.end)]
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


_HEAD_KEYS = {"apiVersion", "kind", "metadata"}
_META_KEYS = {"name", "namespace", "annotations"}


def _head(events: list[Any]) -> tuple[str, str, str, str, dict[str, str]]:
    """apiVersion, kind, name, namespace and string annotations of an item, from its events,
    without building the rest."""
    api_version = kind = name = namespace = ""
    annotations: dict[str, str] = {}
    n = len(events)
    if not events or type(events[0]) is not ev.MappingStartEvent:
        return api_version, kind, name, namespace, annotations
    pos = 1

    def skip(p: int) -> int:
        return _skip(events, p)

    seen: set[str] = set()
    while pos < n and type(events[pos]) is not ev.MappingEndEvent:
        key = events[pos]
        pos += 1
        value = events[pos]
        if type(key) is not ev.ScalarEvent or key.value not in _HEAD_KEYS:
            pos = skip(pos)
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
                            pos = skip(skip(pos))
                    pos += 1
                    continue
                pos = skip(pos)
            pos += 1
            continue
        if type(value) is ev.ScalarEvent:
            if key.value == "apiVersion":
                api_version = value.value
            elif key.value == "kind":
                kind = value.value
        pos = skip(pos)
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
            and not retain.possible(kind, text[start:end])):
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
            if retain is not None and not retain(kind, item.eager):
                item.eager, item.wanted = None, False
    return item


def _resolved_key(event: Any) -> Any:
    """A mapping key as a reader holds it: ``~`` and ``null``, ``1`` and ``0x1`` and ``1.0``,
    ``on`` and ``yes`` are one key each (YAML 1.1 resolution: PyYAML keeps the last); a
    string stays its text, quoted or not."""
    if event.tag is not None or not event.implicit[0]:
        return event.value
    tag = _PLAIN_TAGS.get(event.value)
    if tag == _STR:
        return event.value
    try:
        value = _scalar(event)
    except YamlError:
        return event.value
    return value if type(value) is not str else event.value


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


# ---------------------------------------------------------------------------------------------
# Writing back: splices
# ---------------------------------------------------------------------------------------------
class ItemEdit(NamedTuple):
    """What to do to one item: delete it, or delete sequence entries at ``remove`` paths
    (paths relative to the item, e.g. ``("spec", "servers", 0)``)."""

    delete: bool = False
    remove: tuple[Path, ...] = ()


_COMMENT_LINE = re.compile(r"[ \t]*#[^\n]*\n")


def _line_start(text: str, offset: int) -> int:
    return text.rfind("\n", 0, offset) + 1


def _line_end(text: str, offset: int) -> int:
    """Offset just after the newline ending the line that contains ``offset - 1``."""
    nl = text.find("\n", max(offset - 1, 0))
    return len(text) if nl < 0 else nl + 1


def _indent(text: str, line_start: int) -> int:
    i = line_start
    while i < len(text) and text[i] in " \t":
        i += 1
    return i - line_start


def _own_comments_start(text: str, line_start: int, column: int) -> int:
    """Extend a range upwards over the comment lines directly above it (no blank line between)
    that sit at or left of ``column`` (the entry's dash): they describe the entry. A comment
    indented deeper belongs to the entry above it."""
    start = line_start
    while start > 0:
        prev = _line_start(text, start - 1)
        if _COMMENT_LINE.fullmatch(text, prev, start) and _indent(text, prev) <= column:
            start = prev
        else:
            break
    return start


def _own_comments_end(text: str, line_end: int, column: int) -> int:
    """Extend a range downwards over the comment lines right below it indented deeper than
    ``column``: they belong to the entry (left behind, they would continue a block scalar of
    the entry above)."""
    end = line_end
    while end < len(text):
        nxt = _line_end(text, end + 1)
        if _COMMENT_LINE.fullmatch(text, end, nxt) and _indent(text, end) > column:
            end = nxt
        else:
            break
    return end


def _block_entry_range(text: str, node_start: int, node_end: int) -> tuple[int, int] | None:
    """Lines of a block-sequence entry: its dash line (with its own comments above) up to the
    end of its last content line (with its own comments below). ``None`` when the entry does
    not own its lines."""
    dash = _dash_before(text, node_start)
    if dash is None:
        return None
    start = _line_start(text, dash)
    if text[start:dash].strip():
        return None  # "- - x": the entry shares its line with an outer one
    column = dash - start
    end = _own_comments_end(text, _line_end(text, node_end), column)
    return _own_comments_start(text, start, column), end


def _after_entries(text: str, last_end: int, column: int) -> int:
    """Where to add entries after a block sequence whose last entry ends at ``last_end``: the
    start of the first non-blank line at or left of the dash ``column`` (or the end), so the
    last entry keeps its trailing comments and the blank lines a ``|+`` scalar holds."""
    pos = _line_end(text, last_end)
    while pos < len(text):
        nxt = _line_end(text, pos + 1)
        if text[pos:nxt].strip() and _indent(text, pos) <= column:
            return pos
        pos = nxt
    return pos


class _Node:
    __slots__ = ("children", "end", "flow", "kind", "start")

    def __init__(self, kind: str, start: int, end: int, flow: bool = False) -> None:
        self.kind = kind  # "map", "seq", "scalar"
        self.start = start
        self.end = end
        self.flow = flow
        self.children: list[tuple[Any, _Node]] = []


def _node_tree(events: list[Any], pos: int, text: str) -> tuple[_Node, int]:
    """A light tree of node spans (``end`` = after the node's last content character)."""
    event = events[pos]
    k = type(event)
    if k is ev.ScalarEvent or k is ev.AliasEvent:
        end = event.end_mark.index
        while end > event.start_mark.index and text[end - 1] in " \t\r\n":
            end -= 1
        return _Node("scalar", event.start_mark.index, end), pos + 1
    is_map = k is ev.MappingStartEvent
    node = _Node("map" if is_map else "seq", event.start_mark.index, 0, bool(event.flow_style))
    pos += 1
    index = 0
    end = node.start
    while type(events[pos]) not in (ev.MappingEndEvent, ev.SequenceEndEvent):
        if is_map:
            key_event = events[pos]
            key = key_event.value if type(key_event) is ev.ScalarEvent else None
            key_node, pos = _node_tree(events, pos, text)
            child, pos = _node_tree(events, pos, text)
            node.children.append((key, child))
            end = max(end, key_node.end, child.end)
        else:
            child, pos = _node_tree(events, pos, text)
            node.children.append((index, child))
            end = max(end, child.end)
            index += 1
    node.end = events[pos].end_mark.index if node.flow else end
    return node, pos + 1


def _find(node: _Node, path: Path) -> tuple[_Node, _Node] | None:
    """(parent sequence, entry) at ``path``."""
    parent = node
    for step in path[:-1]:
        nxt = next((c for k, c in parent.children if k == step), None)
        if nxt is None:
            return None
        parent = nxt
    if parent.kind != "seq":
        return None
    entry = next((c for k, c in parent.children if k == path[-1]), None)
    return (parent, entry) if entry is not None else None


class SpliceError(Exception):
    """An edit the text layout does not allow (the caller falls back to re-emitting)."""


def edit_item_text(text: str, start: int, end: int, remove: Sequence[Path]) -> str:
    """The item text ``text[line_start(start):line_end(end)]`` with the sequence entries at
    ``remove`` deleted, everything else byte for byte."""
    line_start = _line_start(text, start)
    line_end = _line_end(text, end)
    segment = text[line_start:line_end]
    # Re-parse the item alone: pad the first line so columns (and so offsets) stay the same.
    pad = start - line_start
    local = " " * pad + segment[pad:]
    events = list(_Events(local))
    root_pos = next(i for i, e in enumerate(events) if type(e) is ev.DocumentStartEvent) + 1
    tree, _ = _node_tree(events, root_pos, local)
    cuts: list[tuple[int, int, str]] = []
    flow_edits: dict[int, tuple[_Node, set[Any]]] = {}
    for path in remove:
        found = _find(tree, path)
        if found is None:
            raise SpliceError(f"no sequence entry at {_path_text(path)}")
        parent, entry = found
        if parent.flow:
            flow_edits.setdefault(parent.start, (parent, set()))[1].add(path[-1])
            continue
        rng = _block_entry_range(local, entry.start, entry.end)
        if rng is None:
            raise SpliceError(f"cannot cut the lines of {_path_text(path)}")
        cuts.append((rng[0], rng[1], ""))
    for parent, drop in flow_edits.values():
        cuts.extend(_flow_cuts(local, parent, drop))
    _check_stranded_aliases(events, cuts)
    out = local
    for cut_start, cut_end, replacement in sorted(cuts, reverse=True):
        out = out[:cut_start] + replacement + out[cut_end:]
    return segment[:pad] + out[pad:]


def _flow_cuts(text: str, parent: _Node, drop: set[Any]) -> list[tuple[int, int, str]]:
    """Cut removed entries out of a flow sequence, keeping its layout: an entry alone on its
    line(s) loses those lines; otherwise the entry and one adjoining comma go."""
    entries = [c for _, c in parent.children]
    removed = [i for i, (k, _) in enumerate(parent.children) if k in drop]
    if len(removed) == len(entries):
        return [(parent.start, parent.end, "[]")]
    cuts: list[tuple[int, int, str]] = []
    runs: list[list[int]] = []
    for i in removed:
        if runs and runs[-1][-1] == i - 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    for run in runs:
        first, last = entries[run[0]], entries[run[-1]]
        after = run[-1] + 1
        line_start = _line_start(text, first.start)
        comma = text.find(",", last.end, entries[after].start) if after < len(entries) else -1
        tail = comma + 1 if comma >= 0 else last.end
        line_end = _line_end(text, tail) if tail < len(text) else len(text)
        rest = text[tail:line_end].strip()
        if not text[line_start:first.start].strip() and (not rest or rest.startswith("#")) \
                and after < len(entries):
            cuts.append((_own_comments_start(text, line_start, _indent(text, line_start)),
                         line_end, ""))  # the entries own their lines
        elif after < len(entries):
            cuts.append((first.start, entries[after].start, ""))
        else:
            cuts.append((entries[run[0] - 1].end, last.end, ""))
    return cuts


def _check_stranded_aliases(events: list[Any], cuts: Sequence[tuple[int, int, str]]) -> None:
    """A removed entry that defines an anchor still used elsewhere cannot be cut as text."""
    def removed(offset: int) -> bool:
        return any(start <= offset < end for start, end, _ in cuts)

    defined = {
        e.anchor for e in events
        if type(e) is not ev.AliasEvent and getattr(e, "anchor", None) is not None
        and removed(_start(e))
    }
    if any(type(e) is ev.AliasEvent and e.anchor in defined and not removed(_start(e))
           for e in events):
        raise SpliceError("a removed entry defines an anchor that is used elsewhere")


def check_shared_anchors(bundle: Bundle, positions: set[int]) -> None:
    """Refuse to remove or edit ResourceList items whose anchors other items use."""
    for user, anchor in bundle.alias_users:
        owner = bundle.anchor_owner.get(anchor)
        if owner is not None and owner != user and owner in positions:
            raise YamlError(
                f"items[{owner}] defines the anchor &{anchor} that items[{user}] uses: changing "
                f"items[{owner}] would break items[{user}]; expand the alias first"
            )


def _path_text(path: Path) -> str:
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else step)
    return text


def _as_entries(objs: Sequence[Any], dash_indent: int, wide: bool, newline: str) -> str:
    """Objects as block-sequence entries whose dash sits at ``dash_indent``."""
    out = []
    for obj in objs:
        body = dumps(obj, wide=wide).rstrip("\n").split("\n")
        lines = [" " * dash_indent + "- " + body[0]]
        lines += [(" " * (dash_indent + 2) + line) if line else "" for line in body[1:]]
        out.append(newline.join(lines) + newline)
    return "".join(out)


def splice_resource_list(
    bundle: Bundle,
    edits: Mapping[int, Edit],
    new_items: Sequence[dict[str, Any]],
    results: Sequence[dict[str, Any]],
    newline: str = "\n",
) -> str:
    """The ResourceList text with ``edits`` applied, ``new_items`` appended to ``items`` and
    ``results`` appended to ``results``."""
    return "".join(
        render(bundle.text, plan_resource_list(bundle, edits, new_items, results, newline)))


def plan_resource_list(
    bundle: Bundle,
    edits: Mapping[int, Edit],
    new_items: Sequence[dict[str, Any]],
    results: Sequence[dict[str, Any]],
    newline: str = "\n",
) -> Plan:
    """:func:`splice_resource_list` as a :data:`Plan`: the output without copying the input."""
    text = bundle.text
    check_shared_anchors(bundle, set(edits))
    if bundle.top_flow or (not bundle.items_block and (new_items or edits)):
        return [_reemit_resource_list(bundle, edits, new_items, results, newline)]
    wide = bundle.wide_sequences
    # Every change as (start, end, new text) of the input, applied in text order: the items'
    # edits and the results may come in either order (kpt writes ``results`` before ``items``).
    ops: list[tuple[int, int, str]] = []
    last_end = 0
    for item in bundle.items:
        edit = edits.get(item.position)
        if edit is None:
            continue
        rng = _block_entry_range(text, item.start, item.end)
        if rng is None:
            return [_reemit_resource_list(bundle, edits, new_items, results, newline)]
        if edit.delete:
            ops.append((rng[0], rng[1], ""))
            last_end = rng[1]
            continue
        # An edited item keeps its own comments above and below: only its text is replaced.
        item_start, item_end = _line_start(text, item.start), _line_end(text, item.end)
        try:
            new_text = edit_item_text(text, item.start, item.end, edit.remove)
        except SpliceError:
            new_text = _relaid_item(bundle, item, edit.remove, newline, bundle.items_dash_indent)
            dash = _dash_before(text, item.start)  # re-emitted from its dash line
            item_start = _line_start(text, dash if dash is not None else item.start)
        ops.append((item_start, item_end, new_text))
        last_end = item_end
    if new_items:
        insert_at = (_after_entries(text, bundle.items[-1].end, bundle.items_dash_indent)
                     if bundle.items else None)
        if insert_at is None or insert_at < last_end:
            return [_reemit_resource_list(bundle, edits, new_items, results, newline)]
        lead = newline if insert_at and text[insert_at - 1] != "\n" else ""
        ops.append((insert_at, insert_at,
                    lead + _as_entries(new_items, bundle.items_dash_indent, wide, newline)))
    if results:
        if bundle.results_span is not None and bundle.results_block:
            results_end = _line_end(text, bundle.results_span[1])
            lead = newline if results_end and text[results_end - 1] != "\n" else ""
            ops.append((results_end, results_end,
                        lead + _as_entries(results, bundle.results_dash_indent, wide, newline)))
        elif bundle.results_span is not None:
            start, end = bundle.results_span
            indent = bundle.top_indent + (2 if wide else 0)
            trimmed = start
            while trimmed > 0 and text[trimmed - 1] == " ":
                trimmed -= 1
            ops.append((trimmed, end,
                        newline + _as_entries(results, indent, wide, newline).rstrip("\r\n")))
        else:
            end = _after_entries(text, bundle.doc_end, bundle.top_indent)
            lead = newline if end and text[end - 1] != "\n" else ""
            pad = " " * bundle.top_indent
            indent = bundle.top_indent + (2 if wide else 0)
            ops.append((end, end, lead + pad + "results:" + newline
                        + _as_entries(results, indent, wide, newline)))
    ops.sort(key=lambda op: (op[0], op[1]))
    pieces: Plan = []
    cursor = 0
    for start, end, new_text in ops:
        if start < cursor:  # overlapping changes: cannot be written as a splice
            return [_reemit_resource_list(bundle, edits, new_items, results, newline)]
        pieces.append((cursor, start))
        if new_text:
            pieces.append(new_text)
        cursor = end
    pieces.append((cursor, len(text)))
    return pieces


def _relaid_item(bundle: Bundle, item: Item, remove: Sequence[Path], newline: str,
                 dash_indent: int | None = None) -> str:
    """An edited item whose text cannot be cut (e.g. a removed entry defines an anchor a kept
    one uses), laid out again in block style with every scalar as written (see
    :mod:`.reblock`): a block-sequence entry at ``dash_indent``, else a document body."""
    text = bundle.text
    line_start = _line_start(text, item.start)
    local = " " * (item.start - line_start) + text[item.start : _line_end(text, item.end)]
    try:
        events = reblock.parse_events(local)
        root = next(i for i, e in enumerate(events) if type(e) is ev.DocumentStartEvent) + 1
        layout = reblock.Reblock(local, events, bundle.wide_sequences)
        lines = (layout.node(root, 0, remove) if dash_indent is None
                 else layout.entry(root, dash_indent, remove))
    except (yaml.YAMLError, reblock.ReblockError) as exc:
        raise YamlError(f"items[{item.position}] cannot be rewritten: {exc}") from None
    return newline.join(lines) + newline


def _reemit_resource_list(
    bundle: Bundle,
    edits: Mapping[int, Edit],
    new_items: Sequence[dict[str, Any]],
    results: Sequence[dict[str, Any]],
    newline: str = "\n",
) -> str:
    """Fallback for layouts that cannot be spliced (flow-style ResourceLists, e.g. JSON, or flow
    ``items: [...]``): the list laid out again in block style. Untouched values keep their
    source text (see :mod:`.reblock`), so no reader reads another value or type; comments
    inside flow collections are lost."""
    text = bundle.text
    wide = bundle.wide_sequences
    try:
        events = reblock.parse_events(text)
        layout = reblock.Reblock(text, events, wide)
        root = next(i for i, e in enumerate(events) if type(e) is ev.DocumentStartEvent) + 1
        out: list[str] = []
        entry_indent = 2 if wide else 0
        seen_results = False
        children = list(layout.entries(root))
        for k in range(0, len(children), 2):
            key_pos, value_pos = children[k][0], children[k + 1][0]
            key_event = events[key_pos]
            key = key_event.value if type(key_event) is ev.ScalarEvent else None
            if key in {"items", "results"}:
                out.append((layout.inline(key_pos) or key) + ":")
                value = events[value_pos]
                position = 0
                if type(value) is ev.SequenceStartEvent:
                    for entry_pos, _ in layout.entries(value_pos):
                        edit = edits.get(position) if key == "items" else None
                        position += 1
                        if edit is not None and edit.delete:
                            layout.skip(entry_pos, removed=True)
                            continue
                        out.extend(layout.entry(entry_pos, entry_indent,
                                                edit.remove if edit is not None else ()))
                elif type(value) is not ev.ScalarEvent or value.value not in ("", "~", "null"):
                    raise YamlError(f"{key} is not a sequence")
                added = new_items if key == "items" else results
                seen_results = seen_results or key == "results"
                if added:
                    out.append(_as_entries(added, entry_indent, wide, newline).rstrip("\r\n"))
                elif position == 0:
                    out[-1] += " []"
                continue
            head = layout.inline(key_pos)
            if head is None or type(key_event) is not ev.ScalarEvent:
                raise YamlError("a ResourceList key that is not a string cannot be rewritten")
            layout.value(value_pos, 0, head + ":", out)
        if results and not seen_results:
            out.append("results:")
            out.append(_as_entries(results, entry_indent, wide, newline).rstrip("\r\n"))
    except (yaml.YAMLError, reblock.ReblockError) as exc:
        raise YamlError(f"the ResourceList cannot be rewritten: {exc}") from None
    return newline.join(out) + newline


def apply_removals(value: dict[str, Any], remove: Sequence[Path]) -> dict[str, Any]:
    """``value`` with the sequence entries at ``remove`` deleted. Only the containers on the
    way to a removed entry are copied; the rest is shared with ``value`` (never modified)."""
    out: dict[str, Any] = dict(value)
    for path in sorted(remove, key=lambda p: [str(s) for s in p[:-1]] + [p[-1]], reverse=True):
        parent: Any = out
        for step in path[:-1]:
            child = parent[step]
            child = dict(child) if isinstance(child, dict) else list(child)
            parent[step] = child
            parent = child
        del parent[path[-1]]
    return out


def splice_stream(
    bundle: Bundle,
    edits: Mapping[int, Edit],
    new_items: Sequence[dict[str, Any]],
    newline: str = "\n",
) -> str:
    """The stream text with ``edits`` applied and ``new_items`` appended as new documents."""
    return "".join(render(bundle.text, plan_stream(bundle, edits, new_items, newline)))


def plan_stream(
    bundle: Bundle,
    edits: Mapping[int, Edit],
    new_items: Sequence[dict[str, Any]],
    newline: str = "\n",
) -> Plan:
    """:func:`splice_stream` as a :data:`Plan`."""
    text = bundle.text
    pieces: Plan = []
    cursor = 0
    starts = bundle.doc_starts
    for item in bundle.items:
        edit = edits.get(item.position)
        if edit is None:
            continue
        if edit.delete:
            doc_start = starts[item.position]
            nxt = starts[item.position + 1] if item.position + 1 < len(starts) else len(text)
            pieces.append((cursor, doc_start))
            cursor = nxt
            continue
        line_start = _line_start(text, item.start)
        line_end = _line_end(text, item.end)
        pieces.append((cursor, line_start))
        try:
            pieces.append(edit_item_text(text, item.start, item.end, edit.remove))
        except SpliceError:
            pieces.append(_relaid_item(bundle, item, edit.remove, newline))
        cursor = line_end
    pieces.append((cursor, len(text)))
    last = _last_char(text, pieces)
    for obj in new_items:
        if last not in ("", "\n"):
            pieces.append(newline)
        block = "---" + newline + dumps(obj, wide=bundle.wide_sequences, newline=newline)
        pieces.append(block)
        last = "\n"
    return pieces


_NON_BLANK = re.compile(r"\S")


def plan_is_blank(text: str, plan: Plan) -> bool:
    """Whether a plan's output is only white space (found without copying the input)."""
    for piece in plan:
        if isinstance(piece, str):
            if piece.strip():
                return False
        elif _NON_BLANK.search(text, piece[0], piece[1]):
            return False
    return True


def _last_char(text: str, plan: Plan) -> str:
    for piece in reversed(plan):
        if isinstance(piece, str):
            if piece:
                return piece[-1]
        elif piece[1] > piece[0]:
            return text[piece[1] - 1]
    return ""


#: Output as a list of input spans ``(start, end)`` (not copied) and new text.
Plan = list["tuple[int, int] | str"]
_CHUNK = 1 << 20


def render(text: str, plan: Plan) -> Iterator[str]:
    """The output of a :data:`Plan` in pieces of at most about a megabyte, so that writing a
    large bundle never holds a second copy of it."""
    for piece in plan:
        if isinstance(piece, str):
            if piece:
                yield piece
            continue
        start, end = piece
        for offset in range(start, end, _CHUNK):
            yield text[offset : min(end, offset + _CHUNK)]


def dump_stream(objs: Sequence[Any], newline: str = "\n", *, wide: bool = False) -> str:
    """Plain documents joined by ``---`` (used for new files); ``wide`` indents sequences."""
    return "".join(
        ("---" + newline if i else "") + dumps(o, newline=newline, wide=wide)
        for i, o in enumerate(objs)
    )
