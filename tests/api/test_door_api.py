"""The door over HTTP: both stories' scanning scenarios with the pinned clock (20 Nov 2025, 09:00)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from admit.clock import FrozenClock
from admit.domain.roles import Role
from tests.builders import Builders, Staff


def scan(
    make: Builders, staff: Staff, code: str, url: str = "/api/operator/validate-ticket", **extra: Any
) -> Any:
    return make.client.post(url, json={"code": code, **extra}, headers=staff.headers)


@pytest.fixture
def door(make: Builders) -> tuple[int, Staff]:
    orq = make.org()
    return orq, make.staff(orq, Role.OPERATOR)


def test_a_ticket_reserved_for_today_is_green_with_customer_and_verifies(
    make: Builders, door: tuple[int, Staff], clock: FrozenClock
) -> None:
    """US-015 scenario 3 and US-016's pre-made flow: reserved for today, GREEN, then verified."""
    orq, operator = door
    code = make.ticket(orq, "INACTIVE")
    make.client.post(f"/api/tickets/{code}/activate").raise_for_status()
    slot = make.slot(orq, day="2025-11-20", start="10:00", end="11:00")
    make.reserve([code], slot).raise_for_status()

    verdict = scan(make, operator, code).json()
    assert (verdict["result"], verdict["code"], verdict["title"]) == ("GREEN", "VALID", "VALID")
    assert verdict["entry_allowed"] and verdict["can_verify"]
    assert verdict["customer"] == {"email": "visitor@example.com", "phone": "+31201234567"}
    assert verdict["reservation"] == {
        "date": "2025-11-20",
        "start_time": "10:00",
        "end_time": "11:00",
        "status": "RESERVED",
        "party": None,  # booked alone: no one else to expect
    }
    assert verdict["ticket"]["activation_status"] == "active"
    assert make.status_of(code) == "RESERVED"  # validating changes nothing

    verified = scan(make, operator, code, "/api/operator/verify-ticket")
    assert verified.status_code == 200
    body = verified.json()
    assert body["result"] == "GREEN" and body["verified_now"] is True
    assert body["verified_at"] == "2025-11-20T09:00:00+01:00"
    assert body["verified_by"] == f"Staff {operator.username}"
    assert make.status_of(code) == "VERIFIED"
    reservation_id = make.client.get(f"/api/tickets/{code}/status").json()["reservation"]["reservation_id"]
    assert make.client.get(f"/api/reservations/{reservation_id}").json()["status"] == "VERIFIED"


def test_a_party_member_shows_how_many_of_the_party_to_expect_and_how_many_are_in(
    make: Builders, door: tuple[int, Staff]
) -> None:
    """Three tickets booked together: each scan says party of 3, and counts the members let in."""
    orq, operator = door
    codes = [make.ticket(orq, "ACTIVATED") for _ in range(3)]
    make.reserve(codes, make.slot(orq, day="2025-11-20")).raise_for_status()

    first = scan(make, operator, codes[0]).json()
    assert first["result"] == "GREEN"
    assert first["reservation"]["party"] == {"size": 3, "admitted": 0}

    admitted = scan(make, operator, codes[0], "/venue/scan", action="admit").json()
    assert admitted["verified_now"] is True
    assert admitted["reservation"]["party"] == {"size": 3, "admitted": 1}  # this one included

    second = scan(make, operator, codes[1], "/venue/scan", action="admit").json()
    assert second["reservation"]["party"] == {"size": 3, "admitted": 2}
    again = scan(make, operator, codes[0]).json()
    assert again["code"] == "ALREADY_VERIFIED"
    assert again["reservation"]["party"] == {"size": 3, "admitted": 2}


