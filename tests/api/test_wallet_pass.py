"""The Apple Wallet pass: signed with the venue's pass certificate, checked with openssl; offered only
when that certificate is configured."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from admit.app import context_of, create_app
from admit.clock import FrozenClock
from admit.settings import Settings
from admit.wallet_pass import load_pass_signer
from tests.builders import Builders
from tests.wallet import PASS_TYPE, TEAM, pass_settings, write_pass_files


@pytest.fixture
def pass_files(tmp_path: Path) -> dict[str, Path]:
    return write_pass_files(tmp_path)


def with_passes(settings: Settings, pass_files: dict[str, Path], **changed: str) -> Settings:
    """The test's settings with the pass files and identifiers, as the environment would give them."""
    named = {name.removeprefix("ADMIT_").lower(): value for name, value in pass_settings(pass_files).items()}
    files = {name: Path(value) for name, value in named.items() if name.endswith(("certificate", "key"))}
    return settings.model_copy(update={**named, **files, **changed})


@pytest.fixture
def wallet_make(settings: Settings, clock: FrozenClock, pass_files: dict[str, Path]) -> Iterator[Builders]:
    app = create_app(with_passes(settings, pass_files), clock=clock)
    with TestClient(app) as client:
        yield Builders(client=client, context=context_of(app))
    context_of(app).engine.dispose()


