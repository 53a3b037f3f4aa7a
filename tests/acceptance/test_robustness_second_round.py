"""Robustness, second round: each defect an external attack found, with the input that
showed it (the test failed before the fix)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from merge_https_redirects import cli, pipeline

REDIRECT = """\
apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata: {name: shop, namespace: shop}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: [shop.example.com]
    tls: {httpsRedirect: true}
"""


def _run(function_bin: Path, *args: str, stdin: str = "", cwd: Path | None = None
         ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(function_bin), *args], input=stdin, capture_output=True,
                          text=True, timeout=60, check=False, cwd=cwd)


def _krm(*docs: str) -> str:
    items = [yaml.safe_load(d) for d in docs]
    return yaml.safe_dump({"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList",
                           "items": items})


def _clean(done: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in done.stderr
    assert "internal error" not in done.stderr, done.stderr


@pytest.mark.parametrize("kind", ["[]", "{a: b}"])
def test_a_kind_that_is_not_a_string(function_bin: Path, kind: str) -> None:
    """1. ``kind: []`` beside a Gateway crashed the checker (unhashable type)."""
    odd = f"apiVersion: networking.k8s.io/v1\nkind: {kind}\nmetadata: {{name: x}}\n"
    stream = _run(function_bin, stdin=odd + "---\n" + REDIRECT)
    _clean(stream)
    assert stream.returncode == 1
    assert "kind must be a string" in stream.stderr
    krm = _run(function_bin, stdin=_krm(odd, REDIRECT))
    _clean(krm)
    answer = yaml.safe_load(krm.stdout)
    assert answer["kind"] == "ResourceList"
    assert any("kind must be a string" in r["message"] for r in answer["results"])


@pytest.mark.parametrize("metadata", ["[x]", "hello", "{name: all, annotations: [a]}"])
def test_a_catch_all_gateway_with_odd_metadata(function_bin: Path, metadata: str) -> None:
    """2. An existing catch-all redirect Gateway whose metadata (or annotations) is not a
    mapping crashed while its bookkeeping annotations were stripped."""
    catch_all = (f"apiVersion: networking.istio.io/v1beta1\nkind: Gateway\nmetadata: {metadata}"
                 "\nspec:\n  selector: {istio: ingressgateway}\n  servers:\n"
                 "  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: ['*']\n"
                 "    tls: {httpsRedirect: true}\n")
    done = _run(function_bin, stdin=catch_all + "---\n" + REDIRECT)
    _clean(done)
    assert done.returncode in (0, 1)
    assert catch_all.split("\n", 3)[3] in done.stdout  # left as it was


def test_a_symlink_loop_in_a_walked_directory(function_bin: Path, tmp_path: Path) -> None:
    """3. ``ln -s self.yaml self.yaml`` inside a walked directory: RuntimeError."""
    (tmp_path / "gw.yaml").write_text(REDIRECT)
    os.symlink("self.yaml", tmp_path / "self.yaml")
    done = _run(function_bin, str(tmp_path))
    _clean(done)
    assert done.returncode == 1
    assert "symlink loop" in done.stderr


def test_a_file_name_that_is_not_utf8(function_bin: Path, tmp_path: Path) -> None:
    """4. --in-place on a tree with a non-UTF-8 file name wrote the files, then failed
    printing the "wrote" line."""
    odd = os.fsencode(tmp_path) + b"/caf\xe9.yaml"
    with open(odd, "wb") as handle:
        handle.write(REDIRECT.encode())
    done = subprocess.run([str(function_bin), "--in-place", str(tmp_path)], capture_output=True,
                          timeout=60, check=False, env={**os.environ, "LANG": "C.UTF-8"})
    assert done.returncode == 0, done.stderr
    assert b"wrote " in done.stderr
    assert b"Traceback" not in done.stderr


def test_the_last_resort_answers_a_resource_list(monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """5. An internal error (or MemoryError) in KRM mode printed no ResourceList."""
    for error in (ValueError("boom"), MemoryError()):
        def fail(*_args: Any, error: BaseException = error) -> Any:
            raise error

        monkeypatch.setattr(pipeline, "run_resource_list", fail)
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(
            b"apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n")))
        assert cli.main([]) == 1
        out, _ = capsys.readouterr()
        answer = yaml.safe_load(out)
        assert answer["kind"] == "ResourceList"
        assert answer["results"][0]["severity"] == "error"


@pytest.mark.parametrize("metadata", ["metadata: {name: [a, b]}", "", "metadata: 5",
                                      "metadata: {name: x, namespace: [n]}"])
def test_an_istio_resource_with_invalid_metadata_is_kept(function_bin: Path,
                                                         metadata: str) -> None:
    """6. An Istio resource with invalid metadata was deleted ("Gateway istio-system/:
    deleted") with exit 0."""
    gateway = REDIRECT.replace("metadata: {name: shop, namespace: shop}", metadata)
    done = _run(function_bin, stdin=gateway)
    _clean(done)
    assert done.returncode == 1
    assert "error MHR010" in done.stderr
    assert "MHR004" not in done.stderr
    body = gateway.split("kind: Gateway\n", 1)[1]
    assert body in done.stdout


# --- files mode safety --------------------------------------------------------------------


def test_a_link_swapped_between_read_and_write_is_refused(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    """10. A file replaced by a symlink to an outside file after it was read: --in-place
    overwrote the outside file. The write goes to the file read, and only while it is it."""
    from merge_https_redirects import files
    from merge_https_redirects.config import Config

    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "gw.yaml").write_text(REDIRECT)
    outside = tmp_path / "outside.yaml"
    outside.write_text("precious: true\n")
    real_load = files.load_sources

    def load_then_swap(*args: Any, **kwargs: Any) -> Any:
        loaded = real_load(*args, **kwargs)
        (tree / "gw.yaml").unlink()
        os.symlink(outside, tree / "gw.yaml")
        return loaded

    monkeypatch.setattr(files, "load_sources", load_then_swap)
    run = files.run_files([str(tree)], Config(), in_place=True)
    assert run.exit_code == 1
    assert any("changed since it was read" in r.message for r in run.results)
    assert outside.read_text() == "precious: true\n"


def test_a_symlink_given_directly_is_followed(function_bin: Path, tmp_path: Path) -> None:
    """The rule for a path named on the command line: a symlink is followed (the user named
    it): its target is rewritten and the link stays a link. Links found while walking a
    directory are followed only when they stay inside it."""
    target = tmp_path / "real.yaml"
    target.write_text(REDIRECT + "  - port: {number: 443, name: https, protocol: HTTPS}\n"
                      "    hosts: [shop.example.com]\n"
                      "    tls: {mode: SIMPLE, credentialName: shop-tls}\n")
    os.symlink(target, tmp_path / "link.yaml")
    done = _run(function_bin, "--in-place", str(tmp_path / "link.yaml"))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "link.yaml").is_symlink()
    assert "httpsRedirect" not in target.read_text()


