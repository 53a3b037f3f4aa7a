"""Run → Config → Transform for each input form, from bytes to bytes.

This is the one place that ties the YAML layer, the config, the transform and the checker
together. It does no file-descriptor I/O itself (the CLI does): every function takes the input
and returns a :class:`Run` with what to print and the exit code, so a failure at any step still
produces complete output (the ResourceList with its items and an error result, in KRM mode).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from merge_https_redirects import yamlio
from merge_https_redirects.config import Config, ConfigProblems, parse_config
from merge_https_redirects.results import (
    CLUSTER_SCOPED,
    FileRef,
    ResourceRef,
    Result,
    has_errors,
    sorted_results,
)
from merge_https_redirects.rewrite.resources import (
    Outcome,
    Resource,
    UnreadableResource,
    retain,
    wanted,
)
from merge_https_redirects.rules import rule

TYPE_CHECKING = False  # what follows is for annotations only, never needed at run time
if TYPE_CHECKING:
    from typing import Any

EXIT_OK, EXIT_ERRORS = 0, 1  # 2 (usage error) is the CLI's
KRM_VERSIONS = ("config.kubernetes.io/v1", "config.kubernetes.io/v1beta1",
                "config.kubernetes.io/v1alpha1")


class Run:
    """What a run prints and returns. The output is either ``data`` or, for a bundle, the
    input text and a splice plan rendered piece by piece (never a second copy of a large
    bundle in memory). ``stderr_all``: every finding on stderr (stream and files modes; KRM:
    only problems)."""

    __slots__ = ("data", "exit_code", "notes", "results", "spliced", "stderr_all")

    def __init__(self, data: bytes = b"", results: list[Result] | None = None,
                 exit_code: int = EXIT_OK, stderr_all: bool = False,
                 spliced: tuple[yamlio.Text, yamlio.Plan] | None = None,
                 notes: Sequence[str] = ()) -> None:
        self.data = data
        #: lines for stderr after the findings (``wrote FILE``)
        self.notes = list(notes)
        self.results: list[Result] = [] if results is None else results
        self.exit_code = exit_code
        self.stderr_all = stderr_all
        self.spliced = spliced

    def chunks(self) -> Iterator[bytes]:
        if self.spliced is None:
            if self.data:
                yield self.data
            return
        text, plan = self.spliced
        if text.bom:
            yield b"\xef\xbb\xbf"
        for piece in yamlio.render(text.body, plan):
            yield text.restore(piece).encode("utf-8")

    @property
    def stdout(self) -> bytes:
        return b"".join(self.chunks())

    def stderr_lines(self) -> list[str]:
        return [r.one_line() for r in self.results
                if self.stderr_all or r.level in ("error", "warning")] + self.notes


def input_error(exc: yamlio.YamlError, source: str = "") -> Result:
    """MHR101 naming where: ``file:line:column: problem`` (or ``line L, column C: ...``)."""
    if exc.line is not None:
        where = f"{source}:{exc.line}:{exc.column}" if source else (
            f"line {exc.line}, column {exc.column}")
        message = f"{where}: {exc.message}"
    else:
        message = f"{source}: {exc.message}" if source else exc.message
    return Result(rule("MHR101"), message)  # the message names the place (file:line:column)


def _file_ref(item: yamlio.Item) -> FileRef | None:
    ann = item.annotations
    path = _path_of(item)
    if path is None:
        return None
    index = ann.get("internal.config.kubernetes.io/index") or ann.get(
        "config.kubernetes.io/index")
    return FileRef(path, int(index) if index and index.isdigit() else None)


class _Loader:
    """``Resource.load`` for a scanned item (a bundle holds thousands: smaller than a closure
    or a ``functools.partial``)."""

    __slots__ = ("bundle", "checked", "item")

    def __init__(self, bundle: yamlio.Bundle, item: yamlio.Item) -> None:
        self.bundle = bundle
        self.item = item
        #: what ``Resource.read`` made of the value (the value never changes)
        self.checked: tuple[Any, str | None] | None = None

    def __call__(self) -> Any:
        try:
            return self.bundle.load(self.item)
        except yamlio.YamlError as exc:
            raise UnreadableResource(str(exc)) from None


def resource_of(
    bundle: yamlio.Bundle, item: yamlio.Item, file: FileRef | None, position: int | None = None
) -> Resource:
    return Resource(
        position=item.position if position is None else position,
        api_version=item.api_version,
        kind=item.kind,
        name=item.name,
        namespace=item.namespace,
        annotations=item.annotations,
        load=_Loader(bundle, item) if item.wanted else None,
        file=file,
    )


def resources_of_items(
    items: Iterable[tuple[yamlio.Bundle, yamlio.Item, FileRef | None, int]],
) -> tuple[list[Resource], set[str]]:
    """The resources the function reads, and the path annotations of the others (only what a
    new file must not collide with: a 50k-item bundle needs no object per opaque item)."""
    resources: list[Resource] = []
    other_paths: set[str] = set()
    for bundle, item, file, position in items:
        if item.wanted:
            resources.append(resource_of(bundle, item, file, position))
        else:
            path = _path_of(item)
            if path is not None:
                other_paths.add(path)
    return resources, other_paths


def _path_of(item: yamlio.Item) -> str | None:
    ann = item.annotations
    return ann.get("internal.config.kubernetes.io/path") or ann.get("config.kubernetes.io/path")


def apply_mode(resources: Sequence[Resource], config: Config,
               other_paths: Iterable[str] = ()) -> Outcome:
    """The transform for ``mode: merge``; the checker for ``mode: check``. Nothing of either
    when two resources the function reads claim one identity with different contents (which
    one applies is ambiguous); identical copies (nested kpt packages that each hold the same
    dedicated Gateway) are one resource, and every change to it is made to each copy."""
    primaries, copies, duplicates = split_copies(resources)
    if duplicates:
        return Outcome(results=duplicates)
    if config.mode == "check":
        from merge_https_redirects.check.mode import check_mode

        return check_mode(primaries, config)
    if not any(r.kind == "Gateway" for r in primaries):
        # nothing to rewrite: the proof (and the routing model) need not even be imported
        from merge_https_redirects.rewrite.transform import transform

        outcome = transform(primaries, config, other_paths, workloads=())
    else:
        from merge_https_redirects.rewrite.proof import merge

        outcome = merge(primaries, config, other_paths)
    for position, change in list(outcome.changes.items()):
        for copy in copies.get(position, ()):
            outcome.changes[copy] = change
    return outcome


def split_copies(resources: Sequence[Resource]
                 ) -> tuple[list[Resource], dict[int, list[int]], list[Result]]:
    """The resources with one entry per identity (group, kind, namespace, name; local config
    excluded; a namespaced resource without namespace is in ``default``, where ``kubectl
    apply`` puts it), the positions of the identical copies of each (contents equal but for
    kpt/kustomize bookkeeping annotations), and MHR013 for every identity defined twice
    differently."""
    from merge_https_redirects.rewrite.resources import without_bookkeeping

    first: dict[tuple[str, str, str, str], Resource] = {}
    primaries: list[Resource] = []
    copies: dict[int, list[int]] = {}
    out: list[Result] = []
    for res in resources:
        if res.local_config:
            primaries.append(res)
            continue
        group = res.api_version.rpartition("/")[0]
        namespace = res.namespace or ("" if res.kind in CLUSTER_SCOPED else "default")
        key = (group, res.kind, namespace, res.name)
        earlier = first.setdefault(key, res)
        if earlier is res:
            primaries.append(res)
            continue
        one, other = earlier.value, res.value
        if one is not None and other is not None and (
                without_bookkeeping(one) == without_bookkeeping(other)):
            copies.setdefault(earlier.position, []).append(res.position)
            continue
        out.append(Result(rule("MHR013"), (
            f"{res.kind} {namespace + '/' if namespace else ''}{res.name} is defined twice, "
            f"differently: at {_place(earlier)} and at {_place(res)}; nothing was changed "
            "(keep one, or give each its own name)"),
            resource=res.ref, file=res.file))
    return primaries, copies, out


def _place(res: Resource) -> str:
    return str(res.file) if res.file is not None else f"document {res.position}"


# --------------------------------------------------------------------------------------------
# KRM: one ResourceList in, one out
# --------------------------------------------------------------------------------------------
def run_resource_list(text: yamlio.Text) -> Run:
    try:
        bundle = yamlio.scan_resource_list(text.body, wanted, retain)
    except yamlio.YamlError as exc:
        return _broken_resource_list(text, input_error(exc))
    problems: list[Result] = []
    if bundle.header_version not in KRM_VERSIONS:
        problems.append(Result(rule("MHR101"), (
            f"unsupported ResourceList apiVersion {bundle.header_version!r}, expect one of "
            f"{', '.join(KRM_VERSIONS)}")))
    config = Config()
    if bundle.function_config_error is not None:
        problems.append(Result(rule("MHR100"),
                               f"functionConfig: {bundle.function_config_error}"))
    else:
        try:
            config = parse_config(bundle.function_config)
        except ConfigProblems as bad_config:  # (not ``exc`` again: mypyc types it once)
            problems.extend(bad_config.results)
    for item in bundle.items:
        if not item.is_mapping:
            problems.append(Result(rule("MHR101"),
                                   f"items[{item.position}] is not a mapping (a resource)"))
    if problems:
        results = sorted_results(problems)
        try:
            plan = yamlio.plan_resource_list(bundle, {}, [], [r.to_krm() for r in results],
                                             text.newline)
        except yamlio.YamlError as exc:
            return _broken_resource_list(text, input_error(exc))
        return Run(b"", results, EXIT_ERRORS, spliced=(text, plan))
    resources, other_paths = resources_of_items(
        (bundle, item, _file_ref(item) if item.wanted else None, item.position)
        for item in bundle.items)
    outcome = apply_mode(resources, config, other_paths)
    # An item that cannot be read unambiguously is reported and left as it is; the rest of the
    # bundle is still processed (``strict`` makes that all-or-nothing).
    outcome = with_unreadable(outcome, [
        Result(rule("MHR101"), f"items[{item.position}]: {item.head_error}",
               resource=_ref_of(item), file=_file_ref(item))
        for item in bundle.items if item.head_error is not None
    ], config)
    results = sorted_results(outcome.results)
    try:
        plan = yamlio.plan_resource_list(
            bundle, outcome.changes, outcome.added, [r.to_krm() for r in results],
            text.newline,
        )
    except yamlio.YamlError as exc:
        # The edits cannot be written faithfully: change nothing and say why.
        results = sorted_results(
            [r for r in results if r.level != "info"] + [input_error(exc)])
        try:
            plan = yamlio.plan_resource_list(bundle, {}, [], [r.to_krm() for r in results],
                                             text.newline)
        except yamlio.YamlError:
            return _broken_resource_list(text, input_error(exc))
    return Run(b"", results, EXIT_ERRORS if has_errors(results, config.fail_on) else EXIT_OK,
               spliced=(text, plan))


def _broken_resource_list(text: yamlio.Text, error: Result) -> Run:
    return broken_resource_list(text.body[:4096], error)


def broken_resource_list(head: str, error: Result) -> Run:
    """Input that cannot be read: still a valid ResourceList on stdout, with the error."""
    version = next((v for v in KRM_VERSIONS if v in head[:4096]), KRM_VERSIONS[0])
    out = yamlio.dumps({"apiVersion": version, "kind": "ResourceList", "items": [],
                        "results": [error.to_krm()]})
    return Run(out.encode("utf-8"), [error], EXIT_ERRORS)


# --------------------------------------------------------------------------------------------
# Streams: plain multi-document YAML (Helm post-renderer, Argo CD, pipes)
# --------------------------------------------------------------------------------------------
def run_stream(text: yamlio.Text, config: Config, source: str = "") -> Run:
    try:
        bundle = yamlio.scan_stream(text.body, wanted, retain)
    except yamlio.YamlError as exc:
        return Run(b"", [input_error(exc, source or "<stdin>")], EXIT_ERRORS, stderr_all=True)
    resources, other_paths = resources_of_items(
        (bundle, item, FileRef(source, item.position) if source else None, item.position)
        for item in bundle.items if item.is_mapping)
    outcome = apply_mode(resources, config, other_paths)
    outcome = with_unreadable(outcome, head_errors(bundle, source or "<stdin>"), config)
    results = sorted_results(outcome.results)
    plan = yamlio.plan_stream(bundle, outcome.changes, outcome.added, text.newline)
    if yamlio.plan_is_blank(text.body, plan):
        # Everything was deleted: print an explicit empty document rather than nothing, so a
        # host never mistakes the output for a crash (kpt deletes a package on empty output).
        plan = ["---" + text.newline]
    return Run(b"", results, EXIT_ERRORS if has_errors(results, config.fail_on) else EXIT_OK,
               stderr_all=True, spliced=(text, plan))


def with_unreadable(outcome: Outcome, unreadable: list[Result], config: Config) -> Outcome:
    """Add the items that could not be read (left as they are); with ``strict``, nothing of the
    rewrite is kept then."""
    if unreadable and config.strict:
        kept = [r for r in outcome.results if r.level != "info"]
        return Outcome(results=[*kept, *unreadable, Result(
            rule("MHR000"),
            f"strict: nothing was changed because {len(unreadable)} resource(s) could not be "
            "read")])
    outcome.results.extend(unreadable)
    return outcome


def head_errors(bundle: yamlio.Bundle, source: str) -> list[Result]:
    """Documents whose apiVersion/kind/metadata cannot be read unambiguously."""
    return [
        Result(rule("MHR101"), f"{source}: document {item.position}: {item.head_error}",
               resource=_ref_of(item))
        for item in bundle.items if item.head_error is not None
    ]


def _ref_of(item: yamlio.Item) -> ResourceRef | None:
    if not item.kind:
        return None
    return ResourceRef(item.api_version, item.kind, item.name, item.namespace)


def detect_resource_list(text: yamlio.Text) -> bool:
    """Whether stdin holds a ResourceList (KRM mode) rather than a plain stream."""
    try:
        return yamlio.first_document_kind(text.body) == "ResourceList"
    except yamlio.YamlError:
        # Unreadable: answer as KRM when it looks like one, so kpt still gets a ResourceList.
        head = text.body[:65536]
        return "ResourceList" in head and "items" in head