def unpacked(pkpass: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(pkpass)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def openssl_verifies(files: dict[str, bytes], folder: Path) -> subprocess.CompletedProcess[str]:
    """`openssl smime -verify` of the detached signature over manifest.json (not of the chain's trust)."""
    for name in ("signature", "manifest.json"):
        (folder / name).write_bytes(files[name])
    return subprocess.run(
        [
            "openssl", "smime", "-verify", "-inform", "DER", "-binary", "-noverify",
            "-in", str(folder / "signature"), "-content", str(folder / "manifest.json"), "-out", "/dev/null",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )  # fmt: skip


def test_the_pass_is_an_event_ticket_with_the_pages_qr_signed_over_a_manifest_of_every_file(
    wallet_make: Builders, tmp_path: Path
) -> None:
    make = wallet_make
    orq = make.org("Rijksmuseum", "Europe/Amsterdam")
    _, reservation_id = make.reservation(orq, make.slot(orq, day="2025-11-21", start="14:30", end="15:30"))
    response = make.client.get(f"/api/reservations/{reservation_id}/pass.pkpass")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.apple.pkpass"
    assert response.headers["cache-control"] == "private, no-store"
    files = unpacked(response.content)
    assert {"pass.json", "manifest.json", "signature", "icon.png", "icon@2x.png"} <= set(files)

    content = json.loads(files["pass.json"])
    assert content["formatVersion"] == 1
    assert (content["passTypeIdentifier"], content["teamIdentifier"]) == (PASS_TYPE, TEAM)
    assert content["serialNumber"] == reservation_id
    assert content["organizationName"] == "Rijksmuseum"
    assert content["relevantDate"] == "2025-11-21T14:30:00+01:00"
    assert "primaryFields" in content["eventTicket"]
    (barcode,) = content["barcodes"]
    qr_payload = make.client.get(f"/api/reservations/{reservation_id}").json()["qr_payload"]
    assert barcode == {
        "format": "PKBarcodeFormatQR",
        "message": qr_payload,  # the door reads the pass as it reads the page
        "messageEncoding": "iso-8859-1",
        "altText": barcode["altText"],
    }

    manifest = json.loads(files["manifest.json"])
    assert set(manifest) == set(files) - {"manifest.json", "signature"}
    for name, digest in manifest.items():
        assert hashlib.sha1(files[name]).hexdigest() == digest

    verified = openssl_verifies(files, tmp_path)
    assert verified.returncode == 0, verified.stderr
    assert "Verification successful" in verified.stderr
    certificates = subprocess.run(
        ["openssl", "pkcs7", "-inform", "DER", "-print_certs", "-noout"],
        input=files["signature"],
        capture_output=True,
        timeout=30,
    ).stdout.decode()
    assert f"Pass Type ID: {PASS_TYPE}" in certificates and "Worldwide Developer Relations" in certificates

    tampered = {
        **files,
        "manifest.json": files["manifest.json"].replace(b'"pass.json": "', b'"pass.json": "0'),
    }
    assert openssl_verifies(tampered, tmp_path).returncode != 0


def test_moving_the_reservation_changes_the_pass_contents_and_so_its_manifest_not_its_serial(
    wallet_make: Builders,
) -> None:
    make = wallet_make
    orq = make.org()
    _, reservation_id = make.reservation(orq, make.slot(orq, day="2025-11-24", start="10:00", end="11:00"))
    url = f"/api/reservations/{reservation_id}/pass.pkpass"
    before = unpacked(make.client.get(url).content)
    later = make.slot(orq, day="2025-11-25", start="16:00", end="17:00")
    make.client.put(f"/api/reservations/{reservation_id}", json={"slot_id": later}).raise_for_status()
    after = unpacked(make.client.get(url).content)

    old, new = json.loads(before["pass.json"]), json.loads(after["pass.json"])
    assert new["serialNumber"] == old["serialNumber"] == reservation_id  # the wallet replaces it
    assert (old["relevantDate"], new["relevantDate"]) == (
        "2025-11-24T10:00:00+01:00",
        "2025-11-25T16:00:00+01:00",
    )
    assert new["barcodes"][0]["message"] != old["barcodes"][0]["message"]
    assert json.loads(after["manifest.json"])["pass.json"] != json.loads(before["manifest.json"])["pass.json"]
    assert after["signature"] != before["signature"]


def test_the_pass_speaks_the_language_the_visit_was_booked_in(wallet_make: Builders) -> None:
    make = wallet_make
    orq = make.org("Rijksmuseum", "Europe/Amsterdam")
    code = make.ticket(orq, "ACTIVATED")
    slot = make.slot(orq, day="2025-11-21", start="14:30", end="15:30")
    booked = make.reserve([code], slot, language="nl")
    reservation_id = booked.json()["reservations"][0]["reservation_id"]
    # Fetched from an English browser: the pass is the reservation's, in Dutch.
    response = make.client.get(
        f"/api/reservations/{reservation_id}/pass.pkpass", headers={"Accept-Language": "en"}
    )
    content = json.loads(unpacked(response.content)["pass.json"])
    assert content["description"] == "Bezoek aan Rijksmuseum"
    fields = content["eventTicket"]
    assert [f["label"] for f in fields["secondaryFields"]] == ["DATUM", "TIJD"]
    assert [f["value"] for f in fields["secondaryFields"]] == ["vr 21 nov 2025", "14:30-15:30"]
    assert [f["label"] for f in fields["backFields"]] == ["Tijdzone", "Verzetten of annuleren"]


def test_no_pass_is_offered_without_a_certificate_nor_for_a_cancelled_visit(
    make: Builders, wallet_make: Builders
) -> None:
    orq = make.org()
    _, reservation_id = make.reservation(orq, make.slot(orq))
    response = make.client.get(f"/api/reservations/{reservation_id}/pass.pkpass")
    assert (response.status_code, response.json()["error"]["code"]) == (404, "WALLET_PASS_NOT_CONFIGURED")

    orq = wallet_make.org()
    _, reservation_id = wallet_make.reservation(orq, wallet_make.slot(orq))
    wallet_make.client.delete(f"/api/reservations/{reservation_id}").raise_for_status()
    response = wallet_make.client.get(f"/api/reservations/{reservation_id}/pass.pkpass")
    assert (response.status_code, response.json()["error"]["code"]) == (409, "RESERVATION_NOT_LIVE")


def test_a_pass_certificate_without_its_key_or_identifiers_is_refused_at_start(
    settings: Settings, pass_files: dict[str, Path]
) -> None:
    with pytest.raises(ValidationError, match="ADMIT_WALLET_PASS_KEY, ADMIT_WALLET_PASS_TYPE_ID"):
        Settings(
            database_url=settings.database_url,
            secret_key=settings.secret_key,
            wallet_pass_certificate=pass_files["certificate"],
            wallet_team_id=TEAM,
        )


def test_a_pass_key_that_cannot_be_read_stops_the_start_naming_the_setting(
    settings: Settings, pass_files: dict[str, Path]
) -> None:
    wrong = with_passes(settings, pass_files, wallet_pass_key_password="not the password")
    with pytest.raises(ValueError, match="ADMIT_WALLET_PASS_KEY: cannot read the private key"):
        load_pass_signer(wrong)
