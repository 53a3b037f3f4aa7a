"""The optional compiled scanner (``merge_https_redirects.yamlio._cscan``, over libyaml).

Everything else is in pyproject.toml. The extension is optional: where no C compiler or no
libyaml headers are found, the build says so and the package installs without it (the YAML layer
then runs its pure-Python scanner, with the same output). libyaml is linked statically where
its static library is installed (Debian's ``libyaml-dev``), so the wheel needs no libyaml at run
time; otherwise against ``libyaml.so``. ``MHR_BUILD_EXT=0`` builds without the extension.
"""

from __future__ import annotations

import os
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

SOURCE = "fn/merge_https_redirects/yamlio/_cscan.c"
#: Statically linked, libyaml allocates through _cscan.c's free lists (see "libyaml's allocations").
WRAP = ["-Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free,--wrap=strdup"]
STATIC = ["-Wl,-Bstatic", "-lyaml", "-Wl,-Bdynamic", *WRAP]


class OptionalBuildExt(build_ext):
    """build_ext that never fails the build: static libyaml, else shared, else no extension."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # no compiler at all (setuptools raises before compiling)
            self._skip(exc)

    def build_extension(self, ext: Extension) -> None:
        # the allocator of _cscan.c is compiled only where --wrap links libyaml to it
        for link_args, libraries, macros in ((STATIC, [], [("MHR_WRAP_MALLOC", "1")]),
                                             ([], ["yaml"], [])):
            ext.extra_link_args, ext.libraries, ext.define_macros = link_args, libraries, macros
            try:
                super().build_extension(ext)
                return
            except Exception as exc:
                error = exc
        self._skip(error)

    def _skip(self, exc: BaseException) -> None:
        print(f"warning: not building the compiled scanner ({exc}); the pure-Python scanner "
              "will run", file=sys.stderr)


ext_modules = []
if os.environ.get("MHR_BUILD_EXT", "1") != "0":
    ext_modules.append(Extension("merge_https_redirects.yamlio._cscan", [SOURCE],
                                 extra_compile_args=["-O2"], optional=True))

setup(ext_modules=ext_modules, cmdclass={"build_ext": OptionalBuildExt})
