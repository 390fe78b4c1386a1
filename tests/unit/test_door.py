"""The door's verdict table, one row per case of the shared vectors (tests/vectors/door.json)."""

from __future__ import annotations

import json
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pytest

from admit.domain.calendar import SlotTimes
from admit.domain.door import ENTRY_CODES, TicketFacts, decide, party_at_door
from admit.domain.lifecycle import TicketStatus
from admit.domain.policy import EntryWindow, Policy, UnreservedEntry

_DOOR = json.loads((Path(__file__).parent.parent / "vectors" / "door.json").read_text())
VECTORS = _DOOR["cases"]
PARTIES = _DOOR["parties"]


def ticket_of(raw: dict[str, Any] | None) -> TicketFacts | None:
    if raw is None:
        return None
    verified = raw.get("verified_at_local")
    return TicketFacts(
        status=TicketStatus(raw["status"]),
        valid_until=date.fromisoformat(raw["valid_until"]) if raw.get("valid_until") else None,
        verified_at_local=datetime.fromisoformat(verified) if verified else None,
        verified_by=raw.get("verified_by"),
    )


def slot_of(raw: dict[str, str] | None) -> SlotTimes | None:
    if raw is None:
        return None
    return SlotTimes(
        date.fromisoformat(raw["date"]),
        time.fromisoformat(raw["start_time"]),
        time.fromisoformat(raw["end_time"]),
    )


def policy_of(raw: dict[str, Any]) -> Policy:
    window = raw["entry_window"]
    entry = (
        EntryWindow()
        if window == "day"
        else EntryWindow(window["minutes_before_start"], window["minutes_after_end"])
    )
    return Policy(unreserved_entry=UnreservedEntry(raw["unreserved_entry"]), entry_window=entry)


@pytest.mark.parametrize("case", VECTORS, ids=[c["name"] for c in VECTORS])
def test_verdict(case: dict[str, Any]) -> None:
    verdict = decide(
        ticket_of(case["ticket"]),
        slot_of(case["slot"]),
        now_local=datetime.fromisoformat(case["now_local"]),
        policy=policy_of(case["policy"]),
    )
    got = {
        "result": verdict.result.value,
        "code": verdict.code,
        "title": verdict.title,
        "message": verdict.message,
        "entry_allowed": verdict.entry_allowed,
        "can_verify": verdict.can_verify,
        "ticket_status": verdict.ticket_status.value if verdict.ticket_status else None,
    }
    assert got == case["expect"]


def test_the_vectors_cover_every_verdict_code_of_the_design() -> None:
    codes = {case["expect"]["code"] for case in VECTORS}
    design = {
        "VALID",
        "WRONG_DATE",
        "NO_RESERVATION",
        "NO_RESERVATION_ALLOWED",
        "NOT_ACTIVATED",
        "PAYMENT_PENDING",
        "ALREADY_VERIFIED",
        "EXPIRED",
        "VOID",
        "INVALID_TICKET",
    }
    assert design <= codes


def test_only_green_and_the_allowed_yellow_admit() -> None:
    for case in VECTORS:
        expect = case["expect"]
        assert expect["entry_allowed"] == (expect["code"] in ("VALID", "NO_RESERVATION_ALLOWED")), case[
            "name"
        ]


def test_the_codes_a_synced_scan_counts_as_an_entry_are_exactly_those_that_allow_entry() -> None:
    """A device's offline verdict is read by its code: ENTRY_CODES must agree with `entry_allowed`."""
    for case in VECTORS:
        assert (case["expect"]["code"] in ENTRY_CODES) == case["expect"]["entry_allowed"], case["name"]
    assert {case["expect"]["code"] for case in VECTORS if case["expect"]["entry_allowed"]} == ENTRY_CODES


@pytest.mark.parametrize("case", PARTIES, ids=[case["name"] for case in PARTIES])
def test_party_at_the_door(case: dict[str, Any]) -> None:
    party = party_at_door(case["size"], case["admitted"], admitted_now=case["admitted_now"])
    assert (None if party is None else {"size": party.size, "admitted": party.admitted}) == case["expect"]
