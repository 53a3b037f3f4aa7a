"""Bad input through the real console script, in KRM, stream and files mode.

Every case checks the contract of README.md ("Robustness"): exit code (0 ok, 1 error results or
refused input, 2 usage), errors as single lines naming the place (file:line:column, or the
field path of a resource), never a traceback or an "internal error", stdout never empty with
exit 0, and in KRM mode stdout is always one valid ResourceList (with an error result when the
exit code is 1). Limits are checked for time and for the child's peak memory (``os.wait4``).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from _integrations import site_gateway

from merge_https_redirects import yamlio

KRM_HEADER = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n"
LINE = re.compile(r"^(error|warning|info) MHR\d{3}( |:)")
PLACE = re.compile(r"line \d+, column \d+|:\d+:\d+")


class LenientLoader(yaml.CSafeLoader):
    """Reads the function's output even where it (rightly) echoes values a strict reader
    refuses: unknown or Python tags become ``None``, unbuildable core-tag values stay strings.
    Anchors and aliases are still resolved, so a dangling alias still fails."""


def _lenient(original: Any) -> Any:
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
        try:
            return original(loader, node)
        except (yaml.YAMLError, ValueError, KeyError, IndexError, TypeError):
            return getattr(node, "value", None)
    return construct


for _tag, _constructor in list(yaml.SafeLoader.yaml_constructors.items()):
    if _tag is not None and _tag.startswith("tag:yaml.org,2002:") and _tag.rsplit(":", 1)[-1] in (
            "int", "float", "bool", "binary", "null", "timestamp"):
        LenientLoader.add_constructor(_tag, _lenient(_constructor))
LenientLoader.add_multi_constructor("", lambda _loader, _suffix, _node: None)


def load_all(text: str) -> list[Any]:
    return [d for d in yaml.load_all(text.removeprefix("\ufeff"), Loader=LenientLoader)
            if d is not None]
MB = 1024 * 1024


# ---------------------------------------------------------------------------------------------
# Running the console script
# ---------------------------------------------------------------------------------------------
@dataclass
class Proc:
    code: int
    stdout: bytes
    stderr: str
    seconds: float
    peak_rss: int  # bytes

    @property
    def text(self) -> str:
        return self.stdout.decode("utf-8")


#: Runs the command as its own child and writes that child's peak RSS (``os.wait4``). Measuring
#: the function as a grandchild of this small process matters: Linux carries the RSS high-water
#: mark of the forking process over ``exec``, so a child forked straight from a big pytest process
#: would report pytest's peak, not its own.
TRAMPOLINE = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as handle:
    handle.write(str(usage.ru_maxrss))
code = os.waitstatus_to_exitcode(status)
os._exit(code if code >= 0 else 128 - code)
"""


def run(function_bin: Path, tmp_path: Path, stdin: bytes | Path = b"", args: tuple[str, ...] = (),
        timeout: float = 120, cwd: Path | None = None) -> Proc:
    """Run the function; stdin/stdout/stderr go through files (no pipe deadlocks for big data);
    the peak RSS is the function's own (see :data:`TRAMPOLINE`)."""
    work = tmp_path / f".run-{time.monotonic_ns()}"
    work.mkdir()
    if isinstance(stdin, Path):
        in_path = stdin
    else:
        in_path = work / "stdin"
        in_path.write_bytes(stdin)
    with open(in_path, "rb") as fin, open(work / "out", "wb") as fout, \
            open(work / "err", "wb") as ferr:
        start = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-S", "-c", TRAMPOLINE, str(work / "rss"), str(function_bin), *args],
            stdin=fin, stdout=fout, stderr=ferr, cwd=cwd or tmp_path, start_new_session=True,
        )
        try:
            code = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            pytest.fail(f"killed after {timeout}s: the function hung")
        seconds = time.monotonic() - start
    return Proc(code, (work / "out").read_bytes(),
                (work / "err").read_bytes().decode("utf-8", "replace"), seconds,
                int((work / "rss").read_text()) * 1024)


def check_clean(proc: Proc) -> None:
    """No traceback, no internal error, every stderr line a one-line finding (or, with
    --in-place, a ``wrote FILE`` line), stdout not empty on success (except --in-place, which
    prints no manifests), exit code documented."""
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "internal error" not in proc.stderr, proc.stderr
    assert proc.code in (0, 1), (proc.code, proc.stderr)
    wrote = [line for line in proc.stderr.splitlines() if line.startswith("wrote ")]
    for line in proc.stderr.splitlines():
        assert LINE.match(line) or line in wrote, f"not a one-line finding: {line!r}"
    if proc.code == 0:
        # --in-place prints no manifests: its summary (MHR000) and "wrote" lines say what it did
        assert proc.stdout.strip() or wrote or "info MHR000" in proc.stderr, (
            "exit 0 with empty stdout and no summary")


