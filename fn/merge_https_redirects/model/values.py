"""Tolerant readers of plain values (as the YAML layer builds them).

The routing and cert-manager models read resources that may be malformed: a wrong type reads
as absent instead of raising, so a bad resource never crashes the checker.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeGuard


def as_dict(value: object) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None


def as_list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def as_str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def as_int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def as_str_map(value: object) -> dict[str, str]:
    """The string-to-string entries of a map (labels, annotations, selectors)."""
    d = as_dict(value) or {}
    if all(type(k) is str and type(v) is str for k, v in d.items()):
        return d  # the usual case: no copy (values are read, never modified)
    return {k: v for k, v in d.items() if isinstance(k, str) and isinstance(v, str)}


def as_str_items(value: object) -> list[str]:
    """The string entries of a list (hosts, dnsNames)."""
    return [v for v in as_list(value) if isinstance(v, str)]


def is_mapping(value: object) -> TypeGuard[Mapping[str, Any]]:
    """``isinstance(value, Mapping)``, at the cost of a type test for the dicts the YAML layer
    builds (an ABC's check costs ten times more, and the models ask it of every resource)."""
    return type(value) is dict or isinstance(value, Mapping)
