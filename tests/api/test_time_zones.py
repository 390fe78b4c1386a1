"""Venue time over HTTP, with the clock pinned near midnight where the venue's date is not UTC's.

Two venues on either side of the date line: Tongatapu (UTC+13 all year; no daylight saving since
2017) half an hour after its midnight, while UTC is still on the day before; and Honolulu (UTC-10)
half an hour before its midnight, while UTC is already on the next day. A server that judged "today",
"has started" or "has ended" by UTC's date or by naive wall-clock values would fail one or the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from admit.clock import FrozenClock
from admit.context import AppContext
from admit.services.expiry import expire_due
from tests.builders import Builders


@dataclass(frozen=True)
class Venue:
    timezone: str
    now: datetime  # the pinned instant, near the venue's midnight
    earlier_today: tuple[str, str]  # a slot that started a little before `now`, venue time
    later_today: tuple[str, str]  # a slot that starts a little after `now`, venue time

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def today(self) -> date:
        return self.now.astimezone(self.zone).date()

    @property
    def utc_today(self) -> date:
        return self.now.astimezone(UTC).date()

    def at(self, day: date, clock: str) -> datetime:
        """A wall-clock time at the venue, as an aware datetime."""
        return datetime.combine(day, time.fromisoformat(clock), self.zone)


TONGATAPU = Venue(
    "Pacific/Tongatapu",
    now=datetime.fromisoformat("2025-11-21T00:30:00+13:00"),  # 2025-11-20 11:30 UTC
    earlier_today=("00:00", "01:00"),
    later_today=("09:00", "10:00"),
)
HONOLULU = Venue(
    "Pacific/Honolulu",
    now=datetime.fromisoformat("2025-11-20T23:30:00-10:00"),  # 2025-11-21 09:30 UTC
    earlier_today=("23:00", "23:45"),
    later_today=("23:45", "23:59"),
)
VENUES = pytest.mark.parametrize("venue", [TONGATAPU, HONOLULU], ids=["utc+13", "utc-10"])


@dataclass(frozen=True)
class Slots:
    yesterday: int
    earlier_today: int
    later_today: int
    tomorrow: int


def open_venue(make: Builders, clock: FrozenClock, venue: Venue) -> tuple[int, Slots]:
    """The venue, with one slot yesterday, one running now, one later today and one tomorrow."""
    clock.set(venue.now)
    orq = make.org("Island Museum", timezone=venue.timezone)
    today = venue.today

    def slot(day: date, hours: tuple[str, str]) -> int:
        return make.slot(orq, day=day.isoformat(), start=hours[0], end=hours[1], capacity=5)

    return orq, Slots(
        yesterday=slot(today - timedelta(days=1), ("10:00", "11:00")),
        earlier_today=slot(today, venue.earlier_today),
        later_today=slot(today, venue.later_today),
        tomorrow=slot(today + timedelta(days=1), ("10:00", "11:00")),
    )


def offered(body: dict[str, Any]) -> list[tuple[str, int]]:
    """(date, slot id) of every slot an availability answer offers, in its order."""
    return [(day["date"], slot["slot_id"]) for day in body["days"] for slot in day["slots"]]


def status_and_reservation(make: Builders, code: str, reservation_id: str) -> tuple[str, str, str, str]:
    """What the holder reads: (ticket status, its reservation's status) from both customer endpoints."""
    ticket = make.client.get(f"/api/tickets/{code}/status").json()
    reservation = make.client.get(f"/api/reservations/{reservation_id}").json()
    return (
        ticket["status"],
        ticket["reservation"]["status"],
        reservation["ticket"]["status"],
        reservation["status"],
    )


def sweep(context: AppContext) -> int:
    with context.sessions() as session:
        return expire_due(session, now=context.clock.now())


@VENUES
def test_availability_starts_on_the_venues_today_and_offers_only_slots_not_yet_started(
    make: Builders, clock: FrozenClock, venue: Venue
) -> None:
    """Today is the venue's date: yesterday is never listed, a running slot is not offered, a later one is."""
    orq, slots = open_venue(make, clock, venue)
    assert venue.today != venue.utc_today  # the point of the pinned instant

    body = make.client.get("/api/reservation-slots/available", params={"orq": orq}).json()

    assert body["timezone"] == venue.timezone
    assert offered(body) == [
        (venue.today.isoformat(), slots.later_today),
        ((venue.today + timedelta(days=1)).isoformat(), slots.tomorrow),
    ]
    code = make.ticket(orq, "ACTIVATED")
    assert offered(make.client.get(f"/api/tickets/{code}/availability").json()) == offered(body)


@VENUES
def test_a_from_date_before_the_venues_today_is_clamped_to_today(
    make: Builders, clock: FrozenClock, venue: Venue
) -> None:
    """`from` a past date (for Tongatapu, yesterday is UTC's today) starts at the venue's today."""
    orq, slots = open_venue(make, clock, venue)
    today = venue.today
    for first in (today - timedelta(days=1), today - timedelta(days=7)):
        query: dict[str, str | int] = {"orq": orq, "from": first.isoformat(), "to": today.isoformat()}
        body = make.client.get("/api/reservation-slots/available", params=query).json()
        assert offered(body) == [(today.isoformat(), slots.later_today)], first


@VENUES
def test_reserving_a_slot_that_has_started_in_venue_time_is_slot_in_past(
    make: Builders, clock: FrozenClock, venue: Venue
) -> None:
    """The slot running now is refused with SLOT_IN_PAST and nothing changes; the one after it books."""
    orq, slots = open_venue(make, clock, venue)
    code = make.ticket(orq, "ACTIVATED")
    before = make.snapshot()

    refused = make.reserve([code], slots.earlier_today)

    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "SLOT_IN_PAST")
    assert make.snapshot() == before
    assert make.reserve([code], slots.later_today).status_code == 201


