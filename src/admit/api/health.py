"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from admit.api.deps import ContextDep
from admit.api.errors import error_response
from admit.db.migrate import current_revision, head_revision

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", response_model=None)
def readyz(context: ContextDep) -> dict[str, str] | JSONResponse:
    try:
        with context.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        revision = current_revision(context.engine)
    except SQLAlchemyError:
        return error_response(503, "DATABASE_UNREACHABLE", "The database does not answer.")
    head = head_revision()
    if revision != head:
        return error_response(
            503,
            "MIGRATIONS_PENDING",
            "The database schema is not current: run `admit db upgrade`.",
            {"database": revision, "code": head},
        )
    return {"status": "ready", "database": context.engine.dialect.name, "revision": revision or ""}
