"""Scan history pages: every scan once, newest first, even where scans share an instant."""

from __future__ import annotations

from datetime import timedelta

from admit.clock import FrozenClock
from admit.domain.roles import Role
from tests.builders import Builders


def test_paging_one_by_one_through_scans_that_share_instants_returns_each_once_newest_first(
    make: Builders, clock: FrozenClock
) -> None:
    orq = make.org()
    operator, manager = make.staff(orq, Role.OPERATOR), make.staff(orq, Role.MANAGER)
    scanned: list[str] = []
    for _ in range(3):
        for _ in range(3):  # three scans at one instant: only the id orders them
            code = make.ticket(orq, "ACTIVATED")
            make.client.post("/api/operator/validate-ticket", json={"code": code}, headers=operator.headers)
            scanned.append(code[-4:])
        clock.advance(timedelta(seconds=1))

    seen: list[str] = []
    params: dict[str, str | int] = {"limit": 1}
    while True:
        page = make.client.get("/api/operators/scan-history", params=params, headers=manager.headers).json()
        seen += [event["ticket_code_suffix"] for event in page["events"]]
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
    assert seen == scanned[::-1]
