"""Delivering the outbox: claim due messages, send them with no lock held, record what happened.

A claim moves a message's next attempt one lease ahead in a short transaction (rows locked with
FOR UPDATE SKIP LOCKED on PostgreSQL), so several senders on several machines never take the same
message, and one that dies mid-send is retried after the lease. The send itself holds no lock.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from admit.clock import Clock
from admit.db.models import Organization, OutboxMessage, Reservation, Ticket
from admit.domain.lifecycle import ReservationStatus
from admit.domain.mail import MailKind, MailStatus, gives_up, retry_delay
from admit.mail.compose import Sender, reservation_message, reserve_reminder
from admit.mail.transport import DELIVERY_ERRORS, Transport
from admit.security.codes import CodeKeys
from admit.services.reservations import current_view

log = structlog.get_logger()
LEASE = timedelta(minutes=2)
BATCH = 20


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


def send_due(mail: MailContext, *, batch: int = BATCH) -> SendReport:
    """One pass: send every message that is due now, a batch at a time."""
    report = SendReport()
    while claimed := _claim(mail, batch):
        for message_id, message in claimed:
            _deliver(mail, message_id, message, report)
    return report


def _claim(mail: MailContext, batch: int) -> list[tuple[int, EmailMessage | None]]:
    now = mail.clock.now()
    with mail.sessions() as session, session.begin():
        due = session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.status == MailStatus.PENDING, OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.id)
            .limit(batch)
            .with_for_update(skip_locked=True)
        ).all()
        claimed = []
        for row in due:
            row.attempts += 1
            row.next_attempt_at = now + LEASE
            claimed.append((row.id, _compose(session, row, mail, now)))
        return claimed


def _compose(session: Session, row: OutboxMessage, mail: MailContext, now: datetime) -> EmailMessage | None:
    """The message for a row, or None when it no longer makes sense to send it."""
    if row.kind is MailKind.RESERVE_REMINDER:
        ticket = session.get_one(Ticket, row.ticket_id)
        org = session.get_one(Organization, row.orq)
        return reserve_reminder(
            venue=org.name,
            ticket_code=mail.keys.unseal(ticket.code_sealed),
            recipient=row.recipient,
            sender=mail.sender,
        )
    reservation = session.get_one(Reservation, row.reservation_id)
    cancelled = reservation.status is ReservationStatus.CANCELLED
    if cancelled and row.kind is not MailKind.CANCELLATION:
        return None  # a confirmation or reminder for a visit that has since been cancelled
    view = current_view(session, reservation, mail.keys, now)
    return reservation_message(row.kind, view, sender=mail.sender, now=now)


def _deliver(mail: MailContext, message_id: int, message: EmailMessage | None, report: SendReport) -> None:
    error = None
    if message is not None:
        try:
            mail.transport.send(message)
        except DELIVERY_ERRORS as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
    now = mail.clock.now()
    with mail.sessions() as session, session.begin():
        row = session.get_one(OutboxMessage, message_id, with_for_update=True)
        if message is None:
            row.status = MailStatus.SKIPPED
            report.skipped += 1
        elif error is None:
            row.status, row.sent_at, row.last_error = MailStatus.SENT, now, None
            report.sent += 1
            log.info("mail.sent", kind=row.kind.value, outbox_id=row.id)
        else:
            row.last_error = error
            report.errors.append(error)
            if gives_up(row.attempts):
                row.status = MailStatus.FAILED
                report.gave_up += 1
                log.warning("mail.gave_up", kind=row.kind.value, outbox_id=row.id, error=error)
            else:
                row.next_attempt_at = now + retry_delay(row.attempts)
                report.retrying += 1
                log.info("mail.retrying", kind=row.kind.value, outbox_id=row.id, attempts=row.attempts)


def run_sender(mail: MailContext, stop: threading.Event, *, interval: float = 5.0) -> None:
    """Send and queue reminders until `stop` is set; a failing pass is logged and tried again."""
    from admit.mail.reminders import queue_reminders

    while not stop.is_set():
        try:
            queue_reminders(mail.sessions, now=mail.clock.now())
            send_due(mail)
        except Exception:  # keep the worker alive: the next pass retries
            log.exception("mail.pass_failed")
        stop.wait(interval)
