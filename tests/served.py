"""The test's own application on a real port (uvicorn in a thread): for what the test client cannot
show, such as a stream read as it arrives or a client that goes away mid-answer."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from admit.app import context_of
from admit.cli import drop_stalled_clients


@contextmanager
def served(app: Any, *, send_buffer: int | None = None) -> Iterator[str]:
    """The application's base URL while the block runs; the server is stopped after it.

    With `send_buffer` (bytes), each connection's send buffer in the kernel keeps that size instead of
    growing to megabytes, so a client that stops reading stops the server's writes a little data later.
    """
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    drop_stalled_clients(listener, context_of(app).settings.stalled_client_seconds)  # as `admit serve`
    if send_buffer is not None:  # accepted connections inherit it
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        while not server.started:  # up within a moment; a server that fails to start ends its thread
            assert thread.is_alive(), "the server did not start"
            thread.join(timeout=0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        listener.close()
