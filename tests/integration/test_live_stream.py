"""The live dashboard's stream across two nodes: a scan on one reaches a dashboard connected to the other.

Two `admit serve` processes share a new PostgreSQL database (SQLite is one node: the browser tests
stream from it). The manager's stream is read on node B while the door scans on node A; the events
are awaited with a generous read timeout, never timed against a target.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from admit.clock import FrozenClock
from admit.context import build_context
from admit.domain.roles import Role
from admit.security.tokens import TokenIssuer
from admit.services.operators import create_operator
from admit.services.organizations import create_organization
from admit.settings import Settings
from tests.conftest import BACKENDS, DEFAULT_NOW, TEST_SECRET
from tests.nodes import Node, fresh_postgresql, start_node, wait_until_ready
from tests.sse import events

pytestmark = pytest.mark.skipif("postgresql" not in BACKENDS, reason="several nodes share PostgreSQL")


def test_a_scan_on_one_node_reaches_a_dashboard_streaming_from_the_other(tmp_path: Path) -> None:
    with fresh_postgresql() as database_url:
        nodes: list[Node] = []
        try:
            # One live stream per organization on the dashboard's node, to see its place taken and freed.
            one = {"ADMIT_LIVE_STREAMS_PER_ORG": "1"}
            nodes = [
                start_node(name=n, database_url=database_url, workdir=tmp_path / n, env=one) for n in "ab"
            ]
            for node in nodes:
                wait_until_ready(node)
            door_node, dashboard_node = nodes
            settings = Settings(database_url=database_url, secret_key=TEST_SECRET, data_dir=tmp_path / "seed")
            context = build_context(settings, FrozenClock(DEFAULT_NOW))
            with context.sessions() as session:
                orq = create_organization(
                    session, name="Museum", timezone="Europe/Amsterdam", now=DEFAULT_NOW
                ).id
            tokens: dict[Role, str] = {}
            ids: dict[Role, int] = {}
            for role in (Role.OPERATOR, Role.MANAGER):
                with context.sessions() as session:
                    staff = create_operator(
                        session,
                        orq=orq,
                        username=role.value,
                        name=role.value.title(),
                        role=role,
                        password="correct horse battery",
                        pin=None,
                        now=DEFAULT_NOW,
                    )
                issuer: TokenIssuer = context.tokens
                ids[role] = staff.id
                tokens[role] = issuer.issue(operator_id=staff.id, orq=orq, role=role, now=DEFAULT_NOW)[0]
            context.engine.dispose()
            manager = {"Authorization": f"Bearer {tokens[Role.MANAGER]}"}
            door = {"Authorization": f"Bearer {tokens[Role.OPERATOR]}"}

            with httpx.Client(timeout=httpx.Timeout(10, read=20)) as http:
                stream_url = f"{dashboard_node.url}/api/operator/stats/stream"
                with http.stream("GET", stream_url, headers=manager) as response:
                    assert response.status_code == 200
                    assert response.headers["content-type"].startswith("text/event-stream")
                    received = events(response)
                    name, first = next(received)
                    assert (name, first["validated"], first["date"]) == ("stats", 0, "2025-11-20")
                    refused = http.get(stream_url, headers=manager)  # a second dashboard: told to poll
                    assert (refused.status_code, refused.json()["error"]["code"]) == (429, "RATE_LIMITED")

                    scanned = time.monotonic()
                    answer = http.post(
                        f"{door_node.url}/api/operator/validate-ticket",
                        json={"code": "NOT-A-TICKET"},
                        headers=door,
                    )
                    assert answer.json()["code"] == "INVALID_TICKET"
                    name, pushed = next(received)
                    took = time.monotonic() - scanned
                    assert (name, pushed["validated"], pushed["by_result"]["RED"]) == ("stats", 1, 1)
                    print(f"scan on node A to the event on node B: {took * 1000:.0f} ms")

                    # Logged out on node A: the stream on node B ends, saying why.
                    http.post(f"{door_node.url}/api/operator/logout", headers=manager).raise_for_status()
                    assert next(received) == ("end", {"reason": "INVALID_TOKEN"})
                    assert next(received, None) is None

                # A node that is stopped with a dashboard connected still stops, within its grace.
                again = issuer.issue(
                    operator_id=ids[Role.MANAGER], orq=orq, role=Role.MANAGER, now=DEFAULT_NOW
                )
                with http.stream(
                    "GET", stream_url, headers={"Authorization": f"Bearer {again[0]}"}
                ) as response:
                    assert response.status_code == 200  # the ended stream's place is free again
                    received = events(response)
                    assert next(received)[0] == "stats"
                    dashboard_node.process.terminate()
                    assert dashboard_node.process.wait(timeout=30) is not None
                    with pytest.raises(httpx.HTTPError):
                        for _ in received:
                            pass
        finally:
            for node in nodes:
                node.stop()
