"""merge-https-redirects: make cert-manager HTTP-01 challenges pass through Istio gateways."""

__version__ = "0.2.0"


def _choose_code() -> None:
    """``MHR_PURE_PYTHON=1``: every submodule from its source, none compiled (see
    :mod:`.compiled`); decided here, before any submodule is imported."""
    import sys

    from merge_https_redirects import compiled

    try:
        pure = compiled.pure_python_requested()
    except ImportError:  # a bad value: the YAML layer reports it, inside the CLI's error handling
        return
    if pure:
        sys.meta_path.insert(0, compiled.SourcesOnly(__name__))


_choose_code()
