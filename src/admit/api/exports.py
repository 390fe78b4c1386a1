"""CSV downloads for managers: the scan history with its filters, and a day's reservations.

Each download holds a database connection until its file is written, so a process writes at most
ADMIT_EXPORT_DOWNLOADS at once; one more is refused at once (429 TOO_MANY_DOWNLOADS) rather than
queued, and the door keeps its connections however many managers download, or however slowly.
"""

from __future__ import annotations

import threading
from collections.abc import Generator
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.types import Receive, Scope, Send

from admit import errors
from admit.api.deps import ContextDep, ManagerDep
from admit.api.door import HistoryFilterDep
from admit.api.schemas import IsoDate
from admit.context import AppContext
from admit.services import exports

router = APIRouter(tags=["exports"])

# Seconds a refused download is asked to wait: most files are written within a few.
RETRY_AFTER = 5

_CSV: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "CSV with a header row"},
    429: {
        "description": "TOO_MANY_DOWNLOADS, with Retry-After: this server is writing as many downloads "
        "as it may at once (ADMIT_EXPORT_DOWNLOADS); nothing was read."
    },
}


class _Download(StreamingResponse):
    """A CSV written while it is read, whose reading ends when the response does, however it ends.

    The export holds a connection and its snapshot while it is written; a client that goes away mid-way
    ends the response with an error, and the server would otherwise leave the stream suspended (and the
    connection checked out) until the garbage collector found it. The download's place is given back
    with it.
    """

    def __init__(
        self, chunks: Generator[str, None, None], filename: str, place: threading.BoundedSemaphore
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

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            try:
                # In a worker thread: ending the read is a round trip (the rollback); the loop never waits.
                await run_in_threadpool(self._chunks.close)
            finally:
                self._place.release()


def _download(context: AppContext, chunks: Generator[str, None, None], filename: str) -> StreamingResponse:
    """The download, if this process has a place for one more; `chunks` has read nothing yet."""
    if not context.downloads.acquire(blocking=False):
        raise errors.TooManyDownloads(retry_after=RETRY_AFTER)
    return _Download(chunks, filename, context.downloads)


@router.get("/api/operators/scan-history.csv", response_class=StreamingResponse, responses=_CSV)
def scan_history_csv(manager: ManagerDep, context: ContextDep, where: HistoryFilterDep) -> StreamingResponse:
    """The scan history as filtered on the page, all of it, newest first; written while it is read."""
    return _download(
        context, exports.scan_csv(context.engine, orq=manager.orq, where=where), "scan-history.csv"
    )


@router.get("/api/reservations.csv", response_class=StreamingResponse, responses=_CSV)
def reservations_csv(
    manager: ManagerDep, context: ContextDep, day: Annotated[IsoDate, Query(alias="date")]
) -> StreamingResponse:
    """A venue day's reservations by start time: party, contact, status, and who verified them when."""
    chunks = exports.reservation_csv(context.engine, orq=manager.orq, day=day)
    return _download(context, chunks, f"reservations-{day.isoformat()}.csv")
