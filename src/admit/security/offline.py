"""The server's secrets for offline bundles: organization signing keys, and cursors it alone can mint.

An organization's Ed25519 private key is stored sealed (Fernet, with a key derived from the server's
secret key), so a copy of the database alone cannot sign a bundle. A bundle's cursor carries the salt
of the bundle it continues and where its change feed stood, under an HMAC: a device can hand it
back, not make one up or move it to another organization.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import date, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from admit.domain.offline import b64url, from_b64url
from admit.security.codes import derive_key

KEY_ID_BYTES = 12
MAC_BYTES = 16
CURSOR_VERSION = 1


@dataclass(frozen=True)
class NewKey:
    key_id: str
    public_key: str  # base64url of the raw 32 bytes
    private_sealed: str


@dataclass(frozen=True)
class BundleCursor:
    """Where a bundle left off: the delta that continues it starts here."""

    orq: int
    day: date
    salt: bytes
    last_transition: int  # the highest transition id the bundle had seen
    generated_at: datetime


class OfflineSecrets:
    def __init__(self, secret_key: str) -> None:
        self._fernet = Fernet(base64.urlsafe_b64encode(derive_key(secret_key, b"offline-signing-key-seal")))
        self._cursor_key = derive_key(secret_key, b"offline-bundle-cursor")

    def new_key(self) -> NewKey:
        private = Ed25519PrivateKey.generate()
        raw_public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        raw_private = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        return NewKey(
            key_id=b64url(hashlib.sha256(raw_public).digest()[:KEY_ID_BYTES]),
            public_key=b64url(raw_public),
            private_sealed=self._fernet.encrypt(raw_private).decode(),
        )

    def sign(self, private_sealed: str, message: bytes) -> str:
        """The base64url Ed25519 signature of `message` with a sealed private key."""
        try:
            raw = self._fernet.decrypt(private_sealed.encode())
        except InvalidToken as exc:  # the server's secret key changed since the key was made
            raise ValueError("offline signing key sealed with another secret key") from exc
        return b64url(Ed25519PrivateKey.from_private_bytes(raw).sign(message))

    def cursor(self, cursor: BundleCursor) -> str:
        payload = json.dumps(
            [
                CURSOR_VERSION,
                cursor.orq,
                cursor.day.isoformat(),
                b64url(cursor.salt),
                cursor.last_transition,
                cursor.generated_at.isoformat(),
            ],
            separators=(",", ":"),
        ).encode()
        return f"{b64url(payload)}.{b64url(self._mac(payload))}"

    def read_cursor(self, text: str) -> BundleCursor:
        """The cursor this server wrote; ValueError for anything else (malformed, altered, forged)."""
        payload_text, _, mac_text = text.partition(".")
        payload = from_b64url(payload_text)
        if not hmac.compare_digest(from_b64url(mac_text), self._mac(payload)):
            raise ValueError("cursor not minted by this server")
        version, orq, day, salt, last_transition, generated_at = json.loads(payload)
        if version != CURSOR_VERSION:
            raise ValueError("cursor of another version")
        day, generated_at = date.fromisoformat(day), datetime.fromisoformat(generated_at)
        return BundleCursor(orq, day, from_b64url(salt), last_transition, generated_at)

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._cursor_key, payload, hashlib.sha256).digest()[:MAC_BYTES]


def verify(public_key: str, message: bytes, signature: str) -> bool:
    """Whether `signature` (base64url) signs `message` under the base64url raw Ed25519 `public_key`."""
    try:
        Ed25519PublicKey.from_public_bytes(from_b64url(public_key)).verify(from_b64url(signature), message)
    except (InvalidSignature, ValueError):
        return False
    return True
