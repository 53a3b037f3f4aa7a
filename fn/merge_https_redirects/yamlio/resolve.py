"""YAML 1.1 resolution of plain scalars, as PyYAML's ``SafeLoader`` does it, without importing
PyYAML: the compiled scanner's path reads a ResourceList with no PyYAML at all (start-up is
the floor of every run). The expressions and the first-character dispatch are those of
``yaml/resolver.py``, the constructions those of ``SafeConstructor`` (``yaml/constructor.py``,
PyYAML 6, MIT licence); ``tests/unit/yamlio/test_resolve.py`` checks both against PyYAML.
:class:`LazyModule` is how the other modules of the package import PyYAML: on first use.
"""

from __future__ import annotations

import re
from typing import Any

STR = "tag:yaml.org,2002:str"
INT = "tag:yaml.org,2002:int"
FLOAT = "tag:yaml.org,2002:float"
BOOL = "tag:yaml.org,2002:bool"
NULL = "tag:yaml.org,2002:null"

#: (tag, expression, first characters), in ``Resolver``'s order; compiled when first needed
#: (most runs resolve only strings and a few numbers)
_IMPLICIT: list[tuple[str, str, str]] = [
    (BOOL, "(?x)" r"""^(?:yes|Yes|YES|no|No|NO
                    |true|True|TRUE|false|False|FALSE
                    |on|On|ON|off|Off|OFF)$""", "yYnNtTfFoO"),
    (FLOAT, "(?x)" r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?
                    |\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?
                    |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
                    |[-+]?\.(?:inf|Inf|INF)
                    |\.(?:nan|NaN|NAN))$""", "-+0123456789."),
    (INT, "(?x)" r"""^(?:[-+]?0b[0-1_]+
                    |[-+]?0[0-7_]+
                    |[-+]?(?:0|[1-9][0-9_]*)
                    |[-+]?0x[0-9a-fA-F_]+
                    |[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$""", "-+0123456789"),
    ("tag:yaml.org,2002:merge", r"^(?:<<)$", "<"),
    (NULL, "(?x)" r"""^(?: ~
                    |null|Null|NULL
                    | )$""", "~nN"),
    ("tag:yaml.org,2002:timestamp", "(?x)" r"""^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
                    |[0-9][0-9][0-9][0-9] -[0-9][0-9]? -[0-9][0-9]?
                     (?:[Tt]|[ \t]+)[0-9][0-9]?
                     :[0-9][0-9] :[0-9][0-9] (?:\.[0-9]*)?
                     (?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$""", "0123456789"),
    ("tag:yaml.org,2002:value", r"^(?:=)$", "="),
    # PyYAML registers this one "for documentation purposes" (plain scalars cannot start
    # with these); it still decides what a string written plain would read back as.
    ("tag:yaml.org,2002:yaml", r"^(?:!|&|\*)$", "!&*"),
]

#: ``Resolver.yaml_implicit_resolvers``: per first character, in registration order.
_BY_FIRST: dict[str, list[tuple[str, str]]] = {}
for _tag, _pattern, _first in _IMPLICIT:
    for _char in _first:
        _BY_FIRST.setdefault(_char, []).append((_tag, _pattern))
_EMPTY = [(NULL, _IMPLICIT[4][1])]  # the null resolver is registered for '' too
_COMPILED: dict[str, re.Pattern[str]] = {}


def plain_tag(value: str) -> str:
    """``Resolver.resolve(ScalarNode, value, (True, False))``: the tag of a plain scalar."""
    for tag, pattern in _BY_FIRST.get(value[0], ()) if value else _EMPTY:
        regexp = _COMPILED.get(pattern)
        if regexp is None:
            regexp = _COMPILED[pattern] = re.compile(pattern)
        if regexp.match(value):
            return tag
    return STR


_BOOL_VALUES = {"yes": True, "no": False, "true": True, "false": False, "on": True,
                "off": False}


def _construct_int(value: str) -> int:
    value = value.replace("_", "")
    sign = +1
    if value[0] == "-":
        sign = -1
    if value[0] in "+-":
        value = value[1:]
    if value == "0":
        return 0
    if value.startswith("0b"):
        return sign * int(value[2:], 2)
    if value.startswith("0x"):
        return sign * int(value[2:], 16)
    if value[0] == "0":
        return sign * int(value, 8)
    if ":" in value:
        return sign * int(_sexagesimal([int(part) for part in value.split(":")], 0))
    return sign * int(value)


def _sexagesimal(digits: list[Any], total: Any) -> Any:
    """``1:30:00``: base 60, as both constructors read it (``total``: 0 or 0.0)."""
    base = 1
    for digit in digits[::-1]:  # (not reversed(): mypyc 2.4 fails on it over Any)
        total += digit * base
        base *= 60
    return total


_INF = float("inf")
_NAN = -_INF / _INF  # PyYAML's quiet NaN
#: The one NaN object of every ``.nan`` (PyYAML's ``nan_value``: keys and values compare by
#: identity first). Typed ``object`` so that mypyc keeps it boxed: a ``float`` is not.
NAN_VALUE: object = _NAN


def _construct_float(value: str) -> object:  # (object: see NAN_VALUE)
    value = value.replace("_", "").lower()
    sign = +1
    if value[0] == "-":
        sign = -1
    if value[0] in "+-":
        value = value[1:]
    if value == ".inf":
        return sign * _INF
    if value == ".nan":
        return NAN_VALUE
    if ":" in value:
        return sign * float(_sexagesimal([float(part) for part in value.split(":")], 0.0))
    return sign * float(value)


def construct(tag: str, value: str) -> Any:
    """``SafeConstructor``'s value of a scalar of tag int, float, bool or null (raises what it
    raises: ``ValueError``, ``KeyError``, ``IndexError``)."""
    try:
        if tag == INT:
            return _construct_int(value)
        if tag == FLOAT:
            return _construct_float(value)
    except IndexError:  # ``value[0]`` of "" or "-": PyYAML's words (mypyc's differ)
        raise IndexError("string index out of range") from None
    if tag == BOOL:
        return _BOOL_VALUES[value.lower()]
    if tag == NULL:
        return None
    raise KeyError(tag)


#: The tags :func:`construct` builds.
CONSTRUCTED = frozenset({INT, FLOAT, BOOL, NULL})


def lazy_import(name: str, namespace: dict[str, Any], alias: str) -> None:
    """Binds ``alias`` in ``namespace`` to ``name``, imported on first use (a
    :class:`LazyModule`). A function, not an ``else:`` after ``if TYPE_CHECKING:``: mypyc
    compiles that branch as unreachable."""
    namespace[alias] = LazyModule(name, namespace, alias)


class LazyModule:
    """A module imported on first use, for modules whose every use of PyYAML is inside a
    function: the first attribute read imports it and puts the module itself in the
    importer's namespace under ``alias`` (later reads cost nothing)."""

    __slots__ = ("_alias", "_name", "_namespace")

    def __init__(self, name: str, namespace: dict[str, Any], alias: str) -> None:
        self._name = name
        self._namespace = namespace
        self._alias = alias

    def __getattr__(self, attr: str) -> Any:
        import importlib

        module = importlib.import_module(self._name)
        self._namespace[self._alias] = module
        return getattr(module, attr)
