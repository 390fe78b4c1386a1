"""The printable ticket: a PDF read back to its text and its QR code, which the door reads as the page's."""

from __future__ import annotations

from admit.domain.offline import parse_qr
from admit.security.codes import display
from tests.api.test_venue_identity_api import image
from tests.builders import Builders
from tests.pdf import pdf_image_sizes, pdf_pages


def test_the_printed_ticket_shows_venue_time_and_grouped_code_and_carries_the_page_qr(
    make: Builders,
) -> None:
    orq = make.org("Muzeum Narodowe Łódź", "Europe/Warsaw")
    code, reservation_id = make.reservation(orq, make.slot(orq, day="2025-11-21", start="14:30", end="15:30"))
    response = make.client.get(f"/api/reservations/{reservation_id}/ticket.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["cache-control"] == "private, no-store"  # the code is the ticket
    ((text, qr),) = pdf_pages(response.content)
    for expected in (
        "Muzeum Narodowe Łódź",
        "Friday, 21 November 2025",
        "14:30-15:30",
        "Europe/Warsaw time",
        "Admission for 1 person",
        display(code),
        f"/reserve/{reservation_id}",
    ):
        assert expected in text
    assert qr == make.client.get(f"/api/reservations/{reservation_id}").json()["qr_payload"]
    assert parse_qr(qr).code == code


def test_the_printed_ticket_carries_the_venues_logo_above_the_qr_code(make: Builders) -> None:
    orq = make.org()
    _, reservation_id = make.reservation(orq, make.slot(orq))
    ticket = f"/api/reservations/{reservation_id}/ticket.pdf"
    ((qr_only,),) = pdf_image_sizes(make.client.get(ticket).content)
    logo = make.client.put(
        f"/api/organizations/{orq}/logo",
        content=image("PNG", size=(120, 40)),
        headers=make.admin(orq).headers,
    )
    assert logo.status_code == 200, logo.text
    printed = make.client.get(ticket).content
    assert pdf_image_sizes(printed) == [[(120, 40), qr_only]]
    assert (
        pdf_pages(printed)[0][1]
        == make.client.get(f"/api/reservations/{reservation_id}").json()["qr_payload"]
    )


def test_a_moved_visit_prints_its_new_time_and_a_new_qr(make: Builders) -> None:
    orq = make.org()
    _, reservation_id = make.reservation(orq, make.slot(orq, day="2025-11-24"))
    before = pdf_pages(make.client.get(f"/api/reservations/{reservation_id}/ticket.pdf").content)[0]
    later = make.slot(orq, day="2025-11-25", start="16:00", end="17:00")
    make.client.put(f"/api/reservations/{reservation_id}", json={"slot_id": later}).raise_for_status()
    text, qr = pdf_pages(make.client.get(f"/api/reservations/{reservation_id}/ticket.pdf").content)[0]
    assert "Tuesday, 25 November 2025" in text and "16:00-17:00" in text
    assert qr != before[1] and parse_qr(qr).claim.day.isoformat() == "2025-11-25"


def test_a_cancelled_or_unknown_reservation_has_no_printable_ticket(make: Builders) -> None:
    orq = make.org()
    _, reservation_id = make.reservation(orq, make.slot(orq))
    make.client.delete(f"/api/reservations/{reservation_id}").raise_for_status()
    cancelled = make.client.get(f"/api/reservations/{reservation_id}/ticket.pdf")
    assert cancelled.status_code == 409
    assert cancelled.json()["error"]["code"] == "RESERVATION_NOT_LIVE"
    unknown = make.client.get("/api/reservations/no-such-reservation/ticket.pdf")
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "RESERVATION_NOT_FOUND")
