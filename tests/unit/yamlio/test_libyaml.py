"""The libyaml sources the compiled scanner carries are upstream's 0.2.5 but for the marked
fast paths (``fn/merge_https_redirects/yamlio/libyaml/README.md``)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
LIBYAML = REPO / "fn" / "merge_https_redirects" / "yamlio" / "libyaml"
#: SHA-256 of the files of libyaml_0.2.5.orig.tar.gz (Debian bookworm).
UPSTREAM = {
    "License": "c40112449f254b9753045925248313e9270efa36d226b22d82d4cc6c43c57f29",
    "yaml.h": "de39c9fc2b2c8584775e6d0dc0f13c8e778ceba47d419cff9d85465ca35d6954",
    "yaml_private.h": "8dffe95c784665eba4ee88169456ebd41137a6d80ad13d536df6ad10d7a4d459",
    "api.c": "71f9263a2c77237762c8fa5e7c3d2bdd35723ecf1e2898222c7a603a5bf3f2db",
    "parser.c": "b418ed8d6ef7e86dbd0e59c8dc7a00c8e48200b0252dd41e25d00d4616c7b2dc",
    "reader.c": "c428a44b177391557bdf49177c1dc0216edf2a2bbe0e24ca2ef2725ef7f01e9d",
    "scanner.c": "bc3b30ceec0c696925e9703845874d7fafefb42bfbd3006dc4a02fc6d646f2d1",
}
BLOCK = re.compile(r"/\* merge-https-redirects: begin \(see README\.md\) \*/\n.*?"
                   r"/\* merge-https-redirects: end \*/\n\n?", re.S)
PATCHED = {"reader.c": 1, "scanner.c": 1}


@pytest.mark.parametrize("name", sorted(UPSTREAM))
def test_each_file_is_upstream_without_the_marked_blocks(name: str) -> None:
    text = (LIBYAML / name).read_bytes().decode()
    stripped, blocks = BLOCK.subn("", text)
    assert blocks == PATCHED.get(name, 0)
    assert "merge-https-redirects" not in stripped, "an unbalanced marker"
    assert hashlib.sha256(stripped.encode()).hexdigest() == UPSTREAM[name]


def test_nothing_else_is_carried() -> None:
    assert {p.name for p in LIBYAML.iterdir()} == {*UPSTREAM, "README.md"}
