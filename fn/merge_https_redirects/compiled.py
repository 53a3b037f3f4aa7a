"""Which code runs: the compiled modules or their Python sources (issue 19).

Built with a C compiler (setup.py), the package carries two kinds of compiled code: the
modules listed in :data:`MODULES`, compiled by mypyc from these same sources, and the libyaml
scanner of ResourceLists (``yamlio/_cscan.c``, see :mod:`.yamlio.fast`). Python prefers a
compiled module to its source, so both run by default. ``MHR_PURE_PYTHON=1`` runs none of
them: every module from its source and the pure-Python scanner, with identical output (the
test suite runs the golden cases and the fidelity property test on both).

Not compiled, on purpose: the package's ``__init__`` modules (which choose), the CLI and the
config reader (argument and FunctionConfig handling, run once), the protocols (annotations
only), this module, the hosts other than the KRM pipeline, and ``model/dedicated.py`` (the
dedicated Gateway's definition: the chart's tests change it and expect every caller to follow).
``--build-info`` says what runs.
"""

from __future__ import annotations

import importlib.machinery
import os
from collections.abc import Sequence
from types import ModuleType

#: The setting; an ImportError naming it (``name``) is the user's to fix, not a bug.
PURE_PYTHON_ENV = "MHR_PURE_PYTHON"
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("", "0", "false", "no", "off")

#: The modules setup.py compiles with mypyc, relative to the package (read there with ``ast``).
MODULES = (
    "hosts/pipeline.py",
    "model/certmanager.py",
    "model/certmanager_issuers.py",
    "model/digest.py",
    "model/envoy.py",
    "model/gateway.py",
    "model/gateway_api.py",
    "model/gateway_api_listeners.py",
    "model/gateway_api_routes.py",
    "model/host.py",
    "model/http01.py",
    "model/ingress.py",
    "model/istio.py",
    "model/record.py",
    "model/route.py",
    "model/routing.py",
    "model/values.py",
    "model/workloads.py",
    "results.py",
    "rewrite/gateway_api_pods.py",
    "rewrite/naming.py",
    "rewrite/plan.py",
    "rewrite/proof.py",
    "rewrite/refusal.py",
    "rewrite/resources.py",
    "rewrite/transform.py",
    "rewrite/virtual_services.py",
    "rules.py",
    "yamlio/build.py",
    "yamlio/emit.py",
    "yamlio/events.py",
    "yamlio/fast.py",
    "yamlio/resolve.py",
    "yamlio/scalars.py",
    "yamlio/scan.py",
    "yamlio/splice.py",
    "yamlio/text.py",
)


def module_names() -> tuple[str, ...]:
    """:data:`MODULES` as module names (``merge_https_redirects.model.envoy``)."""
    package = __name__.rpartition(".")[0]
    return tuple(f"{package}.{path.removesuffix('.py').replace('/', '.')}" for path in MODULES)


def pure_python_requested() -> bool:
    """Whether ``MHR_PURE_PYTHON`` asks for the sources (ImportError on a value it cannot read)."""
    value = os.environ.get(PURE_PYTHON_ENV, "").strip().lower()
    if value not in _TRUE + _FALSE:
        raise ImportError(f"{PURE_PYTHON_ENV}={value!r}: use 1 (no compiled code) or 0",
                          name=PURE_PYTHON_ENV)
    return value in _TRUE


def is_compiled(module_name: str) -> bool:
    """Whether ``module_name`` would run (or runs) from a compiled extension."""
    import importlib.util

    spec = importlib.util.find_spec(module_name)
    origin = (spec.origin if spec is not None else None) or ""
    return origin.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))


class SourcesOnly:
    """A meta path finder that loads this package's modules from their ``.py`` files only: a
    module with no source (the libyaml scanner) is not found, so the pure-Python scanner runs."""

    def __init__(self, package: str) -> None:
        self.prefix = package + "."

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if not fullname.startswith(self.prefix) or path is None:
            return None
        loader = (importlib.machinery.SourceFileLoader, importlib.machinery.SOURCE_SUFFIXES)
        for entry in path:
            spec = importlib.machinery.FileFinder(entry, loader).find_spec(fullname)
            if spec is not None:
                return spec
        raise ModuleNotFoundError(f"{PURE_PYTHON_ENV}=1: {fullname} has no Python source",
                                  name=fullname)