def resource_list(proc: Proc) -> dict[str, Any]:
    """stdout as the one ResourceList it must be; exit 1 ⇔ an error result."""
    assert proc.stdout, f"KRM mode printed nothing (exit {proc.code}): {proc.stderr}"
    docs = load_all(proc.text)
    assert len(docs) == 1
    rl = docs[0]
    assert rl["kind"] == "ResourceList"
    assert rl["apiVersion"].startswith("config.kubernetes.io/")
    assert isinstance(rl.get("items"), list)
    errors = [r for r in rl.get("results") or [] if r.get("severity") == "error"]
    assert (proc.code == 1) == bool(errors), (proc.code, rl.get("results"))
    return rl


def errors_of(rl: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in rl.get("results") or [] if r.get("severity") == "error"]


def error_lines(proc: Proc) -> list[str]:
    return [line for line in proc.stderr.splitlines() if line.startswith("error ")]


def as_resource_list(*docs: str) -> str:
    """Documents as ``items`` entries of a ResourceList (block style, dash at column 0)."""
    out = [KRM_HEADER]
    for doc in docs:
        lines = doc.rstrip("\n").split("\n")
        out.append("- " + lines[0] + "\n")
        out.extend(("  " + line if line else "") + "\n" for line in lines[1:])
    return "".join(out)


def as_stream(*docs: str) -> str:
    return "---\n".join(docs)


# ---------------------------------------------------------------------------------------------
# Fixtures of the bundles
# ---------------------------------------------------------------------------------------------
GOOD_GATEWAY = site_gateway("good")
CONFIGMAP = """\
# an unrelated resource: must come out byte for byte
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: default
data:
  key: "value"   # trailing comment
"""


def bad_gateway(spec: str) -> str:
    return ("apiVersion: networking.istio.io/v1beta1\nkind: Gateway\nmetadata:\n  name: bad\n"
            "  namespace: istio-system\nspec:\n" + spec)


def assert_good_rewritten(text: str) -> None:
    """The good Gateway lost its redirect server and the dedicated Gateway was added."""
    docs = load_all(text)
    if len(docs) == 1 and docs[0].get("kind") == "ResourceList":
        docs = docs[0]["items"]
    good = next(d for d in docs if d["metadata"]["name"] == "good")
    assert [s["port"]["number"] for s in good["spec"]["servers"]] == [443]
    dedicated = [d for d in docs if d["metadata"]["name"] == "http-to-https-redirect"]
    assert len(dedicated) == 1
    assert dedicated[0]["spec"]["servers"][0]["hosts"] == ["*"]


