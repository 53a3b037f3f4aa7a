"""The callers' side of the YAML layer, as protocols: for annotations only, never imported at
run time (kept apart from :mod:`.text` so that module holds no class defined under
``TYPE_CHECKING``, which mypyc cannot compile)."""

from __future__ import annotations

from typing import Any, Protocol


class Retain(Protocol):
    """Lets a caller read a kind but keep few of its resources: ``retain(kind, value)``
    says whether to keep a built value (``False``: the item stays opaque text, as if not
    wanted); ``possible(kind, text)``, from the item's text alone, whether ``retain``
    could say ``True`` (``False`` skips building it: the cheap test comes first);
    ``kinds``: the kinds it may refuse (of the others every value is kept, unasked)."""

    kinds: frozenset[str]

    def __call__(self, kind: str, value: Any) -> bool: ...

    def possible(self, kind: str, text: str) -> bool: ...


class Edit(Protocol):
    """What to do to one item (the transform's ``Change`` has this shape; so has
    :class:`.splice.ItemEdit`)."""

    @property
    def delete(self) -> bool: ...

    @property
    def remove(self) -> tuple[tuple[str | int, ...], ...]: ...
