"""Benchmark merge-https-redirects against its peers measured in the same run: the libyaml
floor (event parse + write the bytes back), js-yaml load+dump and a no-op KRM function on the
TypeScript kpt SDK (both on node, skipped with a message where node or bench/node's packages are
missing), optionally PyYAML/libyaml load+dump; start-up against ``python -c 'import yaml'``;
with ``--kpt``, a no-op exec function inside ``kpt fn render``.

Every measurement runs a child process the way kpt runs an exec function (ResourceList on stdin,
stdout to /dev/null), timed with ``time.perf_counter`` around start and ``os.wait4``, whose rusage
gives that child's own peak RSS. The function and its peers take turns (A, B, C, ..., A, B, C,
...) after one warm-up run of each, and the table reports medians, ratios and PASS/FAIL against
the targets of the performance issue. Progress goes to stderr, the machine and the table to
stdout.

    .venv/bin/python bench/bench.py                       # 1k, 10k, 50k
    .venv/bin/python bench/bench.py --sizes 1000,10000 --kpt --markdown
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from generate import item_count, make_package, make_resource_list, write_kptfile

HERE = Path(__file__).resolve().parent
NOOP_FN = HERE / "noop_fn.py"
NODE_DIR = HERE / "node"  # package.json + package-lock.json: `npm ci --prefix bench/node`
MB = 1_000_000
EMPTY_RESOURCE_LIST = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n"
# The baseline: what a minimal Python function costs that parses and re-emits the same list with
# PyYAML's C (libyaml) loader and dumper, with no logic of its own.
BASELINE_CODE = (
    "import sys, yaml\n"
    "data = yaml.load(sys.stdin.buffer, Loader=yaml.CSafeLoader)\n"
    "yaml.dump(data, sys.stdout, Dumper=yaml.CSafeDumper)\n"
)

# The floor of any PyYAML-based function: libyaml's parser (PyYAML's CParser, the one the
# function uses) turns the whole input into events, which are dropped, and the input bytes are
# written back unchanged. No values, no function logic, no output formatting.
FLOOR_CODE = (
    "import sys\n"
    "from yaml.cyaml import CParser\n"
    "data = sys.stdin.buffer.read()\n"
    "parser = CParser(data)\n"
    "while parser.get_event() is not None:\n"
    "    pass\n"
    "sys.stdout.buffer.write(data)\n"
)

# Targets of the issue (19), as ratios measured in the same run, wall and CPU time alike.
TARGET_SIZES = (10_000, 50_000)  # the sizes the time targets apply to
#: peer -> largest ratio function / peer
PEER_TARGETS = {"ts-noop": 0.5, "js-yaml": 1.0, "floor": 1.5}
GROWTH_FROM, GROWTH_TO, GROWTH_RATIO = 10_000, 50_000, 5.2  # linear: 5x the items
MEMORY_FACTOR, MEMORY_EXTRA = 3.0, 60 * MB  # peak RSS <= 3x input + 60 MB
STARTUP_RATIO = 1.2  # start-up on an empty ResourceList / `python -c 'import yaml'`
KPT_OVERHEAD = 0.20  # render with the function / render with a no-op exec, minus 1
TARGET_SIZE = 10_000  # the kpt comparison's default size


@dataclass(frozen=True)
class Peer:
    key: str
    label: str
    argv: list[str]


def peers(with_load_dump: bool) -> tuple[list[Peer], list[str]]:
    """The peers to measure, and a message for each one skipped."""
    out = [Peer("floor", "libyaml floor (event parse + write back)",
                [sys.executable, "-c", FLOOR_CODE])]
    skipped: list[str] = []
    node = shutil.which("node")
    if node is None:
        skipped.append("js-yaml and the TypeScript kpt SDK no-op skipped: node is not on PATH")
    elif not (NODE_DIR / "node_modules" / "kpt-functions").is_dir() or not (
            NODE_DIR / "node_modules" / "js-yaml").is_dir():
        skipped.append("js-yaml and the TypeScript kpt SDK no-op skipped: run "
                       "`npm ci --prefix bench/node` first")
    else:
        out.append(Peer("js-yaml", "js-yaml load+dump (node)",
                        [node, str(NODE_DIR / "jsyaml-load-dump.js")]))
        out.append(Peer("ts-noop", "no-op on the TypeScript kpt SDK (node)",
                        [node, str(NODE_DIR / "noop-kpt-fn.js")]))
    if with_load_dump:
        out.append(Peer("load-dump", "PyYAML/libyaml load+dump",
                        [sys.executable, "-c", BASELINE_CODE]))
    return out, skipped


class ChildFailed(RuntimeError):
    def __init__(self, argv: Sequence[str], code: int, stderr: str) -> None:
        self.argv = list(argv)
        self.code = code
        self.stderr = stderr
        how = f"exited with {code}"
        signum = -code if code < 0 else code - 128 if code > 128 else 0
        if signum:  # the launcher's (negative) or the program's (128 + N) death by a signal
            with contextlib.suppress(ValueError):
                how = f"was killed by {signal.Signals(signum).name}"
        super().__init__(f"{shlex.join(argv)} {how}:\n{stderr}")


@dataclass(frozen=True)
class Run:
    seconds: float  # wall time
    peak_rss: int  # bytes
    cpu: float  # user + system seconds: steadier than wall time on a busy machine


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# Children are started through this small launcher, not from the benchmark process itself: Linux
# carries the high-water RSS of the process that forks and execs a program into the program's
# ru_maxrss, so a child started by a benchmark process holding a 50 MB bundle would report at
# least that. The launcher is a fresh interpreter without site (a few MB); it forks and execs the
# program, times it, and writes the seconds and the program's own rusage peak to a report file.
LAUNCHER = """\
import os, sys, time
report, argv = sys.argv[1], sys.argv[2:]
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(argv[0], argv)
    except OSError as err:
        os.write(2, f"cannot run {argv[0]}: {err}\\n".encode())
    os._exit(127)
_, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - start
with open(report, "w") as f:
    f.write(f"{seconds!r} {usage.ru_maxrss} {usage.ru_utime + usage.ru_stime!r}")
code = os.waitstatus_to_exitcode(status)
sys.exit(code if code >= 0 else 128 - code)
"""


def run_child(
    argv: Sequence[str], stdin: Path | None, *, stdout: Path | None = None, cwd: Path | None = None
) -> Run:
    """Run ``argv`` to completion; its wall time and its own peak RSS (``os.wait4``)."""
    with (
        open(stdin if stdin is not None else os.devnull, "rb") as fin,
        open(stdout if stdout is not None else os.devnull, "wb") as fout,
        tempfile.TemporaryFile() as ferr,
        tempfile.NamedTemporaryFile("r", suffix=".report") as report,
    ):
        launcher = [sys.executable, "-I", "-S", "-c", LAUNCHER, report.name, *argv]
        done = subprocess.run(launcher, check=False, stdin=fin, stdout=fout, stderr=ferr, cwd=cwd)
        code = done.returncode
        if code != 0:
            ferr.seek(0)
            raise ChildFailed(argv, code, ferr.read().decode(errors="replace")[-4000:])
        seconds, maxrss_kib, cpu = report.read().split()
    return Run(float(seconds), int(maxrss_kib) * 1024, float(cpu))  # ru_maxrss: KiB on Linux


def rounds(
    sides: dict[str, Callable[[], Run]], repeat: int, warmup: int, label: str
) -> dict[str, list[Run]]:
    """``warmup`` untimed runs of each side, then each side in turn, ``repeat`` times."""
    for _ in range(warmup):
        for side in sides.values():
            side()
    runs: dict[str, list[Run]] = {name: [] for name in sides}
    for i in range(repeat):
        parts = []
        for name, side in sides.items():
            run = side()
            runs[name].append(run)
            parts.append(f"{name} {run.seconds:.3f}s (cpu {run.cpu:.3f}s)")
        log(f"  {label} {i + 1}/{repeat}: " + ", ".join(parts))
    return runs


def alternate(
    a: Callable[[], Run], b: Callable[[], Run], repeat: int, warmup: int, label: str
) -> tuple[list[Run], list[Run]]:
    """``warmup`` untimed runs of each, then A, B, A, B, ... ``repeat`` times."""
    for _ in range(warmup):
        a()
        b()
    runs_a: list[Run] = []
    runs_b: list[Run] = []
    for i in range(repeat):
        runs_a.append(a())
        runs_b.append(b())
        a_run, b_run = runs_a[-1], runs_b[-1]
        log(f"  {label} {i + 1}/{repeat}: {a_run.seconds:.3f}s (cpu {a_run.cpu:.3f}s)"
            f" vs {b_run.seconds:.3f}s (cpu {b_run.cpu:.3f}s)")
    return runs_a, runs_b


def median(runs: Sequence[Run]) -> float:
    return statistics.median(r.seconds for r in runs)


def median_cpu(runs: Sequence[Run]) -> float:
    return statistics.median(r.cpu for r in runs)


def ratios(a: Sequence[Run], b: Sequence[Run]) -> str:
    """Wall-time ratio of the medians, and the CPU-time one beside it."""
    return f"{median(a) / median(b):.2f}x (cpu {median_cpu(a) / median_cpu(b):.2f}x)"


def peak(runs: Sequence[Run]) -> int:
    return max(r.peak_rss for r in runs)


# -- the machine -------------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def kpt_version(kpt: str) -> str:
    try:
        out = subprocess.run([kpt, "version"], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out.stdout.strip()


def machine(kpt: str | None) -> list[tuple[str, str]]:
    info = [
        ("platform", platform.platform()),
        ("cpu", f"{cpu_model()} x {os.cpu_count()} (nproc {len(os.sched_getaffinity(0))})"),
        ("python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("pyyaml", f"{yaml.__version__}, libyaml {'yes' if yaml.__with_libyaml__ else 'NO'}"),
    ]
    if kpt:
        info.append(("kpt", kpt_version(kpt)))
    return info


# -- the table ---------------------------------------------------------------------------------


@dataclass
class Row:
    measure: str
    size: str
    value: str
    baseline: str
    ratio: str
    target: str
    result: str


HEADER = Row("measure", "items (input)", "function", "baseline", "ratio", "target", "result")


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def render_text(rows: Sequence[Row]) -> str:
    table = [list(vars(r).values()) for r in (HEADER, *rows)]
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def render_markdown(rows: Sequence[Row]) -> str:
    table = [list(vars(r).values()) for r in (HEADER, *rows)]
    lines = ["| " + " | ".join(row) + " |" for row in table]
    lines.insert(1, "|" + "|".join("---" for _ in table[0]) + "|")
    return "\n".join(lines)


def secs(value: float) -> str:
    return f"{value:.3f} s"


def mbytes(value: float) -> str:
    return f"{value / MB:.1f} MB"


def size_label(n: int, input_bytes: int | None = None) -> str:
    label = f"{n // 1000}k" if n % 1000 == 0 else str(n)
    return f"{label} ({mbytes(input_bytes)})" if input_bytes is not None else label


# -- the function under test -------------------------------------------------------------------


def default_fn_command() -> list[str]:
    script = Path(sys.executable).parent / "merge-https-redirects"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "merge_https_redirects"]


def check_function(fn: Sequence[str], source: Path, out: Path) -> str:
    """Run the function once and check that it wrote a ResourceList; a one-line summary."""
    run_child(fn, source, stdout=out)
    with open(source, "rb") as f:
        before = yaml.load(f, Loader=yaml.CSafeLoader)
    with open(out, "rb") as f:
        after = yaml.load(f, Loader=yaml.CSafeLoader)
    if not isinstance(after, dict) or after.get("kind") != "ResourceList":
        raise ChildFailed(fn, 0, f"stdout is not a ResourceList: {str(after)[:300]!r}")
    items = after.get("items") or []
    left = 0  # port-80 redirect servers still naming a host other than "*"
    for item in items:
        if not isinstance(item, dict) or item.get("kind") != "Gateway":
            continue
        for server in (item.get("spec") or {}).get("servers") or []:
            tls = server.get("tls") or {}
            if tls.get("httpsRedirect") and server.get("hosts") != ["*"]:
                left += 1
    return (
        f"{len(before['items'])} items in, {len(items)} out, "
        f"{len(after.get('results') or [])} results, {left} host-specific redirect servers left"
    )


# -- the benchmark -----------------------------------------------------------------------------


@dataclass
class SizeResult:
    n: int
    input_bytes: int
    fn: list[Run] | None
    peers: dict[str, list[Run]]


def bench_size(
    n: int, repeat: int, warmup: int, work: Path, fn: Sequence[str], fn_error: list[str],
    peer_list: Sequence[Peer],
) -> SizeResult:
    source = work / f"resource-list-{n}.yaml"
    source.write_text(make_resource_list(n))
    size = source.stat().st_size
    log(f"{size_label(n, size)}: {item_count(n)} items, repeat {repeat}")

    def side(argv: Sequence[str]) -> Callable[[], Run]:
        return lambda: run_child(argv, source)

    sides = {peer.key: side(peer.argv) for peer in peer_list}
    if not fn_error:
        try:
            runs = rounds({"function": side(fn), **sides}, repeat, warmup, "function vs peers")
            fn_runs = runs.pop("function")
            return SizeResult(n, size, fn_runs, runs)
        except ChildFailed as err:
            fn_error.append(str(err))
            log(f"  function FAILED: {err}")
    return SizeResult(n, size, None, rounds(sides, repeat, warmup, "peers"))


def _both(fn_runs: Sequence[Run], peer_runs: Sequence[Run]) -> tuple[float, float]:
    """(wall, CPU) ratios of the medians, function / peer."""
    return (median(fn_runs) / median(peer_runs), median_cpu(fn_runs) / median_cpu(peer_runs))


def size_rows(results: Sequence[SizeResult], peer_list: Sequence[Peer]) -> list[Row]:
    rows: list[Row] = []
    for r in results:
        label = size_label(r.n, r.input_bytes)
        for peer in peer_list:
            runs = r.peers[peer.key]
            measure = f"time vs {peer.label}"
            if r.fn is None:
                rows.append(Row(measure, label, "error", secs(median(runs)), "", "", "ERROR"))
                continue
            wall, cpu = _both(r.fn, runs)
            limit = PEER_TARGETS.get(peer.key)
            target, result = "(info)", ""
            if limit is not None and r.n in TARGET_SIZES:
                target = f"<= {limit}x (wall and cpu)"
                result = verdict(wall <= limit and cpu <= limit)
            rows.append(Row(measure, label,
                            f"{secs(median(r.fn))} (cpu {median_cpu(r.fn):.3f} s)",
                            f"{secs(median(runs))} (cpu {median_cpu(runs):.3f} s)",
                            f"{wall:.2f}x (cpu {cpu:.2f}x)", target, result))
    by_n = {r.n: r for r in results}
    small, large = by_n.get(GROWTH_FROM), by_n.get(GROWTH_TO)
    if small and large and small.fn and large.fn:
        growth = median(large.fn) / median(small.fn)
        cpu_growth = median_cpu(large.fn) / median_cpu(small.fn)
        floor_growth = (f"{median(large.peers['floor']) / median(small.peers['floor']):.2f}x"
                        if "floor" in small.peers else "")
        rows.append(
            Row("growth", f"{size_label(GROWTH_TO)} / {size_label(GROWTH_FROM)}",
                f"{growth:.2f}x", floor_growth, f"(cpu {cpu_growth:.2f}x)",
                f"<= {GROWTH_RATIO}x", verdict(growth <= GROWTH_RATIO))
        )
    for r in results:
        limit = MEMORY_FACTOR * r.input_bytes + MEMORY_EXTRA
        fn_peak = peak(r.fn) if r.fn else None
        others = ", ".join(f"{key} {mbytes(peak(runs))}" for key, runs in r.peers.items())
        rows.append(
            Row("peak RSS", size_label(r.n, r.input_bytes),
                mbytes(fn_peak) if fn_peak is not None else "error", others,
                f"{fn_peak / r.input_bytes:.2f}x input" if fn_peak is not None else "",
                f"<= 3x input + 60 MB = {mbytes(limit)}",
                verdict(fn_peak <= limit) if fn_peak is not None else "ERROR")
        )
    return rows


def bench_startup(repeat: int, warmup: int, work: Path, fn: Sequence[str] | None) -> list[Row]:
    empty = work / "empty-resource-list.yaml"
    empty.write_text(EMPTY_RESOURCE_LIST)
    import_yaml = [sys.executable, "-c", "import yaml"]
    bare = [sys.executable, "-c", "pass"]
    log(f"start-up: repeat {repeat}")
    sides = {"import yaml": lambda: run_child(import_yaml, None),
             "pass": lambda: run_child(bare, None)}
    if fn is None:
        runs = rounds(sides, repeat, warmup, "start-up peers")
        return [Row("start-up vs `python -c 'import yaml'`", "0", "error",
                    secs(median(runs["import yaml"])), "", "", "ERROR")]
    runs = rounds({"function": lambda: run_child(fn, empty), **sides}, repeat, warmup,
                  "start-up")
    fn_runs = runs["function"]
    wall, cpu = _both(fn_runs, runs["import yaml"])
    return [
        Row("start-up vs `python -c 'import yaml'`", "0", secs(median(fn_runs)),
            secs(median(runs["import yaml"])), f"{wall:.2f}x (cpu {cpu:.2f}x)",
            f"<= {STARTUP_RATIO}x", verdict(wall <= STARTUP_RATIO)),
        Row("start-up vs `python -c pass`", "0", secs(median(fn_runs)),
            secs(median(runs["pass"])), ratios(fn_runs, runs["pass"]), "(info)", ""),
    ]


def exec_line(argv: Sequence[str]) -> str:
    """A Kptfile ``exec:`` value: kpt splits it on spaces and resolves a relative program
    against its own working directory, so every part must be absolute and space-free."""
    if any(" " in part or not part for part in argv):
        raise SystemExit(f"cannot put {argv!r} in a Kptfile exec: (spaces in a path)")
    # abspath, not resolve(): a venv's python is a symlink that must stay one.
    parts = [os.path.abspath(argv[0]) if os.sep in argv[0] else argv[0], *argv[1:]]
    return " ".join(parts)


def bench_kpt(
    n: int, repeat: int, warmup: int, work: Path, kpt: str, fn: Sequence[str]
) -> Row:
    """``kpt fn render --allow-exec`` of the same package with the function vs the no-op, each
    run on a fresh copy of the unrendered package."""
    template = work / "kpt-template" / "bench-pkg"
    make_package(template, n, seqindent="mixed", exec_cmd=None)
    commands = {"function": exec_line(fn), "no-op": exec_line([sys.executable, str(NOOP_FN)])}
    counter = 0

    def render(which: str) -> Callable[[], Run]:
        def run() -> Run:
            nonlocal counter
            counter += 1
            pkg = work / f"kpt-run-{counter}" / "bench-pkg"
            shutil.copytree(template, pkg)
            write_kptfile(pkg, commands[which])
            try:
                return run_child([kpt, "fn", "render", "--allow-exec", str(pkg)], None)
            finally:
                shutil.rmtree(pkg.parent)

        return run

    log(f"kpt fn render at {size_label(n)}: repeat {repeat}")
    fn_runs, noop_runs = alternate(render("function"), render("no-op"), repeat, warmup,
                                   "render with function vs no-op")
    overhead = median(fn_runs) / median(noop_runs) - 1
    # kpt's rusage includes the exec functions it waited for.
    cpu_overhead = median_cpu(fn_runs) / median_cpu(noop_runs) - 1
    target, result = "(info)", ""
    if n == TARGET_SIZE:
        target, result = f"<= +{KPT_OVERHEAD:.0%}", verdict(overhead <= KPT_OVERHEAD)
    return Row("`kpt fn render`, function vs no-op exec", size_label(n), secs(median(fn_runs)),
               secs(median(noop_runs)), f"{overhead:+.0%} (cpu {cpu_overhead:+.0%})",
               target, result)


def scanner_of(fn: Sequence[str]) -> str:
    """Which scanner the function's interpreter runs (``yamlio.SCANNER``), when it is ours."""
    python = fn[0] if fn and "python" in Path(fn[0]).name else sys.executable
    done = subprocess.run(
        [python, "-c", "from merge_https_redirects import yamlio; print(yamlio.SCANNER)"],
        capture_output=True, text=True, check=False)
    scanner = done.stdout.strip() or "unknown"
    override = os.environ.get("MHR_SCANNER")
    return f"{scanner} (MHR_SCANNER={override})" if override else scanner


