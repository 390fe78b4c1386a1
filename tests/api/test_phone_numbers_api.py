"""Phone numbers as people type them: national form read in the venue's country, stored as E.164."""

from __future__ import annotations

import pytest

from tests.builders import Builders


def booked_phone(make: Builders, reservation_id: str) -> str:
    phone: str = make.client.get(f"/api/reservations/{reservation_id}").json()["customer_phone"]
    return phone


@pytest.mark.parametrize(
    ("timezone", "typed", "stored"),
    [
        ("Europe/Amsterdam", "020 123 4567", "+31201234567"),
        ("Europe/Amsterdam", "06-12345678", "+31612345678"),
        ("Europe/London", "020 7946 0018", "+442079460018"),
        ("America/New_York", "(212) 555-0123", "+12125550123"),
        ("Europe/Amsterdam", "+44 20 7946 0018", "+442079460018"),  # a number with its code stays
    ],
)
def test_a_national_number_is_read_in_the_venues_country_and_stored_as_e164(
    make: Builders, timezone: str, typed: str, stored: str
) -> None:
    orq = make.org("Venue", timezone)
    response = make.reserve([make.ticket(orq, "ACTIVATED")], make.slot(orq), customer_phone=typed)
    assert response.status_code == 201, response.text
    assert booked_phone(make, response.json()["reservations"][0]["reservation_id"]) == stored


def test_a_visitor_from_abroad_chooses_their_country(make: Builders) -> None:
    orq = make.org()  # Amsterdam
    response = make.reserve(
        [make.ticket(orq, "ACTIVATED")], make.slot(orq), customer_phone="030 12345678", phone_country="DE"
    )
    assert response.status_code == 201, response.text
    assert booked_phone(make, response.json()["reservations"][0]["reservation_id"]) == "+493012345678"


def test_the_venues_own_country_overrides_its_time_zone(make: Builders) -> None:
    orq = make.org("Venue", "UTC")
    slot, code = make.slot(orq), make.ticket(orq, "ACTIVATED")
    # No country to read a national number in: the visitor is asked for the code.
    refused = make.reserve([code], slot, customer_phone="020 123 4567")
    assert refused.json()["error"]["details"]["fields"]["customer_phone"].startswith(
        "Enter the number in international"
    )
    make.client.patch(
        f"/api/organizations/{orq}/identity", json={"country": "NL"}, headers=make.admin(orq).headers
    )
    response = make.reserve([code], slot, customer_phone="020 123 4567")
    assert response.status_code == 201, response.text
    assert booked_phone(make, response.json()["reservations"][0]["reservation_id"]) == "+31201234567"


@pytest.mark.parametrize(
    ("contact", "field"),
    [
        ({"customer_phone": "020 12"}, "customer_phone"),
        ({"customer_phone": "not a number"}, "customer_phone"),
        ({"customer_phone": "020 123 4567", "phone_country": "XX"}, "phone_country"),
        ({"customer_phone": "020 123 4567", "phone_country": "US"}, "customer_phone"),
    ],
)
def test_a_bad_phone_number_is_a_clear_422_and_nothing_is_booked(
    make: Builders, contact: dict[str, str], field: str
) -> None:
    orq = make.org()
    slot, code = make.slot(orq), make.ticket(orq, "ACTIVATED")
    before = make.snapshot()
    response = make.reserve([code], slot, **contact)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "INVALID_CONTACT"
    assert set(error["details"]["fields"]) == {field}
    assert make.snapshot() == before
