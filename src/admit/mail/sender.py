"""Delivering the outbox: claim due messages, send them with no lock held, record what happened.

A claim moves a message's next attempt one lease ahead in a short transaction (rows locked with
FOR UPDATE SKIP LOCKED on PostgreSQL), so several senders on several machines never take the same
message, and one that dies mid-send is retried after the lease. The send itself holds no lock.

The claim commits before anything that can fail; then each message is composed, sent and recorded on
its own, so one that cannot be composed or sent is backed off (or, when no retry can help, given up at
once) while every other message still goes out.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage

import structlog
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from admit import errors
from admit.clock import Clock
from admit.db.models import Order, Organization, OrganizationLogo, OutboxMessage, Reservation, Ticket
from admit.domain.calendar import SlotStatus
from admit.domain.lifecycle import ReservationStatus
from admit.domain.mail import MailKind, MailStatus, gives_up, retry_delay
from admit.mail.compose import (
    METHODS,
    Sender,
    order_message,
    party_message,
    reservation_message,
    reserve_reminder,
    slot_closed_message,
)
from admit.mail.transport import DELIVERY_ERRORS, Transport
from admit.security.codes import CodeKeys
from admit.security.offline import OfflineSecrets
from admit.services.order_link import order_tickets
from admit.services.organizations import shown_name
from admit.services.reservation_qr import qr_payload_in
from admit.services.reservations import PartyView, current_view, party_of

log = structlog.get_logger()
LEASE = timedelta(minutes=2)
BATCH = 20
# Reminders are due by the venue's day, not by the second: looking for them once a minute instead of
# on every 5-second pass costs nothing in timeliness and spares every node eleven queries in twelve.
REMINDERS_EVERY = 60.0


@dataclass
class SendReport:
    sent: int = 0
    retrying: int = 0
    gave_up: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class MailContext:
    sessions: sessionmaker[Session]
    clock: Clock
    keys: CodeKeys
    transport: Transport
    sender: Sender
    offline: OfflineSecrets  # signs the reservation's QR code


def send_due(mail: MailContext, *, batch: int = BATCH) -> SendReport:
    """One pass: send every message that is due now, a batch at a time, each on its own."""
    report = SendReport()
    while claimed := _claim(mail, batch):
        for message_id in claimed:
            _send_one(mail, message_id, report)
    return report


def _claim(mail: MailContext, batch: int) -> list[int]:
    """Lease the due messages and count the attempt, committed before anything that can fail."""
    now = mail.clock.now()
    with mail.sessions() as session, session.begin():
        due = session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.status == MailStatus.PENDING, OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.id)
            .limit(batch)
            .with_for_update(skip_locked=True)
        ).all()
        for row in due:
            row.attempts += 1
            row.next_attempt_at = now + LEASE
        return [row.id for row in due]


@dataclass(frozen=True)
class _Outcome:
    error: str | None = None  # None: sent (or skipped)
    permanent: bool = False  # no retry can deliver it
    skipped: bool = False


def _send_one(mail: MailContext, message_id: int, report: SendReport) -> None:
    """Compose and send one message; whatever goes wrong is recorded on its row alone."""
    _record(mail, message_id, _attempt(mail, message_id), report)


def _attempt(mail: MailContext, message_id: int) -> _Outcome:
    try:
        with mail.sessions() as session, session.begin():
            message = _compose(session, message_id, mail, mail.clock.now())
    except errors.Undeliverable as exc:
        return _Outcome(exc.message, permanent=True)
    except Exception as exc:  # a missing row, a bug: this message only, retried with back-off
        log.exception("mail.compose_failed", outbox_id=message_id)
        return _Outcome(f"could not compose: {type(exc).__name__}: {exc}")
    if message is None:
        return _Outcome(skipped=True)
    try:
        mail.transport.send(message)
    except errors.Undeliverable as exc:
        return _Outcome(exc.message, permanent=True)
    except Exception as exc:
        if not isinstance(exc, DELIVERY_ERRORS):  # not the server's doing: keep the traceback
            log.exception("mail.send_failed", outbox_id=message_id)
        return _Outcome(f"{type(exc).__name__}: {exc}")
    return _Outcome()


def _compose(session: Session, message_id: int, mail: MailContext, now: datetime) -> EmailMessage | None:
    """The message for a row, or None when it no longer makes sense to send it."""
    row = session.get_one(OutboxMessage, message_id)
    if row.kind is MailKind.RESERVE_REMINDER:
        ticket = session.get_one(Ticket, row.ticket_id)
        org = session.get_one(Organization, row.orq)
        return reserve_reminder(
            venue=shown_name(org),
            ticket_code=mail.keys.unseal(ticket.code_sealed),
            recipient=row.recipient,
            sender=mail.sender,
            # The ticket has no language of its own: its order's, the one its buyer was written to in.
            language=session.get_one(Order, ticket.order_id).language,
        )
    if row.kind is MailKind.ORDER:
        return _order_message(session, row, mail)
    if row.party_id is not None:
        return _party_message(session, row, mail, now)
    reservation = session.get_one(Reservation, row.reservation_id)
    cancelled = reservation.status is ReservationStatus.CANCELLED
    if cancelled and row.kind is not MailKind.CANCELLATION:
        return None  # a confirmation or reminder for a visit that has since been cancelled
    view = current_view(session, reservation, mail.keys, now)
    if row.kind is MailKind.SLOT_CLOSED:
        # Moved since, or the slot reopened: there is nothing left to choose.
        still_stranded = view.status is ReservationStatus.RESERVED and view.slot.status is SlotStatus.CLOSED
        return slot_closed_message(view, sender=mail.sender) if still_stranded else None
    qr_text = qr_payload_in(session, reservation=view, offline_secrets=mail.offline, now=now)
    logo = session.get(OrganizationLogo, row.orq)  # printed on the attached ticket
    return reservation_message(
        row.kind,
        view,
        qr_text=qr_text,
        sender=mail.sender,
        now=now,
        logo=logo.data if logo else None,
        party=_calendar_party(session, reservation, mail, row.kind, now),
    )


def _calendar_party(
    session: Session, reservation: Reservation, mail: MailContext, kind: MailKind, now: datetime
) -> PartyView | None:
    """The party of a member changed alone, when it has others: their calendar entry is the party's."""
    if kind not in METHODS:
        return None
    size = session.scalar(
        select(func.count()).select_from(Reservation).where(Reservation.party_id == reservation.party_id)
    )
    return party_of(session, party_id=reservation.party_id, keys=mail.keys, now=now) if size != 1 else None


