"""The YAML layer: the only module that imports a YAML library.

Design (see README, "Performance"): the input text is never re-serialised. libyaml's C parser
turns it into an event stream with character marks; one pass over the events finds every item
(a ResourceList entry or a stream document), reads the few fields every item needs (apiVersion,
kind, name, namespace, annotations) and builds plain Python values only for the items the caller
asks for (Istio and cert-manager kinds). Output is the input text with edits spliced in: removed
sequence entries lose exactly their lines, deleted items their lines, new items and results are
appended in the input's style. Everything the function does not touch is emitted byte for byte.

Modules, in the order a run uses them: :mod:`.text` (bytes to text, limits, errors),
:mod:`.events` (libyaml's events, bounded; skeletons of large opaque items), :mod:`.resolve`
(PyYAML's resolution of plain scalars, without PyYAML), :mod:`.scalars` and :mod:`.build`
(events to plain values), :mod:`.scan` (bundles: items and where they are),
:mod:`.fast` (the compiled scanner of ``_cscan.c``, where it is built, for ResourceLists),
:mod:`.splice` (edits as a plan of input spans and new text), :mod:`.reblock` (block layout of
what cannot be spliced, every scalar as written) and :mod:`.emit` (new values as YAML).

PyYAML is imported on first use: a ResourceList the compiled scanner reads never needs it.

Public surface (re-exported here; nothing outside this package imports PyYAML):
- :func:`loads`, :func:`loads_all`, :func:`dumps` for small documents (configs, new objects);
- :func:`decode` for raw bytes;
- :func:`scan_resource_list`, :func:`scan_stream`, :func:`first_document_kind` to read bundles;
- :func:`plan_resource_list`, :func:`plan_stream` and :func:`render` to write them back.
"""

from __future__ import annotations

from .build import loads, loads_all
from .emit import dump_stream, dumps
from .events import STREAM_AFTER
from .fast import SCANNER, first_document_kind, scan_resource_list
from .scan import (
    BOOKKEEPING_ANNOTATIONS,
    Bundle,
    Item,
    scan_stream,
)
from .splice import (
    ItemEdit,
    Plan,
    SpliceError,
    check_shared_anchors,
    edit_item_text,
    plan_is_blank,
    plan_resource_list,
    plan_stream,
    render,
    splice_resource_list,
    splice_stream,
)
from .text import (
    MAX_ALIAS_NODES,
    MAX_DEPTH,
    MAX_INPUT_BYTES,
    Path,
    Text,
    Wanted,
    YamlError,
    decode,
    encode,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .protocols import Edit, Retain
    from .text import Keep

__all__ = [
    "BOOKKEEPING_ANNOTATIONS", "MAX_ALIAS_NODES", "MAX_DEPTH", "MAX_INPUT_BYTES", "SCANNER",
    "STREAM_AFTER",
    "Bundle", "Edit", "Item", "ItemEdit", "Keep", "Path", "Plan", "Retain", "SpliceError", "Text",
    "Wanted", "YamlError", "check_shared_anchors", "decode", "dump_stream", "dumps",
    "edit_item_text", "encode", "first_document_kind", "loads", "loads_all", "plan_is_blank",
    "plan_resource_list", "plan_stream", "render", "scan_resource_list", "scan_stream",
    "splice_resource_list", "splice_stream",
]
