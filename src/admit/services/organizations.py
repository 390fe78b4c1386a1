"""Organizations (tenants) and their policy."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy.orm import Session

from admit import errors
from admit.db.models import Organization
from admit.domain.policy import EntryWindow, Policy
from admit.domain.text import has_control_characters
from admit.domain.venue_time import is_known_timezone
from admit.services import cache_version

MAX_NAME = 200
MAX_ID = 2**31 - 1  # ids are 32-bit integers on every database


def create_organization(session: Session, *, name: str, timezone: str, now: datetime) -> Organization:
    if not name.strip() or len(name.strip()) > MAX_NAME:
        raise errors.ValidationFailed(fields={"name": f"1 to {MAX_NAME} characters"})
    if has_control_characters(name):  # the name goes into e-mail subjects and calendar entries
        raise errors.ValidationFailed(fields={"name": "no line breaks or other control characters"})
    if not is_known_timezone(timezone):
        raise errors.ValidationFailed(fields={"timezone": f"unknown IANA time zone: {timezone!r}"})
    with session.begin():
        org = Organization(name=name.strip(), timezone=timezone, created_at=now)
        write_policy(org, Policy())
        session.add(org)
    return org


def shown_name(org: Organization) -> str:
    """The name visitors see: the display name where one is set (as SQL: SHOWN_NAME)."""
    return org.display_name or org.name


SHOWN_NAME = func.coalesce(Organization.display_name, Organization.name)


def find_organization(session: Session, orq: int) -> Organization | None:
    return session.get(Organization, orq)


@dataclass(frozen=True)
class Venue:
    """What the door and the calendar need of an organization."""

    timezone: str
    policy: Policy


def load_venue(session: Session, orq: int) -> Venue:
    with session.begin():
        org = get_organization_or_raise(session, orq)
        return Venue(org.timezone, policy_of(org))


def get_organization_or_raise(session: Session, orq: int) -> Organization:
    org = find_organization(session, orq)
    if org is None:
        raise errors.OrganizationNotFound()
    return org


def policy_of(org: Organization) -> Policy:
    return Policy(
        unreserved_entry=org.unreserved_entry,
        reservation_changes=org.reservation_changes,
        change_cutoff_hours=org.change_cutoff_hours,
        cancellation_allowed=org.cancellation_allowed,
        entry_window=EntryWindow(org.entry_minutes_before_start, org.entry_minutes_after_end),
        reminder_after_days=org.reminder_after_days,
    )


def write_policy(org: Organization, policy: Policy) -> None:
    org.unreserved_entry = policy.unreserved_entry
    org.reservation_changes = policy.reservation_changes
    org.change_cutoff_hours = policy.change_cutoff_hours
    org.cancellation_allowed = policy.cancellation_allowed
    org.entry_minutes_before_start = policy.entry_window.minutes_before_start
    org.entry_minutes_after_end = policy.entry_window.minutes_after_end
    org.reminder_after_days = policy.reminder_after_days


def update_policy(session: Session, *, orq: int, changes: dict[str, Any]) -> Policy:
    """Apply a subset of policy fields, already validated by the caller's schema."""
    with session.begin():
        org = session.get(Organization, orq, with_for_update=True)
        if org is None:
            raise errors.OrganizationNotFound()
        policy = replace(policy_of(org), **changes)
        write_policy(org, policy)
        cache_version.bump(session)  # every server process drops its copy of the policy
    return policy
