"""The compiled scanner's side of :func:`.scan.scan_resource_list` (see ``_cscan.c``).

Which scanner runs: the compiled one when it was built and imports (``MHR_SCANNER=c`` insists on
it, ``MHR_SCANNER=python`` turns it off); else the pure-Python one. Both give the same
:class:`.scan.Bundle`: the compiled scanner handles the common case, and on anything the
pure-Python scanner treats specially it hands the whole input back (``None``).
"""

from __future__ import annotations

import importlib
import os
import sys
from functools import partial
from typing import Any

from merge_https_redirects.compiled import PURE_PYTHON_ENV, pure_python_requested

from .build import _SHARED_MAX, _alias_nodes
from .events import STREAM_AFTER
from .scalars import _resolved_key, _scalar
from .scan import BOOKKEEPING_ANNOTATIONS, Bundle, Item, _column, _dash_before
from .scan import scan_resource_list as _python_scan_resource_list
from .text import MAX_DEPTH, Wanted, YamlError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .protocols import Retain

#: The setting; an ImportError naming it (``name``) is the user's to fix, not a bug.
SCANNER_ENV = "MHR_SCANNER"
_cscan: Any = None
_choice = os.environ.get(SCANNER_ENV, "").strip().lower()
if _choice not in ("", "auto", "c", "python"):
    raise ImportError(f"{SCANNER_ENV}={_choice!r}: use 'c', 'python' or leave it unset",
                      name=SCANNER_ENV)
if pure_python_requested():  # no compiled code at all
    if _choice == "c":
        raise ImportError(f"{SCANNER_ENV}=c contradicts {PURE_PYTHON_ENV}=1: unset one",
                          name=SCANNER_ENV)
    _choice = "python"
if _choice != "python":
    try:
        _cscan = importlib.import_module(f"{__package__}._cscan")
    except ImportError as exc:  # not built, or libyaml missing: the pure-Python scanner
        if _choice == "c":
            raise ImportError(f"{SCANNER_ENV}=c, but the compiled scanner does not load: {exc}",
                              name=SCANNER_ENV) from exc

#: Which scanner :func:`.scan.scan_resource_list` uses: ``"c"`` or ``"python"``.
SCANNER = "c" if _cscan is not None else "python"


class _Mark:
    """Where a :class:`_Plain` is (the compiled scanner gives no marks: an error in a value
    sends the input to the pure-Python scanner, which reports it with its own)."""

    __slots__ = ()
    name = "<scan>"
    index = 0
    line = 0
    column = 0


_MARK = _Mark()


class _Plain:
    """A plain, untagged scalar as the resolver functions of :mod:`.scalars` read it."""

    __slots__ = ("end_mark", "start_mark", "value")
    tag = None
    implicit = (True, False)

    def __init__(self, value: str) -> None:
        self.value = value
        self.start_mark = self.end_mark = _MARK


def _plain_value(text: str) -> Any:
    return _scalar(_Plain(text))


def _plain_key(text: str) -> Any:
    return _resolved_key(_Plain(text))


_BOOKKEEPING = tuple(sorted(BOOKKEEPING_ANNOTATIONS))


def _strip_end(text: str, end: int) -> int:
    """:func:`.scan._content_end` from the end of the last content event."""
    while end > 0 and text[end - 1] in " \t\r\n":
        end -= 1
    return end


def scan_resource_list(text: str, wanted: Wanted, retain: Retain | None = None) -> Bundle:
    """Scan a ``kind: ResourceList`` document (see :class:`.scan.Bundle`): with the compiled
    scanner where it runs and the input allows, else with :func:`.scan.scan_resource_list`."""
    if _cscan is not None:
        bundle = _scan_compiled(text, wanted, retain)
        if bundle is not None:
            return bundle
    return _python_scan_resource_list(text, wanted, retain)


def _decide(wanted: Wanted, retain: Retain | None, text: str, start: int, end: int,
            api_version: str, kind: str) -> Any:
    """What the compiled scanner builds of an item: ``wanted``'s answer, unless ``retain``
    refuses the kind from the item's text."""
    spec = wanted(api_version, kind)
    if (spec is not False and retain is not None and kind in retain.kinds
            and not retain.possible(kind, text[start:_strip_end(text, end)])):
        return False
    return spec


