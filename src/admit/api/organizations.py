"""An organization and its policy (admins of that organization)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr
from starlette.concurrency import run_in_threadpool

from admit import errors
from admit.api.deps import AdminDep, ContextDep, SessionDep
from admit.api.languages import Language
from admit.api.schemas import MAX_ID
from admit.domain.identity import MAX_LOGO_BYTES
from admit.domain.policy import EntryWindow, Policy, ReservationChanges, UnreservedEntry
from admit.services import identity
from admit.services.operators import StaffMember
from admit.services.organizations import get_organization_or_raise, policy_of, update_policy

router = APIRouter(tags=["organizations"])

OrqPath = Annotated[int, Path(ge=1, le=MAX_ID)]


class EntryWindowMinutes(BaseModel):
    model_config = ConfigDict(extra="forbid")
    minutes_before_start: StrictInt = Field(ge=0, le=24 * 60)
    minutes_after_end: StrictInt = Field(ge=0, le=24 * 60)


class PolicyBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    unreserved_entry: UnreservedEntry
    reservation_changes: ReservationChanges
    change_cutoff_hours: StrictInt = Field(ge=0, le=24 * 365)
    cancellation_allowed: StrictBool
    entry_window: Literal["day"] | EntryWindowMinutes
    reminder_after_days: StrictInt | None = Field(ge=1, le=365)

    @classmethod
    def of(cls, policy: Policy) -> PolicyBody:
        window = policy.entry_window
        return cls(
            unreserved_entry=policy.unreserved_entry,
            reservation_changes=policy.reservation_changes,
            change_cutoff_hours=policy.change_cutoff_hours,
            cancellation_allowed=policy.cancellation_allowed,
            entry_window="day"
            if window.is_day
            else EntryWindowMinutes(
                minutes_before_start=window.minutes_before_start or 0,
                minutes_after_end=window.minutes_after_end or 0,
            ),
            reminder_after_days=policy.reminder_after_days,
        )


class PolicyPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    unreserved_entry: UnreservedEntry | None = None
    reservation_changes: ReservationChanges | None = None
    change_cutoff_hours: StrictInt | None = Field(default=None, ge=0, le=24 * 365)
    cancellation_allowed: StrictBool | None = None
    entry_window: Literal["day"] | EntryWindowMinutes | None = None
    reminder_after_days: StrictInt | None = Field(default=None, ge=1, le=365)  # null: no reminders

    def changes(self) -> dict[str, Any]:
        changes: dict[str, Any] = {}
        for name in self.model_fields_set:
            value = getattr(self, name)
            if value is None and name != "reminder_after_days":
                raise errors.ValidationFailed(fields={name: "must not be null"})
            if name == "entry_window":
                value = (
                    EntryWindow()
                    if value == "day"
                    else EntryWindow(value.minutes_before_start, value.minutes_after_end)
                )
            changes[name] = value
        return changes


class IdentityOut(BaseModel):
    """What visitors see of the venue; `name` is the display name where one is set."""

    orq: int
    name: str
    display_name: str | None
    address: str | None
    opening_hours: str | None
    brand_colour: str | None
    brand_text_colour: str | None
    country: str | None
    country_is_default: bool
    calling_code: int | None
    logo_url: str | None
    default_language: str = Field(
        description="The language of visitors whose browser asks for none of the shipped ones."
    )

    @classmethod
    def of(cls, found: identity.Identity) -> IdentityOut:
        return cls.model_validate(found, from_attributes=True)


class IdentityPatch(BaseModel):
    """Any subset; null or "" clears a field (the country then follows the time zone again)."""

    model_config = ConfigDict(extra="forbid")
    display_name: StrictStr | None = Field(default=None, max_length=1000)
    address: StrictStr | None = Field(default=None, max_length=2000)
    opening_hours: StrictStr | None = Field(default=None, max_length=4000)
    brand_colour: StrictStr | None = Field(default=None, max_length=32)
    country: StrictStr | None = Field(default=None, max_length=8)
    default_language: Language | None = Field(
        default=None,
        description="The language of visitors whose browser asks for none of the shipped ones; never null.",
    )


class OrganizationOut(BaseModel):
    orq: int
    name: str
    timezone: str
    policy: PolicyBody
    identity: IdentityOut


def _own_organization(operator: StaffMember, orq: int) -> None:
    # Another organization's id reads as unknown: its existence is not ours to reveal.
    if operator.orq != orq:
        raise errors.OrganizationNotFound()


@router.get("/api/organizations/{orq}")
def get_organization(orq: OrqPath, admin: AdminDep, session: SessionDep) -> OrganizationOut:
    _own_organization(admin, orq)
    with session.begin():
        org = get_organization_or_raise(session, orq)
        return OrganizationOut(
            orq=org.id,
            name=org.name,
            timezone=org.timezone,
            policy=PolicyBody.of(policy_of(org)),
            identity=IdentityOut.of(identity.identity_of(session, org)),
        )


@router.patch("/api/organizations/{orq}/policy")
def patch_policy(
    orq: OrqPath, body: PolicyPatch, admin: AdminDep, context: ContextDep, session: SessionDep
) -> PolicyBody:
    _own_organization(admin, orq)
    policy = update_policy(session, orq=orq, changes=body.changes())
    context.facts.changed_here()
    return PolicyBody.of(policy)


@router.patch("/api/organizations/{orq}/identity")
def patch_identity(orq: OrqPath, body: IdentityPatch, admin: AdminDep, session: SessionDep) -> IdentityOut:
    _own_organization(admin, orq)
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    return IdentityOut.of(identity.update_identity(session, orq=orq, changes=changes))


@router.put(
    "/api/organizations/{orq}/logo",
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": f"The image file itself, PNG or JPEG, at most {MAX_LOGO_BYTES // 1024} KiB.",
            "content": {"image/png": {}, "image/jpeg": {}},
        }
    },
)
async def put_logo(
    orq: OrqPath, request: Request, admin: AdminDep, context: ContextDep, session: SessionDep
) -> IdentityOut:
    """The body is the image's bytes; its type is read from them, not from any name or header."""
    _own_organization(admin, orq)
    data = await request.body()  # at most the route's body limit (app.py)
    stored = await run_in_threadpool(
        lambda: identity.store_logo(session, orq=orq, data=data, now=context.clock.now())
    )
    return IdentityOut.of(stored)


@router.delete("/api/organizations/{orq}/logo")
def delete_logo(orq: OrqPath, admin: AdminDep, session: SessionDep) -> IdentityOut:
    _own_organization(admin, orq)
    return IdentityOut.of(identity.remove_logo(session, orq=orq))
