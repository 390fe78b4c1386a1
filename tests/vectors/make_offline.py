"""Makes offline.json: the shared cases of the offline bundle's contract, as the server computes them.

Codes are normalised by the server's own `admit.security.codes.normalise`; entry hashes, canonical JSON
and Ed25519 signatures (`cryptography`, a fixed test key) follow the contract of the offline bundle. The
scanner's JavaScript (tests/js/) and the server's bundle are both checked against the file.

    .venv/bin/python -m tests.vectors.make_offline      # rewrite tests/vectors/offline.json

tests/unit/test_offline_vectors.py fails while the committed file differs from what this makes.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from dataclasses import replace
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from admit.domain import offline
from admit.security.codes import normalise
from admit.security.offline import verify

PATH = Path(__file__).with_name("offline.json")
# Fixed seeds, so that the file is the same on every run: these keys sign nothing but these vectors.
TEST_KEY = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"admit offline test vectors").digest())
OTHER_KEY = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"admit offline other key").digest())
SALT = "q9Zf3x2VbR7tLmK0pW1sHg"
OTHER_SALT = "Xo4bN8cYw2Jd6Ek1Fs5GtA"
ORQ = 7
PARTY_ID = "Pq7rS2tU4vW6xY8zA1bC3d"
KEY_ID = "test-2025-1"

TYPED: list[tuple[str, str]] = [
    ("as issued", "7KQ2M9XH4TBW3RZN6PCF"),
    ("lower case with dashes, as printed", "7kq2-m9xh-4tbw-3rzn-6pcf"),
    ("spaces and a trailing newline from a scanner", " 7KQ2 M9XH 4TBW 3RZN 6PCF \n"),
    ("underscores and dots", "7KQ2_M9XH.4TBW-3RZN 6PCF"),
    ("Unicode spaces: no-break, ideographic, thin, narrow", "7KQ2\xa0M9XH\u30004TBW\u20093RZN\u202f6PCF"),
    ("separators only Python's \\s knows (U+001C, U+0085)", "7KQ2\x1cM9XH\x854TBW3RZN6PCF"),
    ("O read as 0, I and L read as 1", "aOlI-1ooL-k7m3-p9r5-t2v8"),
    ("the same code as issued", "A0111001K7M3P9R5T2V8"),
    ("dotless i and long s upper-case into I and S", "7KQ2M9XH4TBW3RZN\u0131\u017fPC"),
    ("a ligature upper-cases into two letters", "7KQ2M9XH4TBW3RZN6P\ufb00"),
    ("80 characters with separators is still a code", "7KQ2" + " " * 60 + "M9XH4TBW3RZN6PCF"),
    ("81 characters is too long to be one", "7KQ2" + " " * 61 + "M9XH4TBW3RZN6PCF"),
    ("a byte-order mark is not a separator", "\ufeff7KQ2M9XH4TBW3RZN6PCF"),
    ("U is not in the alphabet", "7KQ2M9XH4TBW3RZN6PCU"),
    ("19 characters", "7KQ2M9XH4TBW3RZN6PC"),
    ("21 characters", "7KQ2M9XH4TBW3RZN6PCFA"),
    ("full-width letters are not the ASCII ones", "\uff17KQ2M9XH4TBW3RZN6PCF"),
    ("a Cyrillic look-alike", "7KQ2M9XH4TBW3RZN6P\u0421F"),
    ("nothing", ""),
]

CANONICAL: list[Any] = [
    # Python sorts keys by code point: U+FF01 before U+1F600, where UTF-16 units would put it after.
    {"z": 1, "é": 2, "a": {"b": [3, {"d": None, "c": True}]}, "\uff01": "wide", "\U0001f600": "emoji", "": 0},
    'quote" backslash\\ slash/ \b\f\n\r\t \x00\x01\x1f \x7f \u2028\u2029 é 日本 😀',
    [0, -1, 9007199254740991, -9007199254740991],
    {"empty": {}, "list": [], "nested": [[], [{}]]},
]
# Numbers Python and a browser cannot write alike once parsed: the device refuses them, so signed
# documents carry whole numbers only (within 2**53) and never floats.
REFUSED = ["0.5", "1e300", "9007199254740993"]


# Instants near midnight and across daylight-saving changes: "today" at the door is the venue's.
LOCAL_TIMES: list[tuple[str, str]] = [
    ("2025-11-20T08:30:00Z", "Europe/Amsterdam"),
    ("2025-11-20T23:30:00Z", "Europe/Amsterdam"),
    ("2025-03-30T00:59:59Z", "Europe/Amsterdam"),
    ("2025-03-30T01:00:00Z", "Europe/Amsterdam"),
    ("2025-10-26T00:30:00Z", "Europe/Amsterdam"),
    ("2025-10-26T01:30:00Z", "Europe/Amsterdam"),
    ("2025-11-20T09:30:00+01:00", "Europe/Amsterdam"),
    ("2025-11-21T03:30:00Z", "America/New_York"),
    ("2025-11-02T06:30:00Z", "America/New_York"),
    ("2025-11-20T11:14:59Z", "Pacific/Chatham"),
    ("2025-04-05T15:15:00Z", "Australia/Lord_Howe"),
    ("2025-11-20T18:29:59Z", "Asia/Kolkata"),
    ("2025-11-20T18:30:00Z", "Asia/Kolkata"),
    ("2025-11-20T12:00:00-05:00", "UTC"),
]


# The server's own rules (admit.domain.offline), so that the vectors say what the server does.
b64url = offline.b64url


def public_key(key: Ed25519PrivateKey) -> str:
    return b64url(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))


def canonical_json(doc: Any) -> str:
    return offline.canonical_json(doc).decode()


def entry_hash(salt: str, code: str) -> str:
    return offline.entry_hash(offline.from_b64url(salt), code)


def signed(doc: dict[str, Any], key: Ed25519PrivateKey = TEST_KEY) -> dict[str, Any]:
    body = {name: value for name, value in doc.items() if name != "signature"}
    return {**body, "signature": b64url(key.sign(canonical_json(body).encode()))}


def local_times() -> list[dict[str, str]]:
    return [
        {
            "instant": instant,
            "timezone": zone,
            "local": datetime.fromisoformat(instant)
            .astimezone(ZoneInfo(zone))
            .replace(tzinfo=None)
            .isoformat(),
        }
        for instant, zone in LOCAL_TIMES
    ]


def codes() -> list[dict[str, Any]]:
    cases = []
    for name, typed in TYPED:
        code = normalise(typed)
        cases.append(
            {
                "name": name,
                "typed": typed,
                "normalised": code,
                "h": entry_hash(SALT, code) if code else None,
                "h_other_salt": entry_hash(OTHER_SALT, code) if code else None,
            }
        )
    return cases


def bundle() -> dict[str, Any]:
    def entry(code: str, **fields: Any) -> dict[str, Any]:
        return {"h": entry_hash(SALT, code), **fields}

    return signed(
        {
            "orq": ORQ,
            "name": "Musée de la Ville — 東京 😀",
            "date": "2025-11-20",
            "timezone": "Europe/Amsterdam",
            "policy": {
                "unreserved_entry": "deny",
                "reservation_changes": "until_cutoff",
                "change_cutoff_hours": 24,
                "cancellation_allowed": True,
                "entry_window": {"minutes_before_start": 30, "minutes_after_end": 15},
            },
            "generated_at": "2025-11-20T08:00:00+01:00",
            "cursor": "1732086000-42",
            "salt": SALT,
            "key_id": KEY_ID,
            "tickets": [
                entry(
                    "7KQ2M9XH4TBW3RZN6PCF",
                    status="RESERVED",
                    valid_until=None,
                    reservation={
                        "date": "2025-11-20",
                        "start_time": "10:00",
                        "end_time": "11:00",
                        "party": offline.party_json(3, salt=offline.from_b64url(SALT), party_id=PARTY_ID),
                    },
                    verified_at=None,
                ),
                entry(
                    "A0111001K7M3P9R5T2V8",
                    status="VERIFIED",
                    valid_until="2026-11-20",
                    reservation={"date": "2025-11-20", "start_time": "09:00", "end_time": "10:00"},
                    verified_at="2025-11-20T09:30:00+01:00",
                    verified_by="Jane Smith",
                ),
                entry(
                    "7KQ2M9XH4TBW3RZN6PCS",
                    status="VOID",
                    valid_until=None,
                    reservation=None,
                    verified_at=None,
                ),
            ],
            "removed": [],
        }
    )


def tampered(genuine: dict[str, Any]) -> list[dict[str, Any]]:
    """Copies that the device must refuse, each with what was changed."""

    def changed(name: str, change: Any) -> dict[str, Any]:
        doc = copy.deepcopy(genuine)
        change(doc)
        return {"name": name, "document": doc}

    def flip_bit(doc: dict[str, Any]) -> None:
        raw = bytearray(base64.urlsafe_b64decode(doc["signature"] + "=="))
        raw[10] ^= 1
        doc["signature"] = b64url(bytes(raw))

    return [
        changed("a void ticket made reserved", lambda d: d["tickets"][2].update(status="RESERVED")),
        changed("a ticket added", lambda d: d["tickets"].append({**d["tickets"][0], "h": "0" * 32})),
        changed("a ticket removed", lambda d: d["tickets"].pop()),
        changed("the date moved", lambda d: d.update(date="2025-11-21")),
        changed("a field removed", lambda d: d.pop("removed")),
        changed("a field added", lambda d: d.update(extra=True)),
        changed("a number made a string", lambda d: d.update(orq=str(ORQ))),
        changed("one bit of the signature flipped", flip_bit),
        changed("the signature cut short", lambda d: d.update(signature=d["signature"][:-4])),
        changed("no signature", lambda d: d.pop("signature")),
        changed("the signature is not base64url", lambda d: d.update(signature="*" * 86)),
        changed("signed by another key", lambda d: d.update(signature=signed(d, OTHER_KEY)["signature"])),
    ]


QR_CODE = "7KQ2M9XH4TBW3RZN6PCF"
QR_CLAIM = offline.ReservationClaim(
    orq=ORQ,
    ref=offline.reservation_ref("Zx3kq9vR2mT8yW4nB6cD1fH5jL7pQ0sA"),
    day=date(2025, 11, 20),
    start=time(10, 0),
    end=time(11, 0),
    version=2,
)


def qr_of(claim: offline.ReservationClaim, key: Ed25519PrivateKey = TEST_KEY, code: str = QR_CODE) -> str:
    message = offline.qr_message(code, claim)
    return offline.qr_text(message, b64url(key.sign(message)))


def qr_cases() -> list[dict[str, Any]]:
    """Signed reservation QR texts, and what the server reads in each: parts, and whether the pinned key
    (`key`, organization ORQ) vouches for it. The server's own parser and verifier decide both."""
    genuine = qr_of(QR_CLAIM)
    flipped = bytearray(offline.from_b64url(genuine.rsplit(".", 1)[1]))
    flipped[10] ^= 1
    texts = [
        ("genuine", genuine),
        ("genuine, with a scanner's newline and spaces", f"  {genuine}\n"),
        (
            "moved: a later slot, a newer version",
            qr_of(replace(QR_CLAIM, start=time(14), end=time(15), version=3)),
        ),
        ("the date edited", genuine.replace(".20251120.", ".20251121.")),
        ("the slot edited", genuine.replace(".1000.1100.", ".0900.1700.")),
        ("the code edited", genuine.replace(QR_CODE, "7KQ2M9XH4TBW3RZN6PCG")),
        ("the version edited", genuine.replace(".2.", ".9.")),
        ("one bit of the signature flipped", genuine.rsplit(".", 1)[0] + "." + b64url(bytes(flipped))),
        ("signed by another key", qr_of(QR_CLAIM, OTHER_KEY)),
        ("another organization's claim, signed by this key", qr_of(replace(QR_CLAIM, orq=ORQ + 1))),
        ("the same signature bytes written another way", genuine[:-1] + chr(ord(genuine[-1]) + 1)),
        (
            "a month that does not exist",
            qr_of(replace(QR_CLAIM, day=date(2025, 11, 20))).replace(".2025112", ".2025132"),
        ),
        ("the signature cut short", genuine[:-2]),
        ("a version not of this format", genuine.replace("A1.", "A2.", 1)),
        ("a typed code", QR_CODE),
    ]
    key = public_key(TEST_KEY)
    cases = []
    for name, text in texts:
        parsed: dict[str, Any] | None = None
        valid = False
        if offline.is_qr_text(text):
            try:
                signed = offline.parse_qr(text)
            except ValueError:
                signed = None
            if signed is not None:
                claim = signed.claim
                parsed = {
                    "code": signed.code,
                    "orq": claim.orq,
                    "ref": claim.ref,
                    "date": claim.day.isoformat(),
                    "start_time": claim.start.isoformat(timespec="minutes"),
                    "end_time": claim.end.isoformat(timespec="minutes"),
                    "version": claim.version,
                }
                valid = claim.orq == ORQ and verify(key, signed.message, signed.signature)
        cases.append(
            {"name": name, "text": text, "is_qr": offline.is_qr_text(text), "parsed": parsed, "valid": valid}
        )
    return cases


