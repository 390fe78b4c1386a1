"""A request goes to the worker threads once, for its route: every dependency runs on the event loop.

The framework runs a plain `def` dependency in the thread pool, a hop that costs a door scan more than
its verdict's logic (and, under load, a second wait for a free thread). A dependency that has blocking
work to do hands it to the pool itself, only when it must (see api/deps.py).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient


def _dependencies(dependant: Dependant) -> Iterator[Dependant]:
    for dependency in dependant.dependencies:
        yield dependency
        yield from _dependencies(dependency)


def _runs_on_the_event_loop(call: object) -> bool:
    target = getattr(call, "__call__", None) if not inspect.isfunction(call) else call  # noqa: B004
    return inspect.iscoroutinefunction(target) or inspect.isasyncgenfunction(target)


def test_no_route_sends_a_dependency_to_the_worker_threads(client: TestClient) -> None:
    every = [context.original_route for context in iter_route_contexts(client.app.routes)]  # type: ignore[attr-defined]
    routes = [route for route in every if isinstance(route, APIRoute)]
    assert any(route.path == "/venue/scan" for route in routes)
    threaded = {
        f"{route.path}: {getattr(dependency.call, '__qualname__', dependency.call)}"
        for route in routes
        for dependency in _dependencies(route.dependant)
        if not _runs_on_the_event_loop(dependency.call)
    }
    assert not threaded, sorted(threaded)
