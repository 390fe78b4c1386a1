"""The outbox, for managers: see what could not be delivered, and send it again."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel
from sqlalchemy import select

from admit import errors
from admit.api.deps import ContextDep, ManagerDep, SessionDep
from admit.api.schemas import MAX_ID
from admit.db.models import OutboxMessage
from admit.domain.mail import MailKind, MailStatus

router = APIRouter(tags=["mail"])


class MessageOut(BaseModel):
    id: int
    kind: MailKind
    status: MailStatus
    recipient: str
    reservation_id: str | None
    attempts: int
    next_attempt_at: str
    last_error: str | None
    created_at: str
    sent_at: str | None


class MessagesOut(BaseModel):
    messages: list[MessageOut]


def _out(row: OutboxMessage) -> MessageOut:
    return MessageOut(
        id=row.id,
        kind=row.kind,
        status=row.status,
        recipient=row.recipient,
        reservation_id=row.reservation_id,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at.isoformat(),
        last_error=row.last_error,
        created_at=row.created_at.isoformat(),
        sent_at=row.sent_at.isoformat() if row.sent_at else None,
    )


@router.get("/api/mail/outbox")
def outbox(
    manager: ManagerDep,
    session: SessionDep,
    status: Annotated[MailStatus | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> MessagesOut:
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.orq == manager.orq)
        .order_by(OutboxMessage.id.desc())
        .limit(limit)
    )
    if status is not None:
        query = query.where(OutboxMessage.status == status)
    with session.begin():
        return MessagesOut(messages=[_out(row) for row in session.scalars(query)])


@router.post("/api/mail/outbox/{message_id}/retry")
def retry(
    message_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    manager: ManagerDep,
    context: ContextDep,
    session: SessionDep,
) -> MessageOut:
    """Queue a given-up message again, from its first attempt."""
    with session.begin():
        row = session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.orq == manager.orq)
            .with_for_update()
        ).first()
        if row is None:
            raise errors.MessageNotFound()
        if row.status is not MailStatus.FAILED:
            raise errors.MessageNotFailed(status=row.status.value)
        row.status, row.attempts, row.last_error = MailStatus.PENDING, 0, None
        row.next_attempt_at = context.clock.now()
        return _out(row)
