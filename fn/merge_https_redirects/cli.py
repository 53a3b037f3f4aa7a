"""Command line: ``merge-https-redirects [--config FILE] [--in-place] [PATH...]`` and subcommands.

Input forms (chosen from the arguments and stdin):

- no PATH, stdin is a ResourceList → KRM function (kpt, kustomize): ResourceList out;
- no PATH, stdin is a plain YAML stream → stream filter (Helm post-renderer, Argo CD, pipes);
- PATH... → files and directories (``-`` is stdin); ``--in-place`` rewrites them.

Subcommands: ``explain PATH...``, ``chart [PATH...] --output DIR``,
``install-kustomize-plugin [--dir DIR]``, ``install-helm-plugin [--helm PATH]``.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Iterable, Sequence
from types import SimpleNamespace

from merge_https_redirects import __version__

TYPE_CHECKING = False  # what follows is for annotations only, never needed at run time
if TYPE_CHECKING:
    import argparse
    from typing import Any, NoReturn

EXIT_OK, EXIT_ERRORS, EXIT_USAGE = 0, 1, 2
SUBCOMMANDS = ("explain", "chart", "install-kustomize-plugin", "install-helm-plugin", "check")
#: Where to write the findings when the host passes no arguments (Helm 4 plugins, Argo CD).
REPORT_ENV = "MHR_REPORT"
DOCS_URL = "https://github.com/merge-https-redirects/merge-https-redirects"
#: The settings that choose the code that runs (see :mod:`.compiled`): a bad value is the
#: user's to fix, reported in one line.
SCANNER_ENV, PURE_PYTHON_ENV = "MHR_SCANNER", "MHR_PURE_PYTHON"


def _help_epilog() -> str:
    from merge_https_redirects.config import API_VERSION, KIND, reference_text
    from merge_https_redirects.rules import rules_text

    return f"""\
input forms:
  stdin ResourceList  KRM function (kpt fn eval/render, kustomize):
                      ResourceList out
  stdin YAML stream   stream filter (helm --post-renderer, Argo CD):
                      stream out, findings on stderr
  PATH...             files/directories (*.yaml, *.yml, recursive; '-' = stdin)

subcommands:
  check PATH...                  mode check on files: findings on stdout, exit 1
                                 when an HTTP-01 challenge would fail
  explain PATH...                per DNS name: issuer, solver, HTTP-01 verdict
                                 before and after the rewrite (Markdown table)
  chart [PATH...] --output DIR   write a Helm chart of the dedicated Gateways
  install-kustomize-plugin [--dir D]
                                 install the legacy kustomize exec plugin
  install-helm-plugin [--helm PATH]
                                 install the Helm 4 post-renderer plugin

exit codes: 0 ok, 1 error results (or warnings with failOn: warning) or refused
input, 2 usage error

FunctionConfig: a ConfigMap (data values are strings) or
  apiVersion: {API_VERSION}
  kind: {KIND}
  metadata: {{name: merge-https-redirects}}
  <field>: <value>
fields:
{reference_text()}

