"""The booking page offers a ticket's PDF and wallet pass only where this server has those routes."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from admit.web.pages import TICKET_PDF, WALLET_PASS


def test_the_done_page_offers_no_pdf_or_wallet_pass_without_their_routes(client: TestClient) -> None:
    page = client.get("/reserve").text
    assert 'data-ticket-pdf="false"' in page and 'data-wallet-pass="false"' in page


def test_the_done_page_offers_the_pdf_and_wallet_pass_once_their_routes_exist(client: TestClient) -> None:
    app = client.app
    assert isinstance(app, FastAPI)
    app.add_api_route(TICKET_PDF, lambda reservation_id: None)
    page = client.get("/reserve").text
    assert 'data-ticket-pdf="true"' in page and 'data-wallet-pass="false"' in page
    app.add_api_route(WALLET_PASS, lambda reservation_id: None)
    assert 'data-wallet-pass="true"' in client.get("/reserve").text


def test_the_phone_country_picker_lists_countries_with_their_calling_codes(client: TestClient) -> None:
    page = client.get("/reserve").text
    assert '<option value="NL" data-calling="31">Netherlands (+31)</option>' in page
    assert '<option value="US" data-calling="1">United States (+1)</option>' in page
