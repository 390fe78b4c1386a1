"""Ticket codes: the holder's bearer credential.

A code is 20 characters of Crockford's base32 (100 random bits), without the letters that are easy to
misread (I, L, O, U). It is stored only as a keyed hash, for look-up, and sealed with the server's
key, so that the confirmation e-mail and QR code can show it again: a copy of the database alone
hands out no usable code.

Each code is sealed twice with keys of the same secret: with Fernet, and with AES-GCM for reading in
bulk. The offline bundle hashes every code of an organization with a fresh salt, so it must open
100,000 seals at once; Fernet takes about 16 µs a code (1.6 s for them all), AES-GCM under 1 µs.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 20
_READS_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = re.compile(r"[\s\-_.]+")
_VALID = re.compile(f"[{ALPHABET}]{{{LENGTH}}}")
_NONCE_BYTES = 12  # AES-GCM's standard nonce, random per seal


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalise(raw: str) -> str | None:
    """The canonical code for what a person typed or a scanner read, or None if it cannot be one."""
    if len(raw) > 4 * LENGTH:
        return None
    code = as_typed(raw)
    return code if _VALID.fullmatch(code) else None


def as_typed(raw: str) -> str:
    """Typed characters as a code's: separators dropped, upper case, look-alike letters read as digits."""
    return _SEPARATORS.sub("", raw).upper().translate(_READS_AS)


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


def derive_key(secret_key: str, purpose: bytes) -> bytes:
    """A 32-byte key for one purpose, from the server's secret key."""
    return hmac.new(secret_key.encode(), purpose, hashlib.sha256).digest()
