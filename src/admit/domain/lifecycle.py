"""The ticket lifecycle: one state machine for both product stories."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from admit import errors


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
    entry_closes_at: datetime | None = None,
) -> TicketStatus:
    """The status a reader sees: expiry by the venue's clock applies before any sweep writes it.

    `now_local` and `entry_closes_at` (when the reservation stops admitting, see domain.entry) are
    naive datetimes in the venue's time zone.
    """
    if status in FINAL:
        return status
    if valid_until is not None and now_local.date() > valid_until:
        return S.EXPIRED
    if status is S.RESERVED and entry_closes_at is not None and now_local >= entry_closes_at:
        return S.EXPIRED
    return status
