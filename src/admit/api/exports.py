"""CSV downloads for managers: the scan history with its filters, and a day's reservations."""

from __future__ import annotations

from collections.abc import Generator
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.types import Receive, Scope, Send

from admit.api.deps import ContextDep, ManagerDep
from admit.api.door import HistoryFilterDep
from admit.api.schemas import IsoDate
from admit.services import exports

router = APIRouter(tags=["exports"])

_CSV: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "CSV with a header row"}
}


class _Download(StreamingResponse):
    """A CSV written while it is read, whose reading ends when the response does, however it ends.

    The export holds a connection and its snapshot while it is written; a client that goes away mid-way
    ends the response with an error, and the server would otherwise leave the stream suspended (and the
    connection checked out) until the garbage collector found it.
    """

    def __init__(self, chunks: Generator[str, None, None], filename: str) -> None:
        super().__init__(
            chunks,
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="{filename}"',
                "Cache-Control": "no-store",
            },
        )
        self._chunks = chunks

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            # In a worker thread: ending the read is a round trip (the rollback), and the loop never waits.
            await run_in_threadpool(self._chunks.close)


@router.get("/api/operators/scan-history.csv", response_class=StreamingResponse, responses=_CSV)
def scan_history_csv(manager: ManagerDep, context: ContextDep, where: HistoryFilterDep) -> StreamingResponse:
    """The scan history as filtered on the page, all of it, newest first; written while it is read."""
    return _Download(exports.scan_csv(context.engine, orq=manager.orq, where=where), "scan-history.csv")


@router.get("/api/reservations.csv", response_class=StreamingResponse, responses=_CSV)
def reservations_csv(
    manager: ManagerDep, context: ContextDep, day: Annotated[IsoDate, Query(alias="date")]
) -> StreamingResponse:
    """A venue day's reservations by start time: party, contact, status, and who verified them when."""
    chunks = exports.reservation_csv(context.engine, orq=manager.orq, day=day)
    return _Download(chunks, f"reservations-{day.isoformat()}.csv")
