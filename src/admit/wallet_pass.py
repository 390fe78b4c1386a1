"""The Apple Wallet pass of a reservation: an event ticket with the reservation's QR code, signed.

A `.pkpass` is a zip of pass.json, its images, manifest.json (the SHA-1 of every other file) and
signature (a detached PKCS #7 signature of the manifest, DER, by the venue's pass certificate, with
Apple's WWDR intermediate certificate in it when configured). Offered only when the certificate is.

The serial number is the reservation's id, so a moved visit's pass replaces the one in the wallet;
its contents (date, time, relevant date, QR code) are the reservation's as it is now.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from PIL import Image, ImageDraw

from admit.confirmation import visit_times
from admit.domain.text import one_line
from admit.domain.venue_time import zone
from admit.i18n import translator
from admit.security.codes import display
from admit.services.capacity import times
from admit.services.reservations import ReservationView
from admit.settings import Settings

# A zip's entries carry a time; a fixed one makes the same pass the same bytes.
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
SigningKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class PassSigner:
    certificate: x509.Certificate
    key: SigningKey
    intermediates: list[x509.Certificate]  # Apple's WWDR certificate, when configured
    pass_type_id: str
    team_id: str

    def sign(self, manifest: bytes) -> bytes:
        """The manifest's detached PKCS #7 signature, DER, with the signer's certificates in it."""
        builder = pkcs7.PKCS7SignatureBuilder().set_data(manifest)
        builder = builder.add_signer(self.certificate, self.key, hashes.SHA256())
        for certificate in self.intermediates:
            builder = builder.add_certificate(certificate)
        options = [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary]
        return builder.sign(serialization.Encoding.DER, options)


def load_pass_signer(settings: Settings) -> PassSigner | None:
    """The pass signer from the settings' files, or None when passes are not configured.

    Read once at start: a certificate or key that cannot be read stops the service there, with the
    setting named, rather than on a visitor's first tap.
    """
    if settings.wallet_pass_certificate is None or settings.wallet_pass_key is None:
        return None
    certificate = _certificate(settings.wallet_pass_certificate, "ADMIT_WALLET_PASS_CERTIFICATE")
    password = settings.wallet_pass_key_password.encode() or None
    try:
        key = serialization.load_pem_private_key(settings.wallet_pass_key.read_bytes(), password)
    except (OSError, ValueError, TypeError) as exc:
        raise ValueError(f"ADMIT_WALLET_PASS_KEY: cannot read the private key: {exc}") from exc
    if not isinstance(key, SigningKey):
        raise ValueError("ADMIT_WALLET_PASS_KEY: an RSA or EC private key is needed")
    wwdr = settings.wallet_pass_wwdr_certificate
    return PassSigner(
        certificate=certificate,
        key=key,
        intermediates=[_certificate(wwdr, "ADMIT_WALLET_PASS_WWDR_CERTIFICATE")] if wwdr else [],
        pass_type_id=settings.wallet_pass_type_id,
        team_id=settings.wallet_team_id,
    )


def _certificate(path: Path, setting: str) -> x509.Certificate:
    try:
        data = path.read_bytes()
        return (
            x509.load_pem_x509_certificate(data)
            if b"-----BEGIN" in data
            else x509.load_der_x509_certificate(data)
        )
    except (OSError, ValueError) as exc:
        raise ValueError(f"{setting}: cannot read the certificate: {exc}") from exc


def pass_json(reservation: ReservationView, *, qr_text: str, link: str, signer: PassSigner) -> dict[str, Any]:
    """pass.json: an event ticket whose barcode is the reservation's QR text (services.reservation_qr),
    its words in the language the reservation was booked in."""
    slot = reservation.slot
    t = translator(reservation.language)
    venue = one_line(reservation.venue)
    starts_at = times(slot).starts_at.replace(tzinfo=zone(reservation.timezone))
    code = display(reservation.ticket_code)
    return {
        "formatVersion": 1,
        "passTypeIdentifier": signer.pass_type_id,
        "teamIdentifier": signer.team_id,
        "serialNumber": reservation.reservation_id,
        "organizationName": venue,
        "description": t._("Visit to %(venue)s", venue=venue),
        "relevantDate": starts_at.isoformat(),  # the wallet offers the pass on the lock screen then
        "eventTicket": {
            # A pass's labels are written in capitals, as the wallet shows them.
            "headerFields": [{"key": "time", "label": t._("Time").upper(), "value": t.time(slot.start_time)}],
            "primaryFields": [{"key": "venue", "label": t._("Visit").upper(), "value": venue}],
            "secondaryFields": [
                {"key": "date", "label": t._("Date").upper(), "value": t.date(slot.date, "EEE d MMM y")},
                {"key": "slot", "label": t._("Time").upper(), "value": visit_times(t, slot)},
            ],
            "auxiliaryFields": [{"key": "ticket", "label": t._("Ticket").upper(), "value": code}],
            "backFields": [
                {"key": "timezone", "label": t._("Time zone"), "value": reservation.timezone},
                {"key": "manage", "label": t._("Change or cancel"), "value": link},
            ],
        },
        "barcodes": [
            {
                "format": "PKBarcodeFormatQR",
                "message": qr_text,
                "messageEncoding": "iso-8859-1",
                "altText": code,
            }
        ],
    }


def pkpass(reservation: ReservationView, *, qr_text: str, link: str, signer: PassSigner) -> bytes:
    """The signed `.pkpass` file of a live reservation."""
    content = pass_json(reservation, qr_text=qr_text, link=link, signer=signer)
    files = {
        "pass.json": json.dumps(content, ensure_ascii=False, indent=2).encode(),
        "icon.png": _icon(29),
        "icon@2x.png": _icon(58),
        "icon@3x.png": _icon(87),
    }
    manifest = json.dumps(
        {name: hashlib.sha1(data, usedforsecurity=False).hexdigest() for name, data in files.items()},
        indent=2,
    ).encode()
    files["manifest.json"] = manifest
    files["signature"] = signer.sign(manifest)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=ZIP_TIME), data, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


@cache
def _icon(size: int) -> bytes:
    """The pass's required icon (shown on the lock screen and in notifications): a ticket's outline."""
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    inset = max(size // 8, 1)
    draw.rounded_rectangle(
        (inset, inset * 2, size - inset, size - inset * 2), radius=inset, fill=(29, 78, 137, 255)
    )
    hole = size // 6
    for x in (inset - hole // 2, size - inset - hole // 2):
        draw.ellipse((x, size // 2 - hole // 2, x + hole, size // 2 + hole // 2), fill=(0, 0, 0, 0))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def pass_name(reservation: ReservationView) -> str:
    return f"visit-{reservation.ticket_code[-4:]}.pkpass"
