"""The model's immutable records: plain slotted classes, compared and hashed by value.

A frozen dataclass costs a run twice: ``dataclasses`` writes each class's methods as source and
compiles them at import (0.8 ms a class, with ``inspect`` and ``ast`` imported first), and each
instance sets its fields through ``object.__setattr__`` (0.9 us for four fields; a plain
``__init__``: 0.26 us). A 10k-item bundle makes some 45,000 records in a process that lives
under a second. So each record class writes its ``__init__``; :class:`Record` gives equality,
hashing and a repr over its annotated fields (a frozen dataclass's), and nothing assigns a field
after ``__init__`` (the records are shared between readings, as frozen values are). The
Gateway API model, imported only when a bundle needs it, keeps its dataclasses.
"""

from __future__ import annotations

from typing import Any, ClassVar


class Record:
    """Equality (same class, equal fields), hash and repr over the fields, in the order written:
    each class lists its fields in ``_fields`` (its base's first), as annotated, each with a
    slot. The list is spelled out because mypyc, which compiles these modules, keeps neither
    ``__annotations__`` nor ``__slots__`` on a class; run from the sources, each class is
    checked against its annotations here, at import (a cache attribute annotated only in
    ``__init__`` is no field)."""

    __slots__ = ()
    _fields: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__annotations__" not in vars(cls) and "__slots__" not in vars(cls):
            return  # compiled: what the sources' run checked
        names: list[str] = []  # the annotated fields, in the order written
        slots: set[str] = set()
        for klass in reversed(cls.__mro__[:-2]):  # not Record, not object
            # (not inspect.get_annotations: importing inspect is what this module avoids)
            names.extend(vars(klass).get("__annotations__", {}))
            slots.update(vars(klass).get("__slots__", ()))
        if set(names) - slots:
            raise TypeError(f"{cls.__name__}: fields without a slot: {set(names) - slots}")
        if cls._fields != tuple(names):
            raise TypeError(f"{cls.__name__}: _fields {cls._fields} are not the annotated "
                            f"fields {tuple(names)}")

    def _values(self) -> tuple[Any, ...]:
        return tuple([getattr(self, name) for name in self._fields])

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__ or not isinstance(other, Record):
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{type(self).__name__}({fields})"
