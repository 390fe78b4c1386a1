"""CSV downloads for managers: the scan history with its filters, and a day's reservations."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from admit.api.deps import ContextDep, ManagerDep
from admit.api.door import HistoryFilterDep
from admit.api.schemas import IsoDate
from admit.services import exports

router = APIRouter(tags=["exports"])

_CSV: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "CSV with a header row"}
}


def _download(chunks: Iterator[str], filename: str) -> StreamingResponse:
    return StreamingResponse(
        chunks,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


@router.get("/api/operators/scan-history.csv", response_class=StreamingResponse, responses=_CSV)
def scan_history_csv(manager: ManagerDep, context: ContextDep, where: HistoryFilterDep) -> StreamingResponse:
    """The scan history as filtered on the page, all of it, newest first; written while it is read."""
    rows = exports.scan_rows(context.sessions, orq=manager.orq, where=where)
    return _download(exports.csv_text(exports.SCAN_COLUMNS, rows), "scan-history.csv")


@router.get("/api/reservations.csv", response_class=StreamingResponse, responses=_CSV)
def reservations_csv(
    manager: ManagerDep, context: ContextDep, day: Annotated[IsoDate, Query(alias="date")]
) -> StreamingResponse:
    """A venue day's reservations by start time: party, contact, status, and who verified them when."""
    rows = exports.reservation_rows(context.sessions, orq=manager.orq, day=day)
    return _download(
        exports.csv_text(exports.RESERVATION_COLUMNS, rows), f"reservations-{day.isoformat()}.csv"
    )
