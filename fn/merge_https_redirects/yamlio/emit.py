"""Plain values to block-style YAML that YAML 1.1 and 1.2 readers read alike."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from .resolve import STR, plain_tag

#: Characters a YAML double-quoted scalar cannot hold as they are.
# (the surrogates as the regular expression's escapes: mypyc takes no surrogate in a literal)
_NEEDS_ESCAPE = re.compile('[\\\\"\x00-\x1f\x7f-\x9f\u2028\u2029\\ud800-\\udfff\ufeff\ufffe\uffff]')
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r", "\x00": "\\0"}
_PLAIN_SAFE = re.compile(r"[A-Za-z0-9_/.][A-Za-z0-9_/.:@=+ -]*")
#: Plain scalars some YAML reader may take for a number, a boolean or null: YAML 1.2 core
#: (``1e3``, ``0o755``, ``.Inf``), Go's base-prefixed integers (``0b1``, ``1_000``) and
#: YAML 1.1 forms PyYAML already knows. Wider than needed on purpose: quoting is always safe.
_MAYBE_NOT_STRING = re.compile(
    r"[-+]?(\.?[0-9][0-9A-Za-z_.:+-]*|\.(inf|Inf|INF)|\.(nan|NaN|NAN))"
    r"|null|Null|NULL|~|true|True|TRUE|false|False|FALSE|y|Y|n|N"
    r"|yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF|<<|=")


def plain_safe(value: str) -> bool:
    """Whether ``value`` written plain reads back as this string in YAML 1.1 and 1.2 alike."""
    return bool(
        _PLAIN_SAFE.fullmatch(value)
        and not value.endswith((" ", ":"))
        and ": " not in value
        and " #" not in value
        and not _MAYBE_NOT_STRING.fullmatch(value)
        and plain_tag(value) == STR
    )


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _ESCAPES:
        return _ESCAPES[char]
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def double_quoted(value: str) -> str:
    return '"' + _NEEDS_ESCAPE.sub(_escape, value) + '"'


@lru_cache(maxsize=4096)
def _str_text(text: str) -> str:
    """A string scalar as :func:`_scalar_text` writes it; recent ones remembered (the keys and
    most values of thousands of results repeat: each is judged once)."""
    return text if plain_safe(text) else double_quoted(text)


def _scalar_text(value: Any) -> str:
    """A scalar as YAML that YAML 1.1 and 1.2 readers both read back as the same value and
    type."""
    if type(value) is str:
        return _str_text(value)
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
    return _str_text(str(value))


def _float_text(value: float) -> str:
    if value != value:  # noqa: PLR0124 - NaN, without importing ``math`` (start-up)
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
            head = pad + (_str_text(key) if type(key) is str else _scalar_text(key)) + ":"
            if type(value) is str:  # most values: the rest is the general case
                out.append(head + " " + _str_text(value))
            elif isinstance(value, dict) and value:
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


def emit_entries(objs: Sequence[Any], indent: int, wide: bool, out: list[str]) -> None:
    """Block-sequence entries of ``objs`` whose dash sits at ``indent``, appended line by line
    to ``out``: each entry the lines of :func:`dumps`, indented under its dash."""
    pad = " " * indent
    for value in objs:
        if isinstance(value, (dict, list)) and value:
            nested: list[str] = []
            _emit(value, indent + 2, wide, nested)
            out.append(pad + "- " + nested[0][indent + 2 :])
            out.extend(nested[1:])
        else:
            out.append(pad + "- " + _inline(value))


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


def dump_stream(objs: Sequence[Any], newline: str = "\n", *, wide: bool = False) -> str:
    """Plain documents joined by ``---`` (used for new files); ``wide`` indents sequences."""
    return "".join(
        ("---" + newline if i else "") + dumps(o, newline=newline, wide=wide)
        for i, o in enumerate(objs)
    )
