"""Decoded input gives back the bytes it was read from (the CLI's rerun from the sources feeds
them to the child process; it keeps only the text, not a second copy of the input)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from merge_https_redirects import yamlio


@pytest.mark.parametrize("data", [
    b"", b"a: 1\n", b"\xef\xbb\xbfa: 1\n", b"a: 1\r\nb: 2\r\n", b"a: 1\rb: 2\r",
    "name: caf\u00e9\n".encode(), b"a: 1\r\nb: 2\n",
])
def test_encoded_is_what_decode_read(data: bytes) -> None:
    assert yamlio.decode(data).encoded() == data


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",),
                                      blacklist_characters="\x85\u2028\u2029\ufeff")),
       st.booleans())
def test_encoded_is_what_decode_read_for_any_text(body: str, bom: bool) -> None:
    data = (b"\xef\xbb\xbf" if bom else b"") + body.encode()
    try:
        text = yamlio.decode(data)
    except yamlio.YamlError:
        return
    assert text.encoded() == data