def _party_message(
    session: Session, row: OutboxMessage, mail: MailContext, now: datetime
) -> EmailMessage | None:
    """One message about the members of a party the row is about, as they are now; about one member
    alone it is that member's own message, and None when none is left to tell about."""
    party = party_of(session, party_id=str(row.party_id), keys=mail.keys, now=now)
    named = next(member for member in party.members if member.reservation_id == row.reservation_id)
    if row.kind is MailKind.CANCELLATION:
        # The members this cancel acted on: cancelled in the same moment as the one the row names.
        at = session.get_one(Reservation, named.reservation_id).cancelled_at
        with_it = set(
            session.scalars(
                select(Reservation.id).where(
                    Reservation.party_id == party.party_id,
                    Reservation.status == ReservationStatus.CANCELLED,
                    Reservation.cancelled_at == at,
                )
            )
        )
        members = [member for member in party.members if member.reservation_id in with_it]
    elif row.kind is MailKind.VISIT_REMINDER:
        members = [member for member in party.live if member.slot.date == named.slot.date]
    elif row.kind is MailKind.SLOT_CLOSED:
        members = [member for member in party.live if member.slot.status is SlotStatus.CLOSED]
    else:
        members = party.live
    if not members:
        return None
    if row.kind is MailKind.SLOT_CLOSED:
        shared = (party.party_id, members) if len(members) > 1 else None
        return slot_closed_message(members[0], sender=mail.sender, party=shared)
    logo = session.get(OrganizationLogo, row.orq)  # printed on the attached tickets
    qr_texts = [
        qr_payload_in(session, reservation=member, offline_secrets=mail.offline, now=now)
        for member in members
    ]
    if len(members) == 1:
        return reservation_message(
            row.kind,
            members[0],
            qr_text=qr_texts[0],
            sender=mail.sender,
            now=now,
            logo=logo.data if logo else None,
            party=party if len(party.members) > 1 else None,
        )
    return party_message(
        row.kind,
        party,
        list(zip(members, qr_texts, strict=True)),
        sender=mail.sender,
        now=now,
        logo=logo.data if logo else None,
    )


def _order_message(session: Session, row: OutboxMessage, mail: MailContext) -> EmailMessage | None:
    """The order's tickets as they are now; None when every one has been voided since."""
    first = session.get_one(Ticket, row.ticket_id)
    tickets = order_tickets(session, order_id=first.order_id)
    if not tickets:
        return None
    order = session.get_one(Order, first.order_id)
    return order_message(
        venue=shown_name(session.get_one(Organization, row.orq)),
        tickets=[(mail.keys.unseal(t.code_sealed), t.status) for t in tickets],
        order_token=order.link_token,
        recipient=row.recipient,
        sender=mail.sender,
        language=order.language,
    )


def _record(mail: MailContext, message_id: int, outcome: _Outcome, report: SendReport) -> None:
    now = mail.clock.now()
    with mail.sessions() as session, session.begin():
        row = session.get_one(OutboxMessage, message_id, with_for_update=True)
        if outcome.skipped:
            row.status = MailStatus.SKIPPED
            report.skipped += 1
        elif outcome.error is None:
            row.status, row.sent_at, row.last_error = MailStatus.SENT, now, None
            report.sent += 1
            log.info("mail.sent", kind=row.kind.value, outbox_id=row.id)
        else:
            row.last_error = outcome.error[:500]
            report.errors.append(row.last_error)
            if outcome.permanent or gives_up(row.attempts):
                row.status = MailStatus.FAILED
                report.gave_up += 1
                log.warning("mail.gave_up", kind=row.kind.value, outbox_id=row.id, error=row.last_error)
            else:
                row.next_attempt_at = now + retry_delay(row.attempts)
                report.retrying += 1
                log.info("mail.retrying", kind=row.kind.value, outbox_id=row.id, attempts=row.attempts)


def run_sender(
    mail: MailContext,
    stop: threading.Event,
    *,
    interval: float = 5.0,
    reminders_every: float = REMINDERS_EVERY,
) -> None:
    """Send (and now and then queue reminders) until `stop` is set; a failing pass is logged and retried."""
    from admit.mail.reminders import queue_reminders

    reminders_due = 0.0
    while not stop.is_set():
        try:
            if time.monotonic() >= reminders_due:
                queue_reminders(mail.sessions, now=mail.clock.now())
                reminders_due = time.monotonic() + reminders_every
            send_due(mail)
        except Exception:  # keep the worker alive: the next pass retries
            log.exception("mail.pass_failed")
        stop.wait(interval)
