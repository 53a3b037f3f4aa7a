"""Files mode: read manifests from paths, print the corrected stream or rewrite them in place.

Safety rules: directories are walked for ``*.yaml``/``*.yml`` without following symlinks that
leave them; a write never goes outside the given paths; every write is atomic (temporary file in
the same directory, fsync, rename), so an interrupted run leaves each file old or new; files
that do not change are not touched (mtime kept).
"""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from merge_https_redirects import yamlio
from merge_https_redirects.config import Config
from merge_https_redirects.hosts.pipeline import (
    EXIT_ERRORS,
    EXIT_OK,
    Run,
    apply_mode,
    head_errors,
    input_error,
    resources_of_items,
    with_unreadable,
)
from merge_https_redirects.results import FileRef, Result, has_errors, sorted_results
from merge_https_redirects.rewrite.resources import Resource
from merge_https_redirects.rules import rule

SUFFIXES = (".yaml", ".yml")

TYPE_CHECKING = False  # what follows is for annotations only, never needed at run time
if TYPE_CHECKING:
    from merge_https_redirects.hosts.kustomize_tree import Tree


class FilesError(Exception):
    """A problem with the given paths (one line, names the path)."""


@dataclass
class Source:
    path: Path  # as given/found (for messages)
    text: yamlio.Text
    bundle: yamlio.Bundle
    first_position: int  # global position of its first document
    #: the file read, resolved when it was read, and its (device, inode): a write goes there
    #: and only while it is still that file (a link swapped since is refused)
    real: Path | None = None
    identity: tuple[int, int] | None = None


def discover(paths: Sequence[str]) -> tuple[list[Path], list[Path]]:
    """(files to read, the given directories). Symlinks inside a directory are followed only
    when they resolve inside that directory."""
    files: list[Path] = []
    roots: list[Path] = []
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        try:
            path.resolve()
        except RuntimeError:
            raise FilesError(f"{raw}: cannot read (a symlink loop)") from None
        if path.is_dir():
            root = path.resolve()
            roots.append(path)
            for found in _walk(path, root):
                real = found.resolve()
                if real not in seen:
                    seen.add(real)
                    files.append(found)
        elif path.is_file():
            real = path.resolve()
            if real not in seen:
                seen.add(real)
                files.append(path)
        elif path.exists():
            raise FilesError(f"{raw}: not a regular file or directory")
        else:
            raise FilesError(f"{raw}: no such file or directory")
    return files, roots


def _walk(directory: Path, root: Path, visited: set[tuple[int, int]] | None = None
          ) -> Iterator[Path]:
    visited = set() if visited is None else visited
    try:
        info = directory.stat()
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError as exc:
        raise FilesError(f"{directory}: cannot list ({exc.strerror})") from None
    if (info.st_dev, info.st_ino) in visited:
        return  # a symlink loop: this directory was walked already
    visited.add((info.st_dev, info.st_ino))
    for entry in entries:
        path = Path(entry.path)
        try:
            if entry.is_symlink():
                target = path.resolve()
                if not target.is_relative_to(root):
                    continue  # never follow a link out of the given directory
            if entry.is_dir():
                if entry.name.startswith("."):
                    continue  # .git, .github, ...: not manifests
                yield from _walk(path, root, visited)
            elif entry.is_file() and entry.name.endswith(SUFFIXES):
                yield path
        except OSError as exc:  # a dangling link, a permission problem
            raise FilesError(f"{path}: cannot read ({exc.strerror})") from None
        except RuntimeError:  # Path.resolve on a symlink loop
            raise FilesError(f"{path}: cannot read (a symlink loop)") from None