def test_a_member_moved_alone_or_cancelled_no_longer_counts_in_the_partys_slot(
    make: Builders, door: tuple[int, Staff], clock: FrozenClock
) -> None:
    orq, operator = door
    clock.set(clock.now() - timedelta(days=2))  # 18 Nov: changes are still allowed
    codes = [make.ticket(orq, "ACTIVATED") for _ in range(4)]
    booked = make.reserve(codes, make.slot(orq, day="2025-11-20")).json()["reservations"]
    reservation_of = {r["ticket_code"]: r["reservation_id"] for r in booked}
    later = make.slot(orq, day="2025-11-20", start="11:00", end="12:00")
    moved = make.client.put(f"/api/reservations/{reservation_of[codes[2]]}", json={"slot_id": later})
    assert moved.status_code == 200, moved.text
    make.client.delete(f"/api/reservations/{reservation_of[codes[3]]}").raise_for_status()
    clock.advance(timedelta(days=2))

    assert scan(make, operator, codes[0]).json()["reservation"]["party"] == {"size": 2, "admitted": 0}
    alone = scan(make, operator, codes[2]).json()
    assert alone["reservation"]["start_time"] == "11:00"
    assert alone["reservation"]["party"] is None  # the only one of its party at 11:00


def test_a_ticket_reserved_for_another_date_is_red_wrong_date_and_cannot_verify(
    make: Builders, door: tuple[int, Staff]
) -> None:
    """US-015 scenario 4 / US-016 wrong date: RED, saying which day (relative to today) and when."""
    orq, operator = door
    code, _ = make.reservation(orq, make.slot(orq, day="2025-11-21"))
    verdict = scan(make, operator, code).json()
    assert (verdict["result"], verdict["code"], verdict["title"]) == ("RED", "WRONG_DATE", "TOMORROW 10:00")
    assert verdict["message"] == "Reserved for tomorrow, 10:00-11:00"
    assert verdict["customer"] is None
    refused = scan(make, operator, code, "/api/operator/verify-ticket")
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "WRONG_DATE")
    assert refused.json()["error"]["details"]["result"] == "RED"
    assert make.status_of(code) == "RESERVED"


def test_the_stories_wrong_date_scanned_the_day_before_says_tomorrow(
    make: Builders, door: tuple[int, Staff], clock: FrozenClock
) -> None:
    """US-016: reserved for 2025-11-20, scanned on 2025-11-19 → reserved for tomorrow."""
    orq, operator = door
    clock.set(clock.now() - timedelta(days=2))  # 18 Nov, so the 20th can still be booked
    code, _ = make.reservation(orq, make.slot(orq, day="2025-11-20"))
    clock.advance(timedelta(days=1))  # 19 Nov
    assert scan(make, operator, code).json()["message"].startswith("Reserved for tomorrow, ")


def test_no_reservation_is_red_under_deny(make: Builders, door: tuple[int, Staff]) -> None:
    orq, operator = door
    code = make.ticket(orq, "ACTIVATED")
    verdict = scan(make, operator, code).json()
    assert (verdict["result"], verdict["code"], verdict["title"]) == (
        "RED",
        "NO_RESERVATION",
        "NOT BOOKED",
    )
    assert verdict["message"] == "Customer must book a time slot first"
    assert not verdict["entry_allowed"]


def test_no_reservation_is_yellow_allowed_under_allow_and_admitting_verifies(
    make: Builders, door: tuple[int, Staff]
) -> None:
    orq, operator = door
    url = f"/api/organizations/{orq}/policy"
    make.client.patch(
        url, json={"unreserved_entry": "allow"}, headers=make.admin(orq).headers
    ).raise_for_status()
    code = make.ticket(orq, "ACTIVATED")
    verdict = scan(make, operator, code, "/venue/scan", action="validate").json()
    assert (verdict["result"], verdict["code"], verdict["message"]) == (
        "YELLOW",
        "NO_RESERVATION_ALLOWED",
        "No reservation - allowed",
    )
    assert verdict["entry_allowed"] is True
    admitted = scan(make, operator, code, "/venue/scan", action="admit").json()
    assert admitted["verified_now"] is True
    assert make.status_of(code) == "VERIFIED"


