"""The venue's identity (name shown, address, opening hours, brand colour, country, logo)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from admit import errors
from admit.db.models import Organization, OrganizationLogo, ReservationSlot
from admit.domain.countries import calling_code, country_of_timezone, is_country
from admit.domain.identity import (
    MAX_ADDRESS,
    MAX_DISPLAY_NAME,
    MAX_LOGO_BYTES,
    MAX_OPENING_HOURS,
    logo_type,
    normalise_colour,
    text_colour_on,
)
from admit.domain.text import has_control_characters
from admit.i18n import LANGUAGES
from admit.services.organizations import get_organization_or_raise, shown_name

# Address and opening hours are written on several lines; any other control character is refused.
_CONTROL_BUT_NEWLINE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]")


@dataclass(frozen=True)
class Identity:
    orq: int
    name: str  # the name shown: the display name where there is one
    address: str | None
    opening_hours: str | None
    brand_colour: str | None
    brand_text_colour: str | None  # black or white, whichever reads on the brand colour
    country: str | None
    country_is_default: bool  # not set: the time zone's country
    calling_code: int | None
    logo_url: str | None
    display_name: str | None
    default_language: str  # for visitors whose browser asks for none of the shipped languages


@dataclass(frozen=True)
class Logo:
    content_type: str
    data: bytes
    etag: str


def country_of(org: Organization) -> str | None:
    """The venue's country: the one set, else the one its time zone is in."""
    return org.country or country_of_timezone(org.timezone)


def identity_of(session: Session, org: Organization) -> Identity:
    logo = session.get(OrganizationLogo, org.id)
    country = country_of(org)
    return Identity(
        orq=org.id,
        name=shown_name(org),
        address=org.address,
        opening_hours=org.opening_hours,
        brand_colour=org.brand_colour,
        brand_text_colour=text_colour_on(org.brand_colour) if org.brand_colour else None,
        country=country,
        country_is_default=org.country is None,
        calling_code=calling_code(country) if country else None,
        # The tag in the address lets a browser keep the image for long and still see a new one at once.
        logo_url=f"/o/{org.id}/logo?v={logo.etag[:12]}" if logo else None,
        display_name=org.display_name,
        default_language=org.default_language,
    )


def load_identity(session: Session, orq: int) -> Identity:
    with session.begin():
        return identity_of(session, get_organization_or_raise(session, orq))


def _text(value: str | None, *, field: str, limit: int, lines: bool) -> str | None:
    if value is None or not value.strip():
        return None  # an empty field clears it
    text = value.strip().replace("\r\n", "\n")
    if len(text) > limit:
        raise errors.ValidationFailed(fields={field: f"at most {limit} characters"})
    bad = _CONTROL_BUT_NEWLINE.search(text) if lines else has_control_characters(text)
    if bad:
        raise errors.ValidationFailed(fields={field: "no control characters"})
    return text


def _checked(changes: dict[str, Any]) -> dict[str, Any]:
    checked: dict[str, Any] = {}
    for field, value in changes.items():
        if field == "display_name":
            checked[field] = _text(value, field=field, limit=MAX_DISPLAY_NAME, lines=False)
        elif field == "address":
            checked[field] = _text(value, field=field, limit=MAX_ADDRESS, lines=True)
        elif field == "opening_hours":
            checked[field] = _text(value, field=field, limit=MAX_OPENING_HOURS, lines=True)
        elif field == "brand_colour":
            colour = None if value is None or not value.strip() else normalise_colour(value)
            if value and value.strip() and colour is None:
                raise errors.ValidationFailed(fields={field: "a colour as #rrggbb, e.g. #0b3d91"})
            checked[field] = colour
        elif field == "country":
            country = None if value is None or not value.strip() else value.strip().upper()
            if country is not None and not is_country(country):
                raise errors.ValidationFailed(fields={field: "an ISO 3166 country code, e.g. NL"})
            checked[field] = country
        elif field == "default_language":
            if value not in LANGUAGES:
                raise errors.ValidationFailed(fields={field: f"one of {', '.join(LANGUAGES)}"})
            checked[field] = value
    return checked


def update_identity(session: Session, *, orq: int, changes: dict[str, Any]) -> Identity:
    """Set the fields given (null or empty clears one), all checked before any is written."""
    checked = _checked(changes)
    with session.begin():
        org = session.get(Organization, orq, with_for_update=True)
        if org is None:
            raise errors.OrganizationNotFound()
        for field, value in checked.items():
            setattr(org, field, value)
        return identity_of(session, org)


def store_logo(session: Session, *, orq: int, data: bytes, now: datetime) -> Identity:
    """Keep a PNG or JPEG of at most 256 KiB as the venue's logo, in place of any earlier one."""
    if not data:
        raise errors.ValidationFailed(fields={"logo": "the file is empty"})
    if len(data) > MAX_LOGO_BYTES:
        raise errors.ValidationFailed(fields={"logo": f"at most {MAX_LOGO_BYTES // 1024} KiB"})
    content_type = logo_type(data)
    if content_type is None:
        raise errors.ValidationFailed(fields={"logo": "a PNG or JPEG image"})
    etag = hashlib.sha256(data).hexdigest()
    with session.begin():
        org = get_organization_or_raise(session, orq)
        logo = session.get(OrganizationLogo, orq, with_for_update=True)
        if logo is None:
            logo = OrganizationLogo(orq=orq)
            session.add(logo)
        logo.content_type, logo.data, logo.etag, logo.updated_at = content_type, data, etag, now
        session.flush()
        return identity_of(session, org)


def remove_logo(session: Session, *, orq: int) -> Identity:
    with session.begin():
        org = get_organization_or_raise(session, orq)
        logo = session.get(OrganizationLogo, orq)
        if logo is not None:
            session.delete(logo)
            session.flush()
        return identity_of(session, org)


def find_logo(session: Session, orq: int) -> Logo | None:
    with session.begin():
        logo = session.get(OrganizationLogo, orq)
        return Logo(logo.content_type, logo.data, logo.etag) if logo else None


def phone_region_of_slot(session: Session, slot_id: int) -> str | None:
    """The country a national phone number is read in when booking this slot: its venue's."""
    with session.begin():
        org = session.scalars(
            select(Organization)
            .join(ReservationSlot, ReservationSlot.orq == Organization.id)
            .where(ReservationSlot.id == slot_id)
        ).first()
        return country_of(org) if org else None