def build_info_of(fn: Sequence[str]) -> str:
    """What code the function runs (``--build-info``: compiled modules or Python sources)."""
    done = subprocess.run([*fn, "--build-info"], capture_output=True, text=True, check=False,
                          stdin=subprocess.DEVNULL)
    info = done.stdout.strip().partition(": ")[2] or "unknown"
    override = os.environ.get("MHR_PURE_PYTHON")
    return f"{info} (MHR_PURE_PYTHON={override})" if override else info


def parse_sizes(text: str) -> list[int]:
    try:
        sizes = [int(part.replace("_", "").replace("k", "000")) for part in text.split(",")]
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"bad --sizes {text!r}: {err}") from err
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError("--sizes needs positive item counts")
    return sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=parse_sizes, default=[1000, 10000, 50000],
                        help="item counts, comma-separated (default 1000,10000,50000)")
    parser.add_argument("--repeat", type=int,
                        help="timed runs of each side per size (default 5, 3 from 50k items)")
    parser.add_argument("--warmup", type=int, default=1,
                        help="untimed runs of each side before the timed ones (default 1)")
    parser.add_argument("--startup-repeat", type=int, default=15,
                        help="timed start-up runs of each side (default 15)")
    parser.add_argument("--kpt", action="store_true",
                        help="also compare `kpt fn render` with the function vs a no-op exec")
    parser.add_argument("--kpt-size", type=int, default=TARGET_SIZE)
    parser.add_argument("--kpt-repeat", type=int, default=3)
    parser.add_argument("--kpt-bin", default=shutil.which("kpt") or "/usr/bin/kpt")
    parser.add_argument("--fn", type=shlex.split, default=None,
                        help="command of the function (default: merge-https-redirects beside "
                        "this interpreter, else `python -m merge_https_redirects`)")
    parser.add_argument("--load-dump", action="store_true",
                        help="also measure PyYAML/libyaml load+dump (slow: ~4x the function)")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument("--workdir", type=Path, help="keep inputs here instead of a temp dir")
    args = parser.parse_args(argv)

    fn: list[str] = args.fn or default_fn_command()
    kpt: str | None = args.kpt_bin if args.kpt else None
    # Byte-compile the package first: an installed wheel ships .pyc files, and with
    # PYTHONDONTWRITEBYTECODE set an editable install would otherwise compile on every start.
    import compileall

    import merge_https_redirects

    compileall.compile_dir(Path(merge_https_redirects.__file__).parent, quiet=1)
    if kpt and not shutil.which(kpt):
        parser.error(f"--kpt: {kpt} not found")

    with tempfile.TemporaryDirectory(prefix="merge-https-redirects-bench-") as tmp:
        work = args.workdir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        fn_error: list[str] = []  # the first failure of the function; later runs skip it

        # Fail early and clearly when the function does not work at all.
        probe = work / "probe.yaml"
        probe.write_text(make_resource_list(20))
        try:
            summary = check_function(fn, probe, work / "probe-out.yaml")
            log(f"function: {shlex.join(fn)}: {summary}")
        except (ChildFailed, OSError) as err:
            fn_error.append(str(err))
            log(f"function {shlex.join(fn)} FAILED (see the end), measuring the baselines only")

        peer_list, skipped = peers(args.load_dump)
        for message in skipped:
            log(message)
        results = []
        for n in args.sizes:
            repeat = args.repeat or (3 if n >= 50_000 else 5)
            results.append(bench_size(n, repeat, args.warmup, work, fn, fn_error, peer_list))
        rows = size_rows(results, peer_list)
        rows.extend(
            bench_startup(args.startup_repeat, args.warmup, work, None if fn_error else fn)
        )
        if kpt and not fn_error:
            try:
                rows.append(
                    bench_kpt(args.kpt_size, args.kpt_repeat, args.warmup, work, kpt, fn)
                )
            except ChildFailed as err:
                fn_error.append(str(err))
                rows.append(Row("`kpt fn render`", size_label(args.kpt_size), "error", "", "",
                                "", "ERROR"))

    info = machine(kpt)
    info.append(("function", shlex.join(fn)))
    info.append(("scanner", scanner_of(fn)))
    info.append(("code", build_info_of(fn)))
    node = shutil.which("node")
    if node:
        info.append(("node", subprocess.run([node, "--version"], capture_output=True,
                                            text=True, check=False).stdout.strip()))
    info.extend(("skipped", message) for message in skipped)
    if args.markdown:
        print("\n".join(f"- {key}: `{value}`" for key, value in info))
        print()
        print(render_markdown(rows))
    else:
        print("\n".join(f"{key + ':':10} {value}" for key, value in info))
        print()
        print(render_text(rows))
    if fn_error:
        print(f"\nERROR: the function under test failed:\n{fn_error[0]}", file=sys.stderr)
        return 2
    return 1 if any(row.result.startswith("FAIL") for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
