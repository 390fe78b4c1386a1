"""The door's answers as OpenAPI documents them.

A scan's verdict is written once, as JSON kept for a retry (services/door.py), and sent as those bytes:
`VerdictOut` documents it without validating it again on the hot path. The staff reads below are
returned through their models.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

Colour = Literal["GREEN", "YELLOW", "RED"]


class VerdictTicketOut(BaseModel):
    status: str
    activation_status: Literal["active", "inactive"]
    activated_at: str | None
    code_suffix: str


class VerdictPartyOut(BaseModel):
    """The visitor's party booked together in this slot: how many in all, how many are in already
    (this visitor too, once admitted)."""

    size: int
    admitted: int


class VerdictReservationOut(BaseModel):
    date: str
    start_time: str
    end_time: str
    status: str
    party: VerdictPartyOut | None  # null for a visitor booked alone in the slot


class CustomerOut(BaseModel):
    email: str | None
    phone: str | None


class VerdictOut(BaseModel):
    result: Colour
    code: str
    title: str
    message: str
    entry_allowed: bool
    can_verify: bool
    ticket: VerdictTicketOut | None
    reservation: VerdictReservationOut | None
    customer: CustomerOut | None  # an admitted visitor's contact, on GREEN only
    verified_at: str | None
    verified_by: str | None
    action: Literal["validate", "verify", "admit"]
    verified_now: bool
    scanned_at: str


VERDICT: dict[int | str, dict[str, Any]] = {200: {"model": VerdictOut, "description": "The verdict"}}


class VisitorOut(BaseModel):
    """A reservation found by the door's search, with no whole ticket code (a code is its holder's bearer
    credential): the page shows `code_suffix` and the masked contact, and a tap scans `ref`."""

    ref: str = Field(
        description="Opaque: send it as `ref` in place of `code` to the scan calls (validate-ticket, "
        "verify-ticket, /venue/scan) to scan this ticket. Only the operator who searched can use it, "
        "until `ref_expires_at`."
    )
    ref_expires_at: str = Field(description="When `ref` stops being accepted (ISO 8601, venue time).")
    code_suffix: str = Field(description="The ticket code's last four characters.")
    date: str
    day: Literal["today", "tomorrow"]
    start_time: str
    end_time: str
    party: int
    email: str
    phone: str
    status: str


class VisitorSearchOut(BaseModel):
    results: list[VisitorOut]
    more: bool  # more matched than are listed: type more of the query


class OperatorRefOut(BaseModel):
    id: int
    name: str


class EntryScanOut(BaseModel):
    """One side of a second entry: who scanned, on which device, at what door time."""

    event_id: int
    scanned_at: str
    operator: OperatorRefOut
    device_id: str | None
    offline: bool


class ConflictOut(BaseModel):
    first: EntryScanOut | None
    second: EntryScanOut | None


class SyncErrorOut(BaseModel):
    code: str
    message: str


class SyncedScanOut(BaseModel):
    """One queued scan's outcome; the fields present depend on it (see the offline door in README)."""

    scan_id: str
    outcome: Literal["applied", "duplicate", "conflict", "refused"]
    result: Colour | None = None
    code: str | None = None
    verified: bool | None = None
    conflict: ConflictOut | None = None  # applied, conflict
    conflict_recorded: bool | None = None  # duplicate
    error: SyncErrorOut | None = None  # refused


class SyncOut(BaseModel):
    results: list[SyncedScanOut]


class HistoryScanOut(BaseModel):
    id: int
    scanned_at: str
    operator: OperatorRefOut
    device_id: str | None
    offline: bool


class HistoryConflictOut(BaseModel):
    first: HistoryScanOut | None


class HistoryReservationOut(BaseModel):
    slot_id: int | None
    date: str
    start_time: str | None


class HistoryEventOut(BaseModel):
    id: int
    scanned_at: str
    operator: OperatorRefOut
    device_id: str | None
    action: str
    result: Colour
    code: str
    reason: str
    verified: bool
    ticket_code_suffix: str | None
    latency_ms: float | None
    offline: bool
    offline_result: Colour | None
    offline_code: str | None
    conflict: HistoryConflictOut | None
    reservation: HistoryReservationOut | None


class HistoryOut(BaseModel):
    events: list[HistoryEventOut]
    next_cursor: str | None


class SlotCountsOut(BaseModel):
    slot_id: int
    start_time: str
    end_time: str
    total_capacity: int
    booked_count: int
    verified_count: int
    status: str
    # Booked places not used, once the slot's entry window has closed; null while entry is still open.
    no_shows: int | None


class ByResultOut(BaseModel):
    GREEN: int
    YELLOW: int
    RED: int


class StatsOut(BaseModel):
    date: str
    timezone: str
    validated: int
    verified: int
    conflicts: int
    by_result: ByResultOut
    by_reason: dict[str, int]
    slots: list[SlotCountsOut]