def test_the_one_scan_mode_admits_a_green_at_once_and_leaves_a_yellow_for_the_operator_to_confirm(
    make: Builders, door: tuple[int, Staff]
) -> None:
    orq, operator = door
    make.client.patch(
        f"/api/organizations/{orq}/policy",
        json={"unreserved_entry": "allow"},
        headers=make.admin(orq).headers,
    ).raise_for_status()
    green, _ = make.reservation(orq, make.slot(orq, day="2025-11-20"))
    yellow = make.ticket(orq, "ACTIVATED")
    one_scan = {"action": "admit", "admit_warnings": False}

    admitted = scan(make, operator, green, "/venue/scan", **one_scan).json()
    assert (admitted["result"], admitted["verified_now"]) == ("GREEN", True)
    assert make.status_of(green) == "VERIFIED"

    shown = scan(make, operator, yellow, "/venue/scan", **one_scan).json()
    assert (shown["result"], shown["code"], shown["verified_now"]) == (
        "YELLOW",
        "NO_RESERVATION_ALLOWED",
        False,
    )
    assert shown["can_verify"] and shown["entry_allowed"]
    assert make.status_of(yellow) == "ACTIVATED"
    confirmed = scan(make, operator, yellow, "/venue/scan", action="admit").json()  # the confirming tap
    assert confirmed["verified_now"] is True
    assert make.status_of(yellow) == "VERIFIED"


def test_an_inactive_ticket_is_red_not_activated(make: Builders, door: tuple[int, Staff]) -> None:
    orq, operator = door
    verdict = scan(make, operator, make.ticket(orq, "INACTIVE")).json()
    assert (verdict["result"], verdict["code"], verdict["message"]) == (
        "RED",
        "NOT_ACTIVATED",
        "Ticket not activated",
    )
    assert verdict["ticket"]["activation_status"] == "inactive"


@pytest.mark.parametrize(
    ("state", "code", "message"),
    [("PENDING_PAYMENT", "PAYMENT_PENDING", "Payment not completed"), ("VOID", "VOID", "Ticket revoked")],
)
def test_unpaid_and_revoked_tickets_are_red(
    make: Builders, door: tuple[int, Staff], state: str, code: str, message: str
) -> None:
    orq, operator = door
    verdict = scan(make, operator, make.ticket(orq, state)).json()
    assert (verdict["result"], verdict["code"], verdict["message"]) == ("RED", code, message)


def test_a_second_scan_is_yellow_already_verified_with_time_and_operator(
    make: Builders, door: tuple[int, Staff], clock: FrozenClock
) -> None:
    """US-015 scenario 6: verified 09:30 by Jane Smith, scanned again at 10:00 → YELLOW with both."""
    orq, _ = door
    jane = make.staff(orq, Role.OPERATOR, name="Jane Smith")
    other = make.staff(orq, Role.OPERATOR)
    code, _ = make.reservation(orq, make.slot(orq, day="2025-11-20", start="09:15", end="12:00"))
    clock.advance(timedelta(minutes=30))
    scan(make, jane, code, "/api/operator/verify-ticket").raise_for_status()
    clock.advance(timedelta(minutes=30))
    again = scan(make, other, code)
    verdict = again.json()
    assert (verdict["result"], verdict["code"], verdict["title"]) == (
        "YELLOW",
        "ALREADY_VERIFIED",
        "ALREADY IN — 09:30 BY JANE",
    )
    assert verdict["message"] == "Verified at 09:30 by Jane Smith"
    assert verdict["verified_by"] == "Jane Smith"
    assert verdict["verified_at"] == "2025-11-20T09:30:00+01:00"
    reverify = scan(make, other, code, "/api/operator/verify-ticket")
    assert reverify.status_code == 200  # idempotent: a warning, never a failure
    assert reverify.json()["code"] == "ALREADY_VERIFIED"
    assert [row[0] for row in make.audit(code)].count("verify") == 1


def test_an_unknown_code_is_invalid_ticket(make: Builders, door: tuple[int, Staff]) -> None:
    _, operator = door
    for code in ("ABCD-EFGH-JKMN-PQRS-TVWX", "not a code at all"):
        verdict = scan(make, operator, code).json()
        assert (verdict["result"], verdict["code"], verdict["title"]) == (
            "RED",
            "INVALID_TICKET",
            "NOT A TICKET",
        )
        assert verdict["ticket"] is None


