"""Ticket codes: enough entropy, forgiving to type, stored only as a keyed hash and a seal."""

from __future__ import annotations

import math

import pytest

from admit.security import codes
from admit.security.codes import CodeKeys

KEYS = CodeKeys("k" * 40)


def test_a_code_has_at_least_96_random_bits_in_16_or_more_characters() -> None:
    code = codes.new_code()
    assert len(code) >= 16
    assert len(code) * math.log2(len(codes.ALPHABET)) >= 96
    assert set(code) <= set(codes.ALPHABET)


def test_codes_do_not_repeat() -> None:
    assert len({codes.new_code() for _ in range(10_000)}) == 10_000


def test_the_alphabet_has_no_letters_that_read_as_others() -> None:
    assert not set("ILOU") & set(codes.ALPHABET)


@pytest.mark.parametrize(
    "typed",
    [
        "abcd-efgh-jkmn-pqrs-tvwx",
        " ABCD EFGH JKMN PQRS TVWX ",
        "abcdefghjkmnpqrstvwx",
        "ABCD_EFGH.JKMN-PQRS TVWX",
    ],
)
def test_typed_codes_are_case_and_space_forgiving(typed: str) -> None:
    assert codes.normalise(typed) == "ABCDEFGHJKMNPQRSTVWX"


def test_letters_misread_for_digits_are_read_as_the_digits() -> None:
    assert codes.normalise("O0I1L1" + "A" * 14) == "001111" + "A" * 14


@pytest.mark.parametrize(
    "junk", ["", "short", "A" * 21, "A" * 19, "é" * 20, "A" * 10_000, "ABCD\x00EFGHJKMNPQRSTVW"]
)
def test_anything_else_is_not_a_code(junk: str) -> None:
    assert codes.normalise(junk) is None


def test_the_stored_forms_do_not_contain_the_code_and_the_seal_opens_only_with_its_key() -> None:
    code = codes.new_code()
    sealed = KEYS.seal(code)
    assert code not in KEYS.lookup_hash(code)
    assert code not in sealed
    assert KEYS.unseal(sealed) == code
    with pytest.raises(ValueError, match="another key"):
        CodeKeys("z" * 40).unseal(sealed)
    assert CodeKeys("z" * 40).lookup_hash(code) != KEYS.lookup_hash(code)


def test_the_bulk_seal_hides_the_code_differs_each_time_and_opens_only_with_its_key() -> None:
    code = codes.new_code()
    sealed = KEYS.seal_for_bulk(code)
    assert code.encode() not in sealed
    assert KEYS.seal_for_bulk(code) != sealed  # a fresh nonce each time: equal codes do not show
    assert KEYS.unseal_bulk(sealed) == code
    with pytest.raises(ValueError, match="another key"):
        CodeKeys("z" * 40).unseal_bulk(sealed)