def test_a_fifo_swapped_in_is_refused_not_waited_on(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """11. A file replaced by a FIFO after the walk hung the run forever."""
    from merge_https_redirects import files
    from merge_https_redirects.config import Config

    (tmp_path / "gw.yaml").write_text(REDIRECT)
    real_discover = files.discover

    def discover_then_swap(paths: Any) -> Any:
        found = real_discover(paths)
        (tmp_path / "gw.yaml").unlink()
        os.mkfifo(tmp_path / "gw.yaml")
        return found

    monkeypatch.setattr(files, "discover", discover_then_swap)
    run = files.run_files([str(tmp_path)], Config(), in_place=False)
    assert run.exit_code == 1
    assert any("not a regular file" in r.message for r in run.results)


def test_two_runs_at_once_write_one_dedicated_file(function_bin: Path, tmp_path: Path) -> None:
    """12. Two concurrent --in-place runs left http-to-https-redirect.yaml and an identical
    http-to-https-redirect-2.yaml."""
    for i in range(6):
        (tmp_path / f"gw{i}.yaml").write_text(REDIRECT.replace("shop", f"shop{i}"))
    runs = [subprocess.Popen([str(function_bin), "--in-place", str(tmp_path)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    for proc in runs:
        proc.communicate(timeout=60)
    new = sorted(p.name for p in tmp_path.glob("http-to-https-redirect*.yaml"))
    assert new == ["http-to-https-redirect.yaml"]
    again = _run(function_bin, "--in-place", str(tmp_path))
    assert again.returncode == 0
    assert "wrote" not in again.stderr


def test_stale_temporary_files_are_removed_and_said(function_bin: Path,
                                                    tmp_path: Path) -> None:
    """13. SIGKILL leaves ``.<name>.*.tmp`` files behind: the next run removes those of its
    own naming in the directories it writes, and says so."""
    (tmp_path / "gw.yaml").write_text(REDIRECT)
    stale = tmp_path / ".gw.yaml.k2j4x9.tmp"
    stale.write_text("half a file")
    old = os.stat(stale).st_mtime - 60
    os.utime(stale, (old, old))
    foreign = tmp_path / ".notes.txt.tmp"  # not this function's naming: kept
    foreign.write_text("x")
    done = _run(function_bin, "--in-place", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert not stale.exists()
    assert foreign.exists()
    assert f"removed stale temporary file {stale}" in done.stderr


def test_alias_fan_out_is_bounded_per_input(function_bin: Path) -> None:
    """15. One 8,000-node anchor aliased by each of 1,000 small ResourceList items took 39 s:
    the alias budget is per input, so the expansion stops at the bound, items reported."""
    anchor = "{" + ", ".join(f"k{i}: [{', '.join(str(j) for j in range(8))}]"
                             for i in range(1000)) + "}"
    items = ["- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: a0}\n  data: &big "
             + anchor + "\n"]
    items += [f"- apiVersion: v1\n  kind: ConfigMap\n  metadata: {{name: a{i}}}\n  data: *big\n"
              for i in range(1, 1000)]
    text = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n" + "".join(items)
    done = subprocess.run([str(function_bin)], input=text, capture_output=True, text=True,
                          timeout=30, check=False)
    assert done.returncode == 1
    answer = yaml.safe_load(done.stdout)
    assert len(answer["items"]) == 1000  # every item kept
    assert any("aliases expand to more than 10000 nodes in this input" in r["message"]
               for r in answer["results"])


def test_in_place_with_nothing_to_change(function_bin: Path, tmp_path: Path) -> None:
    """14. --in-place prints no manifests: with nothing to change, exit 0, an empty stdout
    and the summary on stderr (as the README says)."""
    (tmp_path / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")
    done = _run(function_bin, "--in-place", str(tmp_path))
    assert done.returncode == 0
    assert done.stdout == ""
    assert done.stderr.startswith("info MHR000: removed 0 redirect server(s)")


@pytest.mark.parametrize("kind", ["ConfigMap", "Gateway"])
def test_merge_keys_are_refused_with_the_reason(function_bin: Path, kind: str) -> None:
    """9. Merge keys were refused as "unsupported tag" though the README said they were
    supported: now README and behaviour agree (refused, with the reason and the place)."""
    api = "v1" if kind == "ConfigMap" else "networking.istio.io/v1beta1"
    text = (f"apiVersion: {api}\nkind: {kind}\nmetadata: {{name: c, namespace: n}}\n"
            "spec:\n  x: &b {a: '1'}\n  selector:\n    <<: *b\n    istio: ingressgateway\n")
    done = _run(function_bin, stdin=text)
    _clean(done)
    assert done.returncode == 1
    assert "line 7, column 5: merge keys ('<<') are not supported" in done.stderr
    assert text.split("\n", 3)[3] in done.stdout  # left as it was


def test_results_before_items_is_spliced(function_bin: Path) -> None:
    """7 (in part). ``results:`` before ``items:`` (kpt's own order) made the ResourceList be
    re-emitted, retyping untouched values (``on`` -> ``true``, ``0755`` -> ``493``): it is
    spliced now (the golden case krm-results-before-items holds the whole output)."""
    case = Path(__file__).resolve().parent.parent / "golden" / "krm-results-before-items"
    done = _run(function_bin, stdin=(case / "input.yaml").read_text())
    assert done.returncode == 0, done.stdout
    assert "    enabled: on\n    mode: 0755\n    at: 12:30:00\n" in done.stdout
    assert done.stdout.index("\nresults:") < done.stdout.index("\nitems:")
    assert "MHR001" in done.stdout  # the Gateway was rewritten in the same splice
