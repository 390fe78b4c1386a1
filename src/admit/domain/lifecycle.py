"""The ticket lifecycle: one state machine for both product stories."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from admit import errors
from admit.domain.rules import PY, Ops


class TicketStatus(StrEnum):
    PENDING_PAYMENT = "PENDING_PAYMENT"
    INACTIVE = "INACTIVE"
    ACTIVATED = "ACTIVATED"
    RESERVED = "RESERVED"
    VERIFIED = "VERIFIED"
    EXPIRED = "EXPIRED"
    VOID = "VOID"


class ReservationStatus(StrEnum):
    """A reservation follows its ticket: RESERVED until verified, cancelled or expired."""

    RESERVED = "RESERVED"
    VERIFIED = "VERIFIED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"


class ActivationMode(StrEnum):
    IMMEDIATE = "immediate"
    PRE_MADE = "pre_made"


class TicketEvent(StrEnum):
    ISSUE = "issue"
    PAY_IMMEDIATE = "pay_immediate"
    PAY_PRE_MADE = "pay_pre_made"
    ACTIVATE = "activate"
    RESERVE = "reserve"
    MOVE = "move"
    CANCEL = "cancel"
    VERIFY = "verify"
    EXPIRE = "expire"
    VOID = "void"


S = TicketStatus
FINAL = frozenset({S.VERIFIED, S.EXPIRED, S.VOID})

TRANSITIONS: dict[TicketEvent, dict[TicketStatus, TicketStatus]] = {
    TicketEvent.PAY_IMMEDIATE: {S.PENDING_PAYMENT: S.ACTIVATED},
    TicketEvent.PAY_PRE_MADE: {S.PENDING_PAYMENT: S.INACTIVE},
    TicketEvent.ACTIVATE: {S.INACTIVE: S.ACTIVATED},
    TicketEvent.RESERVE: {S.ACTIVATED: S.RESERVED},
    TicketEvent.MOVE: {S.RESERVED: S.RESERVED},
    TicketEvent.CANCEL: {S.RESERVED: S.ACTIVATED},
    # A reserved ticket is verified on its date; an unreserved one only where the policy allows it.
    TicketEvent.VERIFY: {S.RESERVED: S.VERIFIED, S.ACTIVATED: S.VERIFIED},
    TicketEvent.EXPIRE: {s: S.EXPIRED for s in S if s not in FINAL},
    TicketEvent.VOID: {s: S.VOID for s in S if s is not S.VOID},
}

# Why a ticket in this state cannot take the step asked of it.
_REFUSAL: dict[TicketStatus, type[errors.DomainError]] = {
    S.PENDING_PAYMENT: errors.PaymentPending,
    S.INACTIVE: errors.NotActivated,
    S.ACTIVATED: errors.NotReserved,
    S.RESERVED: errors.AlreadyReserved,
    S.VERIFIED: errors.AlreadyVerified,
    S.EXPIRED: errors.Expired,
    S.VOID: errors.Void,
}
_ACTIVATE_REFUSAL = {S.ACTIVATED, S.RESERVED, S.VERIFIED}


def next_status(status: TicketStatus, event: TicketEvent) -> TicketStatus:
    """The state after `event`, or the domain error that explains the refusal."""
    target = TRANSITIONS[event].get(status)
    if target is not None:
        return target
    if event is TicketEvent.ACTIVATE and status in _ACTIVATE_REFUSAL:
        raise errors.AlreadyActivated()
    if event is TicketEvent.PAY_IMMEDIATE or event is TicketEvent.PAY_PRE_MADE:
        raise errors.AlreadyPaid()
    raise _REFUSAL[status]()


def payment_event(mode: ActivationMode) -> TicketEvent:
    return TicketEvent.PAY_IMMEDIATE if mode is ActivationMode.IMMEDIATE else TicketEvent.PAY_PRE_MADE


def effective_status(
    status: TicketStatus,
    *,
    now_local: datetime,
    valid_until: date | None = None,
    entry_closed: bool = False,
) -> TicketStatus:
    """The status a reader sees: expiry by the venue's clock applies before any sweep writes it.

    `now_local` is a naive datetime in the venue's time zone; `entry_closed` says whether the
    reservation's entry window has closed by then (domain.entry.entry_closed).
    """
    if status in FINAL:
        return status
    if validity_passed(valid_until, now_local.date()):
        return S.EXPIRED
    if status is S.RESERVED and entry_closed:
        return S.EXPIRED
    return status


def validity_passed_rule(ops: Ops, *, valid_until: Any, today: date) -> Any:
    """A ticket's product validity has passed once its last valid day is over (venue time).

    In SQL a ticket without a validity compares false, as `validity_passed` answers for None.
    """
    return valid_until < today


def validity_passed(valid_until: date | None, today: date) -> bool:
    return valid_until is not None and bool(validity_passed_rule(PY, valid_until=valid_until, today=today))


# The first move into ACTIVATED is the activation: its moment is kept (a cancel returns to ACTIVATED later).
NOT_YET_ACTIVATED = frozenset({S.PENDING_PAYMENT, S.INACTIVE})


def activates(before: TicketStatus, after: TicketStatus) -> bool:
    return after is S.ACTIVATED and before in NOT_YET_ACTIVATED