def test_another_organizations_ticket_reads_as_invalid_and_its_history_is_untouched(make: Builders) -> None:
    museum, zoo = make.org("Museum"), make.org("Zoo")
    code, _ = make.reservation(museum, make.slot(museum, day="2025-11-20", start="10:00", end="11:00"))
    zoo_operator = make.staff(zoo, Role.OPERATOR)
    museum_manager = make.staff(museum, Role.MANAGER)
    for url in ("/api/operator/validate-ticket", "/api/operator/verify-ticket"):
        response = scan(make, zoo_operator, code, url)
        verdict = response.json() if response.status_code == 200 else response.json()["error"]["details"]
        assert verdict["code"] == "INVALID_TICKET"
    assert scan(make, zoo_operator, code, "/venue/scan", action="admit").json()["code"] == "INVALID_TICKET"
    assert make.status_of(code) == "RESERVED"
    history = make.client.get("/api/operators/scan-history", headers=museum_manager.headers).json()
    assert history["events"] == []


def test_a_retried_nonce_returns_the_first_answer_and_records_nothing_new(
    make: Builders, door: tuple[int, Staff]
) -> None:
    orq, operator = door
    code, _ = make.reservation(orq, make.slot(orq, day="2025-11-20", start="10:00", end="11:00"))
    first = scan(
        make, operator, code, "/venue/scan", action="admit", nonce="scan-1", device_id="lane-3"
    ).json()
    assert first["verified_now"] is True
    before = make.snapshot()
    retry = scan(
        make, operator, code, "/venue/scan", action="admit", nonce="scan-1", device_id="lane-3"
    ).json()
    assert retry == first  # not a confusing ALREADY IN
    assert make.snapshot() == before
    fresh = scan(make, operator, code, "/venue/scan", action="admit", nonce="scan-2").json()
    assert fresh["code"] == "ALREADY_VERIFIED"


def test_every_scan_is_in_the_history_newest_first_with_filters_and_pages(
    make: Builders, door: tuple[int, Staff], clock: FrozenClock
) -> None:
    orq, operator = door
    manager = make.staff(orq, Role.MANAGER)
    code, _ = make.reservation(orq, make.slot(orq, day="2025-11-20", start="10:00", end="11:00"))
    inactive = make.ticket(orq, "INACTIVE")
    for scanned in (code, inactive, "ABCDEFGHJKMNPQRSTVWX"):
        clock.advance(timedelta(minutes=1))
        scan(make, operator, scanned, device_id="lane-1")
    clock.advance(timedelta(minutes=1))
    scan(make, operator, code, "/api/operator/verify-ticket")

    url = "/api/operators/scan-history"
    page = make.client.get(url, params={"limit": 3}, headers=manager.headers).json()
    assert [e["code"] for e in page["events"]] == ["VALID", "INVALID_TICKET", "NOT_ACTIVATED"]
    first = page["events"][0]
    assert first["operator"] == {"id": operator.id, "name": f"Staff {operator.username}"}
    assert first["ticket_code_suffix"] == code[-4:]
    assert first["verified"] is True
    assert first["reservation"]["date"] == "2025-11-20"
    assert first["scanned_at"] == "2025-11-20T09:04:00+01:00"
    rest = make.client.get(
        url, params={"limit": 3, "cursor": page["next_cursor"]}, headers=manager.headers
    ).json()
    assert [e["code"] for e in rest["events"]] == ["VALID"]
    assert rest["next_cursor"] is None
    reds = make.client.get(url, params={"result": "RED"}, headers=manager.headers).json()["events"]
    assert {e["code"] for e in reds} == {"INVALID_TICKET", "NOT_ACTIVATED"}
    other_day = make.client.get(url, params={"from": "2025-11-21"}, headers=manager.headers).json()["events"]
    assert other_day == []
    assert make.client.get(url, headers=operator.headers).status_code == 403