# ---------------------------------------------------------------------------------------------
# Invalid YAML, encodings, empty input
# ---------------------------------------------------------------------------------------------
# (name, stream document, line and column of the problem in that document)
INVALID_YAML = [
    ("unclosed-flow", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata: [x, y\n",
     6, 1),
    ("bad-indent", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n b: c\n", 5, 2),
    ("tab-indent", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n\tname: a\n", 4, 1),
    ("control-char", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\x01b\n", 4, 10),
    ("undefined-alias", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n"
     "  x: *nowhere\n", 6, 6),
]


@pytest.mark.parametrize(("name", "doc", "line", "column"), INVALID_YAML,
                         ids=[c[0] for c in INVALID_YAML])
def test_invalid_yaml_stream_and_files(function_bin: Path, tmp_path: Path, name: str, doc: str,
                                       line: int, column: int) -> None:
    proc = run(function_bin, tmp_path, doc.encode())
    check_clean(proc)
    assert proc.code == 1
    assert proc.stdout == b""
    (lines,) = [error_lines(proc)]
    assert len(lines) == 1, proc.stderr
    assert f"<stdin>:{line}:{column}" in lines[0] or f"<stdin>:{line}:" in lines[0], lines[0]

    path = tmp_path / f"{name}.yaml"
    path.write_text(doc)
    proc = run(function_bin, tmp_path, args=(path.name,))
    check_clean(proc)
    assert proc.code == 1
    (only,) = error_lines(proc)
    assert f"{path.name}:{line}:" in only, only


@pytest.mark.parametrize(("name", "doc", "line", "column"), INVALID_YAML,
                         ids=[c[0] for c in INVALID_YAML])
def test_invalid_yaml_krm(function_bin: Path, tmp_path: Path, name: str, doc: str, line: int,
                          column: int) -> None:
    proc = run(function_bin, tmp_path, as_resource_list(CONFIGMAP, doc).encode())
    check_clean(proc)
    assert proc.code == 1
    rl = resource_list(proc)
    (error,) = errors_of(rl)
    # the item starts on line 4 + the ConfigMap's 8 lines: line N of the doc is line N + 11
    assert f"line {line + 11}," in error["message"], error["message"]


def test_non_utf8_stream_and_files(function_bin: Path, tmp_path: Path) -> None:
    data = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: caf\xe9\n"
    proc = run(function_bin, tmp_path, data)
    check_clean(proc)
    assert proc.code == 1
    (line,) = error_lines(proc)
    assert "<stdin>:4:12" in line, line
    assert "UTF-8" in line, line
    (tmp_path / "latin1.yaml").write_bytes(data)
    proc = run(function_bin, tmp_path, args=("latin1.yaml",))
    check_clean(proc)
    assert proc.code == 1
    (line,) = error_lines(proc)
    assert "latin1.yaml:4:12" in line, line


def test_non_utf8_krm_still_answers_a_resource_list(function_bin: Path, tmp_path: Path) -> None:
    """kpt reads stdout whatever the exit code: unreadable bytes still get a ResourceList."""
    data = as_resource_list(CONFIGMAP).encode() + b"- apiVersion: v1\n  kind: ConfigMap\n" \
        b"  metadata:\n    name: caf\xe9\n"
    proc = run(function_bin, tmp_path, data)
    check_clean(proc)
    assert proc.code == 1
    (error,) = errors_of(resource_list(proc))
    assert "UTF-8" in error["message"]
    assert "15:14" in error["message"], error["message"]  # line 15: "    name: caf\\xe9"


@pytest.mark.parametrize("char", ["\x85", "\u2028", "\u2029"])
def test_yaml_1_1_line_breaks_refused_with_the_place(
    function_bin: Path, tmp_path: Path, char: str,
) -> None:
    """libyaml (YAML 1.1) breaks lines at NEL, LS and PS; kpt, kubectl and Helm (YAML 1.2) do
    not: ``- <NEL>...`` is an empty item and a document end for one, text for the others.
    Refused in every mode, never rewritten."""
    item = f"- {char}...\n"
    for data, where in ((as_resource_list(GOOD_GATEWAY) + item, ""),
                        (as_stream(CONFIGMAP, f"a: {char}...\n"), "<stdin>:")):
        proc = run(function_bin, tmp_path, data.encode())
        check_clean(proc)
        assert proc.code == 1
        line = data[: data.index(char)].count("\n") + 1
        message = error_lines(proc)[0]
        assert f"{where}{line}:" in message, message
        assert "YAML 1.2" in message, message
        if not where:
            (error,) = errors_of(resource_list(proc))
            assert "YAML 1.1" in error["message"]
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "cm.yaml").write_text(f"a: {char}...\n", encoding="utf-8")
    before = (tree / "cm.yaml").read_bytes()
    proc = run(function_bin, tmp_path, args=("--in-place", "tree"))
    assert proc.code == 1
    assert (tree / "cm.yaml").read_bytes() == before


def test_bom_is_kept_and_input_processed(function_bin: Path, tmp_path: Path) -> None:
    bom = b"\xef\xbb\xbf"
    for data in (bom + as_stream(GOOD_GATEWAY, CONFIGMAP).encode(),
                 bom + as_resource_list(GOOD_GATEWAY, CONFIGMAP).encode()):
        proc = run(function_bin, tmp_path, data)
        check_clean(proc)
        assert proc.code == 0
        assert proc.stdout.startswith(bom)
        assert not proc.stdout.startswith(bom * 2)
        assert_good_rewritten(proc.text)
    # files mode --in-place keeps the BOM of the rewritten file
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "gw.yaml").write_bytes(bom + GOOD_GATEWAY.encode())
    proc = run(function_bin, tmp_path, args=("--in-place", "tree"))
    check_clean(proc)
    assert proc.code == 0
    assert (tree / "gw.yaml").read_bytes().startswith(bom)
    # two BOMs: the second would be content; refused with the place
    proc = run(function_bin, tmp_path, bom + bom + CONFIGMAP.encode())
    check_clean(proc)
    assert proc.code == 1
    assert "<stdin>:1:1" in error_lines(proc)[0]


@pytest.mark.parametrize("data", [b"", b"\n\n  \n"], ids=["empty", "blank"])
def test_empty_stdin(function_bin: Path, tmp_path: Path, data: bytes) -> None:
    """Empty stdin is an empty stream, as an empty file and '-' are (one documented answer)."""
    proc = run(function_bin, tmp_path, data)
    check_clean(proc)
    assert proc.code == 0
    assert proc.stdout == b"---\n"
    assert not error_lines(proc)


def test_empty_and_comment_only_inputs_never_print_nothing(function_bin: Path,
                                                            tmp_path: Path) -> None:
    (tmp_path / "empty.yaml").write_bytes(b"")
    (tmp_path / "comments.yaml").write_text("# nothing here\n---\n# nor here\n")
    for args, stdin in ((("empty.yaml",), b""), (("comments.yaml",), b""),
                        ((), b"# only a comment\n"), ((), b"---\n...\n")):
        proc = run(function_bin, tmp_path, stdin, args=args)
        check_clean(proc)
        assert proc.code == 0, proc.stderr
        assert proc.stdout.strip()
    # an empty ResourceList is fine and answers a ResourceList
    proc = run(function_bin, tmp_path, KRM_HEADER.replace("items:\n", "items: []\n").encode())
    check_clean(proc)
    assert proc.code == 0
    assert resource_list(proc)["items"] == []


# ---------------------------------------------------------------------------------------------
# ResourceList shape
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("body", "where"), [
    ("items: foo\n", "line 3, column 8"),
    ("items: {a: b}\n", "line 3, column 8"),
    ("items: 42\n", "line 3, column 8"),
], ids=["scalar", "mapping", "number"])
def test_items_not_a_list(function_bin: Path, tmp_path: Path, body: str, where: str) -> None:
    data = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\n" + body
    proc = run(function_bin, tmp_path, data.encode())
    check_clean(proc)
    assert proc.code == 1
    (error,) = errors_of(resource_list(proc))
    assert "items" in error["message"], error["message"]
    assert where in error["message"], error["message"]


def test_items_that_are_not_mappings_are_reported_and_kept(function_bin: Path,
                                                          tmp_path: Path) -> None:
    data = as_resource_list(GOOD_GATEWAY) + "- just a string\n- [1, 2]\n- 7\n"
    proc = run(function_bin, tmp_path, data.encode())
    check_clean(proc)
    assert proc.code == 1
    rl = resource_list(proc)
    messages = sorted(e["message"] for e in errors_of(rl))
    assert messages == [f"items[{i}] is not a mapping (a resource)" for i in (1, 2, 3)]
    assert rl["items"][1:] == ["just a string", [1, 2], 7]  # nothing lost
    assert proc.text.startswith(data)  # refused: the input is echoed unchanged


def test_resource_list_with_several_documents(function_bin: Path, tmp_path: Path) -> None:
    one = as_resource_list(GOOD_GATEWAY)
    proc = run(function_bin, tmp_path, (one + "---\n" + one).encode())
    check_clean(proc)
    assert proc.code == 1
    (error,) = errors_of(resource_list(proc))
    line = one.count("\n") + 1
    assert f"line {line}, column 1" in error["message"], error["message"]
    assert "only document" in error["message"]


# ---------------------------------------------------------------------------------------------
# Duplicate keys, tags
# ---------------------------------------------------------------------------------------------
DUP_GATEWAY = bad_gateway("  selector:\n    istio: ingressgateway\n    istio: other\n"
                          "  servers: []\n")


@pytest.mark.parametrize("mode", ["krm", "stream", "files"])
def test_duplicate_key_in_gateway_is_refused(function_bin: Path, tmp_path: Path,
                                             mode: str) -> None:
    proc = _run_mode(function_bin, tmp_path, mode, GOOD_GATEWAY, DUP_GATEWAY, CONFIGMAP)
    check_clean(proc)
    assert proc.code == 1
    message = _only_error(proc, mode)
    assert "duplicate key 'istio'" in message
    line, column = where(_input(mode, GOOD_GATEWAY, DUP_GATEWAY, CONFIGMAP), "istio: other")
    assert f"line {line}, column {column}" in message, message
    _assert_left_untouched(proc, mode, DUP_GATEWAY)
    assert_good_rewritten(_output_text(proc, mode, tmp_path))


@pytest.mark.parametrize("mode", ["krm", "stream"])
def test_duplicate_kind_decides_nothing_silently(function_bin: Path, tmp_path: Path,
                                                 mode: str) -> None:
    """``kind: Gateway`` then ``kind: ConfigMap``: Go's YAML readers keep one copy or refuse,
    so whether this is a Gateway depends on the reader; it must not pass silently."""
    doc = GOOD_GATEWAY.replace("kind: Gateway\n", "kind: Gateway\nkind: ConfigMap\n")
    proc = _run_mode(function_bin, tmp_path, mode, doc)
    check_clean(proc)
    assert proc.code == 1, "a duplicate apiVersion/kind must be refused"
    assert "duplicate key 'kind'" in _only_error(proc, mode)


def test_duplicate_keys_in_resource_list_and_function_config(function_bin: Path,
                                                             tmp_path: Path) -> None:
    twice = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\nitems: []\n"
    proc = run(function_bin, tmp_path, twice.encode())
    check_clean(proc)
    assert proc.code == 1
    assert "duplicate key 'items'" in errors_of(resource_list(proc))[0]["message"]
    config = (as_resource_list(GOOD_GATEWAY) + "functionConfig:\n  apiVersion: v1\n"
              "  kind: ConfigMap\n  data:\n    name: a\n    name: b\n")
    proc = run(function_bin, tmp_path, config.encode())
    check_clean(proc)
    assert proc.code == 1
    (error,) = errors_of(resource_list(proc))
    assert "duplicate key 'name'" in error["message"]
    assert error["tags"]["rule"] == "MHR100"


TAGGED = [
    ("python-apply", "!!python/object/apply:os.system ['touch {marker}']"),
    ("python-object", "!!python/object:subprocess.Popen {{args: ['touch', '{marker}']}}"),
    ("python-name", "!!python/name:os.system"),
    ("unknown-local", "!shell 'touch {marker}'"),
    ("unknown-global", "!<tag:evil.example.com,2024:run> 'touch {marker}'"),
]


@pytest.mark.parametrize(("name", "value"), TAGGED, ids=[t[0] for t in TAGGED])
@pytest.mark.parametrize("mode", ["krm", "stream", "files"])
def test_tags_never_execute_and_are_refused_in_gateways(
    function_bin: Path, tmp_path: Path, mode: str, name: str, value: str
) -> None:
    marker = tmp_path / f"pwned-{name}"
    tagged = value.format(marker=marker)
    gateway = bad_gateway(f"  selector:\n    istio: {tagged}\n  servers: []\n")
    configmap = CONFIGMAP.replace('"value"', tagged)
    proc = _run_mode(function_bin, tmp_path, mode, GOOD_GATEWAY, gateway, configmap)
    check_clean(proc)
    assert not marker.exists(), "a YAML tag executed code"
    assert proc.code == 1
    message = _only_error(proc, mode)
    line, column = where(_input(mode, GOOD_GATEWAY, gateway, configmap), tagged)
    assert "unsupported tag" in message, message
    assert f"line {line}, column {column}" in message, message
    _assert_left_untouched(proc, mode, gateway)
    _assert_left_untouched(proc, mode, configmap)  # opaque: passed through, never built
    assert_good_rewritten(_output_text(proc, mode, tmp_path))


@pytest.mark.parametrize(("tag", "value"), [
    ("!!int", "eighty"), ("!!int", "''"), ("!!float", "fast"), ("!!bool", "maybe"),
    ("!!binary", "not base64!"), ("!!null", "x"),
])
@pytest.mark.parametrize("mode", ["krm", "stream"])
def test_explicit_core_tags_with_bad_values(function_bin: Path, tmp_path: Path, mode: str,
                                            tag: str, value: str) -> None:
    """``number: !!int eighty`` is a typed value that cannot be built: an error naming the
    place, never an internal error."""
    gateway = bad_gateway(f"  servers:\n  - port: {{number: {tag} {value}, name: http, "
                          "protocol: HTTP}\n    hosts: ['*']\n")
    proc = _run_mode(function_bin, tmp_path, mode, GOOD_GATEWAY, gateway)
    check_clean(proc)
    assert proc.code == 1
    message = _only_error(proc, mode)
    assert PLACE.search(message) or "spec.servers[0].port.number" in message, message
    _assert_left_untouched(proc, mode, gateway)
    assert_good_rewritten(_output_text(proc, mode, tmp_path))


# ---------------------------------------------------------------------------------------------
# Anchors and aliases
# ---------------------------------------------------------------------------------------------
ANCHORED_GATEWAY = """\
apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata:
  name: good
  namespace: istio-system
spec:
  selector: &sel
    istio: ingressgateway
  servers:
  - port:
      number: 80
      name: http
      protocol: HTTP
    hosts: &hosts
    - good.example.com
    tls:
      httpsRedirect: true
  - port:
      number: 443
      name: https
      protocol: HTTPS
    hosts: *hosts
    tls:
      mode: SIMPLE
      credentialName: good-tls
"""


@pytest.mark.parametrize("mode", ["krm", "stream", "files"])
def test_aliases_are_supported(function_bin: Path, tmp_path: Path, mode: str) -> None:
    """An alias to an anchor inside a removed server: the output must still be valid YAML
    with every alias resolvable (the anchor must not be cut away from its aliases)."""
    proc = _run_mode(function_bin, tmp_path, mode, ANCHORED_GATEWAY, CONFIGMAP)
    check_clean(proc)
    assert proc.code == 0, proc.stderr
    text = _output_text(proc, mode, tmp_path)
    assert_good_rewritten(text)
    docs = load_all(text)
    items = docs[0]["items"] if mode == "krm" else docs
    good = next(d for d in items if d["metadata"]["name"] == "good")
    assert good["spec"]["servers"][0]["hosts"] == ["good.example.com"]
    assert good["spec"]["selector"] == {"istio": "ingressgateway"}


def billion_laughs(levels: int = 9, fan: int = 10, indent: str = "  ") -> str:
    lines = [f"{indent}l0: &l0 [" + ", ".join(['"lol"'] * fan) + "]"]
    lines += [f"{indent}l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * fan) + "]"
              for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("mode", ["krm", "stream", "files"])
def test_billion_laughs_in_a_gateway_fails_fast(function_bin: Path, tmp_path: Path,
                                                mode: str) -> None:
    gateway = bad_gateway("  servers: []\n  x:\n" + billion_laughs(indent="    "))
    proc = _run_mode(function_bin, tmp_path, mode, GOOD_GATEWAY, gateway)
    check_clean(proc)
    assert proc.seconds < 1.0, f"took {proc.seconds:.2f}s"
    assert proc.peak_rss < 100 * MB, f"peak RSS {proc.peak_rss / MB:.0f} MB"
    assert proc.code == 1
    message = _only_error(proc, mode)
    assert f"more than {yamlio.MAX_ALIAS_NODES} nodes" in message
    assert "line" in message
    _assert_left_untouched(proc, mode, gateway)
    assert_good_rewritten(_output_text(proc, mode, tmp_path))


@pytest.mark.parametrize("where", ["configmap", "function-config", "flow-resource-list"])
def test_billion_laughs_elsewhere_is_bounded(function_bin: Path, tmp_path: Path,
                                             where: str) -> None:
    if where == "configmap":  # a kind the function does not read: still refused, fast
        data = as_resource_list(CONFIGMAP + "  lol:\n" + billion_laughs(indent="    "))
    elif where == "function-config":
        data = (as_resource_list(GOOD_GATEWAY) + "functionConfig:\n  apiVersion: v1\n"
                "  kind: ConfigMap\n  data:\n" + billion_laughs(indent="    "))
    else:  # a flow-style ResourceList is re-emitted: it must not expand the aliases either
        data = ("{apiVersion: config.kubernetes.io/v1, kind: ResourceList, items: [{apiVersion:"
                " v1, kind: ConfigMap, metadata: {name: lol}, data: {"
                + ", ".join(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}" if i else '"lol"'] * 10)
                            + "]" for i in range(10)) + "}}]}\n")
    proc = run(function_bin, tmp_path, data.encode())
    check_clean(proc)
    assert proc.seconds < 1.0, f"took {proc.seconds:.2f}s"
    assert proc.peak_rss < 100 * MB, f"peak RSS {proc.peak_rss / MB:.0f} MB"
    rl = resource_list(proc)
    assert proc.code == 1
    assert any("alias" in e["message"] for e in errors_of(rl))
    if where == "configmap":  # reported and left as it is: the output keeps the input text
        assert proc.text.startswith(data)


