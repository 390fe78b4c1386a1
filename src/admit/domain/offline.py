"""The offline bundle's rules: how a code is hashed, how the document is written and what is signed.

A scanner that has lost the network decides from a bundle: one entry per ticket, keyed by a salted
hash of its code, signed by the organization's Ed25519 key. The device checks the signature over the
bundle's canonical JSON, then hashes what it scans with the bundle's salt and looks the hash up.

- `h`: the lowercase hex SHA-256 of the salt's bytes followed by the normalised code (ASCII), cut to
  32 characters (128 bits). A fresh random salt per full bundle, so hashes from one bundle say
  nothing about another's, and a delta continues the salt of the bundle it updates.
- Canonical JSON: keys sorted, no whitespace, UTF-8 unescaped, exactly what
  `json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)` writes.
- `signature`: base64url (no padding) of the Ed25519 signature of the canonical JSON of the document
  without its `signature` field. Binary values (salt, public key) are base64url without padding too.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from datetime import date, datetime, time
from typing import Any

import orjson

from admit.domain.policy import Policy

SALT_BYTES = 16
HASH_CHARS = 32
SIGNATURE = "signature"
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")


def entry_hash(salt: bytes, code: str) -> str:
    """The bundle's key for a normalised ticket code."""
    return hashlib.sha256(salt + code.encode()).hexdigest()[:HASH_CHARS]


def canonical_json(doc: dict[str, Any]) -> bytes:
    """The bytes that are signed. orjson writes what the module docstring's `json.dumps` writes (a unit
    test holds them equal), about seven times faster: a 100,000-ticket bundle is 18 MB of JSON."""
    return orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)


def signed_document(canonical: bytes, signature: str) -> bytes:
    """The document as sent: its canonical JSON with the signature put in first.

    A reader parses it and writes it canonically without `signature` to check it, so the field's
    place does not matter; putting it first spares writing 18 MB of JSON twice.
    """
    if not canonical.startswith(b"{") or canonical == b"{}":
        raise ValueError("a bundle is a non-empty JSON object")
    return b'{"' + SIGNATURE.encode() + b'":' + orjson.dumps(signature) + b"," + canonical[1:]


def unsigned(doc: dict[str, Any]) -> tuple[bytes, str]:
    """(canonical JSON without the signature, the signature) of a received document."""
    rest = {key: value for key, value in doc.items() if key != SIGNATURE}
    signature = doc.get(SIGNATURE)
    if not isinstance(signature, str):
        raise ValueError("the document has no signature")
    return canonical_json(rest), signature


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def from_b64url(text: str) -> bytes:
    """Bytes of unpadded base64url; ValueError for anything else."""
    if not _BASE64URL.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error as exc:
        raise ValueError("not base64url") from exc


def policy_json(policy: Policy) -> dict[str, Any]:
    """What the door's rules need of the policy, written as the organization API writes it."""
    window = policy.entry_window
    return {
        "unreserved_entry": policy.unreserved_entry.value,
        "entry_window": "day"
        if window.is_day
        else {
            "minutes_before_start": window.minutes_before_start or 0,
            "minutes_after_end": window.minutes_after_end or 0,
        },
    }


def reservation_json(day: date, start: time, end: time, version: int) -> dict[str, Any]:
    """A live reservation as a bundle entry shows it; `version` grows with each move."""
    return {
        "date": day.isoformat(),
        "start_time": start.isoformat(timespec="minutes"),
        "end_time": end.isoformat(timespec="minutes"),
        "version": version,
    }


def ticket_entry(
    h: str,
    *,
    status: str,
    valid_until: date | None,
    reservation: dict[str, Any] | None,
    verified_at_local: datetime | None,
    verified_by: str | None,
) -> dict[str, Any]:
    """One ticket as the device needs it to decide alone. `verified_at_local` is aware, venue time."""
    return {
        "h": h,
        "status": status,
        "valid_until": valid_until.isoformat() if valid_until else None,
        "reservation": reservation,
        "verified_at": verified_at_local.isoformat() if verified_at_local else None,
        "verified_by": verified_by,
    }
