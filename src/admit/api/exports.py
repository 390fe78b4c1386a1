"""CSV downloads for managers: the scan history with its filters, and a day's reservations.

Each download holds a database connection until its file is written, so a process writes at most
ADMIT_EXPORT_DOWNLOADS at once; one more is refused at once (429 TOO_MANY_DOWNLOADS) rather than
queued, and the door keeps its connections however many managers download, or however slowly. A
client that stays connected but stops reading loses its download once a write has waited
ADMIT_EXPORT_SEND_SECONDS for it, and its place and connection come back.
"""

from __future__ import annotations

import threading
from collections.abc import Generator
from typing import Annotated, Any

import anyio
import structlog
from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.types import Message, Receive, Scope, Send

from admit import errors
from admit.api.deps import ContextDep, ManagerDep
from admit.api.door import HistoryFilterDep
from admit.api.schemas import IsoDate
from admit.context import AppContext
from admit.services import exports

router = APIRouter(tags=["exports"])
log = structlog.get_logger()

# Seconds a refused download is asked to wait: most files are written within a few.
RETRY_AFTER = 5

_CSV: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "CSV with a header row"},
    429: {
        "description": "TOO_MANY_DOWNLOADS, with Retry-After: this server is writing as many downloads "
        "as it may at once (ADMIT_EXPORT_DOWNLOADS); nothing was read."
    },
}


class _Stalled(Exception):
    """A write of a download was not taken by its client in time."""


class _Download(StreamingResponse):
    """A CSV written while it is read, whose reading ends when the response does, however it ends.

    The export holds a connection and its snapshot while it is written; a client that goes away mid-way
    ends the response with an error, and the server would otherwise leave the stream suspended (and the
    connection checked out) until the garbage collector found it. A client that stays connected but
    stops reading would hold them for as long as it stays: each write waits at most `send_seconds` for
    it. The download's place is given back with the connection.
    """

    def __init__(
        self,
        chunks: Generator[str, None, None],
        filename: str,
        place: threading.BoundedSemaphore,
        *,
        send_seconds: float,
        orq: int,
    ) -> None:
        super().__init__(
            chunks,
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="{filename}"',
                "Cache-Control": "no-store",
            },
        )
        self._chunks = chunks
        self._place = place
        self._filename = filename
        self._send_seconds = send_seconds
        self._orq = orq

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_in_time(message: Message) -> None:
            # The server's send waits while the client's window is closed, which for a live client
            # that reads nothing is for ever.
            with anyio.move_on_after(self._send_seconds) as waited:
                await send(message)
            if waited.cancelled_caught:
                raise _Stalled

        try:
            await super().__call__(scope, receive, send_in_time)
        except _Stalled:
            # Returned unfinished rather than raised: the HTTP server says so in one line, without a
            # traceback, and closes the connection once the client has taken what was written, so a
            # client that reads on finds its file cut short, never a shorter file that looks whole.
            log.warning(
                "export.abandoned",
                export=self._filename,
                orq=self._orq,
                reason=f"its client took no write for {self._send_seconds:g} s",
            )
        finally:
            try:
                # In a worker thread: ending the read is a round trip (the rollback); the loop never waits.
                await run_in_threadpool(self._chunks.close)
            finally:
                self._place.release()


def _download(
    context: AppContext, chunks: Generator[str, None, None], filename: str, *, orq: int
) -> StreamingResponse:
    """The download, if this process has a place for one more; `chunks` has read nothing yet."""
    if not context.downloads.acquire(blocking=False):
        raise errors.TooManyDownloads(retry_after=RETRY_AFTER)
    return _Download(
        chunks, filename, context.downloads, send_seconds=context.settings.export_send_seconds, orq=orq
    )


@router.get("/api/operators/scan-history.csv", response_class=StreamingResponse, responses=_CSV)
def scan_history_csv(manager: ManagerDep, context: ContextDep, where: HistoryFilterDep) -> StreamingResponse:
    """The scan history as filtered on the page, all of it, newest first; written while it is read."""
    chunks = exports.scan_csv(context.engine, orq=manager.orq, where=where)
    return _download(context, chunks, "scan-history.csv", orq=manager.orq)


@router.get("/api/reservations.csv", response_class=StreamingResponse, responses=_CSV)
def reservations_csv(
    manager: ManagerDep, context: ContextDep, day: Annotated[IsoDate, Query(alias="date")]
) -> StreamingResponse:
    """A venue day's reservations by start time: party, contact, status, and who verified them when."""
    chunks = exports.reservation_csv(context.engine, orq=manager.orq, day=day)
    return _download(context, chunks, f"reservations-{day.isoformat()}.csv", orq=manager.orq)
