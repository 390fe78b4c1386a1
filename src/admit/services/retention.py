"""Retention of the door's stored answers: kept while a device may retry a nonce, then dropped.

A scan event keeps its answer as sent (about 600 bytes) only so that a retry with the same nonce is
answered exactly as the first time. Past the retention window the answer is set to null; the compact row
that remains still carries everything the history and the live counts read, and its nonce still refuses
to be recorded twice (a late retry is answered NONCE_EXPIRED).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import structlog
from sqlalchemy import select, tuple_, update
from sqlalchemy.orm import Session

from admit.db.models import ScanEvent

log = structlog.get_logger()

# Rows per transaction: short enough that a batch never holds its row locks for long.
BATCH = 1000


def compact_answers(sessions: Callable[[], Session], *, before: datetime, batch: int = BATCH) -> int:
    """Drop the stored answers of scans made before `before`, batch by batch; how many were dropped.

    Each batch is its own transaction. Rows another transaction holds are skipped (PostgreSQL) and
    dropped on a later pass; a batch that fails is logged and passed over, and the next one still runs.
    """
    dropped = 0
    after: tuple[datetime, int] | None = None
    while True:
        with sessions() as session, session.begin():
            query = (
                select(ScanEvent.scanned_at, ScanEvent.id)
                .where(ScanEvent.response.is_not(None), ScanEvent.scanned_at < before)
                .order_by(ScanEvent.scanned_at, ScanEvent.id)
                .limit(batch)
                .with_for_update(skip_locked=True)
            )
            if after is not None:
                query = query.where(tuple_(ScanEvent.scanned_at, ScanEvent.id) > tuple_(*after))
            rows = session.execute(query).all()
            if not rows:
                return dropped
            after = (rows[-1][0], rows[-1][1])
            try:
                with session.begin_nested():
                    session.execute(
                        update(ScanEvent)
                        .where(ScanEvent.id.in_([row[1] for row in rows]))
                        .values(response=None)
                        .execution_options(synchronize_session=False)
                    )
            except Exception:  # one bad batch must not keep the others' answers forever
                log.exception("retention.batch_failed", first_id=rows[0][1], last_id=rows[-1][1])
                continue
        dropped += len(rows)
        if len(rows) < batch:
            return dropped
