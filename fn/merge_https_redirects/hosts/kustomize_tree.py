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

Editing a kustomization to list a new file is :mod:`.kustomization_edit`.
"""

from __future__ import annotations

import os
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
