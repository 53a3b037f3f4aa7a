"""SHA-256 from the interpreter's builtin module: OpenSSL's, through hashlib, takes 5 ms to
load, and a run needs only a few thousand short digests (the same ones)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def _builtin_sha256() -> Callable[[bytes], Any]:
    # (a function, not an ``else:`` after ``if TYPE_CHECKING:``: mypyc compiles that branch
    # as unreachable)
    import importlib

    for name in ("_sha2", "_sha256"):  # Python 3.12+, then 3.11
        try:
            sha256: Callable[[bytes], Any] = importlib.import_module(name).sha256
        except ImportError:
            continue
        return sha256
    from hashlib import sha256 as openssl_sha256
    return openssl_sha256


_SHA256 = _builtin_sha256()


def sha256_hex(data: bytes) -> str:
    """The hex digest of ``data``."""
    digest: str = _SHA256(data).hexdigest()
    return digest