@VENUES
@pytest.mark.parametrize(
    ("entry_window", "closes"),
    [
        # Minutes around the slot, with no grace after it: the reservation is used up when the slot ends.
        ({"minutes_before_start": 0, "minutes_after_end": 0}, "slot end"),
        # The default `day` window admits all of the reserved day: used up at the venue's midnight.
        ("day", "midnight"),
    ],
    ids=["minutes-window", "day-window"],
)
def test_a_reserved_ticket_reads_expired_when_its_entry_closes_in_venue_time_before_any_sweep(
    make: Builders, clock: FrozenClock, context: AppContext, venue: Venue, entry_window: Any, closes: str
) -> None:
    """Reads show EXPIRED from the venue-time moment entry closes; the sweep then writes it exactly once."""
    orq, slots = open_venue(make, clock, venue)
    url = f"/api/organizations/{orq}/policy"
    make.client.patch(
        url, json={"entry_window": entry_window}, headers=make.admin(orq).headers
    ).raise_for_status()
    code, reservation_id = make.reservation(orq, slots.later_today)
    end = venue.at(venue.today, venue.later_today[1])
    closes_at = end if closes == "slot end" else venue.at(venue.today + timedelta(days=1), "00:00")

    clock.set(closes_at - timedelta(minutes=1))
    assert status_and_reservation(make, code, reservation_id) == ("RESERVED",) * 4
    assert sweep(context) == 0  # by UTC's date, Honolulu's slot is already yesterday's: still not due

    clock.set(closes_at)
    assert status_and_reservation(make, code, reservation_id) == ("EXPIRED",) * 4
    assert "expire" not in [event for event, *_ in make.audit(code)]  # reading wrote nothing

    assert sweep(context) == 1
    assert sweep(context) == 0
    assert [row for row in make.audit(code) if row[0] == "expire"] == [
        ("expire", "RESERVED", "EXPIRED", "system")
    ]
    assert status_and_reservation(make, code, reservation_id) == ("EXPIRED",) * 4
    assert make.slot_counts(slots.later_today) == (1, 1, "ACTIVE")  # expiry keeps the place