def test_repeated_alias_of_a_large_scalar_is_not_amplified(function_bin: Path,
                                                          tmp_path: Path) -> None:
    """A 100 kB anchored scalar aliased 5 000 times (under the node bound) in a flow-style
    ResourceList: re-emitting it must not write (or hold) 500 MB."""
    big = "x" * 100_000
    aliases = ", ".join(["*big"] * 5000)
    data = ("{apiVersion: config.kubernetes.io/v1, kind: ResourceList, items: [{apiVersion: v1,"
            f" kind: ConfigMap, metadata: {{name: amp}}, data: {{a: &big {big}, b: [{aliases}]"
            "}}]}\n")
    proc = run(function_bin, tmp_path, data.encode())
    assert len(proc.stdout) < 10 * MB, f"output is {len(proc.stdout) / MB:.0f} MB"
    assert proc.peak_rss < 200 * MB, f"peak RSS {proc.peak_rss / MB:.0f} MB"
    check_clean(proc)
    resource_list(proc)


@pytest.mark.parametrize("item", [
    "{apiVersion: v1, kind: ConfigMap, metadata: {name: a}, data: {x: '1', x: '2'}}",
    "{apiVersion: v1, kind: ConfigMap, metadata: {name: !!python/name:os.system a}}",
    "{apiVersion: v1, kind: ConfigMap, metadata: {name: a}, data: {x: !!int y}}",
], ids=["duplicate-key", "python-tag", "bad-int"])
def test_flow_style_resource_list_with_unreadable_opaque_item(function_bin: Path,
                                                             tmp_path: Path, item: str) -> None:
    """JSON/flow ResourceLists are re-emitted: an opaque item that cannot be built must give
    an error result, not an internal error with empty stdout."""
    data = ("{apiVersion: config.kubernetes.io/v1, kind: ResourceList, items: ["
            + item + "]}\n")
    proc = run(function_bin, tmp_path, data.encode())
    check_clean(proc)
    assert proc.code in (0, 1)
    resource_list(proc)


