"""Logs never carry a bearer secret whole: a visitor's full journey through a real `admit serve`.

Ticket codes and reservation ids let whoever holds them act for the visitor, and logs are read (and
shipped, and kept) by more people than the database. Everything the server writes, its own events and
the HTTP server's access log, is searched for every code (in each form a visitor may type it) and every
reservation id the journey used.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from admit.security import codes
from tests.cli.test_cli import Cli, Server, cli, login  # noqa: F401 (cli is a fixture)

PASSWORD = "correct horse battery"
CONTACT = {"customer_email": "visitor@example.com", "customer_phone": "+31 20 123 4567"}
MAIL_DEADLINE = 60  # seconds: a ceiling against a hang, not a cost


def _ok(response: httpx.Response, *statuses: int) -> Any:
    assert response.status_code in (statuses or (200,)), f"{response.request.url}: {response.text}"
    return response.json() if "json" in response.headers.get("content-type", "") else None


def _journey(server: Server, orq: int) -> tuple[list[str], list[str]]:
    """Issue, activate, reserve, look, move, cancel, book again, scan, verify; the codes and ids used."""
    http = httpx.Client(base_url=server.base_url, timeout=30)
    admin = {
        "Authorization": "Bearer " + _ok(login(server.base_url, "boss", password=PASSWORD))["access_token"]
    }
    door = {"Authorization": "Bearer " + _ok(login(server.base_url, "door", pin="246813"))["access_token"]}
    _ok(http.patch(f"/api/organizations/{orq}/policy", json={"change_cutoff_hours": 0}, headers=admin))
    slots = [
        _ok(
            http.post(
                "/api/reservation-slots/create",
                json={
                    "orq": orq,
                    "date": "2025-11-20",
                    "start_time": start,
                    "end_time": end,
                    "total_capacity": 10,
                },
                headers=admin,
            ),
            201,
        )["slots"][0]["slot_id"]
        for start, end in (("10:00", "11:00"), ("12:00", "13:00"))
    ]
    order = _ok(
        http.post(
            "/api/orders",
            json={
                "orq": orq,
                "quantity": 2,
                "activation_mode": "pre_made",
                "paid": True,
                "customer_email": "buyer@example.com",
            },
            headers=admin,
        ),
        201,
    )
    code, spare = (ticket["code"] for ticket in order["tickets"])
    typed = codes.display(code).lower()  # as a visitor types it from the e-mail
    _ok(http.post(f"/api/tickets/{typed}/activate"))
    _ok(http.post("/api/tickets/validate", json={"code": code}))
    _ok(http.get(f"/api/tickets/{code}/status"))
    _ok(http.get(f"/api/tickets/{code}/availability"))
    _ok(http.get("/reserve", params={"code": code}))
    first = _ok(
        http.post("/api/reservations/create", json={"ticket_code": code, "slot_id": slots[0], **CONTACT}),
        201,
    )["reservations"][0]["reservation_id"]
    _ok(http.get(f"/reserve/{first}"))
    _ok(http.get(f"/api/reservations/{first}"))
    for asset in ("qr.png", "qr.svg", "calendar.ics"):
        assert http.get(f"/api/reservations/{first}/{asset}").status_code == 200
    _ok(http.put(f"/api/reservations/{first}", json={"slot_id": slots[1]}))
    _ok(http.delete(f"/api/reservations/{first}"))
    _ok(http.get(f"/api/reservations/{first}/calendar.ics"), 200, 404, 409)
    second = _ok(
        http.post("/api/reservations", json={"ticket_codes": [code], "slot_id": slots[0], **CONTACT}), 201
    )["reservations"][0]["reservation_id"]
    _ok(http.post("/venue/scan", json={"code": code, "action": "admit", "nonce": "n-1"}, headers=door))
    _ok(http.post("/api/operator/verify-ticket", json={"code": typed}, headers=door))
    _ok(http.post("/api/operator/validate-ticket", json={"code": spare}, headers=door))
    _ok(http.post(f"/api/tickets/{spare}/activate"))  # not paid for immediate use: a refusal, logged
    _ok(http.post(f"/api/tickets/{spare}/void", headers=admin))
    _ok(http.get(f"/api/tickets/{spare}/status"))
    _ok(http.get(f"/api/reservations/{second}x"), 404)
    # The e-mails (confirmation, update, cancellation, confirmation) are sent by the same process.
    deadline = time.monotonic() + MAIL_DEADLINE
    while True:
        messages = _ok(http.get("/api/mail/outbox", headers=admin))["messages"]
        # Messages a later change made moot are skipped rather than sent.
        done = all(m["status"] in ("SENT", "SKIPPED") for m in messages)
        if len(messages) >= 4 and done and messages[0]["status"] == "SENT":
            break
        assert time.monotonic() < deadline, f"the e-mails were not sent: {messages}"
        time.sleep(0.2)
    http.close()
    return [code, spare], [first, second]


def test_a_full_journey_leaves_no_ticket_code_or_reservation_id_whole_in_the_servers_output(
    cli: Cli,  # noqa: F811 (the fixture imported above)
) -> None:
    cli.env |= {"ADMIT_FROZEN_NOW": "2025-11-20T09:00:00+01:00", "ADMIT_RATE_LIMIT_RESERVATIONS": "off"}
    orq = int(cli.ok("orgs", "create", "--name", "Museum", "--timezone", "Europe/Amsterdam"))
    cli.ok(
        "operators",
        "create",
        "--orq",
        str(orq),
        "--username",
        "boss",
        "--role",
        "admin",
        "--password",
        PASSWORD,
    )
    cli.ok(
        "operators",
        "create",
        "--orq",
        str(orq),
        "--username",
        "door",
        "--role",
        "operator",
        "--pin",
        "246813",
    )
    server = cli.serve()

    ticket_codes, reservation_ids = _journey(server, orq)
    cli.stop_servers()

    output = "\n".join(path.read_text() for path in sorted(cli.cwd.glob("serve-*.*")))
    assert "GET /api/tickets/" in output and "/status" in output  # the access log was captured
    assert "reservation.created" in output and "mail.sent" in output  # and the events too
    for code in ticket_codes:
        for form in (code, codes.display(code), codes.display(code).lower(), code.lower()):
            assert form not in output, f"a ticket code ({form[-4:]}) is in the log"
        assert code[-4:] in output  # masked, not dropped: a log line can still be matched to a ticket
    for reservation_id in reservation_ids:
        assert reservation_id not in output, f"a reservation id ({reservation_id[-4:]}) is in the log"
