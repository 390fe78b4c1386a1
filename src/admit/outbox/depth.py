"""How far behind the outbox is, for the metrics: one small query at scrape time, no organization."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from admit.clock import Clock
from admit.db.models import OutboxMessage
from admit.domain.mail import MailStatus


def outbox_depth(sessions: sessionmaker[Session], clock: Clock) -> tuple[int, float, int]:
    """(messages waiting, age in seconds of the oldest waiting one, messages given up)."""
    counts = (
        select(OutboxMessage.status, func.count(), func.min(OutboxMessage.created_at))
        .where(OutboxMessage.status.in_((MailStatus.PENDING, MailStatus.FAILED)))
        .group_by(OutboxMessage.status)
    )
    with sessions() as session, session.begin():
        rows = {status: (count, oldest) for status, count, oldest in session.execute(counts)}
    pending, oldest = rows.get(MailStatus.PENDING, (0, None))
    age = max((clock.now() - oldest).total_seconds(), 0.0) if oldest is not None else 0.0
    return pending, age, rows.get(MailStatus.FAILED, (0, None))[0]
