"""The ticket lifecycle: every allowed transition, and the reason for every refused one."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from admit import errors
from admit.domain.lifecycle import TRANSITIONS, TicketEvent, TicketStatus, effective_status, next_status

S = TicketStatus
E = TicketEvent

ALLOWED = {
    (E.PAY_IMMEDIATE, S.PENDING_PAYMENT): S.ACTIVATED,
    (E.PAY_PRE_MADE, S.PENDING_PAYMENT): S.INACTIVE,
    (E.ACTIVATE, S.INACTIVE): S.ACTIVATED,
    (E.RESERVE, S.ACTIVATED): S.RESERVED,
    (E.MOVE, S.RESERVED): S.RESERVED,
    (E.CANCEL, S.RESERVED): S.ACTIVATED,
    (E.VERIFY, S.RESERVED): S.VERIFIED,
    (E.VERIFY, S.ACTIVATED): S.VERIFIED,
    **{(E.EXPIRE, s): S.EXPIRED for s in (S.PENDING_PAYMENT, S.INACTIVE, S.ACTIVATED, S.RESERVED)},
    **{(E.VOID, s): S.VOID for s in S if s is not S.VOID},
}

REFUSED_WITH = {
    (E.ACTIVATE, S.PENDING_PAYMENT): "PAYMENT_PENDING",
    (E.ACTIVATE, S.ACTIVATED): "ALREADY_ACTIVATED",
    (E.ACTIVATE, S.RESERVED): "ALREADY_ACTIVATED",
    (E.ACTIVATE, S.VERIFIED): "ALREADY_ACTIVATED",
    (E.ACTIVATE, S.EXPIRED): "EXPIRED",
    (E.ACTIVATE, S.VOID): "VOID",
    (E.RESERVE, S.PENDING_PAYMENT): "PAYMENT_PENDING",
    (E.RESERVE, S.INACTIVE): "NOT_ACTIVATED",
    (E.RESERVE, S.RESERVED): "ALREADY_RESERVED",
    (E.RESERVE, S.VERIFIED): "ALREADY_VERIFIED",
    (E.RESERVE, S.EXPIRED): "EXPIRED",
    (E.RESERVE, S.VOID): "VOID",
    (E.CANCEL, S.ACTIVATED): "NOT_RESERVED",
    (E.MOVE, S.ACTIVATED): "NOT_RESERVED",
    (E.VERIFY, S.INACTIVE): "NOT_ACTIVATED",
    (E.VERIFY, S.PENDING_PAYMENT): "PAYMENT_PENDING",
    (E.VERIFY, S.VERIFIED): "ALREADY_VERIFIED",
    (E.VERIFY, S.EXPIRED): "EXPIRED",
    (E.VERIFY, S.VOID): "VOID",
    (E.PAY_IMMEDIATE, S.ACTIVATED): "ALREADY_PAID",
    (E.PAY_PRE_MADE, S.INACTIVE): "ALREADY_PAID",
    (E.VOID, S.VOID): "VOID",
    (E.EXPIRE, S.VERIFIED): "ALREADY_VERIFIED",
}

EVERY_PAIR = [(event, status) for event in E if event is not E.ISSUE for status in S]


@pytest.mark.parametrize(("event", "status"), list(ALLOWED))
def test_allowed_transition_reaches_its_state(event: TicketEvent, status: TicketStatus) -> None:
    assert next_status(status, event) is ALLOWED[(event, status)]


@pytest.mark.parametrize(("event", "status"), [pair for pair in EVERY_PAIR if pair not in ALLOWED])
def test_every_other_transition_is_refused_with_a_domain_error(
    event: TicketEvent, status: TicketStatus
) -> None:
    with pytest.raises(errors.DomainError) as refused:
        next_status(status, event)
    if (event, status) in REFUSED_WITH:
        assert refused.value.code == REFUSED_WITH[(event, status)]


def test_the_table_allows_exactly_the_listed_transitions() -> None:
    table = {
        (event, source): target for event, moves in TRANSITIONS.items() for source, target in moves.items()
    }
    assert table == ALLOWED


def test_activation_is_irreversible_no_event_leads_back_to_inactive() -> None:
    for status in S:
        if status in (S.PENDING_PAYMENT, S.INACTIVE):
            continue
        for event in TRANSITIONS:
            target = TRANSITIONS[event].get(status)
            assert target not in (S.INACTIVE, S.PENDING_PAYMENT), (event, status)


def test_void_is_final() -> None:
    for event in TRANSITIONS:
        with pytest.raises(errors.DomainError):
            next_status(S.VOID, event)


NOON = datetime(2025, 11, 20, 12, 0)


def test_reserved_ticket_reads_expired_once_its_entry_window_has_closed_in_venue_time() -> None:
    assert effective_status(S.RESERVED, now_local=NOON, entry_closed=True) is S.EXPIRED
    assert effective_status(S.RESERVED, now_local=NOON, entry_closed=False) is S.RESERVED
    assert effective_status(S.ACTIVATED, now_local=NOON, entry_closed=True) is S.ACTIVATED


def test_product_validity_expires_unused_tickets_after_the_last_valid_day() -> None:
    assert effective_status(S.ACTIVATED, now_local=NOON, valid_until=date(2025, 11, 20)) is S.ACTIVATED
    assert effective_status(S.ACTIVATED, now_local=NOON, valid_until=date(2025, 11, 19)) is S.EXPIRED
    assert effective_status(S.INACTIVE, now_local=NOON, valid_until=date(2025, 11, 19)) is S.EXPIRED


@pytest.mark.parametrize("final", [S.VERIFIED, S.VOID, S.EXPIRED])
def test_final_states_are_not_rewritten_by_expiry(final: TicketStatus) -> None:
    assert effective_status(final, now_local=NOON, valid_until=date(2000, 1, 1)) is final