@VENUES
def test_the_calendar_event_starts_at_the_slots_local_time_in_the_venues_zone(
    make: Builders, clock: FrozenClock, venue: Venue
) -> None:
    """The .ics parses, and DTSTART / DTEND are the slot's wall-clock times in the venue's IANA zone."""
    orq, slots = open_venue(make, clock, venue)
    _, reservation_id = make.reservation(orq, slots.later_today)

    response = make.client.get(f"/api/reservations/{reservation_id}/calendar.ics")

    assert response.status_code == 200
    calendar = Calendar.from_ical(response.content)
    (event,) = calendar.walk("VEVENT")
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    expected_start = venue.at(venue.today, venue.later_today[0])
    expected_end = venue.at(venue.today, venue.later_today[1])
    assert (start, end) == (expected_start, expected_end)  # the same instants
    assert start.utcoffset() == expected_start.utcoffset()  # and written in the venue's offset
    assert start.replace(tzinfo=None) == expected_start.replace(tzinfo=None)
    assert event["DTSTART"].params["TZID"] == venue.timezone
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == [venue.timezone]


# --- clock changes: a wall-clock time that the night skips or repeats names no single instant ---------------

# Europe/Amsterdam: on 2026-03-29 the clocks go from 02:00 to 03:00, on 2026-10-25 from 03:00 back to 02:00.
SPRING_FORWARD, FALL_BACK = "2026-03-29", "2026-10-25"


def create_slots(make: Builders, orq: int, body: dict[str, Any]) -> Any:
    return make.client.post(
        "/api/reservation-slots/create", json={"orq": orq, **body}, headers=make.admin(orq).headers
    )


@pytest.mark.parametrize(
    ("day", "start", "end", "field", "why"),
    [
        pytest.param(SPRING_FORWARD, "02:30", "03:30", "start_time", "does not exist", id="start-in-the-gap"),
        pytest.param(SPRING_FORWARD, "01:30", "02:15", "end_time", "does not exist", id="end-in-the-gap"),
        pytest.param(FALL_BACK, "02:30", "03:30", "start_time", "happens twice", id="start-in-the-overlap"),
        pytest.param(FALL_BACK, "01:00", "02:00", "end_time", "happens twice", id="end-in-the-overlap"),
    ],
)
def test_a_slot_at_a_local_time_the_clock_change_skips_or_repeats_is_422_naming_the_field(
    make: Builders, day: str, start: str, end: str, field: str, why: str
) -> None:
    orq = make.org("Canal Museum", timezone="Europe/Amsterdam")
    make.admin(orq)
    before = make.snapshot()

    body = {"date": day, "start_time": start, "end_time": end, "total_capacity": 5}
    response = create_slots(make, orq, body)

    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert list(error["details"]["fields"]) == [field]
    assert why in error["details"]["fields"][field]
    assert make.snapshot() == before


def test_a_schedule_skips_the_slots_on_a_clock_change_and_lists_them(make: Builders) -> None:
    """Every Sunday from spring to autumn, half-hourly through the night: two nights' slots are left out."""
    orq = make.org("Canal Museum", timezone="Europe/Amsterdam")
    schedule = {
        "from": SPRING_FORWARD,
        "to": FALL_BACK,
        "weekdays": [6],
        "first_start": "01:00",
        "last_start": "03:00",
        "every_minutes": 30,
        "duration_minutes": 30,
        "total_capacity": 5,
    }

    response = create_slots(make, orq, schedule)

    assert response.status_code == 201, response.text
    body = response.json()
    skipped = [(s["date"], s["start_time"], sorted(s["fields"])) for s in body["skipped_clock_changes"]]
    assert skipped == [
        (SPRING_FORWARD, "01:30", ["end_time"]),  # would end at 02:00, which never comes
        (SPRING_FORWARD, "02:00", ["end_time", "start_time"]),
        (SPRING_FORWARD, "02:30", ["start_time"]),
        (FALL_BACK, "01:30", ["end_time"]),  # would end at the first or the second 02:00
        (FALL_BACK, "02:00", ["end_time", "start_time"]),
        (FALL_BACK, "02:30", ["start_time"]),
    ]
    sundays = 31
    assert len(body["slots"]) == sundays * 5 - len(skipped)
    made = {(s["date"], s["start_time"]) for s in body["slots"]}
    assert {(SPRING_FORWARD, "01:00"), (SPRING_FORWARD, "03:00"), (FALL_BACK, "03:00")} <= made
