"""The HTML routes. Pages are shells: their scripts call the HTTP API, as any other client does."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape

from admit import errors
from admit.api.deps import ContextDep, limit_code_page
from admit.api.reservations import ReservationId
from admit.context import AppContext
from admit.domain.calendar import DEFAULT_CAPACITY, SlotStatus
from admit.domain.changes import check_cancel_allowed, check_change_allowed
from admit.domain.countries import by_name, country_names_in, phone_countries
from admit.domain.lifecycle import ReservationStatus
from admit.domain.venue_time import local_now
from admit.i18n import LANGUAGES, NAMES, Translator, negotiate, plural_categories, translator
from admit.i18n.catalogs import script_messages, translations
from admit.services import reservations
from admit.services.capacity import times
from admit.services.organizations import get_organization_or_raise, policy_of
from admit.services.reservations import ReservationView
from admit.web import TEMPLATES_DIR
from admit.web.offline_shell import worker_script

router = APIRouter(include_in_schema=False)

# The pages hold no secrets and never change behind a cached copy's back: the data comes from the API.
# (Framing, referrer and the other security headers are set for every answer in security/headers.py.)
NO_STORE = {"Cache-Control": "no-store"}


@dataclass(frozen=True)
class Family:
    """Pages that share their words' domains, their languages and the remembered choice of language.
    The door and the office remember theirs apart from the visitors', so that a device's scanner can
    speak its operator's language while the visitors' pages speak theirs."""

    domains: tuple[str, ...]
    languages: tuple[str, ...] = LANGUAGES
    cookie: str = "admit_lang"


VISITOR = Family(("common", "visitor"))
DOOR = Family(("common", "door"), cookie="admit_staff_lang")
OFFICE = Family(("common", "staff"), languages=("en", "nl"), cookie="admit_staff_lang")
CHOICE_SECONDS = 365 * 24 * 3600


@cache
def templates(language: str = "en") -> Jinja2Templates:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(),
        extensions=["jinja2.ext.i18n"],
    )
    environment.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    return Jinja2Templates(env=environment)


def language_of(request: Request, family: Family) -> str:
    """`?lang=` (the switcher), else the remembered choice, else the browser's, else English."""
    return negotiate(
        available=family.languages,
        chosen=request.query_params.get("lang") or request.cookies.get(family.cookie),
        accept_language=request.headers.get("accept-language"),
    )


def _page(request: Request, name: str, family: Family, status_code: int = 200, **values: Any) -> HTMLResponse:
    # The server's "now" lets the scripts judge days and token expiry by the server's clock, which
    # a door device's own clock may not match (and which tests and demos pin).
    context: AppContext = request.app.state.context
    language = language_of(request, family)
    others = [(key, value) for key, value in request.query_params.multi_items() if key != "lang"]
    values = {
        "server_now": context.clock.now().isoformat(),
        "lang": language,
        "languages": [(code, NAMES[code]) for code in family.languages],
        "keep_query": others,
        "script_messages": {
            "lang": language,
            "plurals": plural_categories(language),
            "messages": script_messages(language, family.domains),
        },
        **values,
    }
    response = templates(language).TemplateResponse(
        request, name, values, status_code=status_code, headers=NO_STORE
    )
    chosen = request.query_params.get("lang")
    if chosen in family.languages:
        response.set_cookie(
            family.cookie, chosen, max_age=CHOICE_SECONDS, path="/", samesite="lax", httponly=True
        )
    return response


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/reserve", status_code=307)


@router.get("/reserve", dependencies=[Depends(limit_code_page)])
def reserve(request: Request, context: ContextDep) -> HTMLResponse:
    """The visitor's portal; `?code=` fills in the ticket code. The done page offers the printable
    ticket, and the wallet pass where this server has a pass certificate."""
    return _page(
        request,
        "reserve.html",
        VISITOR,
        phone_countries=phone_countries(language_of(request, VISITOR)),
        ticket_pdf=True,
        wallet_pass=context.wallet is not None,
    )


@dataclass(frozen=True)
class Allowed:
    """Whether an action is open to the visitor now, and the API's own words when it is not."""

    allowed: bool
    code: str = ""
    message: str = ""


@router.get("/reserve/{reservation_id}")
def manage(request: Request, reservation_id: ReservationId, context: ContextDep) -> HTMLResponse:
    """A reservation's own page (the e-mail's link): see it, move it, cancel it where the policy allows."""
    try:
        with context.sessions() as session:
            found = reservations.get_reservation(
                session, reservation_id=reservation_id, keys=context.keys, now=context.clock.now()
            )
    except errors.ReservationNotFound:
        return _page(request, "manage.html", VISITOR, status_code=404, reservation_id="", found=False)
    move, cancel = _change_options(context, [found], language_of(request, VISITOR))
    return _page(
        request,
        "manage.html",
        VISITOR,
        reservation_id=reservation_id,
        found=True,
        orq=found.slot.orq,
        move=move,
        cancel=cancel,
        wallet_pass=context.wallet is not None,
    )


