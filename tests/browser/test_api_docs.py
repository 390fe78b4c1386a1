"""The API reference at /docs: rendered from the server's own files alone, readable, and accessible."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import Server, Shot
from tests.browser.test_accessibility import serious_violations

pytestmark = pytest.mark.browser


def test_the_api_reference_renders_every_operation_with_nothing_from_outside(
    page: Page, server: Server, shot: Shot
) -> None:
    asked_elsewhere: list[str] = []

    def only_the_server(route: Route) -> None:
        if route.request.url.startswith(server.base_url + "/"):
            route.continue_()
        else:
            asked_elsewhere.append(route.request.url)
            route.abort()

    page.context.route("**/*", only_the_server)
    page.goto("/docs")
    expect(page.get_by_role("heading", name="Admit")).to_be_visible()
    stats = page.locator("#operations-door-stats_api_operator_stats_get")
    expect(stats).to_contain_text("/api/operator/stats")
    document = httpx.get(server.base_url + "/openapi.json").json()
    expect(page.locator(".opblock")).to_have_count(sum(len(ops) for ops in document["paths"].values()))

    # An operation opens on its parameters, its answer and the one error body.
    stats.locator(".opblock-summary").click()
    invalid = stats.locator(".response", has=page.locator(".response-col_status", has_text="422"))
    expect(invalid).to_contain_text("VALIDATION_ERROR")
    for field in ('"error"', '"code"', '"message"', '"details"'):
        expect(invalid.locator(".example")).to_contain_text(field)
    shot(page, "api-docs")
    assert asked_elsewhere == []
    assert serious_violations(page) == []
