"""Files mode under kustomize: which files of a directory tree are manifests, which are not.

``kubectl kustomize DIR`` does not read every ``*.yaml`` below ``DIR``: it reads the files the
kustomization lists in ``resources`` (and, recursively, those of the kustomization directories it
lists), while patches, generator inputs and plugin configs are other files that only look like
manifests. A strategic-merge patch of a Gateway rewritten as if it were the Gateway would change
what the patch does, not what the cluster gets. So files mode, given a kustomize tree, asks this
module which files are resources (:func:`tree`), and where a new manifest must be listed so that
kustomize builds it (:func:`add_resource`).

The rules follow kustomize (api/internal/target/kusttarget.go, api/internal/loader): a
``resources`` entry is a file, else a directory that must hold exactly one kustomization file; a
``components`` entry is a directory of ``kind: Component``; remote entries (git URLs, HTTP) are
not fetched here. Only the kustomization files and the patch files (to see whether they patch a
Gateway) are read; nothing is written.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from merge_https_redirects import yamlio

#: File names kustomize recognises, in its order (konfig.RecognizedKustomizationFileNames).
KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")

#: API group of the Gateway kind this function rewrites.
ISTIO_GROUP = "networking.istio.io"


class KustomizeTreeError(Exception):
    """A tree kustomize itself would refuse, or a kustomization this module cannot edit; the
    message is one line naming the file (or directory) and the field."""


def find_kustomization(directory: Path) -> Path | None:
    """The kustomization file of ``directory``, ``None`` when it has none.

    kustomize refuses a directory with two of the recognised names rather than pick one, so
    this does too: a choice here could differ from the one a later kustomize version makes.
    """
    found = [directory / name for name in KUSTOMIZATION_NAMES if (directory / name).is_file()]
    if len(found) > 1:
        names = ", ".join(path.name for path in found)
        raise KustomizeTreeError(
            f"{directory}: more than one kustomization file ({names}); kustomize refuses to "
            "choose")
    return found[0] if found else None


@dataclass(frozen=True)
class Tree:
    """What a set of directories means to kustomize (all paths ``Path.resolve()``d).

    - ``resources``: manifest files some reachable kustomization lists (through ``resources``,
      ``bases`` and the kustomization directories and components they name); never a file
      that is also in ``patches``.
    - ``patches``: files kustomize reads as something else (patches, generator inputs,
      replacements, plugin configs, CRDs, OpenAPI schemas, Helm values): not manifests.
    - ``owner``: each reachable kustomization directory -> its kustomization file.
    - ``roots``: the reachable kustomization directories no other one references.
    - ``gateway_patches``: (kustomization file, patch file) for patches that name an Istio
      Gateway; an inline patch has its kustomization file as the patch file.
    - ``skipped``: one line per reference not followed (remote, or outside the given
      directories), naming the kustomization file, the field and the entry.
    """

    resources: tuple[Path, ...]
    patches: tuple[Path, ...]
    owner: dict[Path, Path]
    roots: tuple[Path, ...]
    gateway_patches: tuple[tuple[Path, Path], ...]
    skipped: tuple[str, ...]


def tree(paths: Sequence[Path]) -> Tree | None:
    """The kustomize view of the given directories, or ``None`` when no kustomization file is
    at or below any of them (the caller then reads the directories as plain manifests).

    A given directory with a kustomization file stands for that kustomization (what
    ``kubectl kustomize DIR`` builds); one without stands for every kustomization below it.
    Files among ``paths`` are not looked at: the caller reads those as given.
    """
    directories: list[Path] = []
    for path in paths:
        if path.is_dir():
            real = _resolve(path, path)
            if real not in directories:
                directories.append(real)
    starts: list[Path] = []
    for directory in directories:
        if find_kustomization(directory) is not None:
            found: Iterator[Path] = iter([directory])
        else:
            found = _kustomization_dirs(directory, directory, set())
        for start in found:
            if start not in starts:
                starts.append(start)
    if not starts:
        return None
    walker = _Walker(directories)
    for start in starts:
        walker.visit(start, config=False)
    patches = tuple(walker.patches)
    not_resources = set(patches)
    return Tree(
        resources=tuple(p for p in walker.resources if p not in not_resources),
        patches=patches,
        owner=dict(walker.owner),
        roots=tuple(s for s in starts if s not in walker.referenced),
        gateway_patches=tuple(walker.gateway),
        skipped=tuple(walker.skipped),
    )


def _resolve(path: Path, where: Path | str) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError) as exc:  # a symlink loop
        raise KustomizeTreeError(f"{where}: cannot resolve {path} ({exc})") from None


def _kustomization_dirs(directory: Path, root: Path, visited: set[tuple[int, int]]
                        ) -> Iterator[Path]:
    """Kustomization directories at or below ``directory``, walked like files mode walks a
    directory: dot-directories skipped, symlinks followed only when they stay inside
    ``root``, each real directory once."""
    try:
        info = directory.stat()
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError as exc:
        raise KustomizeTreeError(f"{directory}: cannot list ({exc.strerror})") from None
    if (info.st_dev, info.st_ino) in visited:
        return
    visited.add((info.st_dev, info.st_ino))
    if find_kustomization(directory) is not None:
        yield directory
    for entry in entries:
        path = Path(entry.path)
        try:
            if entry.name.startswith(".") or not entry.is_dir():
                continue
            real = path.resolve()
            if not real.is_relative_to(root):
                continue  # never follow a link out of the given directory
        except (OSError, RuntimeError) as exc:
            raise KustomizeTreeError(f"{path}: cannot read ({exc})") from None
        yield from _kustomization_dirs(real, root, visited)


# ---------------------------------------------------------------------------------------------
# Following references
# ---------------------------------------------------------------------------------------------
#: ``user@host:path``: a git remote in scp syntax (kustomize's repospec accepts it).
_SCP_REMOTE = re.compile(r"[A-Za-z][A-Za-z0-9-]*@[^/:]+:")
#: Query parameters of kustomize's git URLs.
_GIT_QUERY = re.compile(r"\?(?:.*&)?(?:ref|version|timeout|submodules)=")


def _looks_remote(entry: str) -> bool:
    lower = entry.lower()
    return (lower.startswith(("git::", "github.com/", "github.com:"))
            or _SCP_REMOTE.match(entry) is not None or _GIT_QUERY.search(entry) is not None)


class _At(NamedTuple):
    """A kustomization being read: its file (for messages) and the directory its entries are
    relative to (kustomize's loader root; not the file's own directory when the file is a
    symlink)."""

    file: Path
    directory: Path


class _Walker:
    """Collects what the kustomizations reachable from the starts refer to.

    ``config`` marks kustomizations reached through ``transformers``/``generators``/
    ``validators``: what they list are plugin configs, never manifests.
    """

    def __init__(self, limits: Sequence[Path]) -> None:
        self.limits = limits
        self.resources: dict[Path, None] = {}  # ordered sets
        self.patches: dict[Path, None] = {}
        self.owner: dict[Path, Path] = {}
        self.referenced: set[Path] = set()
        self.gateway: dict[tuple[Path, Path], None] = {}
        self.skipped: dict[str, None] = {}
        self.loaded: dict[Path, dict[str, Any]] = {}
        self.done: set[tuple[Path, bool]] = set()
        self.stack: list[Path] = []

    # -- kustomizations ----------------------------------------------------------------------
    def kustomization(self, directory: Path) -> tuple[Path, dict[str, Any]] | None:
        found = find_kustomization(directory)
        if found is None:
            return None
        kfile = _resolve(found, found)
        doc = self.loaded.get(kfile)
        if doc is None:
            doc = self.loaded[kfile] = _load_kustomization(kfile)
        return kfile, doc

    def visit(self, directory: Path, *, config: bool) -> None:
        if (directory, config) in self.done:
            return
        self.done.add((directory, config))
        found = self.kustomization(directory)
        if found is None:  # pragma: no cover - callers check first
            raise KustomizeTreeError(f"{directory}: no kustomization file")
        kfile, doc = found
        self.owner[directory] = kfile
        self.stack.append(directory)
        try:
            self._collect(_At(kfile, directory), doc, config)
        finally:
            self.stack.pop()

    def _collect(self, at: _At, doc: dict[str, Any], config: bool) -> None:
        for name in ("resources", "bases"):
            for i, entry in enumerate(_strings(at, doc, name)):
                self._resource(at, f"{name}[{i}]", entry, config)
        for i, entry in enumerate(_strings(at, doc, "components")):
            field = f"components[{i}]"
            target = self._local(at, field, entry)
            if target is None:
                continue
            if not target.is_dir():
                raise KustomizeTreeError(
                    f"{at.file}: {field}: {entry!r} is not a directory (a component is a "
                    "directory with a kind: Component kustomization)")
            self._directory(at, field, entry, target, component=True, config=config)
        for name in ("patches", "patchesJson6902"):
            for i, patch in enumerate(_mappings(at, doc, name)):
                self._patch(at, f"{name}[{i}]", patch)
        for i, entry in enumerate(_strings(at, doc, "patchesStrategicMerge")):
            self._strategic_merge(at, f"patchesStrategicMerge[{i}]", entry)
        for name in ("configMapGenerator", "secretGenerator"):
            for i, generator in enumerate(_mappings(at, doc, name)):
                field = f"{name}[{i}]"
                for j, source in enumerate(_strings(at, generator, "files", field)):
                    # "key=path" names the data key; the file is what follows the "="
                    path = source.partition("=")[2] if "=" in source else source
                    self._file(at, f"{field}.files[{j}]", path)
                for j, source in enumerate(_strings(at, generator, "envs", field)):
                    self._file(at, f"{field}.envs[{j}]", source)
                env = _string(at, generator, "env", field)
                if env:
                    self._file(at, f"{field}.env", env)
        for i, replacement in enumerate(_mappings(at, doc, "replacements")):
            path = _string(at, replacement, "path", f"replacements[{i}]")
            if path:
                self._file(at, f"replacements[{i}].path", path)
        for name in ("transformers", "generators", "validators"):
            for i, entry in enumerate(_strings(at, doc, name)):
                self._plugin(at, f"{name}[{i}]", entry)
        openapi = doc.get("openapi")
        if openapi is not None:
            if not isinstance(openapi, dict):
                raise KustomizeTreeError(f"{at.file}: openapi: must be a mapping")
            path = _string(at, openapi, "path", "openapi")
            if path:
                self._file(at, "openapi.path", path)
        for name in ("crds", "configurations"):
            for i, entry in enumerate(_strings(at, doc, name)):
                self._file(at, f"{name}[{i}]", entry)
        for i, chart in enumerate(_mappings(at, doc, "helmCharts")):
            field = f"helmCharts[{i}]"
            values = _string(at, chart, "valuesFile", field)
            if values:
                self._file(at, f"{field}.valuesFile", values)
            for j, entry in enumerate(_strings(at, chart, "additionalValuesFiles", field)):
                self._file(at, f"{field}.additionalValuesFiles[{j}]", entry)
        for i, chart in enumerate(_mappings(at, doc, "helmChartInflationGenerator")):
            field = f"helmChartInflationGenerator[{i}]"
            values = _string(at, chart, "values", field)
            if values:
                self._file(at, f"{field}.values", values)

    # -- one reference -----------------------------------------------------------------------
    def _local(self, at: _At, field: str, entry: str) -> Path | None:
        """The real path ``entry`` names, or ``None`` (noted in ``skipped``) when it is remote
        or leaves the given directories."""
        if not entry:
            raise KustomizeTreeError(f"{at.file}: {field}: empty entry")
        path = at.directory / entry  # an absolute entry stays as it is
        # kustomize tries a file before a git URL: a local "github.com/x.yaml" is a file.
        if "://" in entry or (_looks_remote(entry) and not path.exists()):
            self.skipped[f"{at.file}: {field}: {entry!r} is remote; not read"] = None
            return None
        real = _resolve(path, at.file)
        if not any(real.is_relative_to(limit) for limit in self.limits):
            self.skipped[
                f"{at.file}: {field}: {entry!r} leaves the given directories; not read"] = None
            return None
        return real

    def _resource(self, at: _At, field: str, entry: str, config: bool) -> None:
        target = self._local(at, field, entry)
        if target is None:
            return
        if target.is_file():
            (self.patches if config else self.resources)[target] = None
        elif target.is_dir():
            self._directory(at, field, entry, target, component=False, config=config)
        else:
            raise KustomizeTreeError(
                f"{at.file}: {field}: {entry!r}: no such file or directory")

    def _directory(self, at: _At, field: str, entry: str, target: Path, *,
                   component: bool, config: bool) -> None:
        if Path(entry).is_absolute():
            raise KustomizeTreeError(
                f"{at.file}: {field}: {entry!r}: kustomize refuses an absolute directory")
        if any(seen.is_relative_to(target) for seen in self.stack):
            raise KustomizeTreeError(
                f"{at.file}: {field}: {entry!r} is at or above a kustomization that refers to "
                "it (kustomize: cycle detected)")
        found = self.kustomization(target)
        if found is None:
            names = ", ".join(KUSTOMIZATION_NAMES)
            raise KustomizeTreeError(
                f"{at.file}: {field}: directory {entry!r} has no kustomization file ({names}); "
                "kustomize requires one")
        sub, doc = found
        kind = doc.get("kind")
        if component and kind != "Component":
            raise KustomizeTreeError(
                f"{at.file}: {field}: {sub} is not a kind: Component (kustomize requires one "
                "in components)")
        if not component and kind == "Component":
            raise KustomizeTreeError(
                f"{at.file}: {field}: {sub} is a kind: Component; kustomize takes components "
                "only from 'components'")
        self.referenced.add(target)
        self.visit(target, config=config)

    def _file(self, at: _At, field: str, entry: str) -> Path | None:
        target = self._local(at, field, entry)
        if target is not None:
            self.patches[target] = None
        return target

    def _plugin(self, at: _At, field: str, entry: str) -> None:
        """A transformers/generators/validators entry: inline config, file or directory."""
        if _is_inline(entry):
            return
        target = self._local(at, field, entry)
        if target is None:
            return
        if target.is_dir():
            self._directory(at, field, entry, target, component=False, config=True)
        else:
            self.patches[target] = None

    def _patch(self, at: _At, field: str, patch: dict[str, Any]) -> None:
        path = _string(at, patch, "path", field)
        inline = _string(at, patch, "patch", field)
        target = patch.get("target")
        if target is not None and not isinstance(target, dict):
            raise KustomizeTreeError(f"{at.file}: {field}.target: must be a mapping")
        where = at.file
        names = target is not None and _selects_gateway(target)
        if path:
            found = self._file(at, f"{field}.path", path)
            if found is not None:
                where = found
                names = _names_gateway(_patch_docs(found, at, f"{field}.path")) or names
        elif inline:
            names = _names_gateway(_documents(inline, f"{at.file}: {field}.patch")) or names
        if names:
            self.gateway[(at.file, where)] = None

    def _strategic_merge(self, at: _At, field: str, entry: str) -> None:
        # kustomize: an entry that is a readable file is a path, anything else an inline patch
        if _is_inline(entry):
            if _names_gateway(_documents(entry, f"{at.file}: {field}")):
                self.gateway[(at.file, at.file)] = None
            return
        found = self._file(at, field, entry)
        if found is not None and _names_gateway(_patch_docs(found, at, field)):
            self.gateway[(at.file, found)] = None


# ---------------------------------------------------------------------------------------------
# Reading kustomizations and patches
# ---------------------------------------------------------------------------------------------
def _read_text(path: Path, where: str) -> yamlio.Text:
    try:
        with path.open("rb") as handle:  # bounded: never more than the limit + 1
            data = handle.read(yamlio.MAX_INPUT_BYTES + 1)
    except OSError as exc:
        raise KustomizeTreeError(f"{where}: cannot read ({exc.strerror})") from None
    try:
        return yamlio.decode(data)
    except yamlio.YamlError as exc:
        raise KustomizeTreeError(f"{where}: {exc}") from None


def _documents(text: str, where: str) -> list[Any]:
    try:
        return yamlio.loads_all(text)
    except yamlio.YamlError as exc:
        raise KustomizeTreeError(f"{where}: {exc}") from None


def _load_kustomization(kfile: Path) -> dict[str, Any]:
    """The kustomization's first document (kustomize reads no other), which must be a
    mapping."""
    docs = _documents(_read_text(kfile, str(kfile)).body, str(kfile))
    doc = docs[0] if docs else None
    if not isinstance(doc, dict):
        what = "empty" if doc is None else "not a mapping"
        raise KustomizeTreeError(f"{kfile}: {what} (kustomize needs a Kustomization mapping)")
    kind = doc.get("kind")
    if kind not in (None, "Kustomization", "Component"):
        raise KustomizeTreeError(f"{kfile}: kind: {kind!r} is neither Kustomization nor Component")
    return doc


def _patch_docs(path: Path, at: _At, field: str) -> list[Any]:
    if not path.is_file():
        raise KustomizeTreeError(f"{at.file}: {field}: {path}: no such file")
    where = f"{path} ({field} of {at.file})"
    return _documents(_read_text(path, where).body, where)


def _is_inline(entry: str) -> bool:
    """Whether a string entry is YAML content rather than a path: kustomize tries to read it
    as resources first; a path reads as a plain scalar."""
    if "\n" in entry:
        return True
    try:
        docs = yamlio.loads_all(entry)
    except yamlio.YamlError:
        return False
    return any(isinstance(doc, (dict, list)) for doc in docs)


def _names_gateway(docs: Sequence[Any]) -> bool:
    """Whether a patch's documents name an Istio Gateway (apiVersion may be left out)."""
    for doc in docs:
        if isinstance(doc, dict) and doc.get("kind") == "Gateway":
            api_version = doc.get("apiVersion")
            if api_version is None or (
                    isinstance(api_version, str) and api_version.split("/")[0] == ISTIO_GROUP):
                return True
    return False


