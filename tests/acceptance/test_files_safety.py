"""Files mode safety: what ``merge-https-redirects [--in-place] PATH...`` may read and write.

- symlinks never lead the function out of the given directories (read or write);
- ``--in-place`` writes only inside the given paths; a new resource's path annotation that
  escapes them (``../../etc/x.yaml``) is refused;
- read-only files give a clear error and nothing is written;
- writes are atomic (readers see the old or the new file, never a mix), and an interrupted run
  (SIGTERM/SIGINT at any moment) leaves every file old or new, with no stray temporary files;
- unchanged files are not touched (mtime, inode);
- it runs as an unprivileged user on a read-only root file system (no writes to HOME or cwd).
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import stat
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from _integrations import site_gateway

CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\ndata:\n  a: b\n"
DEDICATED = "http-to-https-redirect.yaml"


def fn(function_bin: Path, *args: str | Path, cwd: Path, timeout: float = 120,
       env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([str(function_bin), *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=timeout, check=False, env=env)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "internal error" not in proc.stderr, proc.stderr
    return proc


def snapshot(root: Path) -> dict[str, tuple[str, bytes | str, int]]:
    """Every entry under ``root``: (type, content or link target, mtime_ns)."""
    out: dict[str, tuple[str, bytes | str, int]] = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            st = path.lstat()
            rel = str(path.relative_to(root))
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", os.readlink(path), st.st_mtime_ns)
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir", "", 0)
            else:
                out[rel] = ("file", path.read_bytes(), st.st_mtime_ns)
    return out


def redirect_hosts(path: Path) -> list[str]:
    hosts = []
    for doc in yaml.safe_load_all(path.read_text()):
        for server in ((doc or {}).get("spec") or {}).get("servers") or []:
            if (server.get("tls") or {}).get("httpsRedirect"):
                hosts += server["hosts"]
    return hosts


# ---------------------------------------------------------------------------------------------
# Symlinks and paths
# ---------------------------------------------------------------------------------------------
def _outside_tree(tmp_path: Path) -> tuple[Path, Path]:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.yaml").write_text(site_gateway("secret"))
    (outside / "sub").mkdir()
    (outside / "sub" / "deep.yaml").write_text(site_gateway("deep"))
    root = tmp_path / "repo"
    root.mkdir()
    (root / "gw.yaml").write_text(site_gateway("inside"))
    (root / "file-link.yaml").symlink_to(outside / "secret.yaml")
    (root / "dir-link").symlink_to(outside / "sub")
    (root / "relative-link.yaml").symlink_to(Path("..") / "outside" / "secret.yaml")
    return root, outside


@pytest.mark.parametrize("in_place", [False, True], ids=["print", "in-place"])
def test_symlinks_out_of_the_directory_are_not_followed(function_bin: Path, tmp_path: Path,
                                                        in_place: bool) -> None:
    root, outside = _outside_tree(tmp_path)
    before = snapshot(outside)
    args = ["--in-place", "repo"] if in_place else ["repo"]
    proc = fn(function_bin, *args, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert snapshot(outside) == before  # not written
    for name in ("secret", "deep"):  # not read either
        assert f"{name}.example.com" not in proc.stdout + proc.stderr
    assert os.path.islink(root / "file-link.yaml")
    assert os.path.islink(root / "dir-link")
    if in_place:
        assert redirect_hosts(root / "gw.yaml") == []
        assert redirect_hosts(root / DEDICATED) == ["*"]


def test_symlink_loop_inside_the_directory(function_bin: Path, tmp_path: Path) -> None:
    """``current -> .`` inside a repository: a loop to skip, not a crash or a hang."""
    root = tmp_path / "repo"
    (root / "apps").mkdir(parents=True)
    (root / "apps" / "gw.yaml").write_text(site_gateway("looped"))
    (root / "current").symlink_to(".")
    (root / "apps" / "up").symlink_to("..")
    proc = fn(function_bin, "repo", cwd=tmp_path, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("name: looped") == 1  # read once, not once per path


def test_in_place_through_a_symlink_inside_the_directory(function_bin: Path,
                                                         tmp_path: Path) -> None:
    """``a.yaml -> z.yaml`` (both inside): the link must stay a link; either the target is
    rewritten or the run is refused — never a regular copy beside a stale target."""
    root = tmp_path / "repo"
    root.mkdir()
    (root / "z.yaml").write_text(site_gateway("linked"))
    (root / "a.yaml").symlink_to("z.yaml")
    before = snapshot(root)
    proc = fn(function_bin, "--in-place", "repo", cwd=tmp_path)
    assert (root / "a.yaml").is_symlink(), "the symlink was replaced by a regular file"
    if proc.returncode == 0:
        assert redirect_hosts(root / "z.yaml") == []
    else:
        assert proc.returncode == 1
        assert snapshot(root) == before


@pytest.mark.parametrize("annotation", ["../../etc/x.yaml", "/etc/x.yaml", "a/../../../x.yaml"])
def test_escaping_path_annotation_is_refused_in_files_mode(function_bin: Path, tmp_path: Path,
                                                           annotation: str) -> None:
    """The new Gateway's path comes from its sources' path annotation: one that leaves the
    given directory must not be written (nor handed on to kpt/kustomize)."""
    root = tmp_path / "a" / "b" / "repo"
    root.mkdir(parents=True)
    gateway = site_gateway("annotated").replace(
        "  namespace: istio-system\n",
        "  namespace: istio-system\n  annotations:\n"
        f"    config.kubernetes.io/path: '{annotation}'\n"
        f"    internal.config.kubernetes.io/path: '{annotation}'\n", 1)
    (root / "gw.yaml").write_text(gateway)
    everything = snapshot(tmp_path)
    proc = fn(function_bin, "--in-place", root, cwd=tmp_path)
    after = snapshot(tmp_path)
    created = sorted(set(after) - set(everything))
    assert all(c.startswith("a/b/repo/") for c in created), created
    if proc.returncode == 0:
        for rel in created:
            for doc in yaml.safe_load_all((tmp_path / rel).read_bytes()):
                annotations = (doc.get("metadata") or {}).get("annotations") or {}
                for key in ("config.kubernetes.io/path", "internal.config.kubernetes.io/path"):
                    path = annotations.get(key)
                    assert path is None or not (
                        path.startswith("/") or os.path.normpath(path).startswith("..")), path
    else:
        assert proc.returncode == 1
        assert "MHR102" in proc.stderr or "refus" in proc.stderr, proc.stderr
        assert after == everything


@pytest.mark.parametrize("annotation", ["../../etc/x.yaml", "/etc/x.yaml"])
def test_escaping_path_annotation_is_refused_in_krm_mode(function_bin: Path, tmp_path: Path,
                                                         annotation: str) -> None:
    """kpt writes new items where their path annotation says: never outside the package."""
    gateway = site_gateway("annotated").replace(
        "  namespace: istio-system\n",
        "  namespace: istio-system\n  annotations:\n"
        f"    config.kubernetes.io/path: '{annotation}'\n"
        f"    internal.config.kubernetes.io/path: '{annotation}'\n", 1)
    items = "".join(("- " if i == 0 else "  ") + line + "\n"
                    for i, line in enumerate(gateway.rstrip("\n").split("\n")))
    data = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n" + items
    proc = subprocess.run([str(function_bin)], input=data, capture_output=True, text=True,
                          cwd=tmp_path, timeout=60, check=False)
    assert "Traceback" not in proc.stderr
    rl = yaml.safe_load(proc.stdout)
    for item in rl["items"][1:]:  # the new ones
        annotations = item["metadata"].get("annotations") or {}
        for key in ("config.kubernetes.io/path", "internal.config.kubernetes.io/path"):
            path = annotations.get(key)
            assert path is None or not (
                path.startswith("/") or os.path.normpath(path).startswith("..")), path


def test_in_place_writes_only_inside_the_given_paths(function_bin: Path, tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / "team").mkdir(parents=True)
    (root / "team" / "gw.yaml").write_text(site_gateway("team"))
    (tmp_path / "sibling.yaml").write_text(site_gateway("sibling"))
    before = snapshot(tmp_path)
    proc = fn(function_bin, "--in-place", "repo/team/gw.yaml", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    after = snapshot(tmp_path)
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    assert changed == ["repo/team/gw.yaml", f"repo/team/{DEDICATED}"], changed


# ---------------------------------------------------------------------------------------------
# Read-only files, atomic writes, unchanged files
# ---------------------------------------------------------------------------------------------
def _two_files(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "a.yaml").write_text(site_gateway("a"))
    (root / "b.yaml").write_text(site_gateway("b"))
    return root


def test_read_only_file_gives_a_clear_error_and_no_partial_update(function_bin: Path,
                                                                  tmp_path: Path) -> None:
    """``chmod a-w b.yaml``: refused even for root (who could replace it), nothing written."""
    root = _two_files(tmp_path)
    (root / "b.yaml").chmod(0o444)
    before = snapshot(root)
    proc = fn(function_bin, "--in-place", "repo", cwd=tmp_path)
    assert proc.returncode == 1
    (line,) = [x for x in proc.stderr.splitlines() if x.startswith("error")]
    assert "b.yaml" in line, line
    assert "read-only" in line, line
    assert snapshot(root) == before


def _drop_privileges() -> list[str]:
    """Command prefix that runs as ``nobody`` with no write privilege (CAP_DAC_READ_SEARCH
    only, when the interpreter lives under a directory ``nobody`` cannot search)."""
    if os.geteuid() != 0:
        pytest.skip("needs root to switch to an unprivileged user")
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("setpriv (util-linux) is not installed")
    base = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
    probe = subprocess.run([*base, "--", "/bin/true"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"setpriv cannot switch user here: {probe.stderr.decode()}")
    return [*base, "--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search", "--"]


@pytest.fixture
def public_tmp() -> Iterator[Path]:
    """A directory ``nobody`` can reach without capabilities (pytest's base temp directory is
    private to root; ``access(2)`` drops the capability used to reach the interpreter)."""
    path = Path(tempfile.mkdtemp(prefix="mhr-files-safety-", dir="/tmp"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def test_read_only_file_as_unprivileged_user(function_bin: Path, public_tmp: Path) -> None:
    prefix = _drop_privileges()
    tmp_path = public_tmp
    root = _two_files(tmp_path)
    os.chmod(root, 0o777)
    for name in ("a.yaml", "b.yaml"):
        os.chown(root / name, 65534, 65534)
    (root / "b.yaml").chmod(0o444)
    before = snapshot(root)
    proc = subprocess.run([*prefix, str(function_bin), "--in-place", "repo"], capture_output=True,
                          text=True, cwd=tmp_path, timeout=60, check=False)
    assert "Traceback" not in proc.stderr
    assert proc.returncode == 1, proc.stderr
    assert "b.yaml" in proc.stderr
    assert "read-only" in proc.stderr
    assert snapshot(root) == before


def test_writes_are_atomic(function_bin: Path, tmp_path: Path) -> None:
    """A reader polling the file while it is rewritten sees the old or the new bytes only."""
    root = tmp_path / "repo"
    root.mkdir()
    filler = "".join(f"  - port: {{number: {1000 + i}, name: tcp-{i}, protocol: TCP}}\n"
                     f"    hosts: ['h{i}.example.com']\n" for i in range(8_000))
    path = root / "big.yaml"
    old = site_gateway("big").replace("  servers:\n", "  servers:\n" + filler)
    path.write_text(old)
    path.chmod(0o640)
    inode = path.stat().st_ino
    seen: set[bytes] = set()
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            seen.add(path.read_bytes())

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        proc = fn(function_bin, "--in-place", "repo", cwd=tmp_path)
    finally:
        stop.set()
        thread.join()
    assert proc.returncode == 0, proc.stderr
    new = path.read_bytes()
    assert new != old.encode()
    assert seen <= {old.encode(), new}, "a reader saw a partly written file"
    assert path.stat().st_ino != inode  # replaced by rename, not rewritten in place
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert sorted(p.name for p in root.iterdir()) == ["big.yaml", DEDICATED]


def test_unchanged_files_keep_mtime(function_bin: Path, tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "gw.yaml").write_text(site_gateway("gw"))
    (root / "plain.yaml").write_text(CONFIGMAP)
    old = time.time_ns() - 3600 * 10**9
    for name in ("gw.yaml", "plain.yaml"):
        os.utime(root / name, ns=(old, old))
    inode = (root / "plain.yaml").stat().st_ino
    proc = fn(function_bin, "--in-place", "repo", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (root / "plain.yaml").stat().st_mtime_ns == old
    assert (root / "plain.yaml").stat().st_ino == inode
    assert (root / "gw.yaml").stat().st_mtime_ns != old
    # a second run changes nothing at all
    before = snapshot(root)
    proc = fn(function_bin, "--in-place", "repo", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert snapshot(root) == before


# ---------------------------------------------------------------------------------------------
# Interrupted runs
# ---------------------------------------------------------------------------------------------
FILES = 400


def _tree(root: Path) -> dict[str, bytes]:
    root.mkdir(parents=True)
    old = {}
    for i in range(FILES):
        rel = f"team-{i % 20}/gw-{i}.yaml"
        (root / rel).parent.mkdir(exist_ok=True)
        data = site_gateway(f"gw-{i}").encode()
        (root / rel).write_bytes(data)
        old[rel] = data
    return old


def test_interrupted_in_place_run_leaves_every_file_old_or_new(function_bin: Path,
                                                               tmp_path: Path) -> None:
    reference = tmp_path / "reference"
    old = _tree(reference)
    start = time.monotonic()
    proc = fn(function_bin, "--in-place", reference, cwd=tmp_path)
    duration = time.monotonic() - start
    assert proc.returncode == 0, proc.stderr
    new = {str(p.relative_to(reference)): p.read_bytes()
           for p in reference.rglob("*") if p.is_file()}
    added = sorted(set(new) - set(old))
    assert len(added) == 1
    rng = random.Random(20240601)
    outcomes = set()
    for attempt in range(12):
        root = tmp_path / f"run-{attempt}"
        _tree(root)
        sig = (signal.SIGTERM, signal.SIGINT)[attempt % 2]
        child = subprocess.Popen([str(function_bin), "--in-place", str(root)], cwd=tmp_path,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(rng.uniform(0.0, duration * 1.1))
        child.send_signal(sig)
        _, stderr = child.communicate(timeout=120)
        if b"init_import_site" in stderr:
            # the signal came while the interpreter itself was starting (CPython prints its
            # own fatal error and exits 1): none of the function's code had run yet
            assert child.returncode == 1
            assert {str(p.relative_to(root)): p.read_bytes()
                    for p in root.rglob("*") if p.is_file()} == old
            continue
        assert b"Traceback" not in stderr, stderr.decode()
        assert child.returncode in (0, -sig, 128 + sig, 130), child.returncode
        files = {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}
        leftovers = [f for f in files if f not in old and f not in new]
        assert not leftovers, f"stray files: {leftovers}"
        state = []
        for rel, data in files.items():
            assert data in (old.get(rel), new.get(rel)), f"{rel} is neither old nor new"
            state.append(data == new.get(rel) and rel in new)
        # all or nothing: a tree with some redirect servers removed but no dedicated Gateway
        # would stop redirecting those hosts
        whole = "new" if set(files) == set(new) and all(state) else \
            "old" if set(files) == set(old) and not any(state) else "mixed"
        assert whole != "mixed", "the interrupted run left a half-rewritten tree"
        outcomes.add(whole)
    assert outcomes, "no attempt ran"


# ---------------------------------------------------------------------------------------------
# Unprivileged user, read-only root file system
# ---------------------------------------------------------------------------------------------
def test_runs_unprivileged_on_a_read_only_root(function_bin: Path, public_tmp: Path) -> None:
    """As ``nobody`` in a private mount namespace where ``/`` is read-only: only the
    repository given with ``--in-place`` is writable; HOME does not exist, cwd is read-only."""
    prefix = _drop_privileges()
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("unshare (util-linux) is not installed")
    tmp_path = public_tmp
    work = tmp_path / "rw"
    work.mkdir()
    (work / "gw.yaml").write_text(site_gateway("ro"))
    os.chmod(tmp_path, 0o755)
    os.chmod(work, 0o777)
    os.chown(work / "gw.yaml", 65534, 65534)
    stdin_file = tmp_path / "stdin.yaml"
    stdin_file.write_text(site_gateway("stdin"))
    readonly_cwd = tmp_path / "cwd"
    readonly_cwd.mkdir()
    inner = " ".join([
        *prefix, "env", "-i", "HOME=/nonexistent", "PATH=/usr/bin:/bin", "sh", "-c",
        "'cd " + str(readonly_cwd) + " && "
        + f"{function_bin} < {stdin_file} > /dev/null && echo stream-ok && "
        + f"{function_bin} {work}/gw.yaml > /dev/null && echo files-ok && "
        + f"{function_bin} --in-place {work} && echo in-place-ok'",
    ])
    script = (
        "set -e; mount --make-rprivate /; "
        "mount --bind / /; mount -o remount,bind,ro /; "
        f"mount --bind {work} {work}; mount -o remount,bind,rw {work}; "  # the only rw place
        "touch /probe-read-only 2>/dev/null && exit 97; " + inner
    )
    proc = subprocess.run([unshare, "--mount", "sh", "-c", script], capture_output=True,
                          text=True, timeout=120, check=False)
    if proc.returncode == 97 or "mount:" in proc.stderr:
        pytest.skip(f"cannot make a read-only root here: {proc.stderr.strip()}")
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[-1] == "in-place-ok", proc.stdout
    assert {"stream-ok", "files-ok"} <= set(proc.stdout.splitlines())
    assert redirect_hosts(work / "gw.yaml") == []
    assert redirect_hosts(work / DEDICATED) == ["*"]
    assert list(readonly_cwd.iterdir()) == []