def _scan_compiled(text: str, wanted: Wanted, retain: Retain | None) -> Bundle | None:
    """The :class:`.scan.Bundle` the pure-Python scanner builds, from the compiled scanner's
    entries (``None``: the input needs the pure-Python scanner). Mirrors
    ``scan._scan_resource_list_body`` and ``scan._make_item`` for an input without anchors,
    tags, duplicate keys or errors."""
    _alias_nodes[0] = 0
    # (a partial, not a nested function: compiled by mypyc, one would make a reference cycle
    # with its scope, which the disabled cyclic collector never frees)
    decide = partial(_decide, wanted, retain, text)
    shared: dict[tuple[Any, ...], Any] = {}  # for the whole scan (see _Builder._share)
    try:
        scanned = _cscan.scan_resource_list(
            text, decide, _plain_value, _plain_key, _BOOKKEEPING, {}, shared, _SHARED_MAX,
            MAX_DEPTH, STREAM_AFTER)
    except YamlError:  # a value that does not resolve: the Python scan reports it
        return None
    if scanned is None:
        return None
    top_column, entries = scanned
    bundle = Bundle(text=text, items=[], kind="ResourceList")
    bundle.top_indent = top_column
    seen: set[str] = set()
    wide: bool | None = None
    last_end = 0
    intern = sys.intern
    for entry in entries:
        name = entry[0]
        if name in seen:
            return None  # the Python scan reports the duplicate
        seen.add(name)
        if name == "items":
            _, seq_end, rows, flow_items = entry
            bundle.items_block = not flow_items  # flow: only ``items: []`` comes here
            if not rows:
                last_end = max(last_end, seq_end)
            items = bundle.items
            # Each row is dropped as its Item is made: the rows of a large bundle never all
            # sit beside their Items (peak memory).
            rows.reverse()
            position = -1
            while rows:
                (start, end, api_version, kind, item_name, namespace, kept, value,
                 candidates) = rows.pop()
                position += 1
                end = _strip_end(text, end)
                item = Item(position, start, end, intern(api_version), intern(kind), item_name,
                            intern(namespace), kept, value is not None)
                if value is not None:
                    item.eager = value
                    if retain is not None and kind in retain.kinds and not retain(kind, value):
                        item.eager, item.wanted = None, False
                if position == 0:
                    dash = _dash_before(text, start)
                    bundle.items_dash_indent = _column(text, dash) if dash is not None else 0
                if wide is None and item.wanted:
                    wide = _wide(text, candidates)
                items.append(item)
                last_end = max(last_end, end)
            continue
        _, key_end, value_start, is_seq, flow, end, first_child, scalar, built = entry
        node_end = _strip_end(text, end) or key_end
        last_end = max(last_end, node_end)
        if name == "apiVersion" and scalar is not None:
            bundle.header_version = scalar
        elif name == "functionConfig":
            bundle.function_config = built
        elif name == "results":
            bundle.results_span = (value_start, node_end)
            bundle.results_block = bool(is_seq and not flow)
            if bundle.results_block and first_child >= 0:
                dash = _dash_before(text, first_child)
                bundle.results_dash_indent = _column(text, dash) if dash is not None else 0
    if "items" not in seen:
        return None  # the Python scan reports it
    bundle.doc_end = last_end
    bundle.wide_sequences = bool(wide)
    return bundle


def first_document_kind(text: str) -> str | None:
    """:func:`.scan.first_document_kind`: by the compiled scanner where it is built and the
    text holds no anchor, alias or tag before the answer (else the Python one, which reports
    errors too)."""
    if _cscan is not None:
        found = _cscan.first_document_kind(text)
        if found is not NotImplemented:
            return found  # type: ignore[no-any-return]
    from .scan import first_document_kind as python_first_document_kind

    return python_first_document_kind(text)


def node_tree(text: str) -> Any:
    """``splice._node_tree`` of the text's first document from the compiled scanner, or
    ``None`` (not built, not ASCII, or anchors, aliases, tags, errors: the Python path)."""
    return _cscan.node_tree(text) if _cscan is not None else None


def _wide(text: str, candidates: list[tuple[int, int]]) -> bool | None:
    """:func:`.scan._detect_wide` from the compiled scanner's candidates."""
    for key_column, entry_start in candidates:
        dash = _dash_before(text, entry_start)
        if dash is not None:
            return bool(_column(text, dash) > key_column)
    return None
