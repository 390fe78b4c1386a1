"""The test's own application on a real port (uvicorn in a thread): for what the test client cannot
show, such as a stream read as it arrives or a client that goes away mid-answer."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from tests.nodes import free_port


@contextmanager
def served(app: Any) -> Iterator[str]:
    """The application's base URL while the block runs; the server is stopped after it."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:  # up within a moment; a server that fails to start ends its thread
            assert thread.is_alive(), "the server did not start"
            thread.join(timeout=0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