findings (stable IDs, in each result's tags.rule):
{rules_text()}

full reference:
  {DOCS_URL}#functionconfig
  {DOCS_URL}#results
"""


def _parser() -> argparse.ArgumentParser:
    import argparse

    parser = argparse.ArgumentParser(
        prog="merge-https-redirects",
        description=(
            "Make cert-manager HTTP-01 challenges pass through Istio: remove port-80\n"
            "httpsRedirect servers and serve the redirect from one dedicated Gateway\n"
            '(hosts ["*"]) per gateway workload, proven by simulating istiod and Envoy.'
        ),
        epilog=_help_epilog(),
        # 80 columns whatever the terminal: the text is laid out for that width.
        formatter_class=lambda prog: argparse.RawDescriptionHelpFormatter(prog, width=80),
    )
    parser.add_argument("paths", nargs="*", metavar="PATH",
                        help="files or directories to read ('-' = stdin); none: read stdin")
    parser.add_argument("--config", metavar="FILE",
                        help="FunctionConfig file (ConfigMap or MergeHttpsRedirects)")
    parser.add_argument("--in-place", action="store_true",
                        help="rewrite the files instead of printing the result")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a FunctionConfig field, as in the ConfigMap form (repeatable; "
                        "instead of --config)")
    parser.add_argument("--report", metavar="FILE",
                        help="also write the findings to FILE as a kpt FunctionResultList "
                        f"(or set {REPORT_ENV}=FILE: for hosts that pass no arguments)")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")

    class BuildInfo(argparse.Action):
        def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                     values: object, option_string: str | None = None) -> None:
            print(f"{parser.prog} {__version__}: {what_runs()}")
            parser.exit()

    parser.add_argument("--build-info", action=BuildInfo, nargs=0,
                        help="show which code runs (compiled or the Python sources), then exit")
    return parser


def what_runs() -> str:
    """Which code runs: how many of :data:`.compiled.MODULES` are compiled, and which scanner."""
    from merge_https_redirects import compiled
    from merge_https_redirects.yamlio import fast

    names = compiled.module_names()
    count = sum(compiled.is_compiled(name) for name in names)
    scanner = "the libyaml scanner" if fast.SCANNER == "c" else "the pure-Python scanner"
    if count == 0:
        return f"Python sources, {scanner}"
    return f"{count} of {len(names)} modules compiled by mypyc, {scanner}"


#: What was read from stdin (the bytes, or once decoded their text): for a run again from the
#: sources.
_stdin_read: list[Any] = [None]


def _rerun_from_sources(args: list[str], error: Exception) -> int | None:
    """The run again, from the Python sources, after a TypeError in compiled code, if nothing
    was written yet. mypyc checks every typed value a compiled module is given, where the
    sources (which define the output) take a value of an unforeseen type in their stride; a
    malformed input must not become an internal error for that. ``None``: not possible."""
    import subprocess

    from merge_https_redirects import compiled

    # (under MHR_PURE_PYTHON=1 nothing is compiled: no rerun)
    if _started[0] or "--in-place" in args or not compiled.is_compiled(
            "merge_https_redirects.hosts.pipeline"):
        return None
    sys.stderr.write(f"merge-https-redirects: note: compiled code refused a value "
                     f"({error}); running again from the Python sources (please report this "
                     "with the input that caused it)\n")
    env = {key: value for key, value in os.environ.items() if key != SCANNER_ENV}
    read = _stdin_read[0]
    stdin = read if read is None or isinstance(read, bytes) else read.encoded()
    done = subprocess.run([sys.executable, "-m", "merge_https_redirects", *args],
                          env={**env, PURE_PYTHON_ENV: "1"}, input=stdin,
                          stdin=subprocess.DEVNULL if stdin is None else None,
                          capture_output=True, check=False)
    sys.stdout.flush()
    sys.stdout.buffer.write(done.stdout)
    sys.stdout.flush()
    sys.stderr.buffer.write(done.stderr)
    return done.returncode


_started = [False]  # whether any output reached stdout (the last-resort answer needs to know)


def _emit(run_stdout: bytes | Iterable[bytes], lines: Sequence[str]) -> None:
    for line in lines:
        sys.stderr.write(line + "\n")
    sys.stderr.flush()
    out = sys.stdout.buffer
    for chunk in [run_stdout] if isinstance(run_stdout, bytes) else run_stdout:
        if chunk:
            _started[0] = True
            out.write(chunk)
    out.flush()


def _last_resort(argv: Sequence[str], message: str) -> int:
    """One line on stderr; and, called as kpt and kustomize call a function (no argument)
    before anything reached stdout, a ResourceList carrying the error: the host always gets
    one. Built from plain strings: whatever failed must not be needed to say so."""
    sys.stderr.write(message + "\n")
    if not argv and not _started[0]:
        quoted = message.replace("\\", "\\\\").replace('"', '\\"')
        try:
            sys.stdout.write(
                "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n"
                f'results:\n- message: "{quoted}"\n  severity: error\n'
                "  tags:\n    rule: MHR101\n    name: invalid-input\n")
            sys.stdout.flush()
        except (OSError, ValueError):
            pass
    return EXIT_ERRORS


def _load_config_file(path: str) -> tuple[object, str | None]:
    from pathlib import Path

    from merge_https_redirects import yamlio

    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        return None, f"{path}: cannot read ({exc.strerror})"
    try:
        docs = [d for d in yamlio.loads_all(yamlio.decode(data).body) if d is not None]
    except yamlio.YamlError as exc:
        return None, f"{path}: {exc}"
    if len(docs) != 1:
        return None, f"{path}: expected one FunctionConfig document, found {len(docs)}"
    return docs[0], None


def run(argv: Sequence[str]) -> int:
    if argv and argv[0] == "check":
        return _check(list(argv[1:]))
    if argv and argv[0] in SUBCOMMANDS:
        return _subcommand(argv[0], list(argv[1:]))
    # kpt and kustomize call the function with no argument: skip argparse (start-up time).
    args: Any = (_parser().parse_args(argv) if argv else
                 SimpleNamespace(paths=[], config=None, in_place=False, set=[], report=None))
    code, results = _main(args)
    return _reported(args.report, results, code)


def _reported(path: str | None, results: Sequence[Any] | None, code: int) -> int:
    """``code``, once the findings are in the report (``--report``, else ``MHR_REPORT``);
    a report that cannot be written fails the run."""
    report = path or os.environ.get(REPORT_ENV) or None
    if report is not None and results is not None:
        problem = _write_report(report, results, code)
        if problem is not None:
            sys.stderr.write(problem + "\n")
            return EXIT_ERRORS
    return code


def _write_report(path: str, results: Sequence[Any], code: int) -> str | None:
    """The findings as ``kpt fn render --results-dir`` writes them (a FunctionResultList),
    atomically; the one-line problem when it cannot be written."""
    from pathlib import Path

    from merge_https_redirects import yamlio
    from merge_https_redirects.hosts.files import atomic_write

    doc = {"apiVersion": "kpt.dev/v1", "kind": "FunctionResultList",
           "metadata": {"name": "fnresults"}, "exitCode": code,
           "items": [{"exec": "merge-https-redirects", "exitCode": code,
                      "results": [r.to_krm() for r in results]}]}
    target = Path(path)
    try:
        if target.is_dir():
            target = target / "results.yaml"
        atomic_write(target, yamlio.dumps(doc).encode("utf-8"))
    except OSError as exc:
        return f"error MHR102 {path}: cannot write the report ({exc.strerror})"
    return None


def _check(argv: list[str]) -> int:
    """``check PATH...``: mode check on files (CI, pre-commit): the findings on stdout, exit 1
    when a name fails."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="merge-https-redirects check",
        description="Report, per DNS name, whether cert-manager's HTTP-01 challenge would "
        "pass; change nothing. Exit 1 when a name fails.")
    parser.add_argument("paths", nargs="+", metavar="PATH",
                        help="files or directories to read ('-' = stdin)")
    parser.add_argument("--config", metavar="FILE", help="FunctionConfig file")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a FunctionConfig field (repeatable)")
    parser.add_argument("--report", metavar="FILE", help="also write the findings to FILE")
    args = parser.parse_args(argv)
    args.in_place = False
    code, results = _main(args, mode="check")
    for result in results or ():
        sys.stdout.write(result.one_line() + "\n")
    return _reported(args.report, results, code)