def test_live_counts_for_the_day(make: Builders, door: tuple[int, Staff]) -> None:
    orq, operator = door
    manager = make.staff(orq, Role.MANAGER)
    morning = make.slot(orq, day="2025-11-20", start="10:00", end="11:00", capacity=5)
    make.slot(orq, day="2025-11-20", start="14:00", end="15:00", capacity=5)
    admitted, waiting = make.reservation(orq, morning)[0], make.reservation(orq, morning)[0]
    scan(make, operator, admitted, "/api/operator/verify-ticket")
    scan(make, operator, admitted)
    scan(make, operator, make.ticket(orq, "INACTIVE"))
    del waiting
    stats = make.client.get(
        "/api/operator/stats", params={"date": "2025-11-20"}, headers=manager.headers
    ).json()
    assert stats["date"] == "2025-11-20"
    assert (stats["validated"], stats["verified"]) == (3, 1)
    assert stats["by_result"] == {"GREEN": 1, "YELLOW": 1, "RED": 1}
    assert stats["by_reason"] == {"VALID": 1, "ALREADY_VERIFIED": 1, "NOT_ACTIVATED": 1}
    assert [(s["start_time"], s["booked_count"], s["verified_count"]) for s in stats["slots"]] == [
        ("10:00", 2, 1),
        ("14:00", 0, 0),
    ]


def test_no_shows_per_slot_once_its_entry_window_has_closed(
    make: Builders, door: tuple[int, Staff], clock: FrozenClock
) -> None:
    """Places booked and never used, per slot, from the moment the slot can no longer admit them."""
    orq, operator = door
    manager = make.staff(orq, Role.MANAGER)
    policy = {"entry_window": {"minutes_before_start": 30, "minutes_after_end": 15}, "change_cutoff_hours": 0}
    make.client.patch(
        f"/api/organizations/{orq}/policy", json=policy, headers=make.admin(orq).headers
    ).raise_for_status()
    early = make.slot(orq, day="2025-11-20", start="10:00", end="11:00", capacity=5)
    later = make.slot(orq, day="2025-11-20", start="14:00", end="15:00", capacity=5)
    came = make.reservation(orq, early)[0]
    for slot in (early, early, later):
        make.reservation(orq, slot)
    cancelled = make.reservation(orq, early)[1]
    make.client.delete(f"/api/reservations/{cancelled}").raise_for_status()
    clock.set(clock.now() + timedelta(hours=1, minutes=15))  # 10:15, inside the early slot's window
    assert scan(make, operator, came, "/api/operator/verify-ticket").json()["result"] == "GREEN"

    def no_shows() -> list[int | None]:
        stats = make.client.get("/api/operator/stats", headers=manager.headers).json()
        return [slot["no_shows"] for slot in stats["slots"]]

    assert no_shows() == [None, None]
    clock.set(clock.now() + timedelta(hours=1))  # 11:15: the window closes 15 minutes after the end
    assert no_shows() == [2, None]  # the cancelled place is not a no-show, the verified one came
    clock.set(clock.now() + timedelta(hours=5))  # 16:15
    assert no_shows() == [2, 1]


def _reused(response: Any) -> None:
    """Refused with NONCE_REUSED, and nothing of the first ticket or its holder in the answer."""
    assert response.status_code == 409, response.text
    assert response.json()["error"]["code"] == "NONCE_REUSED"
    assert "visitor@example.com" not in response.text and "+3120" not in response.text
    assert "GREEN" not in response.text


def test_a_nonce_sent_again_with_another_code_is_refused_without_the_first_tickets_answer(
    make: Builders, door: tuple[int, Staff]
) -> None:
    orq, operator = door
    slot = make.slot(orq, day="2025-11-20", start="10:00", end="11:00")
    code, _ = make.reservation(orq, slot)
    other = make.ticket(orq, "INACTIVE")
    first = scan(make, operator, code, "/venue/scan", nonce="scan-1")
    assert first.json()["result"] == "GREEN"
    before = make.snapshot()

    _reused(scan(make, operator, other, "/venue/scan", nonce="scan-1"))
    _reused(scan(make, operator, "ABCDEFGHJKMNPQRSTVWX", "/venue/scan", nonce="scan-1"))
    assert make.snapshot() == before


