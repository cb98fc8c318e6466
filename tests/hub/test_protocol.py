"""Parsing of hub requests."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from django_push.hub.protocol import decode_unreserved


def test_decodes_unreserved_only():
    assert decode_unreserved("http://a/%7Euser/%41%2d%2E%5F") == "http://a/~user/A-._"
    assert (
        decode_unreserved("http://a/b%2Fc%3Fd%26e%20f") == "http://a/b%2Fc%3Fd%26e%20f"
    )
    assert decode_unreserved("http://a/%zz%4") == "http://a/%zz%4"


@given(st.text(max_size=40))
def test_decoding_is_idempotent_and_keeps_reserved_escapes(text):
    once = decode_unreserved(text)
    assert decode_unreserved(once) == once
    for escape in re.findall(r"%[0-9A-Fa-f]{2}", once):
        char = chr(int(escape[1:], 16))
        assert not (char.isascii() and (char.isalnum() or char in "-._~"))