# ---------------------------------------------------------------------------------------------
# Nesting and size limits
# ---------------------------------------------------------------------------------------------
def _nested(depth: int, flow: bool) -> str:
    if flow:
        return "  x: " + "[" * depth + "]" * depth + "\n"
    return "".join("  " * (i + 1) + f"k{i}:\n" for i in range(depth)) + "  " * (depth + 1) + \
        "leaf\n"


@pytest.mark.parametrize("flow", [True, False], ids=["flow", "block"])
@pytest.mark.parametrize("mode", ["krm", "stream", "files"])
def test_nesting_limit(function_bin: Path, tmp_path: Path, mode: str, flow: bool) -> None:
    limit = yamlio.MAX_DEPTH
    # under the limit (the item sits 1-2 levels down): processed normally
    ok = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: deep\ndata:\n" + \
        _nested(limit - 10, flow)
    proc = _run_mode(function_bin, tmp_path, mode, GOOD_GATEWAY, ok)
    check_clean(proc)
    assert proc.code == 0, proc.stderr
    assert_good_rewritten(_output_text(proc, mode, tmp_path))
    # over the limit, and far over it: a clear error naming the place, fast, small
    for depth in (limit + 10, 100_000 if flow else 5_000):
        deep = ok.replace(_nested(limit - 10, flow), _nested(depth, flow))
        proc = _run_mode(function_bin, tmp_path, mode, GOOD_GATEWAY, deep)
        check_clean(proc)
        assert proc.code == 1
        assert proc.seconds < 5
        assert proc.peak_rss < 200 * MB
        message = _only_error(proc, mode)
        assert "nest" in message, message
        assert PLACE.search(message), message
        if depth == limit + 10:
            assert f"deeper than {limit} levels" in message


