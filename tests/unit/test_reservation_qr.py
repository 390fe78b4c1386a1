"""The signed reservation QR's text: it reads back, any change to it is caught, and it stays short."""

from __future__ import annotations

import hashlib
from datetime import date, time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from admit.domain.offline import (
    ReservationClaim,
    b64url,
    is_qr_text,
    parse_qr,
    qr_message,
    qr_text,
    reservation_ref,
)
from admit.security.offline import verify

KEY = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"qr unit test").digest())
PUBLIC = b64url(KEY.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))
CODE = "7KQ2M9XH4TBW3RZN6PCF"
CLAIM = ReservationClaim(
    orq=4242,
    ref=reservation_ref("Zx3kq9vR2mT8yW4nB6cD1fH5jL7pQ0sA"),
    day=date(2025, 11, 20),
    start=time(9, 30),
    end=time(10, 30),
    version=3,
)


def signed_text(code: str = CODE, claim: ReservationClaim = CLAIM) -> str:
    message = qr_message(code, claim)
    return qr_text(message, b64url(KEY.sign(message)))


def test_the_qr_text_reads_back_to_its_code_and_claim_and_its_signature_verifies() -> None:
    text = signed_text()
    signed = parse_qr(" " + text + "\n")  # as a scanner may send it
    assert (signed.code, signed.claim) == (CODE, CLAIM)
    assert verify(PUBLIC, signed.message, signed.signature)


def test_the_qr_text_is_short_enough_for_a_door_camera_even_for_large_numbers() -> None:
    biggest = ReservationClaim(9_999_999_999, CLAIM.ref, date(2099, 12, 31), time(23), time(23, 59), 99_999)
    assert len(signed_text(claim=biggest)) <= 160
    assert len(signed_text()) < 150


def test_the_claim_names_the_reservation_by_a_hash_never_by_its_id() -> None:
    reservation_id = "Zx3kq9vR2mT8yW4nB6cD1fH5jL7pQ0sA"
    assert reservation_id not in signed_text()
    assert len(CLAIM.ref) == 8


@pytest.mark.parametrize("position", range(len(signed_text())))
def test_changing_any_character_of_the_qr_text_is_caught(position: int) -> None:
    text = signed_text()
    changed = text[:position] + ("B" if text[position] != "B" else "C") + text[position + 1 :]
    try:
        signed = parse_qr(changed)
    except ValueError:
        return  # no longer of the form
    assert not verify(PUBLIC, signed.message, signed.signature)


def test_another_key_signature_does_not_verify() -> None:
    other = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"another organization").digest())
    message = qr_message(CODE, CLAIM)
    signed = parse_qr(qr_text(message, b64url(other.sign(message))))
    assert not verify(PUBLIC, signed.message, signed.signature)


@pytest.mark.parametrize(
    "text",
    [
        CODE,
        "7kq2-m9xh-4tbw-3rzn-6pcf",
        "A1." + CODE,  # typed with a dot: still a code, not a QR text
    ],
)
def test_a_typed_code_is_never_taken_for_a_qr_text(text: str) -> None:
    assert not is_qr_text(text)


@pytest.mark.parametrize(
    "text",
    [
        signed_text().replace(".20251120.", ".20251320."),  # no 13th month
        signed_text().replace(".0930.", ".0961."),
        signed_text()[:-1],  # a signature a character short
        signed_text().replace(f".{CLAIM.orq}.", ".04242."),  # numbers are written one way only
        signed_text().replace("A1.", "A2.", 1),
        signed_text()[:-1] + chr(ord(signed_text()[-1]) + 1),  # the same bytes, written another way
    ],
)
def test_a_malformed_qr_text_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_qr(text)