def _set_config(pairs: Sequence[str]) -> tuple[dict[str, Any] | None, str | None]:
    """``--set KEY=VALUE`` as the ConfigMap form's ``data`` (the last value of a key wins)."""
    data: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            return None, f"--set {pair!r}: expected KEY=VALUE"
        data[key] = value
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "--set"},
            "data": data}, None


def _main(args: Any, *, mode: str | None = None) -> tuple[int, list[Any] | None]:
    """One run: prints the output and the findings; returns the exit code and the findings
    (``None`` for a usage error). ``mode``: forced over the config's (``check``), and then
    nothing is printed: the caller prints the findings."""
    quiet = mode is not None
    from merge_https_redirects import yamlio
    from merge_https_redirects.config import Config, ConfigProblems, parse_config
    from merge_https_redirects.hosts import pipeline
    from merge_https_redirects.results import Result, sorted_results
    from merge_https_redirects.rules import rule

    if args.in_place and not args.paths:
        sys.stderr.write("merge-https-redirects: --in-place needs at least one PATH\n")
        return EXIT_USAGE, None
    if args.set and args.config is not None:
        sys.stderr.write("merge-https-redirects: use --config FILE or --set KEY=VALUE, "
                         "not both\n")
        return EXIT_USAGE, None
    stdin_bytes: bytes | None = None
    if not args.paths and sys.stdin.isatty():
        sys.stderr.write("merge-https-redirects: reads a ResourceList or a YAML stream on stdin, "
                         "or PATH arguments (see --help)\n")
        return EXIT_USAGE, None
    if not args.paths or "-" in args.paths:
        # Read one byte past the limit, never more: a huge input costs no more than that.
        stdin_bytes = sys.stdin.buffer.read(yamlio.MAX_INPUT_BYTES + 1)
        _stdin_read[0] = stdin_bytes
    config_given = args.config is not None or bool(args.set)
    config = Config()
    if config_given:
        where = args.config or "--set"
        raw, problem = (_load_config_file(args.config) if args.config is not None
                        else _set_config(args.set))
        if problem is None:
            try:
                config = parse_config(raw)
            except ConfigProblems as exc:
                from merge_https_redirects.results import FileRef

                found = [r._replace(file=FileRef(where)) for r in sorted_results(exc.results)]
                _emit(stdin_bytes if not args.paths and stdin_bytes and not quiet else b"",
                      [r.one_line() for r in found])
                return EXIT_ERRORS, found
        if problem is not None:
            failed = Result(rule("MHR100"), problem)
            _emit(stdin_bytes if not args.paths and stdin_bytes and not quiet else b"",
                  [failed.one_line()])
            return EXIT_ERRORS, [failed]
    if mode is not None:
        config = config._replace(mode=mode)
    if args.paths:
        from merge_https_redirects.hosts.files import run_files

        result = run_files(args.paths, config, in_place=args.in_place, stdin=stdin_bytes)
    else:
        assert stdin_bytes is not None
        try:
            text = yamlio.decode(stdin_bytes)
        except yamlio.YamlError as exc:
            error = pipeline.input_error(exc, "<stdin>")
            head = stdin_bytes[:65536]
            if not config_given and b"ResourceList" in head and b"items" in head:
                # A ResourceList we cannot decode: still answer with one (kpt needs it).
                broken = pipeline.broken_resource_list(head.decode("utf-8", "replace"), error)
                _emit(broken.stdout, broken.stderr_lines())
                return EXIT_ERRORS, [error]
            _emit(b"", [error.one_line()])
            return EXIT_ERRORS, [error]
        del stdin_bytes  # the decoded text is all that is needed from here on
        _stdin_read[0] = text
        if not config_given and pipeline.detect_resource_list(text):
            result = pipeline.run_resource_list(text)
        else:
            result = pipeline.run_stream(text, config)
    if quiet:
        _emit(b"", [])
    else:
        _emit(result.chunks(), result.stderr_lines())
    return result.exit_code, result.results


