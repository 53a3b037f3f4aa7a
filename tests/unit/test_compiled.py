"""The compiled modules (mypyc) and their Python sources: which runs, and how to choose (issue 19).

The golden suite and the fidelity property test run on both paths: this session on the one it
imports, tests/acceptance/test_scanner_paths.py on the others.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from merge_https_redirects import compiled

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "fn" / "merge_https_redirects"
IN_CI = os.environ.get("CI") == "true"
RESOURCE_LIST = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n"


def _python(code: str, **env: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], env={**os.environ, **env},
                          capture_output=True, text=True, check=True, cwd=REPO)
    return done.stdout.strip()


def test_every_listed_module_exists_and_imports_at_top_level() -> None:
    names = compiled.module_names()
    assert len(set(names)) == len(names) == len(compiled.MODULES)
    for path in compiled.MODULES:
        assert (PACKAGE / path).is_file(), path
        assert not path.endswith("__init__.py"), "the __init__ modules choose; they stay Python"


def test_setup_py_compiles_exactly_the_listed_modules(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = importlib.util.spec_from_file_location("setup_py", REPO / "setup.py")
    assert spec is not None
    assert spec.loader is not None
    setup_py = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(setup_py)  # defines, does not run setup() (not __main__)
    monkeypatch.chdir(REPO)  # where setuptools runs it
    assert setup_py.compiled_modules() == [
        f"fn/merge_https_redirects/{path}" for path in compiled.MODULES]


@pytest.mark.parametrize("path", compiled.MODULES)
def test_no_source_construct_mypyc_compiles_differently(path: str) -> None:
    """mypyc compiles an ``else:`` after ``if TYPE_CHECKING:`` as unreachable (the module then
    fails to import), ``functools.cached_property`` as a plain property (recomputed on every
    read: quadratic), gives a name one type per function, so ``except A as exc`` and
    ``except B as exc`` in one function make the second a TypeError, and a nested function
    and its scope refer to each other: a reference cycle that the disabled cyclic collector
    never frees (a ``functools.partial`` of a module function has none)."""
    tree = ast.parse((PACKAGE / path).read_text(encoding="utf-8"))
    for function in ast.walk(tree):
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            nested = [inner.name for inner in ast.walk(function) if inner is not function
                      and isinstance(inner, ast.FunctionDef | ast.AsyncFunctionDef)]
            assert not nested, f"{path}: {function.name} defines {nested}"
            caught: dict[str, set[str]] = {}
            for handler in ast.walk(function):
                if isinstance(handler, ast.ExceptHandler) and handler.name:
                    caught.setdefault(handler.name, set()).add(
                        ast.unparse(handler.type) if handler.type else "")
            mixed = {name: types for name, types in caught.items() if len(types) > 1}
            assert not mixed, f"{path}: {function.name}: {mixed}"
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) \
                and node.test.id == "TYPE_CHECKING":
            assert not node.orelse, f"{path}:{node.lineno}: else after if TYPE_CHECKING"
        if isinstance(node, ast.Name | ast.Attribute):
            name = node.id if isinstance(node, ast.Name) else node.attr
            assert name != "cached_property", f"{path}:{node.lineno}: cached_property"


def test_the_built_package_runs_compiled_modules() -> None:
    compiled_now = [name for name in compiled.module_names() if compiled.is_compiled(name)]
    if compiled.pure_python_requested():
        assert compiled_now == []
        pytest.skip(f"{compiled.PURE_PYTHON_ENV} is set: this session runs the sources")
    if not compiled_now:
        message = "the modules are not compiled here (no C compiler, or MHR_MYPYC=0)"
        if IN_CI:
            pytest.fail(message + " in CI: .ci/run installs gcc and pip builds with mypyc")
        pytest.skip(message)
    assert compiled_now == list(compiled.module_names()), "all of them or none"
    for name in compiled.module_names():
        module = sys.modules.get(name)
        if module is not None:
            assert not (module.__file__ or "").endswith(".py"), name


def test_no_compiled_module_is_older_than_its_source(stale_modules: list[str]) -> None:
    """An editable install builds the extensions beside the sources, and Python prefers them:
    after an edit, ``pip install -e . --no-deps`` must run again, or the tests would run the
    old code. (tests/conftest.py stops the session at the start for the same reason.)"""
    assert stale_modules == []


def test_pure_python_runs_no_compiled_code() -> None:
    code = ("import sys, io\n"
            "from merge_https_redirects.cli import main\n"
            f"sys.stdin = io.StringIO({RESOURCE_LIST!r})\n"
            "main([])\n"
            "from merge_https_redirects.yamlio import fast\n"
            "mods = [m.__file__ for n, m in list(sys.modules.items())\n"
            "        if n.startswith('merge_https_redirects') and getattr(m, '__file__', None)]\n"
            "print(fast.SCANNER, sum(not f.endswith('.py') for f in mods), len(mods) > 20)\n")
    out = _python(code, MHR_PURE_PYTHON="1", MHR_SCANNER="").splitlines()[-1]
    assert out == "python 0 True"


def test_build_info_says_what_runs() -> None:
    code = "from merge_https_redirects.cli import main; main(['--build-info'])"
    pure = _python(code, MHR_PURE_PYTHON="1", MHR_SCANNER="")
    assert pure == "merge-https-redirects 0.2.0: Python sources, the pure-Python scanner"
    default = _python(code, MHR_PURE_PYTHON="", MHR_SCANNER="python")
    total = len(compiled.MODULES)
    count = int(_python("from merge_https_redirects import compiled as c\n"
                        "print(sum(map(c.is_compiled, c.module_names())))",
                        MHR_PURE_PYTHON="", MHR_SCANNER="python"))
    if count:
        assert default == (f"merge-https-redirects 0.2.0: {count} of {total} modules compiled "
                           "by mypyc, the pure-Python scanner")
    else:
        assert default == "merge-https-redirects 0.2.0: Python sources, the pure-Python scanner"


@pytest.mark.parametrize(("env", "message"), [
    ({"MHR_PURE_PYTHON": "maybe"},
     "merge-https-redirects: MHR_PURE_PYTHON='maybe': use 1 (no compiled code) or 0"),
    ({"MHR_PURE_PYTHON": "1", "MHR_SCANNER": "c"},
     "merge-https-redirects: MHR_SCANNER=c contradicts MHR_PURE_PYTHON=1: unset one"),
])
def test_a_bad_choice_is_a_one_line_error_and_a_resource_list(
        env: dict[str, str], message: str) -> None:
    done = subprocess.run([sys.executable, "-m", "merge_https_redirects"],
                          env={**os.environ, "MHR_SCANNER": "", **env}, input=RESOURCE_LIST,
                          capture_output=True, text=True, check=False, cwd=REPO)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [message]
    assert "kind: ResourceList" in done.stdout
    assert "severity: error" in done.stdout
    assert "internal error" not in done.stdout + done.stderr


def test_a_type_error_in_compiled_code_runs_again_from_the_sources(
        monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    """A compiled module checks the type of every value it is given, where the sources take
    an unforeseen one in their stride: such a TypeError (none is known: this one is made up)
    means the same run again from the sources, whose answer is the output."""
    import io

    from merge_https_redirects import cli
    from merge_https_redirects.hosts import pipeline

    source = (REPO / "tests" / "golden" / "krm-fidelity-compact" / "input.yaml").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(source)))
    code = cli.main([])
    expected = capsysbinary.readouterr().out

    def refuse(*_args: object) -> object:
        raise TypeError("str object expected; got dict")

    monkeypatch.setattr(pipeline, "run_resource_list", refuse)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(source)))
    again = cli.main([])
    out, err = capsysbinary.readouterr()
    if not compiled.is_compiled("merge_https_redirects.hosts.pipeline"):
        assert again == 1
        assert b"internal error: TypeError: str object expected; got dict" in out
        return
    assert (again, out) == (code, expected)
    assert err.decode().splitlines()[0] == (
        "merge-https-redirects: note: compiled code refused a value (str object expected; got "
        "dict); running again from the Python sources (please report this with the input that "
        "caused it)")


def test_a_run_leaves_no_reference_cycles(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI turns the cyclic collector off (a large bundle's millions of objects would be
    rescanned for nothing): every object a run makes must be freed by reference counting, on
    either path (mypyc's scopes of nested functions were cycles: 55 MB more at 50k items)."""
    import gc
    import io

    from merge_https_redirects import cli

    cases = sorted((REPO / "tests" / "golden").glob("krm-*/input.yaml"))
    assert cases

    def run(source: bytes) -> None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(source)))
        monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(io.BytesIO()))
        cli.main([])

    run(cases[0].read_bytes())  # imports, first-use caches
    gc.collect()
    was = gc.get_debug()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for case in cases:
            run(case.read_bytes())
            gc.collect()
            left = {type(o).__name__ for o in gc.garbage}
            assert not left, f"{case.parent.name}: reference cycles of {sorted(left)}"
    finally:
        gc.set_debug(was)
        gc.garbage.clear()
