"""Scalars as a YAML 1.1 reader resolves them (safe tags only)."""

from __future__ import annotations

from typing import Any

from .resolve import CONSTRUCTED, construct, lazy_import, plain_tag
from .text import YamlError, _mark

TYPE_CHECKING = False
if TYPE_CHECKING:
    import yaml
# only an explicit ``!!binary`` needs PyYAML here
lazy_import("yaml", globals(), "yaml")

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
            tag = plain_tag(text)
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
    try:
        if tag in CONSTRUCTED:
            return construct(tag, event.value)
        # ``!!binary``: the tag's constructor function itself (``construct_object`` would
        # remember every node, and through its marks the event, in its cache for good)
        constructor = yaml.constructor.SafeConstructor()
        node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark)
        return constructor.yaml_constructors[tag](constructor, node)
    except (yaml.YAMLError, ValueError, KeyError, IndexError, TypeError, OverflowError) as exc:
        raise YamlError(f"bad {tag.rsplit(':', 1)[-1]} value {event.value!r}: {exc}",
                        *_mark(event)) from None


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