def _subcommand(name: str, argv: list[str]) -> int:
    if name == "explain":
        from merge_https_redirects.hosts.subcommands import explain_main

        return explain_main(argv)
    if name == "chart":
        from merge_https_redirects.chart import generator as chart
        from merge_https_redirects.hosts.subcommands import BundleError, plan_dedicated

        def plan(paths: list[str], config_path: str | None) -> list[dict[str, Any]]:
            try:
                return plan_dedicated(paths, config_path)
            except BundleError as exc:  # a refusal with its reason, not an internal error
                raise chart.ChartError(str(exc)) from None

        return chart.main(argv, plan=plan)
    if name == "install-helm-plugin":
        from merge_https_redirects.hosts import helm_plugin

        return helm_plugin.main(argv)
    from merge_https_redirects.hosts import kustomize_plugin

    return kustomize_plugin.main(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point: never lets a traceback reach the user. Without ``argv`` (the
    console script, ``python -m``) the process ends here, once the output is flushed."""
    code = _guarded(argv)
    if argv is None:
        _exit_now(code)
    return code


def _exit_now(code: int) -> NoReturn:
    """Ends the process without the interpreter's teardown, which would free the millions of
    objects of a large bundle one by one (2 % of a run; mypy's ``fast_exit`` does the same).
    Every file the run wrote is closed by now; standard output and error are flushed here."""
    try:
        sys.stdout.flush()
    except (OSError, ValueError):  # the reader went away
        code = code or EXIT_ERRORS
    import contextlib

    with contextlib.suppress(OSError, ValueError):
        sys.stderr.flush()
    os._exit(code)


def _guarded(argv: Sequence[str] | None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    _started[0] = False
    _stdin_read[0] = None
    # One run, then exit: the cyclic garbage collector would only rescan the millions of
    # objects a large bundle builds (none of them in reference cycles) -- superlinear time.
    gc.disable()
    try:
        return run(args)
    except KeyboardInterrupt:
        sys.stderr.write("merge-https-redirects: interrupted\n")
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): nothing more to say.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_ERRORS
    except RecursionError:
        return _last_resort(args, "error MHR101: input nested too deeply")
    except MemoryError:
        return _last_resort(args, "error MHR101: input too large for the available memory")
    except Exception as exc:  # the last line of defence: one line, never a traceback
        # a setting, not a bug
        if isinstance(exc, ImportError) and exc.name in (SCANNER_ENV, PURE_PYTHON_ENV):
            return _last_resort(args, f"merge-https-redirects: {exc}")
        if isinstance(exc, TypeError) and (code := _rerun_from_sources(args, exc)) is not None:
            return code
        return _last_resort(args, (
            f"merge-https-redirects: internal error: {type(exc).__name__}: {exc} "
            "(please report this with the input that caused it)"))
    finally:
        if argv is not None:  # called as a library (tests): leave the interpreter as it was
            gc.enable()
