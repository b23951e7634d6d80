"""The journal's pseudonyms are HMAC-SHA256 as the standard library computes it, cut short."""

from __future__ import annotations

import hmac

from hypothesis import given
from hypothesis import strategies as st

from batch.journal._keys import DIGEST_SIZE, Pseudonyms


@given(st.binary(min_size=1, max_size=100), st.text())
def test_digests_are_hmac_sha256(key, text):
    """Person and payload digests equal `hmac.digest` of the same key and text, for any key."""
    keys = Pseudonyms(key)

    def expected(data: str) -> bytes:
        return hmac.digest(key, data.encode("utf-8"), "sha256")[:DIGEST_SIZE]

    assert keys.payload(text) == expected(text)
    assert keys.person(text) == expected("person:" + text)
