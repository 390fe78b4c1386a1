"""The application factory: routers, error handlers, limits. No work happens at import."""

from __future__ import annotations

import gc
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cache

from anyio import to_thread
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from admit.api import (
    door,
    exports,
    health,
    live,
    mail,
    offline,
    operators,
    orders,
    organizations,
    parties,
    reports,
    reservations,
    slots,
    staff,
    ticket_story,
    tickets,
    venues,
)
from admit.api.errors import BodyTooLarge, body_too_large, install_error_handlers
from admit.api.openapi import describe_errors
from admit.clock import Clock
from admit.context import AppContext, build_context
from admit.domain.identity import MAX_LOGO_BYTES
from admit.logging import configure_logging
from admit.metrics import RequestTimer
from admit.security.headers import SecurityHeaders
from admit.settings import Settings
from admit.web import STATIC_DIR, docs, pages

MAX_BODY_BYTES = 64 * 1024
# A device's offline queue (up to 500 scans) and a venue's logo may be larger (paths as patterns).
LARGER_BODIES = {"/api/operator/scans/sync": 256 * 1024, r"/api/organizations/\d+/logo": MAX_LOGO_BYTES}


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging(settings.log_format)
    context = build_context(settings, clock)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        to_thread.current_default_thread_limiter().total_tokens = settings.worker_threads
        _freeze_startup_heap()
        yield
        context.probe.close()
        context.hashing.close()

    app = FastAPI(
        lifespan=lifespan,
        title="Admit",
        summary="Timed-entry ticketing: activation, reservations with hard capacity, validation at the door.",
        version="0.1.0",
        # FastAPI's interactive pages load their scripts from a CDN; Admit's /docs serves its own copy.
        docs_url=None,
        redoc_url=None,
    )
    app.state.context = context
    install_error_handlers(app)
    describe_errors(app)
    # Routes are matched in order, one by one: the door's and the booking paths' go first.
    for module in (
        door,
        exports,
        reservations,
        parties,
        slots,
        tickets,
        ticket_story,
        staff,
        operators,
        organizations,
        orders,
        reports,
        mail,
        offline,
        live,
        health,
        venues,
    ):
        app.include_router(module.router)
    app.include_router(pages.router)
    app.include_router(docs.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(BodyLimit, max_bytes=MAX_BODY_BYTES, larger=LARGER_BODIES)
    app.add_middleware(RequestTimer, metrics=context.metrics)
    if settings.trusted_proxies:
        # Outermost, so that limits and URLs see the client and scheme a trusted proxy forwarded;
        # the same headers from anyone else are ignored.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    # Around everything, Starlette's own last-resort error handler included: a 500 carries them too.
    inner_stack = app.build_middleware_stack
    app.build_middleware_stack = lambda: SecurityHeaders(inner_stack())  # type: ignore[method-assign]
    return app


def context_of(app: FastAPI) -> AppContext:
    context: AppContext = app.state.context
    return context


@cache  # once per process
def _freeze_startup_heap() -> None:
    """Keep what exists when the process's first application starts out of the collector's reach.

    Modules, routes and the context live as long as the process: frozen, a full collection walks only
    what requests leave behind. Without this every full collection walked it all, and stopped the
    server for about 100 ms each time. Once per process, never undone: a process that starts
    applications one after another (the tests start one per test) would otherwise walk its whole heap
    at every start, and each stop would give the collector back the heap the others froze.
    """
    gc.collect()
    gc.freeze()


class BodyLimit:
    """Refuse request bodies over `max_bytes` before anything reads them whole."""

    def __init__(self, app: ASGIApp, max_bytes: int, larger: dict[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = larger or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = next(
            (size for path, size in self.larger.items() if re.fullmatch(path, scope["path"])), self.max_bytes
        )
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > max_bytes):
            await self._refuse(scope, receive, send, max_bytes)
            return
        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > max_bytes:
                raise BodyTooLarge(max_bytes)
            return message

        await self.app(scope, counting_receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, max_bytes: int) -> None:
        response = body_too_large(Headers(scope=scope), max_bytes)
        await response(scope, receive, send)