def build() -> dict[str, Any]:
    genuine = bundle()
    reordered = dict(reversed(list(genuine.items())))
    reordered["tickets"] = [dict(reversed(list(entry.items()))) for entry in genuine["tickets"]]
    return {
        "about": (
            "Shared cases of the offline bundle's contract, made by make_offline.py with the server's own "
            "code rules. A code is normalised (upper case, separators and Python's whitespace removed, "
            "O read as 0, I and L as 1; null when it cannot be a code); a bundle entry's h is the lowercase "
            "hex SHA-256 of the bundle's salt bytes (sent as unpadded base64url) followed by the "
            "normalised code, "
            "first 32 characters. A signed document's signature is the base64url (no padding) Ed25519 "
            "signature of the UTF-8 canonical JSON of the document without `signature`: "
            "json.dumps(doc, sort_keys=True, separators=(',', ':'), ensure_ascii=False). Signed documents "
            "carry no floats and no whole numbers beyond 2**53. local_times: an instant as the venue's "
            "naive wall clock in its time zone, as the door's rules take it."
        ),
        "salt": SALT,
        "other_salt": OTHER_SALT,
        "codes": codes(),
        "local_times": local_times(),
        "canonical": [{"value": value, "canonical": canonical_json(value)} for value in CANONICAL],
        "canonical_refused": REFUSED,
        "key": {"orq": ORQ, "key_id": KEY_ID, "public_key": public_key(TEST_KEY)},
        "other_key": {"orq": ORQ, "key_id": "other-1", "public_key": public_key(OTHER_KEY)},
        "bundle": {
            "document": genuine,
            "canonical": canonical_json({k: v for k, v in genuine.items() if k != "signature"}),
        },
        "same_bundle_other_key_order": reordered,
        "tampered": tampered(genuine),
        "signed_by_other_key": signed({**genuine, "key_id": "other-1"}, OTHER_KEY),
        "qr": qr_cases(),
    }


def render() -> str:
    return json.dumps(build(), indent=2) + "\n"  # ASCII only: no invisible character in the file


if __name__ == "__main__":
    PATH.write_text(render(), encoding="utf-8")
