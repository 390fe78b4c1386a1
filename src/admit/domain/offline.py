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
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

import orjson

from admit.domain.policy import Policy

SALT_BYTES = 16
HASH_CHARS = 32
PARTY_REF_CHARS = 12  # 48 bits: a day's parties never share one by chance
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


def reservation_json(
    day: date, start: time, end: time, version: int, party: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A live reservation as a bundle entry shows it; `version` grows with each move. `party` only for
    a reservation with others of its party in the slot (see `party_json`)."""
    shown = {
        "date": day.isoformat(),
        "start_time": start.isoformat(timespec="minutes"),
        "end_time": end.isoformat(timespec="minutes"),
        "version": version,
    }
    if party is not None:
        shown["party"] = party
    return shown


def party_ref(salt: bytes, party_id: str) -> str:
    """A party's name in one bundle: its members' entries share it, and it says nothing of the party id
    (which a member's page never shows either) nor of the same party in another bundle."""
    return hashlib.sha256(salt + b"party:" + party_id.encode()).hexdigest()[:PARTY_REF_CHARS]


def party_json(size: int, *, salt: bytes, party_id: str) -> dict[str, Any] | None:
    """A reservation's party in its slot, `size` live members booked together; None for one alone. The
    device counts the members it knows are in from the entries with the same `ref`."""
    return {"size": size, "ref": party_ref(salt, party_id)} if size >= 2 else None


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


# ---- the signed reservation QR ----
#
# `A1.<code>.<orq>.<ref>.<YYYYMMDD>.<HHMM>.<HHMM>.<version>.<signature>`: the ticket code, then a claim
# by the organization: which reservation (`ref`), its date and slot, and its version (it grows with each
# move), then the base64url Ed25519 signature of every byte before the last dot. About 150 characters,
# so a phone's screen shows it as a QR code any door camera reads.
#
# `ref` is a plain hash of the reservation id, never the id: the id lets its bearer move or cancel the
# booking, and a QR code is shown across a counter and photographed. The id has 128 random bits, so its
# hash cannot be turned back into it; 48 bits of it tell one ticket's few reservations apart.

QR_VERSION = "A1"
REF_BYTES = 6
SIGNATURE_CHARS = 86  # 64 bytes of base64url
# A typed code is at most 80 characters; a QR text is always longer than this.
QR_MIN_LENGTH = 100
_QR = re.compile(
    QR_VERSION + r"\.([0-9A-Z]{20})\.([1-9][0-9]{0,9})\.([A-Za-z0-9_-]{8})"
    r"\.([0-9]{8})\.([0-9]{4})\.([0-9]{4})\.(0|[1-9][0-9]{0,8})"
    # 64 bytes end in a character of which only two bits count: the one with the other four at zero,
    # so that a signature is written one way only.
    r"\.([A-Za-z0-9_-]{" + str(SIGNATURE_CHARS - 1) + "}[AQgw])"
)


@dataclass(frozen=True)
class ReservationClaim:
    """What the organization vouches for in a reservation's QR code."""

    orq: int
    ref: str
    day: date
    start: time
    end: time
    version: int


@dataclass(frozen=True)
class SignedQr:
    code: str
    claim: ReservationClaim
    message: bytes  # what the signature covers
    signature: str


def reservation_ref(reservation_id: str) -> str:
    return b64url(hashlib.sha256(reservation_id.encode()).digest()[:REF_BYTES])


def qr_message(code: str, claim: ReservationClaim) -> bytes:
    """The bytes the organization signs: the code and its claim, as the QR text starts."""
    return (
        f"{QR_VERSION}.{code}.{claim.orq}.{claim.ref}.{claim.day:%Y%m%d}."
        f"{claim.start:%H%M}.{claim.end:%H%M}.{claim.version}"
    ).encode()


def qr_text(message: bytes, signature: str) -> str:
    return f"{message.decode()}.{signature}"


def is_qr_text(text: str) -> bool:
    """Whether a scanned text is meant as a signed QR (it may still be malformed or forged)."""
    text = text.strip()
    return text.startswith(QR_VERSION + ".") and len(text) >= QR_MIN_LENGTH


def parse_qr(text: str) -> SignedQr:
    """The parts of a signed QR text, its signature not yet checked; ValueError if it is malformed."""
    match = _QR.fullmatch(text.strip())
    if match is None:
        raise ValueError("not a signed reservation QR")
    code, orq, ref, day, start, end, version, signature = match.groups()
    claim = ReservationClaim(
        orq=int(orq),
        ref=ref,
        day=datetime.strptime(day, "%Y%m%d").date(),
        start=datetime.strptime(start, "%H%M").time(),
        end=datetime.strptime(end, "%H%M").time(),
        version=int(version),
    )
    message = text.strip()[: -SIGNATURE_CHARS - 1].encode()
    return SignedQr(code, claim, message, signature)