def test_a_nonce_sent_again_with_another_action_is_refused_and_admits_no_one(
    make: Builders, door: tuple[int, Staff]
) -> None:
    orq, operator = door
    code, _ = make.reservation(orq, make.slot(orq, day="2025-11-20", start="10:00", end="11:00"))
    assert scan(make, operator, code, "/venue/scan", action="validate", nonce="scan-1").status_code == 200

    _reused(scan(make, operator, code, "/venue/scan", action="admit", nonce="scan-1"))
    _reused(scan(make, operator, code, "/api/operator/verify-ticket", nonce="scan-1"))
    assert make.status_of(code) == "RESERVED"


def test_a_nonce_sent_again_by_another_operator_is_refused(make: Builders, door: tuple[int, Staff]) -> None:
    orq, operator = door
    colleague = make.staff(orq, Role.OPERATOR)
    code, _ = make.reservation(orq, make.slot(orq, day="2025-11-20", start="10:00", end="11:00"))
    assert scan(make, operator, code, "/venue/scan", nonce="scan-1").json()["result"] == "GREEN"

    _reused(scan(make, colleague, code, "/venue/scan", nonce="scan-1"))


def test_a_nonce_used_in_another_organization_is_a_scan_of_its_own(
    make: Builders, door: tuple[int, Staff]
) -> None:
    museum, museum_operator = door
    zoo = make.org("Zoo")
    zoo_operator = make.staff(zoo, Role.OPERATOR)
    code, _ = make.reservation(museum, make.slot(museum, day="2025-11-20", start="10:00", end="11:00"))
    assert scan(make, museum_operator, code, "/venue/scan", nonce="scan-1").json()["result"] == "GREEN"

    answer = scan(make, zoo_operator, code, "/venue/scan", nonce="scan-1")

    assert answer.status_code == 200
    assert (answer.json()["code"], answer.json()["customer"]) == ("INVALID_TICKET", None)


def test_the_verdict_speaks_the_scanners_language_and_its_codes_stay_the_same(
    make: Builders, door: tuple[int, Staff], clock: FrozenClock
) -> None:
    """The scanner page sends its language as Accept-Language: a French operator reads French words,
    days named as French writes them; the result and code a client acts on are the same in every one."""
    orq, operator = door
    french = {**operator.headers, "Accept-Language": "fr-FR,fr;q=0.9"}
    tomorrow, _ = make.reservation(orq, make.slot(orq, day="2025-11-21"))
    later, _ = make.reservation(orq, make.slot(orq, day="2025-11-24", start="14:00", end="15:00"))

    def scan_in(code: str, headers: dict[str, str], url: str = "/api/operator/validate-ticket") -> Any:
        return make.client.post(url, json={"code": code}, headers=headers)

    verdict = scan_in(tomorrow, french).json()
    assert (verdict["result"], verdict["code"]) == ("RED", "WRONG_DATE")
    assert (verdict["title"], verdict["message"]) == ("DEMAIN 10:00", "Réservé pour demain, 10:00-11:00")
    verdict = scan_in(later, french).json()
    assert (verdict["title"], verdict["message"]) == (
        "LUN. 24 NOV. 14:00",
        "Réservé pour le lun. 24 nov. 2025, 14:00-15:00",
    )
    refused = scan_in(tomorrow, french, "/api/operator/verify-ticket")
    assert refused.json()["error"]["code"] == "WRONG_DATE"
    assert refused.json()["error"]["message"] == "Réservé pour demain, 10:00-11:00"

    german = {**operator.headers, "Accept-Language": "de"}
    assert scan_in("ABCD-EFGH-JKMN-PQRS-TVWX", german).json()["title"] == "KEIN TICKET"
    # A language Admit does not speak, or none: English.
    assert (
        scan_in(tomorrow, {**operator.headers, "Accept-Language": "ja"}).json()["title"] == "TOMORROW 10:00"
    )
