"""Adding one ``resources`` entry to a kustomization file with a minimal diff: the entry goes
where the list is (block or flow, in its indentation and quoting), comments and everything
else byte for byte; a layout it cannot edit safely is refused, never guessed.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
from collections.abc import Sequence
from pathlib import Path

from merge_https_redirects import yamlio
from merge_https_redirects.hosts.kustomize_tree import KustomizeTreeError, _documents, _read_text


class _Layout(Exception):
    """The text does not have a layout :func:`add_resource` edits in place."""


def add_resource(kustomization: Path, entry: str) -> bytes | None:
    """The bytes of ``kustomization`` with ``entry`` appended to ``resources``, or ``None``
    when ``resources`` (or ``bases``) already lists it (so a second run changes nothing).

    The edit is a splice, not a re-serialisation: comments, key order, quoting, the list's
    indentation and the line endings stay as they are; a block list gets ``- entry`` after its
    last entry, a flow list ``, entry`` before its ``]``, a file without ``resources`` a new
    key at the end. The result is parsed back and must equal the old kustomization plus the
    entry; a layout where it would not (a JSON kustomization, an alias, a tag) is a
    :class:`KustomizeTreeError` rather than a rewrite that loses the user's formatting.
    Nothing is written: the caller writes atomically.
    """
    where = str(kustomization)
    text = _read_text(kustomization, where)
    docs = _documents(text.body, where)
    if sum(doc is not None for doc in docs) > 1:
        raise KustomizeTreeError(f"{where}: holds several YAML documents; kustomize reads only "
                                 "the first: fix the file before adding resources")
    doc = docs[0] if docs else None
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise KustomizeTreeError(f"{where}: not a mapping (kustomize needs a Kustomization "
                                 "mapping)")
    current = doc.get("resources")
    if current is not None and not isinstance(current, list):
        raise KustomizeTreeError(f"{where}: resources: is not a list")
    listed = list(current or [])
    bases = doc.get("bases")
    if isinstance(bases, list):
        listed += bases
    wanted = _normal(entry)
    if any(isinstance(e, str) and _normal(e) == wanted for e in listed):
        return None
    try:
        body = _with_entry(text.body, text.newline, entry, "resources" in doc)
    except _Layout as exc:
        raise KustomizeTreeError(
            f"{where}: resources: cannot add {entry!r} without rewriting the file ({exc}); "
            "add it by hand") from None
    if body and not body.endswith("\n"):
        body += text.newline
    expected = dict(doc)
    expected["resources"] = [*(current or []), entry]
    try:
        new_docs = yamlio.loads_all(body)
    except yamlio.YamlError:
        new_docs = []
    if not new_docs or new_docs[0] != expected or new_docs[1:] != docs[1:]:
        raise KustomizeTreeError(
            f"{where}: resources: cannot add {entry!r} without rewriting the file (its layout "
            "is unusual); add it by hand")
    return yamlio.encode(text, body)


def _normal(entry: str) -> str:
    return posixpath.normpath(entry.replace(os.sep, "/")) if entry else entry


class _Line:
    __slots__ = ("content_end", "end", "indent", "start")

    def __init__(self, body: str, start: int, content_end: int, end: int) -> None:
        self.start = start
        self.content_end = content_end  # before "\r\n" / "\n"
        self.end = end  # after the newline
        i = start
        while i < content_end and body[i] == " ":
            i += 1
        self.indent = i - start


def _split_lines(body: str) -> list[_Line]:
    lines: list[_Line] = []
    pos = 0
    while pos < len(body):
        nl = body.find("\n", pos)
        end = len(body) if nl < 0 else nl + 1
        content_end = len(body) if nl < 0 else nl
        if content_end > pos and body[content_end - 1] == "\r":
            content_end -= 1
        lines.append(_Line(body, pos, content_end, end))
        pos = end
    return lines


def _code(body: str, line: _Line) -> str:
    """The line without indentation, or ``""`` for a blank or comment-only line."""
    code = body[line.start + line.indent : line.content_end]
    return "" if not code.strip() or code.lstrip().startswith("#") else code


_MARKER = re.compile(r"(?:---|\.\.\.)(?:[ \t].*)?")


_KEY = re.compile(r"""(?:resources|"resources"|'resources')[ \t]*:(?=[ \t]|$)""")


#: What may follow ``resources:`` on its line when the list starts on a later line, or the
#: value is null.
_NULL = re.compile(r"[ \t]*(null|Null|NULL|~)?[ \t]*(#.*)?")


_SEQ_KEY = re.compile(r"""[^#\s-][^#]*:[ \t]*(?:#.*)?""")


def _with_entry(body: str, newline: str, entry: str, has_key: bool) -> str:
    """``body`` with ``entry`` added to the top-level ``resources`` list (raises
    :class:`_Layout`). ``has_key``: the parsed kustomization has a ``resources`` key."""
    lines = _split_lines(body)
    # The first document's lines: after directives and its "---", up to a "---" or "...".
    first = 0
    while first < len(lines):
        code = _code(body, lines[first])
        if code and not code.startswith("%") and not (
                lines[first].indent == 0 and code.startswith("---") and _MARKER.fullmatch(code)):
            break
        first += 1
    stop = first
    while stop < len(lines) and not (
            lines[stop].indent == 0 and _MARKER.fullmatch(_code(body, lines[stop]))):
        stop += 1
    doc = lines[first:stop]
    top = doc[0].indent if doc else 0
    if doc and _code(body, doc[0])[:1] in ("{", "["):
        raise _Layout("a flow-style (JSON) kustomization")
    dash = " " * (top + (2 if _indents_sequences(body, doc) else 0))
    key = next((i for i, line in enumerate(doc)
                if line.indent == top and _KEY.match(body, line.start + top, line.content_end)),
               None)
    if key is None:
        if has_key:
            raise _Layout("'resources' is not a plain key of the top-level mapping")
        at = doc[-1].end if doc else (lines[stop].start if stop < len(lines) else len(body))
        lead = newline if at and body[at - 1] != "\n" else ""
        added = f"{' ' * top}resources:{newline}{dash}- {_scalar(entry, '', False)}{newline}"
        return body[:at] + lead + added + body[at:]
    line = doc[key]
    match = _KEY.match(body, line.start + top, line.content_end)
    assert match is not None
    after = match.end()
    rest = body[after : line.content_end]
    if rest.lstrip().startswith("["):
        return _flow_insert(body, newline, after + len(rest) - len(rest.lstrip()), doc[key:],
                            entry)
    null = _NULL.fullmatch(rest)
    if null is None:
        raise _Layout("'resources' is neither a block nor a flow list")
    nxt = next((i for i in range(key + 1, len(doc)) if _code(body, doc[i])), None)
    if null.group(1) is None and nxt is not None:
        code = _code(body, doc[nxt])
        if code.startswith("[") and doc[nxt].indent > top:
            return _flow_insert(body, newline, doc[nxt].start + doc[nxt].indent, doc[nxt:],
                                entry)
        if (code == "-" or code.startswith("- ")) and doc[nxt].indent >= top:
            return _block_insert(body, newline, doc, nxt, top, entry)
    # A null value: the key keeps its comment and gets a one-entry block list.
    token = null.group(1)
    kept = rest[: null.start(1)] + rest[null.end(1) :] if token else rest
    head = body[:after] + (kept if kept.strip() else "")
    eol = body[line.content_end : line.end] or newline
    return head + eol + f"{dash}- {_scalar(entry, '', False)}{newline}" + body[line.end :]


def _indents_sequences(body: str, doc: Sequence[_Line]) -> bool:
    """The file's style for block lists: dashes deeper than their key (kpt's 'wide') or not;
    from its first block list, not indented when it has none (kustomize's own style)."""
    for i, line in enumerate(doc):
        code = _code(body, line)
        if not code or not _SEQ_KEY.fullmatch(code):
            continue
        nxt = next((ln for ln in doc[i + 1 :] if _code(body, ln)), None)
        if nxt is None:
            return False
        first = _code(body, nxt)
        if (first == "-" or first.startswith("- ")) and nxt.indent >= line.indent:
            return nxt.indent > line.indent
    return False


def _quote_style(texts: Sequence[str]) -> str:
    """``'`` or ``"`` when every existing entry is quoted that way, else ``""`` (plain)."""
    firsts = {text[:1] for text in texts}
    return firsts.pop() if len(firsts) == 1 and firsts <= {"'", '"'} else ""


def _scalar(entry: str, quote: str, flow: bool) -> str:
    """``entry`` as a YAML scalar that reads back as the same string, in ``quote`` style when
    it can be."""
    text = yamlio.dumps([entry])[2:].rstrip("\n")  # plain, or double-quoted when it must be
    if text.startswith('"'):
        return text
    if quote == "'":
        return "'" + entry.replace("'", "''") + "'"
    if quote == '"' or (flow and any(c in text for c in ":#,[]{}")):
        return json.dumps(entry)
    return text


def _block_insert(body: str, newline: str, doc: Sequence[_Line], first: int, top: int,
                  entry: str) -> str:
    dash = doc[first].indent
    last = first
    entries = [body[doc[first].start + dash + 1 : doc[first].content_end].strip()]
    for i in range(first + 1, len(doc)):
        line = doc[i]
        code = _code(body, line)
        if not code:
            continue
        if line.indent > top or (line.indent == dash == top and code[:2] in ("- ", "-")):
            last = i
            if line.indent == dash and code.startswith("-"):
                entries.append(code[1:].strip())
            continue
        break
    # Comments right below the last entry and deeper than its dash belong to it.
    end = last
    while end + 1 < len(doc):
        nxt = doc[end + 1]
        text = body[nxt.start : nxt.content_end]
        if text.strip().startswith("#") and nxt.indent > dash:
            end += 1
        else:
            break
    at = doc[end].end
    lead = newline if body[at - 1] != "\n" else ""
    quote = _quote_style([e for e in entries if e])
    return body[:at] + f"{lead}{' ' * dash}- {_scalar(entry, quote, False)}{newline}" + body[at:]


def _flow_insert(body: str, newline: str, start: int, doc: Sequence[_Line], entry: str) -> str:
    """Insert before the ``]`` that closes the flow list opening at ``start``: ``, entry``
    after the last entry, or on a line of its own when the entries sit one per line."""
    limit = doc[-1].end
    depth = 0
    i = start
    last_end = start + 1  # after the last token before "]"
    last_char = "["
    firsts: list[str] = []  # first character of each entry (for its quoting style)
    while i < limit:
        c = body[i]
        if c in " \t\r\n":
            i += 1
            continue
        if c == "#" and body[i - 1] in " \t\n":
            nl = body.find("\n", i)
            i = limit if nl < 0 else nl
            continue
        if depth == 1 and last_char in "[," and c not in ",]":
            firsts.append(c)
        if c in "'\"":
            j = i + 1
            while j < limit:
                if body[j] == "\\" and c == '"':
                    j += 2
                    continue
                if body[j] == c:
                    if c == "'" and body.startswith("''", j):
                        j += 2
                        continue
                    break
                j += 1
            last_end, last_char, i = j + 1, c, j + 1
            continue
        if c in "[{":
            depth += 1
        elif c in "]}":
            depth -= 1
            if depth == 0:
                break
        last_end, last_char = i + 1, c
        i += 1
    else:
        raise _Layout("unclosed flow list")
    close = i
    value = _scalar(entry, _quote_style(firsts), True)
    if last_char == "[":
        return body[:last_end] + value + body[last_end:]
    comma = last_char == ","
    line_start = body.rfind("\n", 0, last_end) + 1
    if "\n" in body[last_end:close] and line_start > start:
        # One entry per line: the new one on a line of its own, indented like the last one.
        indent = len(body[line_start:last_end]) - len(body[line_start:last_end].lstrip(" "))
        line_end = body.index("\n", last_end)
        if body[line_end - 1] == "\r":
            line_end -= 1
        added = newline + " " * indent + value + ("," if comma else "")
        return (body[:last_end] + ("" if comma else ",") + body[last_end:line_end] + added
                + body[line_end:])
    return body[:last_end] + (" " if comma else ", ") + value + body[last_end:]