@router.get("/reserve/party/{party_id}")
def party(request: Request, party_id: ReservationId, context: ContextDep) -> HTMLResponse:
    """A party's page (the tickets booked together): every member's QR code, moving or cancelling them
    all where the policy allows, and each member's own page to change one alone."""
    try:
        with context.sessions() as session:
            found = reservations.get_party(
                session, party_id=party_id, keys=context.keys, now=context.clock.now()
            )
    except errors.PartyNotFound:
        return _page(request, "party.html", VISITOR, status_code=404, party_id="", found=False)
    # Members moved alone may be at other times than the rest: the page asks about each one still
    # booked, as the API does when the visitor moves or cancels them all.
    move, cancel = _change_options(context, found.live or found.members[:1], language_of(request, VISITOR))
    orq = found.members[0].slot.orq
    return _page(
        request, "party.html", VISITOR, party_id=party_id, found=True, orq=orq, move=move, cancel=cancel
    )


def _change_options(
    context: AppContext, members: list[ReservationView], language: str
) -> tuple[Allowed, Allowed]:
    """Ask the same rules the API applies, so the page can say why before the visitor tries, in the
    page's language. A change acts on every member given, so it is open only if open for each of them:
    the first refused says why, as the API's answer would."""
    t = translator(language)
    live = [member for member in members if member.status is ReservationStatus.RESERVED]
    if not live:
        closed = Allowed(False, members[0].status.value, "")
        return closed, closed
    with context.sessions() as session, session.begin():
        policy = policy_of(get_organization_or_raise(session, live[0].slot.orq))
    now_local = local_now(context.clock.now(), live[0].timezone)

    def may_move() -> None:
        for member in live:
            check_change_allowed(
                policy,
                slot_starts_at=times(member.slot).starts_at,
                now_local=now_local,
                slot_closed=member.slot.status is SlotStatus.CLOSED,  # the venue asked its visitors to move
            )

    def may_cancel() -> None:
        for member in live:
            check_cancel_allowed(policy, slot_starts_at=times(member.slot).starts_at, now_local=now_local)

    return _ask(t, may_move), _ask(t, may_cancel)


def _ask(t: Translator, check: Any) -> Allowed:
    try:
        check()
    except errors.DomainError as refused:
        return Allowed(False, refused.code, refused.message_in(t))
    return Allowed(True)


@router.get("/operator")
def operator(request: Request, context: ContextDep) -> HTMLResponse:
    """The door's scanner: log in, scan (camera or typed), see the verdict, mark as verified."""
    return _page(
        request,
        "operator.html",
        DOOR,
        offline_switch_ms=_switch_ms(context),
        offline_stale_minutes=context.settings.offline_stale_minutes,
    )


@router.get("/operator-sw.js")
def operator_worker(context: ContextDep) -> Response:
    """The scanner's service worker, from the site's root so that its scope may cover /operator."""
    return Response(worker_script(_switch_ms(context)), media_type="text/javascript", headers=NO_STORE)


def _switch_ms(context: AppContext) -> int:
    return round(context.settings.offline_switch_seconds * 1000)


@router.get("/manager")
def manager(request: Request) -> HTMLResponse:
    """Today's counts, slot utilisation, arrivals per slot and the scan history."""
    return _page(request, "manager.html", OFFICE)


@router.get("/manager/trends")
def trends(request: Request) -> HTMLResponse:
    """The venue's rates and charts over a range of days."""
    return _page(request, "trends.html", OFFICE)


@router.get("/admin")
def admin(request: Request) -> HTMLResponse:
    """The organization's policy, its identity for visitors, and its slots."""
    locale = translator(language_of(request, OFFICE)).locale
    # Countries and weekdays as the page's language names them (Babel's CLDR data), Monday first.
    named = country_names_in(language_of(request, OFFICE))
    countries = sorted(named.items(), key=lambda item: by_name(item[1]))
    weekdays = [locale.days["format"]["abbreviated"][day] for day in range(7)]
    return _page(
        request,
        "admin.html",
        OFFICE,
        default_capacity=DEFAULT_CAPACITY,
        countries=countries,
        weekdays=weekdays,
        visitor_languages=[(code, NAMES[code]) for code in VISITOR.languages],
    )
