"""Managers download the scan history (with its filters) and a day's reservations as CSV, streamed."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy.orm import Session

from admit.clock import FrozenClock
from admit.db.models import ScanEvent
from admit.domain.roles import Role
from admit.services import exports
from admit.services.scans import HistoryFilter
from tests.builders import Builders, Staff


def scan(make: Builders, staff: Staff, code: str, action: str = "validate") -> None:
    make.client.post(
        f"/api/operator/{action}-ticket", json={"code": code}, headers=staff.headers
    ).raise_for_status()


def download(make: Builders, staff: Staff, path: str, **params: Any) -> list[dict[str, str]]:
    response = make.client.get(path, params=params, headers=staff.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    return list(csv.DictReader(io.StringIO(response.text)))


def test_the_scan_history_csv_has_the_pages_rows_with_the_same_filters_and_operator_id_and_name(
    make: Builders, clock: FrozenClock
) -> None:
    orq = make.org()
    jane = make.staff(orq, Role.OPERATOR, name="Jane")
    manager = make.staff(orq, Role.MANAGER)
    good, _ = make.reservation(orq, make.slot(orq, day="2025-11-20"))
    unknown = "ABCDEFGHJKMNPQRSTVWX"
    scan(make, jane, good)
    clock.advance(timedelta(seconds=1))
    scan(make, jane, unknown)

    everything = download(make, manager, "/api/operators/scan-history.csv")
    red = download(make, manager, "/api/operators/scan-history.csv", result="RED")
    page = make.client.get("/api/operators/scan-history", headers=manager.headers).json()["events"]

    assert [row["ticket_code_suffix"] for row in everything] == [e["ticket_code_suffix"] for e in page]
    assert [row["ticket_code_suffix"] for row in everything] == ["TVWX", good[-4:]]
    assert {(row["operator_id"], row["operator_name"]) for row in everything} == {(str(jane.id), "Jane")}
    assert [(row["result"], row["reason"]) for row in red] == [("RED", "INVALID_TICKET")]
    assert everything[0]["scanned_at"] == "2025-11-20T09:00:01+01:00"


def test_the_history_and_its_csv_filter_by_a_whole_code_or_its_last_characters(make: Builders) -> None:
    orq = make.org()
    door, manager = make.staff(orq, Role.OPERATOR), make.staff(orq, Role.MANAGER)
    first, second = make.ticket(orq, "ACTIVATED"), make.ticket(orq, "ACTIVATED")
    for code in (first, second, first):
        scan(make, door, code)

    def history(ticket: str) -> list[str]:
        answer = make.client.get(
            "/api/operators/scan-history", params={"ticket": ticket}, headers=manager.headers
        )
        assert answer.status_code == 200, answer.text
        return [event["ticket_code_suffix"] for event in answer.json()["events"]]

    assert history(first) == [first[-4:], first[-4:]]
    assert history(f"{first[:4]}-{first[4:8]} {first[8:].lower()}") == [first[-4:], first[-4:]]
    assert history(second[-4:].lower()) == [second[-4:]]
    assert history(second[-6:]) == [second[-4:]]
    csv_rows = download(make, manager, "/api/operators/scan-history.csv", ticket=second[-4:])
    assert [row["ticket_code_suffix"] for row in csv_rows] == [second[-4:]]
    for path in ("/api/operators/scan-history", "/api/operators/scan-history.csv"):
        for bad in ("AB", "  a-b ", "AB\x00CD", "x" * 101):
            refused = make.client.get(path, params={"ticket": bad}, headers=manager.headers)
            assert (refused.status_code, refused.json()["error"]["code"]) == (422, "VALIDATION_ERROR"), bad
            assert "ticket" in str(refused.json()["error"]["details"]), bad


def test_cells_a_spreadsheet_would_run_as_formulas_are_written_inert(make: Builders) -> None:
    orq = make.org()
    sneaky = make.staff(orq, Role.OPERATOR, name='=HYPERLINK("http://example.com","x")')
    manager = make.staff(orq, Role.MANAGER)
    scan(make, sneaky, make.ticket(orq, "ACTIVATED"))

    rows = download(make, manager, "/api/operators/scan-history.csv")

    assert rows[0]["operator_name"] == '\'=HYPERLINK("http://example.com","x")'
    assert [exports.safe_cell(v) for v in ("+1", "-2", "@x", "a=b", 3, None, True)] == [
        "'+1",
        "'-2",
        "'@x",
        "a=b",
        "3",
        "",
        "true",
    ]


def test_exports_are_for_managers_of_their_own_organization(make: Builders) -> None:
    museum, zoo = make.org("Museum"), make.org("Zoo")
    museum_door, zoo_door = make.staff(museum, Role.OPERATOR), make.staff(zoo, Role.OPERATOR)
    scan(make, zoo_door, make.ticket(zoo, "ACTIVATED"))
    slot = make.slot(zoo, day="2025-11-20")
    make.reservation(zoo, slot)
    museum_manager = make.staff(museum, Role.MANAGER)

    assert download(make, museum_manager, "/api/operators/scan-history.csv") == []
    assert download(make, museum_manager, "/api/reservations.csv", date="2025-11-20") == []
    for path in ("/api/operators/scan-history.csv", "/api/reservations.csv?date=2025-11-20"):
        refused = make.client.get(path, headers=museum_door.headers)
        assert (refused.status_code, refused.json()["error"]["code"]) == (403, "FORBIDDEN")
        assert make.client.get(path).status_code == 401


def test_a_days_reservations_csv_has_time_party_contact_status_and_who_verified_when(
    make: Builders,
) -> None:
    orq = make.org()
    jane = make.staff(orq, Role.OPERATOR, name="Jane")
    manager = make.staff(orq, Role.MANAGER)
    morning, noon = (
        make.slot(orq, day="2025-11-20"),
        make.slot(orq, day="2025-11-20", start="12:00", end="13:00"),
    )
    tomorrow = make.slot(orq)
    pair = [make.ticket(orq, "ACTIVATED"), make.ticket(orq, "ACTIVATED")]
    make.reserve(pair, morning).raise_for_status()
    _, single = make.reservation(orq, noon)
    make.reservation(orq, tomorrow)
    scan(make, jane, pair[0], "verify")
    make.client.patch(
        f"/api/organizations/{orq}/policy", json={"change_cutoff_hours": 0}, headers=make.admin(orq).headers
    ).raise_for_status()
    make.client.delete(f"/api/reservations/{single}").raise_for_status()

    rows = download(make, manager, "/api/reservations.csv", date="2025-11-20")

    got = [(r["start_time"], r["end_time"], r["party_size"], r["status"]) for r in rows]
    assert [row[0] for row in got] == ["10:00", "10:00", "12:00"]
    assert sorted(got) == [
        ("10:00", "11:00", "2", "RESERVED"),
        ("10:00", "11:00", "2", "VERIFIED"),
        ("12:00", "13:00", "1", "CANCELLED"),
    ]
    verified = next(r for r in rows if r["status"] == "VERIFIED")
    assert (verified["verified_at"], verified["verified_by_id"], verified["verified_by_name"]) == (
        "2025-11-20T09:00:00+01:00",
        str(jane.id),
        "Jane",
    )
    assert verified["ticket_code_suffix"] == pair[0][-4:]
    assert (verified["customer_email"], verified["customer_phone"]) == (
        "visitor@example.com",
        "'+31201234567",
    )
    assert all(r["verified_at"] == "" for r in rows if r["status"] != "VERIFIED")


@pytest.mark.parametrize(
    "query", ["", "?date=20-11-2025", "?date=2025-02-30", "?date=86400", "?date=0001-01-01"]
)
def test_a_missing_or_bad_date_is_refused(make: Builders, query: str) -> None:
    orq = make.org()
    manager = make.staff(orq, Role.MANAGER)

    refused = make.client.get(f"/api/reservations.csv{query}", headers=manager.headers)

    assert refused.status_code in (400, 422)
    assert "error" in refused.json()


def test_a_long_history_is_written_page_by_page_not_read_whole_first(make: Builders) -> None:
    """The first chunk is out after one page's query; the rest is read while it is written."""
    orq = make.org()
    door = make.staff(orq, Role.OPERATOR)
    total = 3 * exports.PAGE + 7
    start = make.context.clock.now()
    with make.context.sessions() as session, session.begin():
        session.execute(
            insert(ScanEvent),
            [
                {
                    "orq": orq,
                    "operator_id": door.id,
                    "action": "validate",
                    "code_suffix": f"{n:04d}"[-4:],
                    "result": "RED",
                    "reason": "NOT_FOUND",
                    "latency_ms": 1.0,
                    "scanned_at": start - timedelta(seconds=n),
                }
                for n in range(total)
            ],
        )
    opened: list[Session] = []

    def counting() -> Session:
        opened.append(make.context.sessions())
        return opened[-1]

    sessions: Callable[[], Session] = counting
    chunks = exports.csv_text(
        exports.SCAN_COLUMNS, exports.scan_rows(sessions, orq=orq, where=HistoryFilter())
    )

    first = next(chunks)
    assert len(opened) == 1
    assert first.count("\n") == 1 + exports.PAGE  # the header and the first page
    rest = "".join(chunks)
    assert len(opened) == 4
    rows = list(csv.DictReader(io.StringIO(first + rest)))
    assert len(rows) == total
    assert [row["ticket_code_suffix"] for row in rows[:2]] == ["0000", "0001"]
