"""Input text: limits, errors, decoding (BOM, line breaks), marks and lines."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

TYPE_CHECKING = False  # what follows is for annotations only, never needed at run time


if TYPE_CHECKING:
    import yaml


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

    def encoded(self) -> bytes:
        """The bytes :func:`decode` read (it is a bijection)."""
        return (b"\xef\xbb\xbf" if self.bom else b"") + self.restore(self.body).encode()


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
    # YAML reads a CR not followed by LF as a line break (spec 5.4); the splice works on LF
    # breaks. CR-only input is read with LF in their place and gets its CRs back on output (a
    # bijection: such input holds no LF).
    cr_only = "\r" in body and "\n" not in body
    if cr_only:
        body = body.replace("\r", "\n")
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




def encode(text: Text, body: str) -> bytes:
    return ((_BOM if text.bom else "") + text.restore(body)).encode("utf-8")


def _start(event: Any) -> int:
    return int(event.start_mark.index)


def _end(event: Any) -> int:
    return int(event.end_mark.index)


def _start_column(event: Any) -> int:
    return int(event.start_mark.column)


def _mark(event: Any) -> tuple[int, int]:
    return event.start_mark.line + 1, event.start_mark.column + 1


#: What to build of a node: ``None`` everything; a dict of key -> what to build of that key's
#: value (other keys are skipped, never built); a predicate on keys (their values are built
#: whole). A dict applies to each entry of a sequence.
if TYPE_CHECKING:
    Keep = dict[str, Any] | Callable[[Any], bool] | None


def _yaml_error(exc: yaml.YAMLError, text: str = "") -> YamlError:
    import yaml  # loaded already: ``exc`` is one of its errors

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


#: For an item's (apiVersion, kind): ``False`` to keep it opaque, else what to build of it.
Wanted = Callable[[str, str], "Keep | bool"]


def _line_start(text: str, offset: int) -> int:
    return text.rfind("\n", 0, offset) + 1


def _line_end(text: str, offset: int) -> int:
    """Offset just after the newline ending the line that contains ``offset - 1``."""
    nl = text.find("\n", max(offset - 1, 0))
    return len(text) if nl < 0 else nl + 1


def item_text(text: str, start: int, end: int) -> tuple[int, str]:
    """The lines of the node at ``text[start:end]`` as a document of their own, the first line
    padded so that columns (and so offsets from its line start) stay those of ``text``; and
    where its first line starts."""
    line_start = _line_start(text, start)
    return line_start, " " * (start - line_start) + text[start : _line_end(text, end)]
