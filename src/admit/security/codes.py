"""Ticket codes: the holder's bearer credential.

A code is 20 characters of Crockford's base32 (100 random bits), without the letters that are easy to
misread (I, L, O, U). It is stored only as a keyed hash, for look-up, and sealed with the server's
key, so that the confirmation e-mail and QR code can show it again: a copy of the database alone
hands out no usable code.

Each code is sealed twice with keys of the same secret: with Fernet, and with AES-GCM for reading in
bulk. The offline bundle hashes every code of an organization with a fresh salt, so it must open
100,000 seals at once; Fernet takes about 16 µs a code (1.6 s for them all), AES-GCM under 1 µs.

A visitor found by the door's search is given to the scanner as a search reference, never as the code:
the code sealed with a key of its own for the operator who searched, until a moment soon after. Only
this server can open it, and for that operator only; an altered byte or a late tap opens nothing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from datetime import UTC, datetime

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from admit import errors

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 20
_READS_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = re.compile(r"[\s\-_.]+")
_VALID = re.compile(f"[{ALPHABET}]{{{LENGTH}}}")
_VALID_END = re.compile(f"[{ALPHABET}]+")
_NONCE_BYTES = 12  # AES-GCM's standard nonce, random per seal
_EXPIRY_BYTES = 8  # a search reference's expiry: whole seconds since 1970, before its code


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalise(raw: str) -> str | None:
    """The canonical code for what a person typed or a scanner read, or None if it cannot be one."""
    if len(raw) > 4 * LENGTH:
        return None
    code = tidy(raw)
    return code if _VALID.fullmatch(code) else None


def tidy(raw: str) -> str:
    """What a person typed of a code, tidied as a whole code is: no separators, upper case, look-alikes
    read as digits; for matching the last characters of a code, not for finding a ticket."""
    return _SEPARATORS.sub("", raw).upper().translate(_READS_AS)


def code_end(raw: str, *, shortest: int) -> str | None:
    """The last characters of a code as someone read them out (at least `shortest`, fewer than a whole
    code), canonical like a code; None if they cannot be the end of one."""
    end = tidy(raw)
    return end if shortest <= len(end) < LENGTH and _VALID_END.fullmatch(end) else None


def display(code: str) -> str:
    """Groups of four, for reading aloud and typing."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def suffix(code: str) -> str:
    return code[-4:]


class CodeKeys:
    """The look-up hash and the seal, both derived from the server's secret key."""

    def __init__(self, secret_key: str) -> None:
        self._hash_key = derive_key(secret_key, b"ticket-code-lookup")
        self._fernet = Fernet(base64.urlsafe_b64encode(derive_key(secret_key, b"ticket-code-seal")))
        self._bulk = AESGCM(derive_key(secret_key, b"ticket-code-bulk-seal"))
        self._search = AESGCM(derive_key(secret_key, b"door-search-reference"))

    def lookup_hash(self, code: str) -> str:
        return hmac.new(self._hash_key, code.encode(), hashlib.sha256).hexdigest()

    def seal(self, code: str) -> str:
        return self._fernet.encrypt(code.encode()).decode()

    def unseal(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken as exc:  # the key changed since the code was issued
            raise ValueError("ticket code sealed with another key") from exc

    def seal_for_bulk(self, code: str) -> bytes:
        nonce = secrets.token_bytes(_NONCE_BYTES)
        return nonce + self._bulk.encrypt(nonce, code.encode(), None)

    def unseal_bulk(self, sealed: bytes) -> str:
        try:
            return self._bulk.decrypt(sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], None).decode()
        except InvalidTag as exc:
            raise ValueError("ticket code sealed with another key") from exc

    def search_ref(self, code: str, *, orq: int, operator_id: int, expires_at: datetime) -> str:
        """The opaque stand-in for a code that the door's search answers with (URL-safe base64)."""
        nonce = secrets.token_bytes(_NONCE_BYTES)
        opened = int(expires_at.timestamp()).to_bytes(_EXPIRY_BYTES, "big") + code.encode()
        sealed = self._search.encrypt(nonce, opened, _search_for(orq, operator_id))
        return base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=").decode()

    def open_search_ref(self, ref: str, *, orq: int, operator_id: int, now: datetime) -> str:
        """The code behind a search reference this operator was given, while it lasts."""
        try:
            raw = base64.urlsafe_b64decode(ref + "=" * (-len(ref) % 4))
            opened = self._search.decrypt(
                raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], _search_for(orq, operator_id)
            )
        except (binascii.Error, ValueError, InvalidTag):
            # Altered, made up, sealed with another key, or given to another operator: all alike.
            raise errors.InvalidSearchRef() from None
        expires_at = datetime.fromtimestamp(int.from_bytes(opened[:_EXPIRY_BYTES], "big"), UTC)
        if now >= expires_at:
            raise errors.SearchRefExpired()
        return opened[_EXPIRY_BYTES:].decode()


def _search_for(orq: int, operator_id: int) -> bytes:
    """Who a search reference was given to: sealed with it, so that nobody else can open it."""
    return f"search:{orq}:{operator_id}".encode()


def derive_key(secret_key: str, purpose: bytes) -> bytes:
    """A 32-byte key for one purpose, from the server's secret key."""
    return hmac.new(secret_key.encode(), purpose, hashlib.sha256).digest()
