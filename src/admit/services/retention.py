"""Retention of the door's records: stored answers dropped after their replay window, old scans pruned.

A scan event keeps its answer as sent (about 600 bytes) only so that a retry with the same nonce is
answered exactly as the first time. Past the retention window the answer is set to null; the compact row
that remains still carries everything the history and the live counts read, and its nonce still refuses
to be recorded twice (a late retry is answered NONCE_EXPIRED).

The compact rows are kept for good unless the venue sets a history length: then scans older than that
are deleted, each batch first appended to an archive file when one is configured.
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import delete, select, tuple_, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from admit.db.models import Organization, ScanEvent

log = structlog.get_logger()

# Rows per transaction: short enough that a batch never holds its row locks for long.
BATCH = 1000


def compact_answers(sessions: Callable[[], Session], *, before: datetime, batch: int = BATCH) -> int:
    """Drop the stored answers of scans made before `before`, batch by batch; how many were dropped.

    Each batch is its own transaction. Rows another transaction holds are skipped (PostgreSQL) and
    dropped on a later pass; a batch that fails is logged and passed over, and the next one still runs,
    unless the database itself was lost (raised).
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
            except Exception as exc:  # one bad batch must not keep the others' answers forever
                _raise_if_lost(exc)
                log.exception("retention.batch_failed", first_id=rows[0][1], last_id=rows[-1][1])
                continue
        dropped += len(rows)
        if len(rows) < batch:
            return dropped


def prune_scans(
    sessions: Callable[[], Session], *, before: datetime, archive: Path | None, batch: int = BATCH
) -> int:
    """Delete the scan events made before `before`, batch by batch; how many were deleted.

    With `archive`, each batch is appended to a gzip file of JSON lines there (one file per day of
    pruning, every column of every row) and written to disk before the rows are deleted: a batch whose
    deletion does not commit is archived again by a later pass, but no row is deleted unarchived. One
    organization's batches at a time, read through its (orq, scanned_at, id) index. A batch that fails
    is logged and passed over, and the others still run, unless the database itself was lost (raised):
    the batches done stay done.
    """
    with sessions() as session, session.begin():
        organizations = list(session.scalars(select(Organization.id).order_by(Organization.id)))
    pruned = 0
    for orq in organizations:
        after: tuple[datetime, int] | None = None
        while True:
            with sessions() as session, session.begin():
                query = (
                    select(ScanEvent.__table__)
                    .where(ScanEvent.orq == orq, ScanEvent.scanned_at < before)
                    .order_by(ScanEvent.scanned_at, ScanEvent.id)
                    .limit(batch)
                    .with_for_update(skip_locked=True)
                )
                if after is not None:
                    query = query.where(tuple_(ScanEvent.scanned_at, ScanEvent.id) > tuple_(*after))
                rows = [dict(row) for row in session.execute(query).mappings()]
                if not rows:
                    break
                after = (rows[-1]["scanned_at"], rows[-1]["id"])
                try:
                    with session.begin_nested():
                        _delete(session, [row["id"] for row in rows])
                        if archive is not None:
                            _append(archive, rows, today=before.date())
                except Exception as exc:  # one bad batch must not keep the rest of the history forever
                    _raise_if_lost(exc)
                    log.exception("retention.prune_failed", orq=orq, first_id=rows[0]["id"])
                    continue
            pruned += len(rows)
            if len(rows) < batch:
                break
    return pruned


def _raise_if_lost(exc: Exception) -> None:
    """Raise `exc` when it lost the connection: the next batch would only wait for the database again."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        raise exc


def _delete(session: Session, ids: list[int]) -> None:
    # A later second entry may point at a pruned first one: it keeps its conflict flag, and the
    # first entry is in the archive.
    session.execute(
        update(ScanEvent)
        .where(ScanEvent.conflict_with.in_(ids))
        .values(conflict_with=None)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        delete(ScanEvent).where(ScanEvent.id.in_(ids)).execution_options(synchronize_session=False)
    )


def _append(archive: Path, rows: list[dict[str, Any]], *, today: date) -> None:
    """Append the rows to the day's archive file and make sure they are on disk before returning."""
    archive.mkdir(parents=True, exist_ok=True)
    path = archive / f"scan-events-{today.isoformat()}.jsonl.gz"
    lines = "".join(json.dumps(row, default=_plain, sort_keys=True) + "\n" for row in rows)
    with open(path, "ab") as file:
        # Each append is a gzip member of its own: the file reads back as one stream.
        file.write(gzip.compress(lines.encode()))
        file.flush()
        os.fsync(file.fileno())


def _plain(value: object) -> str:
    if isinstance(value, date | datetime):  # datetime is a date too; both as ISO 8601
        return value.isoformat()
    return str(value)