def test_input_size_limit_stream_and_files(function_bin: Path, tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    with open(big, "wb") as handle:  # sparse: costs no disk
        handle.write(b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\n")
        handle.truncate(yamlio.MAX_INPUT_BYTES + 1)
    proc = run(function_bin, tmp_path, big)
    check_clean(proc)
    assert proc.code == 1
    (line,) = error_lines(proc)
    assert f"over the limit of {yamlio.MAX_INPUT_BYTES} bytes" in line
    proc = run(function_bin, tmp_path, args=(big.name,))
    check_clean(proc)
    assert proc.code == 1
    (line,) = error_lines(proc)
    assert big.name in line
    assert "over the limit" in line


def test_input_size_limit_krm(function_bin: Path, tmp_path: Path) -> None:
    big = tmp_path / "big-krm.yaml"
    with open(big, "wb") as handle:
        handle.write(as_resource_list(GOOD_GATEWAY).encode() + b"- data: '")
        handle.seek(yamlio.MAX_INPUT_BYTES + 16)
        handle.write(b"'\n")
    proc = run(function_bin, tmp_path, big)
    check_clean(proc)
    assert proc.code == 1
    (error,) = errors_of(resource_list(proc))
    assert "over the limit" in error["message"]


@pytest.mark.slow
@pytest.mark.parametrize("how", ["stdin", "file"])
def test_oversized_input_is_not_read_into_memory(function_bin: Path, tmp_path: Path,
                                                 how: str) -> None:
    """Past the limit the function stops reading: a 2 GB input must not cost 2 GB."""
    huge = tmp_path / "huge.yaml"
    with open(huge, "wb") as handle:
        handle.write(b"apiVersion: v1\nkind: ConfigMap\n")
        handle.truncate(2 * 1024 * MB)
    proc = run(function_bin, tmp_path, huge) if how == "stdin" else \
        run(function_bin, tmp_path, args=(huge.name,))
    check_clean(proc)
    assert proc.code == 1
    limit = yamlio.MAX_INPUT_BYTES
    assert proc.peak_rss < 2 * limit + 100 * MB, f"peak RSS {proc.peak_rss / MB:.0f} MB"


@pytest.mark.slow
@pytest.mark.parametrize("where", ["configmap", "gateway"])
@pytest.mark.parametrize("mode", ["krm", "stream", "files"])
def test_100mb_scalar(function_bin: Path, tmp_path: Path, mode: str, where: str) -> None:
    scalar = "a" * (100 * MB)
    if where == "configmap":
        doc = CONFIGMAP.replace('"value"', scalar)
    else:  # a wanted kind: its value is built, the rewrite still runs
        doc = GOOD_GATEWAY.replace(
            "  namespace: istio-system\n",
            f"  namespace: istio-system\n  annotations:\n    big: {scalar}\n")
    proc = _run_mode(function_bin, tmp_path, mode, doc)
    check_clean(proc)
    assert proc.code == 0, proc.stderr
    assert proc.peak_rss < 1536 * MB, f"peak RSS {proc.peak_rss / MB:.0f} MB"
    assert proc.seconds < 60
    text = _output_text(proc, mode, tmp_path)
    assert scalar in text
    if where == "gateway":
        assert "http-to-https-redirect" in text


# ---------------------------------------------------------------------------------------------
# Istio resources with wrong types: reported with the field path, left byte for byte, the rest
# of the bundle still rewritten (non-strict behaviour)
# ---------------------------------------------------------------------------------------------
WRONG_TYPES = [
    ("servers-string", '  servers: "x"\n', "spec.servers"),
    ("port-number", "  servers:\n  - port: 80\n    hosts: [a.b]\n", "spec.servers[0].port"),
    ("hosts-string", "  servers:\n  - port: {number: 80, name: http, protocol: HTTP}\n"
     "    hosts: a.b\n", "spec.servers[0].hosts"),
    ("tls-bool", "  servers:\n  - port: {number: 80, name: http, protocol: HTTP}\n"
     "    hosts: [a.b]\n    tls: true\n", "spec.servers[0].tls"),
    ("selector-list", "  selector: []\n  servers: []\n", "spec.selector"),
    ("port-number-string", "  servers:\n  - port: {number: '80', name: http, protocol: HTTP}\n"
     "    hosts: [a.b]\n", "spec.servers[0].port.number"),
    ("redirect-string", "  servers:\n  - port: {number: 80, name: http, protocol: HTTP}\n"
     "    hosts: [a.b]\n    tls: {httpsRedirect: 'yes'}\n", "spec.servers[0].tls.httpsRedirect"),
    ("host-number", "  servers:\n  - port: {number: 80, name: http, protocol: HTTP}\n"
     "    hosts: [1]\n", "spec.servers[0].hosts[0]"),
    ("server-string", "  servers:\n  - x\n", "spec.servers[0]"),
    ("spec-list", "  - 1\n", "spec"),
]


@pytest.mark.parametrize(("name", "spec", "path"), WRONG_TYPES, ids=[w[0] for w in WRONG_TYPES])
@pytest.mark.parametrize("mode", ["krm", "stream", "files"])
def test_gateway_with_wrong_types(function_bin: Path, tmp_path: Path, mode: str, name: str,
                                  spec: str, path: str) -> None:
    gateway = bad_gateway(spec)
    proc = _run_mode(function_bin, tmp_path, mode, GOOD_GATEWAY, gateway, CONFIGMAP)
    check_clean(proc)
    assert proc.code == 1
    if mode == "krm":
        rl = resource_list(proc)
        (error,) = errors_of(rl)
        assert error["field"]["path"] == path
        assert error["resourceRef"]["name"] == "bad"
        assert error["tags"]["rule"] == "MHR010"
    else:
        (line,) = error_lines(proc)
        assert line.startswith(f"error MHR010 Gateway istio-system/bad {path}: "), line
        if mode == "files":
            assert "(input.yaml[1])" in line, line
    _assert_left_untouched(proc, mode, gateway)
    _assert_left_untouched(proc, mode, CONFIGMAP)
    assert_good_rewritten(_output_text(proc, mode, tmp_path))


@pytest.mark.parametrize(("spec", "path"), [
    ("  gateways: x\n  hosts: [a.b]\n", "spec.gateways"),
    ("  hosts: a.b\n", "spec.hosts"),
    ("  hosts: [a.b]\n  gateways: [1]\n", "spec.gateways[0]"),
])
def test_virtual_service_with_wrong_types(function_bin: Path, tmp_path: Path, spec: str,
                                          path: str) -> None:
    vs = ("apiVersion: networking.istio.io/v1beta1\nkind: VirtualService\nmetadata:\n"
          "  name: bad-vs\n  namespace: default\nspec:\n" + spec)
    proc = _run_mode(function_bin, tmp_path, "krm", GOOD_GATEWAY, vs)
    check_clean(proc)
    (error,) = errors_of(resource_list(proc))
    assert error["field"]["path"] == path
    _assert_left_untouched(proc, "krm", vs)
    assert_good_rewritten(proc.text)


# ---------------------------------------------------------------------------------------------
# Exit codes
# ---------------------------------------------------------------------------------------------
def test_exit_codes(function_bin: Path, tmp_path: Path) -> None:
    ok = run(function_bin, tmp_path, as_stream(GOOD_GATEWAY, CONFIGMAP).encode())
    check_clean(ok)
    assert ok.code == 0
    unchanged = run(function_bin, tmp_path, CONFIGMAP.encode())
    assert unchanged.code == 0
    assert unchanged.stdout == CONFIGMAP.encode()
    for args in (("--no-such-option",), ("--in-place",), ("--config",)):
        usage = run(function_bin, tmp_path, CONFIGMAP.encode(), args=args)
        assert usage.code == 2, (args, usage.stderr)
        assert "Traceback" not in usage.stderr
        assert usage.stderr.strip()
    missing = run(function_bin, tmp_path, args=("no/such/dir",))
    check_clean(missing)
    assert missing.code == 1
    assert "no/such/dir" in missing.stderr
    bad_config = tmp_path / "config.yaml"
    bad_config.write_text("apiVersion: v1\nkind: ConfigMap\ndata: {ports: 'eighty'}\n")
    proc = run(function_bin, tmp_path, GOOD_GATEWAY.encode(), args=("--config", str(bad_config)))
    check_clean(proc)
    assert proc.code == 1
    assert "MHR100" in proc.stderr


def test_closed_stdout_is_not_a_traceback(function_bin: Path, tmp_path: Path) -> None:
    """``merge-https-redirects < big | head -1``: the reader goes away."""
    data = as_stream(*[GOOD_GATEWAY.replace("good", f"good{i}") for i in range(2000)]).encode()
    proc = subprocess.run(f"'{function_bin}' | head -c 10 >/dev/null; exit ${{PIPESTATUS[0]}}",
                          shell=True, executable="/bin/bash", input=data, capture_output=True,
                          timeout=60, check=False, cwd=tmp_path)
    assert b"Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode in (0, 1)


# ---------------------------------------------------------------------------------------------
# Helpers to run one bundle in each mode
# ---------------------------------------------------------------------------------------------
def _input(mode: str, *docs: str) -> str:
    return as_resource_list(*docs) if mode == "krm" else as_stream(*docs)


def where(text: str, needle: str, after: str = "name: bad\n") -> tuple[int, int]:
    """1-based line and column of the first ``needle`` after the (only) ``after`` in ``text``."""
    assert text.count(after) == 1, after
    offset = text.index(needle, text.index(after))
    return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _run_mode(function_bin: Path, tmp_path: Path, mode: str, *docs: str) -> Proc:
    if mode == "files":
        (tmp_path / "input.yaml").write_text(as_stream(*docs))
        return run(function_bin, tmp_path, args=("input.yaml",))
    return run(function_bin, tmp_path, _input(mode, *docs).encode())


def _output_text(proc: Proc, mode: str, tmp_path: Path) -> str:
    return proc.text


def _only_error(proc: Proc, mode: str) -> str:
    """The one error, as KRM result message or stderr line."""
    if mode == "krm":
        errors = errors_of(resource_list(proc))
        assert len(errors) == 1, errors
        return str(errors[0]["message"])
    lines = error_lines(proc)
    assert len(lines) == 1, proc.stderr
    return lines[0]


def _assert_left_untouched(proc: Proc, mode: str, doc: str) -> None:
    expected = as_resource_list(doc)[len(KRM_HEADER):] if mode == "krm" else doc
    assert expected in proc.text, f"not byte for byte in the output:\n{expected}"
