"""The optional compiled code: the libyaml scanner and the modules mypyc compiles.

Everything else is in pyproject.toml. Both are optional (``merge_https_redirects.compiled``):

- the scanner (``merge_https_redirects.yamlio._cscan``, over libyaml 0.2.5, whose parser
  sources it carries in ``yamlio/libyaml/`` with two marked fast paths, see its README): where
  no C compiler is found, the build says so and the package installs without it (the YAML layer
  then runs its pure-Python scanner, with the same output). libyaml is compiled into the
  extension, so the wheel needs no libyaml at run time and the build no libyaml headers;
- the modules of ``compiled.MODULES``, compiled by mypyc (pinned in pyproject.toml's
  build-system) from the same sources: all of them or none (a module whose extension failed
  would shadow nothing, but a missing shared library would break them all).

``MHR_BUILD_EXT=0`` builds neither; ``MHR_MYPYC=0`` builds the scanner alone.
"""

from __future__ import annotations

import ast
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

LIBYAML = "fn/merge_https_redirects/yamlio/libyaml"
#: The scanner and the parts of libyaml a parser needs.
SOURCES = ["fn/merge_https_redirects/yamlio/_cscan.c",
           *(f"{LIBYAML}/{name}.c" for name in ("api", "reader", "scanner", "parser"))]
LIBYAML_MACROS = [("YAML_VERSION_MAJOR", "0"), ("YAML_VERSION_MINOR", "2"),
                  ("YAML_VERSION_PATCH", "5"), ("YAML_VERSION_STRING", '"0.2.5"')]
#: libyaml allocates through _cscan.c's free lists (see "libyaml's allocations" there).
WRAP = ["-Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free,--wrap=strdup"]


PACKAGE = Path("fn/merge_https_redirects")
SCANNER = "merge_https_redirects.yamlio._cscan"


def compiled_modules() -> list[str]:
    """``MODULES`` of compiled.py, read without importing the package."""
    tree = ast.parse((PACKAGE / "compiled.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                isinstance(target, ast.Name) and target.id == "MODULES"
                for target in node.targets):
            return [str(PACKAGE / path) for path in ast.literal_eval(node.value)]
    raise SystemExit("setup.py: compiled.py defines no MODULES")


def mypyc_extensions() -> list[Extension]:
    try:
        from mypyc.build import mypycify
    except ImportError as exc:
        print(f"warning: not compiling modules with mypyc ({exc})", file=sys.stderr)
        return []
    try:
        # multi_file: a C file per module, compiled in parallel (see OptionalBuildExt)
        return list(mypycify(compiled_modules(), opt_level="3", debug_level="0",
                             group_name="merge_https_redirects", multi_file=True))
    except SystemExit:  # mypyc printed the type errors that stopped it
        print("warning: not compiling modules with mypyc (see the errors above)",
              file=sys.stderr)
        return []
    except Exception as exc:
        print(f"warning: not compiling modules with mypyc ({exc})", file=sys.stderr)
        return []


class OptionalBuildExt(build_ext):
    """build_ext that never fails the build: static libyaml, else shared, else no scanner; the
    mypyc modules all, or none."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # no compiler at all (setuptools raises before compiling)
            self._skip(exc)

    def build_extensions(self) -> None:
        compile_one_by_one = self.compiler.compile

        def compile_in_parallel(sources: list[str], *args: object, **kwargs: object) -> list[str]:
            # each source in its own compiler process, as many at once as there are cores
            with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
                objects = pool.map(lambda source: compile_one_by_one([source], *args, **kwargs),
                                   sources)
                return [obj for chunk in objects for obj in chunk]

        self.compiler.compile = compile_in_parallel
        if getattr(self, "editable_mode", False) or self.inplace:
            # No extension of an earlier editable build beside the sources (one of a module
            # no longer compiled would shadow its source); this build's are copied there after.
            # (Only then: a wheel built from this tree must leave the editable install alone.)
            for built in (*PACKAGE.rglob("*.so"), *PACKAGE.parent.glob("*__mypyc*.so")):
                built.unlink()
        else:  # nor in the build directory of an earlier build of this tree
            wanted = {Path(self.get_ext_fullpath(ext.name)).resolve() for ext in self.extensions}
            for built in Path(self.build_lib, PACKAGE.name).rglob("*.so"):
                if built.resolve() not in wanted:
                    built.unlink()
        modules = [ext for ext in self.extensions if ext.name != SCANNER]
        for ext in self.extensions:
            if ext.name == SCANNER:
                self.build_scanner(ext)
        try:
            for ext in modules:
                self.build_extension(ext)
        except Exception as exc:
            for ext in modules:  # none, rather than some
                Path(self.get_ext_fullpath(ext.name)).unlink(missing_ok=True)
            print(f"warning: not compiling modules with mypyc ({exc}); their Python sources "
                  "will run", file=sys.stderr)

    def build_scanner(self, ext: Extension) -> None:
        # the allocator of _cscan.c is compiled only where the linker's --wrap routes
        # libyaml's allocations to it (GNU ld); elsewhere libyaml uses malloc
        for link_args, macros in ((WRAP, [("MHR_WRAP_MALLOC", "1")]), ([], [])):
            ext.extra_link_args, ext.define_macros = link_args, [*LIBYAML_MACROS, *macros]
            try:
                self.build_extension(ext)
                return
            except Exception as exc:
                error = exc
        self._skip(error)

    def _skip(self, exc: BaseException) -> None:
        print(f"warning: not building the compiled scanner ({exc}); the pure-Python scanner "
              "will run", file=sys.stderr)


def main() -> None:
    ext_modules = []
    if os.environ.get("MHR_BUILD_EXT", "1") != "0":
        ext_modules.append(Extension(
            SCANNER, SOURCES, include_dirs=[LIBYAML], optional=True,
            depends=[f"{LIBYAML}/yaml.h", f"{LIBYAML}/yaml_private.h"],
            extra_compile_args=["-O2", "-fvisibility=hidden"]))
        if os.environ.get("MHR_MYPYC", "1") != "0":
            ext_modules.extend(mypyc_extensions())
    setup(ext_modules=ext_modules, cmdclass={"build_ext": OptionalBuildExt})


if __name__ == "__main__":  # as setuptools runs it (the tests import it)
    main()
