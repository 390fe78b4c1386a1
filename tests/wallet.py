"""A venue's Apple Wallet pass files, made up: a WWDR-like intermediate and a pass certificate it issued."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

PASS_TYPE = "pass.example.museum.visit"
TEAM = "A1B2C3D4E5"
KEY_PASSWORD = "key password"
Key = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def certificate(name: str, key: Key, issuer: tuple[str, Key] | None = None) -> x509.Certificate:
    """A certificate for `name`, self-signed unless an (issuer name, issuer key) is given."""
    issuer_name, issuer_key = issuer or (name, key)
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .sign(issuer_key, hashes.SHA256())
    )


def write_pass_files(folder: Path) -> dict[str, Path]:
    """The certificate (PEM), its key (PEM, with a password) and the intermediate (DER) in `folder`."""
    wwdr_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    wwdr_name = "Test Worldwide Developer Relations"
    wwdr = certificate(wwdr_name, wwdr_key)
    pass_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pass_certificate = certificate(f"Pass Type ID: {PASS_TYPE}", pass_key, (wwdr_name, wwdr_key))
    files = {"certificate": folder / "pass.pem", "key": folder / "pass.key", "wwdr": folder / "wwdr.der"}
    files["certificate"].write_bytes(pass_certificate.public_bytes(serialization.Encoding.PEM))
    files["key"].write_bytes(
        pass_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(KEY_PASSWORD.encode()),
        )
    )
    files["wwdr"].write_bytes(wwdr.public_bytes(serialization.Encoding.DER))
    return files


def pass_settings(files: dict[str, Path]) -> dict[str, str]:
    """The settings that offer passes, by their environment names."""
    return {
        "ADMIT_WALLET_PASS_CERTIFICATE": str(files["certificate"]),
        "ADMIT_WALLET_PASS_KEY": str(files["key"]),
        "ADMIT_WALLET_PASS_KEY_PASSWORD": KEY_PASSWORD,
        "ADMIT_WALLET_PASS_WWDR_CERTIFICATE": str(files["wwdr"]),
        "ADMIT_WALLET_PASS_TYPE_ID": PASS_TYPE,
        "ADMIT_WALLET_TEAM_ID": TEAM,
    }