def _selects_gateway(target: dict[str, Any]) -> bool:
    """Whether a patch ``target`` names the Gateway kind or the Istio group (kustomize reads
    both as anchored regular expressions). A target by name or labels only is not counted:
    it names no kind."""
    kind, group = target.get("kind"), target.get("group")
    if kind in (None, "") and group in (None, ""):
        return False
    return _matches(kind, "Gateway") and _matches(group, ISTIO_GROUP)


def _matches(pattern: Any, value: str) -> bool:
    if pattern is None or pattern == "":
        return True
    if not isinstance(pattern, str):
        return False
    try:
        return re.fullmatch(pattern, value) is not None
    except re.error:
        return pattern == value


def _where(at: _At, parent: str) -> str:
    return f"{at.file}: {parent}." if parent else f"{at.file}: "


def _strings(at: _At, doc: dict[str, Any], name: str, parent: str = "") -> list[str]:
    value = doc.get(name)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise KustomizeTreeError(f"{_where(at, parent)}{name}: must be a list of strings")
    return value


def _mappings(at: _At, doc: dict[str, Any], name: str) -> list[dict[str, Any]]:
    value = doc.get(name)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise KustomizeTreeError(f"{at.file}: {name}: must be a list of mappings")
    return value


def _string(at: _At, doc: dict[str, Any], name: str, parent: str) -> str:
    value = doc.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise KustomizeTreeError(f"{_where(at, parent)}{name}: must be a string")
    return value


# ---------------------------------------------------------------------------------------------
# Editing a kustomization: add one resources entry
# ---------------------------------------------------------------------------------------------
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
