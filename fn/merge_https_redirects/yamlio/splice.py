"""Writing back: the input text with edits spliced in, as a plan of spans and new text."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Final, NamedTuple

from .emit import dumps, emit_entries
from .events import _Events
from .fast import node_tree
from .resolve import lazy_import
from .scan import Bundle, Item, _dash_before
from .text import Path, YamlError, _line_end, _line_start, _start, item_text

TYPE_CHECKING = False
if TYPE_CHECKING:
    import yaml
    from yaml import events as ev
# PyYAML is imported on first use (the compiled scanner's path never needs it)
lazy_import("yaml", globals(), "yaml")
lazy_import("yaml.events", globals(), "ev")

if TYPE_CHECKING:
    from .protocols import Edit



class ItemEdit(NamedTuple):
    """What to do to one item: delete it, or delete sequence entries at ``remove`` paths
    (paths relative to the item, e.g. ``("spec", "servers", 0)``)."""

    delete: bool = False
    remove: tuple[Path, ...] = ()


_COMMENT_LINE = re.compile(r"[ \t]*#[^\n]*\n")


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


#: A light tree of node spans: (kind, start, end, flow, children); kind "map", "seq" or
#: "scalar", ``end`` after the node's last content character, children (key or index, node).
_Node = tuple[str, int, int, bool, Sequence[tuple[Any, Any]]]
_KIND: Final = 0
_START: Final = 1
_END: Final = 2
_FLOW: Final = 3
_CHILDREN: Final = 4


def _node_tree(events: list[Any], pos: int, text: str) -> tuple[_Node, int]:
    """The :data:`_Node` tree of the node at ``events[pos]`` (``_cscan.node_tree`` builds the
    same from the text)."""
    event = events[pos]
    k = type(event)
    if k is ev.ScalarEvent or k is ev.AliasEvent:
        end = event.end_mark.index
        while end > event.start_mark.index and text[end - 1] in " \t\r\n":
            end -= 1
        return ("scalar", event.start_mark.index, end, False, ()), pos + 1
    is_map = k is ev.MappingStartEvent
    start = event.start_mark.index
    flow = bool(event.flow_style)
    children: list[tuple[Any, _Node]] = []
    pos += 1
    index = 0
    end = start
    while type(events[pos]) not in (ev.MappingEndEvent, ev.SequenceEndEvent):
        if is_map:
            key_event = events[pos]
            key = key_event.value if type(key_event) is ev.ScalarEvent else None
            key_node, pos = _node_tree(events, pos, text)
            child, pos = _node_tree(events, pos, text)
            children.append((key, child))
            end = max(end, key_node[_END], child[_END])
        else:
            child, pos = _node_tree(events, pos, text)
            children.append((index, child))
            end = max(end, child[_END])
            index += 1
    if flow:
        end = events[pos].end_mark.index
    return ("map" if is_map else "seq", start, end, flow, children), pos + 1


def _find(node: _Node, path: Path) -> tuple[_Node, _Node] | None:
    """(parent sequence, entry) at ``path``."""
    parent = node
    for step in path[:-1]:
        nxt = next((c for k, c in parent[_CHILDREN] if k == step), None)
        if nxt is None:
            return None
        parent = nxt
    if parent[_KIND] != "seq":
        return None
    entry = next((c for k, c in parent[_CHILDREN] if k == path[-1]), None)
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
    # The compiled tree holds no anchors (else it is None): no alias can be stranded.
    tree = node_tree(local)
    events: list[Any] = []
    if tree is None:
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
        if parent[_FLOW]:
            flow_edits.setdefault(parent[_START], (parent, set()))[1].add(path[-1])
            continue
        rng = _block_entry_range(local, entry[_START], entry[_END])
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
    entries = [c for _, c in parent[_CHILDREN]]
    removed = [i for i, (k, _) in enumerate(parent[_CHILDREN]) if k in drop]
    if len(removed) == len(entries):
        return [(parent[_START], parent[_END], "[]")]
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
        line_start = _line_start(text, first[_START])
        comma = text.find(",", last[_END], entries[after][_START]) if after < len(entries) else -1
        tail = comma + 1 if comma >= 0 else last[_END]
        line_end = _line_end(text, tail) if tail < len(text) else len(text)
        rest = text[tail:line_end].strip()
        if not text[line_start:first[_START]].strip() and (not rest or rest.startswith("#")) \
                and after < len(entries):
            cuts.append((_own_comments_start(text, line_start, _indent(text, line_start)),
                         line_end, ""))  # the entries own their lines
        elif after < len(entries):
            cuts.append((first[_START], entries[after][_START], ""))
        else:
            cuts.append((entries[run[0] - 1][_END], last[_END], ""))
    return cuts


def _removed(offset: int, cuts: Sequence[tuple[int, int, str]]) -> bool:
    # (not a nested function: compiled by mypyc, one would make a reference cycle with its
    # scope, which the disabled cyclic collector never frees)
    return any(start <= offset < end for start, end, _ in cuts)


def _check_stranded_aliases(events: list[Any], cuts: Sequence[tuple[int, int, str]]) -> None:
    """A removed entry that defines an anchor still used elsewhere cannot be cut as text."""
    defined = {
        e.anchor for e in events
        if type(e) is not ev.AliasEvent and getattr(e, "anchor", None) is not None
        and _removed(_start(e), cuts)
    }
    if any(type(e) is ev.AliasEvent and e.anchor in defined and not _removed(_start(e), cuts)
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
    # what :func:`dumps` of each, indented under a dash, gives (its lines are never empty)
    lines: list[str] = []
    emit_entries(objs, dash_indent, wide, lines)
    return newline.join(lines) + newline if lines else ""


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
    _, local = item_text(bundle.text, item.start, item.end)
    from . import reblock  # only for layouts a splice cannot write

    try:
        layout, root = reblock.Reblock.of_document(local, bundle.wide_sequences)
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
    from . import reblock

    try:
        layout, root = reblock.Reblock.of_document(text, wide)
        events = layout.events
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
