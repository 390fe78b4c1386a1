"""The offline bundle's pure rules: the canonical JSON that is signed, and base64url."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from admit.domain.offline import b64url, canonical_json, entry_hash, from_b64url, signed_document, unsigned

# What a bundle holds: objects, lists, strings (any text an operator's name may hold), whole numbers,
# booleans and null.
JSON_TEXT = st.text(st.characters(exclude_categories=["Cs"]))
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | JSON_TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(JSON_TEXT, children, max_size=4),
    max_leaves=20,
)


@given(st.dictionaries(JSON_TEXT, JSON_VALUES, min_size=1, max_size=6))
def test_canonical_json_is_exactly_what_the_documented_json_dumps_writes(doc: dict[str, Any]) -> None:
    documented = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert canonical_json(doc) == documented


@given(st.dictionaries(JSON_TEXT, JSON_VALUES, min_size=1, max_size=6), JSON_TEXT)
def test_the_document_as_sent_reads_back_to_what_was_signed(doc: dict[str, Any], signature: str) -> None:
    doc.pop("signature", None)
    sent = json.loads(signed_document(canonical_json(doc), signature))
    assert unsigned(sent) == (canonical_json(doc), signature)


def test_the_entry_hash_of_a_known_code_and_salt() -> None:
    # sha256(bytes 0..15 + "0123456789ABCDEFGHJK"), first 32 hex characters, as sha256sum computes it.
    assert entry_hash(bytes(range(16)), "0123456789ABCDEFGHJK") == "b6bb0f61c0081efa1b41ef45d926a1bb"


@given(st.binary())
def test_base64url_round_trips_without_padding(data: bytes) -> None:
    text = b64url(data)
    assert "=" not in text and "+" not in text and "/" not in text
    if data:
        assert from_b64url(text) == data


@pytest.mark.parametrize("junk", ["", "a", "ab=c", "ab+c", "ab/c", "éé", "٣٣٣٣", "ab\nc"])
def test_anything_else_is_not_base64url(junk: str) -> None:
    with pytest.raises(ValueError):
        from_b64url(junk)
