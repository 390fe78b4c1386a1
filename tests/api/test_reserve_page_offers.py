"""The booking page offers a ticket's PDF, its wallet pass only with a pass certificate, and countries."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_the_done_page_offers_the_pdf_and_no_wallet_pass_without_a_pass_certificate(
    client: TestClient,
) -> None:
    page = client.get("/reserve").text
    assert 'data-ticket-pdf="true"' in page and 'data-wallet-pass="false"' in page


def test_the_phone_country_picker_lists_countries_with_their_calling_codes(client: TestClient) -> None:
    page = client.get("/reserve").text
    assert '<option value="NL" data-calling="31">Netherlands (+31)</option>' in page
    assert '<option value="US" data-calling="1">United States (+1)</option>' in page