def load_sources(files: Sequence[Path], stdin: bytes | None) -> tuple[list[Source], list[Result]]:
    sources: list[Source] = []
    problems: list[Result] = []
    position = 0
    for path in files:
        name = str(path)
        try:
            real: Path | None = None
            identity: tuple[int, int] | None = None
            if name == "-" and stdin is not None:
                data = stdin
            else:
                real = path.resolve()
                data, identity = _read_regular(real)
        except OSError as exc:
            problems.append(Result(rule("MHR101"), f"{name}: cannot read ({exc.strerror})",
                                   file=FileRef(name)))
            continue
        except (RuntimeError, FilesError) as exc:
            problems.append(Result(rule("MHR101"), f"{name}: cannot read ("
                                   + (str(exc) if isinstance(exc, FilesError) else
                                      "a symlink loop") + ")", file=FileRef(name)))
            continue
        try:
            text = yamlio.decode(data)
            bundle = yamlio.scan_stream(text.body, *_reading())
        except yamlio.YamlError as exc:
            problems.append(input_error(exc, name))
            continue
        sources.append(Source(path, text, bundle, position, real, identity))
        position += len(bundle.items)
    return sources, problems


def _read_regular(path: Path) -> tuple[bytes, tuple[int, int]]:
    """The bytes of a regular file (bounded) and its (device, inode). Opened non-blocking and
    checked with ``fstat``: a FIFO or device swapped in after the walk is refused, never
    waited on."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise FilesError("not a regular file")
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=False) as handle:  # bounded: the limit + 1
            data = handle.read(yamlio.MAX_INPUT_BYTES + 1)
    finally:
        os.close(fd)
    return data, (info.st_dev, info.st_ino)


def _reading() -> tuple[yamlio.Wanted, yamlio.Retain]:
    from merge_https_redirects.rewrite.resources import retain, wanted

    return wanted, retain


def _resources(sources: Sequence[Source]) -> tuple[list[Resource], set[str]]:
    return resources_of_items(
        (src.bundle, item, FileRef(str(src.path), item.position),
         src.first_position + item.position)
        for src in sources
        for item in src.bundle.items
        if item.is_mapping
    )


def _shown(real: Path, given: Sequence[Path]) -> Path:
    """A resolved path as the user would write it: under the given directory it lies in."""
    for path in given:
        root = path.resolve()
        if real.is_relative_to(root):
            return path / real.relative_to(root)
    return real


def discover_kustomize(paths: Sequence[str]
                       ) -> tuple[list[Path], list[Path], Tree | None, list[Result]]:
    """Like :func:`discover`, but where a given directory (or one below it) holds a
    kustomization, its files are what kustomize reads: the resources the kustomizations list
    (patches, generator inputs and the like are never read as manifests). Files of a given
    directory outside every kustomization directory are read as before. The results: the
    kustomization entries that could not be read (remote, or outside the given paths)."""
    from merge_https_redirects.hosts.kustomize_tree import KustomizeTreeError, tree

    files, roots = discover(paths)
    try:
        found = tree([Path(p) for p in paths if Path(p).is_dir()])
    except KustomizeTreeError as exc:
        raise FilesError(str(exc)) from None
    except RuntimeError:  # a symlink loop named by a kustomization
        raise FilesError(f"{', '.join(paths)}: a kustomization names a symlink loop") from None
    if found is None:
        return files, roots, None, []
    patches = set(found.patches)
    kept = [f for f in files if f.resolve() not in patches
            and not any(f.resolve().is_relative_to(d) for d in found.owner)]
    seen = {f.resolve() for f in kept}
    given = [Path(p) for p in paths]
    for real in found.resources:
        if real not in seen:
            seen.add(real)
            kept.append(_shown(real, given))
    notes = [Result(rule("MHR017"), f"{text}: its Gateways are not judged")
             for text in found.skipped]
    return kept, roots, found, notes


def run_files(
    paths: Sequence[str], config: Config, *, in_place: bool, stdin: bytes | None = None
) -> Run:
    try:
        files, roots, kustomize, skipped = discover_kustomize([p for p in paths if p != "-"])
    except FilesError as exc:
        return Run(b"", [Result(rule("MHR101"), str(exc))], EXIT_ERRORS, stderr_all=True)
    if "-" in paths:
        if in_place:
            return Run(b"", [Result(rule("MHR101"), "--in-place cannot rewrite stdin ('-')")],
                       EXIT_ERRORS, stderr_all=True)
        files.insert(paths.index("-") if paths.index("-") <= len(files) else len(files), Path("-"))
    sources, problems = load_sources(files, stdin)
    problems += skipped
    if any(p.level == "error" for p in problems):
        return Run(b"", sorted_results(problems), EXIT_ERRORS, stderr_all=True)
    resources, other_paths = _resources(sources)
    outcome = with_unreadable(
        apply_mode(resources, config, other_paths),
        [r for s in sources for r in head_errors(s.bundle, str(s.path))],
        config,
    )
    edited = _edited_gateway_files(sources, outcome.changes, resources)
    if kustomize is not None and edited:
        given = [Path(p) for p in paths]
        outcome.results += [
            Result(rule("MHR018"), (
                f"it patches a Gateway (listed by {_shown(kfile, given)}) while this run "
                "changed port-80 servers: the patch can put a removed redirect server back; "
                "check the built output (merge-https-redirects check)"),
                file=FileRef(str(_shown(patch, given))))
            for kfile, patch in kustomize.gateway_patches]
    outcome.results += skipped
    results = sorted_results(outcome.results)
    code = EXIT_ERRORS if has_errors(results, config.fail_on) else EXIT_OK
    texts: list[tuple[Source, str]] = []
    for src in sources:
        local = {
            pos - src.first_position: edit
            for pos, edit in outcome.changes.items()
            if src.first_position <= pos < src.first_position + len(src.bundle.items)
        }
        new_body = yamlio.splice_stream(src.bundle, local, [], src.text.newline) if local \
            else src.text.body
        texts.append((src, new_body))
    if not in_place:
        return Run(_joined(texts, outcome.added), results, code, stderr_all=True)
    if code != EXIT_OK:
        return Run(b"", results, code, stderr_all=True)
    target_dir = roots[0] if roots else (files[0].parent if files else Path("."))
    listing: list[tuple[Path, bytes]] = []
    try:
        if kustomize is not None and outcome.added:
            # beside the first Gateway it replaces, listed by the kustomization of that
            # directory: every overlay built on it gets the catch-all
            target_dir = edited[0].parent if edited else target_dir
        new_file = _new_file(texts, outcome.added, target_dir) if outcome.added else None
        if kustomize is not None and new_file is not None:
            listing = _listed_in_kustomization(kustomize, target_dir, new_file[0].name)
        written, removed = write_in_place(texts, new_file, target_dir, roots, files, listing)
    except FilesError as exc:
        results.append(Result(rule("MHR102"), str(exc)))
        return Run(b"", sorted_results(results), EXIT_ERRORS, stderr_all=True)
    # The paths as given (a user's relative path stays relative), on stderr: stdout is for
    # manifests only.
    return Run(b"", results, code, stderr_all=True,
               notes=[f"removed stale temporary file {p} (left by an interrupted run)"
                      for p in removed] + [f"wrote {p}" for p in written])


def _new_file(texts: Sequence[tuple[Source, str]], added: Sequence[dict[str, object]],
              directory: Path) -> tuple[Path, bytes]:
    """The new file for the added Gateways and its bytes, in the sequence indentation of the
    files beside it (kpt's seqindent). Its name is free, or a file there holds exactly these
    bytes already (a concurrent run wrote it): then that file is the one."""
    beside = [src for src, _ in texts if src.path.parent.resolve() == directory.resolve()]
    wide = any(src.bundle.wide_sequences for src in beside or [src for src, _ in texts])
    data = yamlio.dump_stream(list(added), wide=wide).encode("utf-8")
    return directory / _free_name(directory, new_file_name(added), data), data


def _edited_gateway_files(sources: Sequence[Source], changes: Mapping[int, object],
                          resources: Sequence[Resource]) -> list[Path]:
    """The files (as given) of the Gateways the run edits or deletes, in input order."""
    positions = {r.position for r in resources if r.kind == "Gateway" and r.position in changes}
    out: list[Path] = []
    for src in sources:
        span = range(src.first_position, src.first_position + len(src.bundle.items))
        if any(p in span for p in positions) and src.path not in out:
            out.append(src.path)
    return out


def new_file_name(added: Sequence[dict[str, object]]) -> str:
    metadata = added[0].get("metadata")
    name = str(metadata.get("name", "redirect")) if isinstance(metadata, dict) else "redirect"
    return f"{name}.yaml"


def _listed_in_kustomization(kustomize: Tree, directory: Path,
                             name: str) -> list[tuple[Path, bytes]]:
    """The kustomization of ``directory`` with the new file added to its ``resources``
    (nothing when it lists it already); a directory no kustomization owns is refused: a file
    nothing lists would never be built, and every host would lose its redirect."""
    from merge_https_redirects.hosts.kustomization_edit import add_resource
    from merge_https_redirects.hosts.kustomize_tree import KustomizeTreeError

    kfile = kustomize.owner.get(directory.resolve())
    if kfile is None:
        raise FilesError(f"{directory}: no kustomization lists this directory's files, so the "
                         "new dedicated Gateway would not be built; nothing was written")
    try:
        edited = add_resource(kfile, name)
    except KustomizeTreeError as exc:
        raise FilesError(f"{exc}; nothing was written") from None
    shown = kfile if kfile.parent == directory.resolve() else directory / kfile.name
    return [] if edited is None else [(directory / shown.name, edited)]


def _free_name(directory: Path, name: str, data: bytes) -> str:
    """``name``, or ``name-2``... when a file of that name exists already -- unless that file
    holds exactly ``data``."""
    stem, suffix = name.rsplit(".", 1)
    candidate, n = name, 2
    while (directory / candidate).exists():
        with contextlib.suppress(OSError):
            if (directory / candidate).read_bytes() == data:
                return candidate
        candidate = f"{stem}-{n}.{suffix}"
        n += 1
    return candidate


def _joined(texts: Sequence[tuple[Source, str]], added: Sequence[dict[str, object]]) -> bytes:
    parts: list[str] = []
    for src, body in texts:
        if not body.strip():
            continue
        if parts and not body.lstrip().startswith("---"):
            parts.append("---\n")
        parts.append(src.text.restore(body if body.endswith("\n") else body + "\n"))
    for obj in added:
        parts.append(("---\n" if parts else "") + yamlio.dumps(obj))
    return "".join(parts).encode("utf-8") or b"---\n"


def _inside(path: Path, roots: Sequence[Path], files: Sequence[Path]) -> bool:
    real = path.resolve()
    return any(real.is_relative_to(r.resolve()) for r in roots) or any(
        real == f.resolve() for f in files
    )


def write_in_place(
    texts: Sequence[tuple[Source, str]],
    new_file: tuple[Path, bytes] | None,
    target_dir: Path,
    roots: Sequence[Path],
    files: Sequence[Path],
    listing: Sequence[tuple[Path, bytes]] = (),
) -> tuple[list[Path], list[Path]]:
    """Write changed files (and the new file for added resources, and the kustomization that
    lists it: ``listing``); returns what was written and the stale temporary files removed."""
    plan: list[tuple[Path, bytes | None]] = []
    shown: dict[Path, Path] = {}  # written path -> the path as given
    identities: dict[Path, tuple[int, int]] = {}
    for src, body in texts:
        if body == src.text.body:
            continue
        # the file resolved when it was read (an in-tree symlink is written through and kept)
        target = src.real or src.path.resolve()
        if src.identity is not None:
            identities[target] = src.identity
        shown[target] = src.path
        if not _has_documents(body):
            plan.append((target, None))  # every resource of the file was deleted
        else:
            plan.append((target, yamlio.encode(src.text, body)))
    new_path = new_file[0] if new_file is not None else None
    if new_file is not None:
        if not _inside(new_file[0].parent, [target_dir, *roots], files):
            raise FilesError(f"{new_file[0]}: refusing to write outside the given paths")
        # the dedicated Gateway first: were the run killed half way, no host would have lost
        # its redirect before the catch-all exists
        plan.insert(0, new_file)
        # then the kustomization that lists it, before any redirect server goes
        for position, (kustomization, edited) in enumerate(listing, start=1):
            plan.insert(position, (kustomization.resolve(), edited))
            shown[kustomization.resolve()] = kustomization
    for path, _ in plan:
        if not _inside(path, roots, files) and path.parent.resolve() != target_dir.resolve():
            raise FilesError(f"{path}: refusing to write outside the given paths")
        if path.exists() and (not os.access(path, os.W_OK) or not path.stat().st_mode & 0o222):
            raise FilesError(f"{path}: file is read-only; nothing was written")
        if not os.access(path.parent, os.W_OK):
            raise FilesError(f"{path.parent}: directory is read-only; nothing was written")
    for path, identity in identities.items():
        try:
            now = os.lstat(path)
        except OSError:
            now = None
        if now is None or (now.st_dev, now.st_ino) != identity or not stat.S_ISREG(now.st_mode):
            raise FilesError(f"{shown.get(path, path)}: changed since it was read (replaced or "
                             "made a link); nothing was written")
    removed = remove_stale_temporaries({path.parent for path, _ in plan})
    written: list[Path] = []
    with _deferred_signals():
        for path, data in plan:
            try:
                if data is None:
                    path.unlink()
                elif path == new_path:
                    if not create_new(path, data):
                        continue  # a concurrent run wrote the same Gateway there already
                else:
                    atomic_write(path, data)
            except OSError as exc:
                done = f" (already written: {', '.join(map(str, written))})" if written else ""
                raise FilesError(f"{path}: cannot write ({exc.strerror}){done}") from None
            written.append(shown.get(path, path))
    return written, removed


#: How old a temporary file of this function's naming must be to count as left by a killed
#: run (a live run's exists for the milliseconds between its write and its rename).
STALE_SECONDS = 5.0


def remove_stale_temporaries(directories: set[Path]) -> list[Path]:
    """Remove ``.<name>.*.tmp`` files (what :func:`atomic_write` names its temporary files)
    that a killed run left in the directories about to be written; returns them."""
    removed = []
    for directory in sorted(directories):
        try:
            entries = list(os.scandir(directory))
        except OSError:
            continue
        for entry in entries:
            name = entry.name
            if not (name.startswith(".") and name.endswith(".tmp") and name.count(".") >= 3):
                continue
            target = name[1:].rsplit(".", 2)[0]
            if not target.endswith(SUFFIXES):
                continue
            try:
                info = entry.stat(follow_symlinks=False)
                if not stat.S_ISREG(info.st_mode) or time.time() - info.st_mtime < STALE_SECONDS:
                    continue
                os.unlink(entry.path)
            except OSError:
                continue
            removed.append(Path(entry.path))
    return removed


def create_new(path: Path, data: bytes) -> bool:
    """Write a new file exclusively (``O_EXCL`` semantics: a temporary file linked into place,
    never over an existing one). ``False`` when a file already holds exactly ``data`` there
    (two runs at once write the same Gateway once); an existing different file is an error."""
    tmp = _temporary(path, data, 0o644)
    try:
        try:
            os.link(tmp, path)
        except FileExistsError:
            if path.read_bytes() == data:
                return False
            raise FilesError(f"{path}: created by someone else meanwhile; nothing more was "
                             "written") from None
        return True
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def _temporary(path: Path, data: bytes, mode: int) -> str:
    """``data`` in a temporary file beside ``path`` (``.<name>.XXXX.tmp``: the naming
    :func:`remove_stale_temporaries` knows), synced to disk, with ``mode``."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return tmp


def _has_documents(body: str) -> bool:
    for line in body.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#") and stripped not in ("---", "..."):
            return True
    return False


def atomic_write(path: Path, data: bytes) -> None:
    """Temp file in the same directory, fsync, rename: readers see the old or the new file."""
    mode = path.stat().st_mode & 0o7777 if path.exists() else 0o644
    tmp = _temporary(path, data, mode)
    try:
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def _deferred_signals() -> Iterator[None]:
    """Hold SIGINT/SIGTERM while files are replaced; deliver them after the current file."""
    received: list[int] = []

    def hold(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)

    previous = {sig: signal.signal(sig, hold) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if received:
            os.kill(os.getpid(), received[0])
