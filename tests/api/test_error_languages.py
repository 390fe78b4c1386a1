"""API errors in the caller's language: the code, the status and the details stay; the message follows
Accept-Language, and a language Admit does not speak gets English."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from admit.app import context_of, create_app
from admit.clock import FrozenClock
from admit.domain.roles import Role
from admit.settings import Settings
from tests.builders import CONTACT, Builders

LANGUAGES = ("en", "nl", "de", "fr", "es")


def in_language(language: str) -> dict[str, str]:
    return {"Accept-Language": language}


def refusal(response: Any) -> tuple[int, str, dict[str, Any]]:
    error = response.json()["error"]
    return response.status_code, error["code"], error["details"]


def message(response: Any) -> str:
    text: str = response.json()["error"]["message"]
    return text


def test_a_full_slot_is_refused_with_the_same_code_in_every_language_and_the_words_of_each(
    make: Builders,
) -> None:
    orq = make.org()
    slot = make.slot(orq, capacity=1)
    make.reservation(orq, slot)
    said = {}
    refusals = set()
    for language in LANGUAGES:
        code = make.ticket(orq, "ACTIVATED")
        body = {"ticket_code": code, "slot_id": slot, **CONTACT}
        response = make.client.post("/api/reservations/create", json=body, headers=in_language(language))
        status, error_code, details = refusal(response)
        refusals.add((status, error_code, repr(details)))
        assert response.headers["Content-Language"] == language
        said[language] = message(response)
    assert refusals == {(409, "SLOT_FULL", repr({"requested": 1, "available": 0, "alternatives": []}))}
    assert said == {
        "en": "This time slot has no room left for the request.",
        "nl": "In dit tijdslot is niet genoeg plaats meer voor je aanvraag.",
        "de": "In diesem Zeitfenster ist nicht mehr genug Platz für Ihre Anfrage.",
        "fr": "Ce créneau n’a plus assez de places pour votre demande.",  # noqa: RUF001
        "es": "En esta franja horaria ya no queda sitio suficiente para tu solicitud.",
    }


def test_an_unknown_ticket_is_not_found_in_every_language(make: Builders) -> None:
    answers = {
        language: make.client.get("/api/tickets/ABCDEFGHJK/status", headers=in_language(language))
        for language in LANGUAGES
    }
    assert {refusal(answer)[:2] for answer in answers.values()} == {(404, "TICKET_NOT_FOUND")}
    assert {language: message(answer) for language, answer in answers.items()} == {
        "en": "No ticket has this code.",
        "nl": "Er is geen ticket met deze code.",
        "de": "Es gibt kein Ticket mit diesem Code.",
        "fr": "Aucun billet ne correspond à ce code.",
        "es": "No hay ninguna entrada con este código.",
    }


def test_invalid_fields_are_named_alike_in_every_language_with_the_top_message_translated(
    make: Builders,
) -> None:
    # The reasons per field are for the client's developer and stay English; the sentence is the visitor's.
    body = {"ticket_code": "", "slot_id": "not a number"}
    answers = {
        language: make.client.post("/api/reservations/create", json=body, headers=in_language(language))
        for language in LANGUAGES
    }
    assert len({repr(refusal(answer)) for answer in answers.values()}) == 1
    status, code, details = refusal(answers["en"])
    assert (status, code) == (422, "VALIDATION_ERROR") and "slot_id" in details["fields"]
    assert {language: message(answer) for language, answer in answers.items()} == {
        "en": "Some fields are not valid.",
        "nl": "Sommige velden zijn niet geldig.",
        "de": "Einige Felder sind ungültig.",
        "fr": "Certains champs ne sont pas valides.",
        "es": "Algunos campos no son válidos.",
    }


def test_a_door_search_too_short_is_one_whole_sentence_in_the_operators_language(make: Builders) -> None:
    operator = make.staff(make.org(), Role.OPERATOR)
    said = {}
    for language in LANGUAGES:
        response = make.client.get(
            "/api/operator/search", params={"q": "ab"}, headers={**operator.headers, **in_language(language)}
        )
        status, code, details = refusal(response)
        assert (status, code) == (422, "VALIDATION_ERROR")
        assert details["fields"]["q"] == "type at least 4 characters of the e-mail, phone or ticket code"
        said[language] = message(response)
    assert said["en"] == "Type at least 4 characters of the e-mail, phone number or ticket code."
    assert said["de"] == (
        "Geben Sie mindestens 4 Zeichen der E-Mail-Adresse, der Telefonnummer oder des Ticketcodes ein."
    )
    assert all("4" in text for text in said.values()) and len(set(said.values())) == len(LANGUAGES)


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("de-CH, fr;q=0.5", "de"),
        ("fr;q=0.5, es-MX;q=0.9", "es"),
        ("ja, zh-Hans;q=0.8", "en"),  # not spoken: English
        ("nl;q=0, pt", "en"),  # refused outright
        ("*", "en"),
        ("", "en"),
    ],
)
def test_the_message_follows_the_most_wanted_language_admit_speaks(
    make: Builders, header: str, language: str
) -> None:
    response = make.client.get("/api/reservations/not-a-reservation", headers={"Accept-Language": header})
    assert refusal(response)[:2] == (404, "RESERVATION_NOT_FOUND")
    assert response.headers["Content-Language"] == language
    assert "Accept-Language" in response.headers["Vary"]
    expected = {
        "de": "Es gibt keine Buchung mit dieser ID.",
        "es": "No hay ninguna reserva con este identificador.",
    }
    assert message(response) == expected.get(language, "No reservation has this id.")


def test_without_accept_language_the_message_is_english(make: Builders) -> None:
    response = make.client.get("/api/reservations/not-a-reservation")
    assert message(response) == "No reservation has this id."
    assert response.headers["Content-Language"] == "en"


def test_refusals_outside_the_routes_speak_the_language_too(make: Builders) -> None:
    nowhere = make.client.get("/api/no-such-thing", headers=in_language("nl"))
    assert refusal(nowhere)[:2] == (404, "NOT_FOUND")
    assert message(nowhere) == "Op dit adres is niets te vinden."
    not_json = make.client.post(
        "/api/reservations/create",
        content=b"{not json",
        headers={"Content-Type": "application/json", **in_language("es")},
    )
    assert refusal(not_json)[:2] == (400, "VALIDATION_ERROR")
    assert message(not_json) == "El cuerpo de la solicitud no es un JSON válido."
    too_large = make.client.post(
        "/api/reservations/create",
        content=b"{" + b" " * 70_000 + b"}",
        headers={"Content-Type": "application/json", **in_language("fr")},
    )
    assert refusal(too_large)[:2] == (413, "PAYLOAD_TOO_LARGE")
    assert message(too_large) == "Le corps de la requête dépasse 64\u00a0Kio."


@pytest.fixture
def limited(settings: Settings, clock: FrozenClock) -> Iterator[Builders]:
    """An application that allows two ticket look-ups a minute per client."""
    app = create_app(settings.model_copy(update={"rate_limit_validation": "2/minute"}), clock=clock)
    with TestClient(app) as client:
        yield Builders(client=client, context=context_of(app))
    context_of(app).engine.dispose()


def test_too_many_requests_say_how_many_seconds_to_wait_as_retry_after_does(limited: Builders) -> None:
    make = limited
    for _ in range(2):
        make.client.get("/api/tickets/ABCDEFGHJK/status")
    waits = {
        "en": (
            "Too many requests: wait {} second and try again.",
            "Too many requests: wait {} seconds and try again.",
        ),
        "nl": (
            "Te veel verzoeken: wacht {} seconde en probeer het opnieuw.",
            "Te veel verzoeken: wacht {} seconden en probeer het opnieuw.",
        ),
        "de": (
            "Zu viele Anfragen: Bitte warten Sie {} Sekunde und versuchen Sie es erneut.",
            "Zu viele Anfragen: Bitte warten Sie {} Sekunden und versuchen Sie es erneut.",
        ),
        "fr": (
            "Trop de demandes\u00a0: patientez {} seconde et réessayez.",
            "Trop de demandes\u00a0: patientez {} secondes et réessayez.",
        ),
        "es": (
            "Demasiadas solicitudes: espera {} segundo y vuelve a intentarlo.",
            "Demasiadas solicitudes: espera {} segundos y vuelve a intentarlo.",
        ),
    }
    for language, (one, many) in waits.items():
        response = make.client.get("/api/tickets/ABCDEFGHJK/status", headers=in_language(language))
        status, code, details = refusal(response)
        assert (status, code) == (429, "RATE_LIMITED")
        seconds = int(response.headers["Retry-After"])
        assert details["retry_after"] == seconds
        # French says "1 seconde" and "0 seconde"; the others only "1 second".
        singular = seconds in (0, 1) if language == "fr" else seconds == 1
        assert message(response) == (one if singular else many).format(seconds)


def test_the_documented_error_body_is_the_same_whatever_the_language(client: TestClient) -> None:
    english = client.get("/openapi.json").json()
    assert client.get("/openapi.json", headers=in_language("de")).json() == english
    schemas = english["components"]["schemas"]
    body, error = schemas["ErrorBody"], schemas["ErrorOut"]
    assert (body["required"], error["required"]) == (["error"], ["code", "message", "details"])
    assert body["properties"] == {"error": {"$ref": "#/components/schemas/ErrorOut"}}
    assert {name: field["type"] for name, field in error["properties"].items()} == {
        "code": "string",
        "message": "string",
        "details": "object",
    }
