"""Table models. API schemas live elsewhere, so no internal column can leak into a response."""

from __future__ import annotations

import datetime as dt
from datetime import date, datetime, time

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ColumnElement,
    ForeignKey,
    Index,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    and_,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.sql.elements import SQLCoreOperations

from admit.db.types import UTCDateTime, str_enum
from admit.domain.calendar import SlotStatus
from admit.domain.lifecycle import ActivationMode, ReservationStatus, TicketEvent, TicketStatus
from admit.domain.mail import MailKind, MailStatus
from admit.domain.policy import ReservationChanges, UnreservedEntry
from admit.domain.roles import Role
from admit.i18n.catalogs import LANGUAGES

# The languages e-mails and pages can be written in, as the database checks them.
_SHIPPED = ", ".join(f"'{language}'" for language in LANGUAGES)


def _language(column: str) -> CheckConstraint:
    return CheckConstraint(f"{column} IN ({_SHIPPED})", name=column)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime()}  # noqa: RUF012 (read by SQLAlchemy)


class Organization(Base):
    __tablename__ = "organizations"
    __table_args__ = (_language("default_language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))
    unreserved_entry: Mapped[UnreservedEntry] = mapped_column(
        str_enum(UnreservedEntry, "unreserved_entry"), default=UnreservedEntry.DENY
    )
    reservation_changes: Mapped[ReservationChanges] = mapped_column(
        str_enum(ReservationChanges, "reservation_changes"), default=ReservationChanges.UNTIL_CUTOFF
    )
    change_cutoff_hours: Mapped[int] = mapped_column(default=24)
    cancellation_allowed: Mapped[bool] = mapped_column(default=True)
    # Both null: the whole reserved day is the entry window.
    entry_minutes_before_start: Mapped[int | None]
    entry_minutes_after_end: Mapped[int | None]
    reminder_after_days: Mapped[int | None]
    created_at: Mapped[datetime]
    # The venue's identity as visitors see it; all optional. No country: the time zone's (services).
    display_name: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(500))
    opening_hours: Mapped[str | None] = mapped_column(String(1000))
    brand_colour: Mapped[str | None] = mapped_column(String(7))
    country: Mapped[str | None] = mapped_column(String(2))
    # Visitors whose browser asks for none of the shipped languages get this one.
    default_language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")


class OrganizationLogo(Base):
    """The venue's logo, kept in the database so that every server process serves the same one."""

    __tablename__ = "organization_logos"

    orq: Mapped[int] = mapped_column(ForeignKey("organizations.id"), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(32))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    etag: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime]


class Operator(Base):
    __tablename__ = "operators"

    id: Mapped[int] = mapped_column(primary_key=True)
    orq: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(str_enum(Role, "role"))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    pin_hash: Mapped[str | None] = mapped_column(String(200))
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    # A disabled member cannot log in, and tokens issued before the disabling stay refused after an
    # enable: each disabling moves the generation their tokens must carry.
    disabled_at: Mapped[datetime | None]
    token_generation: Mapped[int] = mapped_column(default=0, server_default="0")


class RevokedToken(Base):
    """A staff token ended by its logout before its expiry; kept until it would have expired anyway."""

    __tablename__ = "revoked_tokens"

    token_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id"), index=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class CacheVersion(Base):
    """A counter bumped in the same transaction as every change that processes keep in memory.

    Staff (disable, enable, logout) and venue policy are cached by every server process; each reads
    this counter every half second and drops its copies when it moved.
    """

    __tablename__ = "cache_versions"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)


class DailyCount(Base):
    """How often something with no row of its own happened on a venue day, e.g. visitors' ticket checks."""

    __tablename__ = "daily_counts"

    orq: Mapped[int] = mapped_column(ForeignKey("organizations.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger)


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (_language("language"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    orq: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    quantity: Mapped[int]
    activation_mode: Mapped[ActivationMode] = mapped_column(str_enum(ActivationMode, "activation_mode"))
    paid: Mapped[bool]
    customer_email: Mapped[str | None] = mapped_column(String(320))
    valid_until: Mapped[date | None]
    created_at: Mapped[datetime]
    paid_at: Mapped[datetime | None]
    # The buyer's e-mail is written in it.
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    # The order link's secret (`/reserve?order=`): whoever has it sees the order's tickets and books them.
    # Not the id, which staff tools and logs show.
    link_token: Mapped[str] = mapped_column(String(32), unique=True)


class Ticket(Base):
    __tablename__ = "tickets"
    # A manager finds a ticket by the last characters of its code (a ticket's story).
    __table_args__ = (Index("ix_tickets_orq_code_suffix", "orq", "code_suffix"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    orq: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    code_suffix: Mapped[str] = mapped_column(String(4))
    code_sealed: Mapped[str] = mapped_column(String(200))
    # The same code sealed for opening in bulk (offline bundles); null for tickets issued before it.
    code_sealed_bulk: Mapped[bytes | None] = mapped_column(LargeBinary(64))
    status: Mapped[TicketStatus] = mapped_column(str_enum(TicketStatus, "ticket_status"))
    activation_mode: Mapped[ActivationMode] = mapped_column(str_enum(ActivationMode, "activation_mode"))
    activated_at: Mapped[datetime | None]
    verified_at: Mapped[datetime | None]
    verified_by: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    valid_until: Mapped[date | None]
    customer_email: Mapped[str | None] = mapped_column(String(320))
    customer_phone: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class TicketTransition(Base):
    """The audit of every status change: who or what, when, from, to."""

    __tablename__ = "ticket_transitions"
    __table_args__ = (
        Index("ix_ticket_transitions_ticket_at", "ticket_id", "at"),
        # The offline bundle's change feed: an organization's recent transitions.
        Index("ix_ticket_transitions_orq_at", "orq", "at"),
        # A day's count of one event (the verifications on the live stats) reads only that day's rows.
        Index("ix_ticket_transitions_orq_event_at", "orq", "event", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    orq: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    event: Mapped[TicketEvent] = mapped_column(str_enum(TicketEvent, "ticket_event"))
    from_status: Mapped[TicketStatus | None] = mapped_column(str_enum(TicketStatus, "from_status"))
    to_status: Mapped[TicketStatus] = mapped_column(str_enum(TicketStatus, "to_status"))
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime]

    ticket: Mapped[Ticket] = relationship()


class OfflineKey(Base):
    """An organization's Ed25519 key for signing offline bundles; the private half sealed, one per org."""

    __tablename__ = "offline_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    orq: Mapped[int] = mapped_column(ForeignKey("organizations.id"), unique=True)
    key_id: Mapped[str] = mapped_column(String(32), unique=True)
    public_key: Mapped[str] = mapped_column(String(64))
    private_sealed: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]


class ReservationSlot(Base):
    """A date and time with hard capacity; `booked_count` never passes `total_capacity` (CHECK)."""

    __tablename__ = "reservation_slots"
    __table_args__ = (
        UniqueConstraint("orq", "date", "start_time", name="uq_reservation_slots_orq_date_start"),
        CheckConstraint("total_capacity >= 0", name="capacity_not_negative"),
        CheckConstraint("booked_count >= 0", name="booked_not_negative"),
        CheckConstraint("booked_count <= total_capacity", name="never_overbooked"),
        CheckConstraint("end_time > start_time", name="ends_after_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    orq: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    date: Mapped[dt.date]
    start_time: Mapped[time]
    end_time: Mapped[time]
    total_capacity: Mapped[int]
    booked_count: Mapped[int] = mapped_column(default=0)
    status: Mapped[SlotStatus] = mapped_column(str_enum(SlotStatus, "slot_status"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Reservation(Base):
    """A ticket's place in a slot. At most one live (not cancelled) reservation per ticket (unique index)."""

    __tablename__ = "ticket_reservations"
    __table_args__ = (
        Index(
            "uq_ticket_reservations_live_ticket",
            "ticket_id",
            unique=True,
            postgresql_where=text("status <> 'CANCELLED'"),
            sqlite_where=text("status <> 'CANCELLED'"),
        ),
        Index("ix_ticket_reservations_slot_status", "slot_id", "status"),
        # A ticket's story reads all its reservations, cancelled ones too.
        Index("ix_ticket_reservations_ticket", "ticket_id"),
        # A party's own page reads its members, and every scan counts its party's members in its slot.
        # Both columns, so that the planner takes this index even before the table has statistics:
        # with the party's column alone it may count through the slot's index, every reservation of
        # the slot read at each scan.
        Index("ix_ticket_reservations_party_slot", "party_id", "slot_id"),
        _language("language"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    orq: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    slot_id: Mapped[int] = mapped_column(ForeignKey("reservation_slots.id"))
    customer_email: Mapped[str] = mapped_column(String(320))
    customer_phone: Mapped[str] = mapped_column(String(20))
    status: Mapped[ReservationStatus] = mapped_column(str_enum(ReservationStatus, "reservation_status"))
    # Bumped on every move: calendar updates (RFC 5545 SEQUENCE) supersede the earlier invite.
    sequence: Mapped[int] = mapped_column(default=0)
    reserved_at: Mapped[datetime]
    cancelled_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]
    # The language it was booked in: every e-mail about it, its calendar entry and printout speak it.
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    # The tickets booked together share it: the party's page, moved or cancelled together, one e-mail.
    # An unguessable secret like the id; a member's own id does not lead to it.
    party_id: Mapped[str] = mapped_column(String(32))

    ticket: Mapped[Ticket] = relationship()
    slot: Mapped[ReservationSlot] = relationship()


def live_reservation_of(ticket_id: SQLCoreOperations[int] | int) -> ColumnElement[bool]:
    """A ticket's live reservation, the one the unique index above allows: any not cancelled."""
    return and_(Reservation.ticket_id == ticket_id, Reservation.status != ReservationStatus.CANCELLED)


class ScanEvent(Base):
    """Every scan at the door, whatever its result: the history and the live counts come from here."""

    __tablename__ = "scan_events"
    __table_args__ = (
        Index("ix_scan_events_orq_scanned_at", "orq", "scanned_at", "id"),
        # A device's retry with the same nonce is answered from the first event, never recorded twice.
        Index(
            "uq_scan_events_orq_nonce",
            "orq",
            "nonce",
            unique=True,
            postgresql_where=text("nonce IS NOT NULL"),
            sqlite_where=text("nonce IS NOT NULL"),
        ),
        # A device's offline scan is stored once, however often its queue is sent.
        Index(
            "uq_scan_events_orq_device_scan",
            "orq",
            "device_id",
            "scan_id",
            unique=True,
            postgresql_where=text("scan_id IS NOT NULL"),
            sqlite_where=text("scan_id IS NOT NULL"),
        ),
        # A slot's verified count reads its own entries, however long the history behind them.
        Index("ix_scan_events_slot_verified", "slot_id", "verified"),
        # The answers still kept: the retention sweep finds the ones to drop without reading the rest.
        Index(
            "ix_scan_events_answer_kept",
            "scanned_at",
            "id",
            postgresql_where=text("response IS NOT NULL"),
            sqlite_where=text("response IS NOT NULL"),
        ),
        # The few second entries: pruning an old first entry finds the rows that point at it.
        Index(
            "ix_scan_events_conflict_with",
            "conflict_with",
            postgresql_where=text("conflict_with IS NOT NULL"),
            sqlite_where=text("conflict_with IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    orq: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id"))
    device_id: Mapped[str | None] = mapped_column(String(64))
    nonce: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))
    code_hash: Mapped[str | None] = mapped_column(String(64))
    code_suffix: Mapped[str] = mapped_column(String(4))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    result: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(String(32))
    verified: Mapped[bool] = mapped_column(default=False)
    slot_id: Mapped[int | None] = mapped_column(ForeignKey("reservation_slots.id"))
    reservation_date: Mapped[dt.date | None]
    reservation_start: Mapped[time | None]
    latency_ms: Mapped[float]
    scanned_at: Mapped[datetime]  # the door's own time: the device's clock for a scan decided offline
    # The answer as sent, so a retried nonce gets exactly the same one; dropped (null) once the
    # retention window for replays has passed, leaving the compact row that history and stats read.
    response: Mapped[str | None] = mapped_column(Text)
    # Decided by the device without the server, and sent later: its id and what the device showed.
    offline: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    scan_id: Mapped[str | None] = mapped_column(String(64))
    offline_result: Mapped[str | None] = mapped_column(String(8))
    offline_code: Mapped[str | None] = mapped_column(String(32))
    synced_at: Mapped[datetime | None]
    # A second entry on one ticket: this scan let a visitor in after the ticket's first entry (the
    # event `conflict_with`, which holds the VERIFIED transition).
    conflict: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    conflict_with: Mapped[int | None] = mapped_column(ForeignKey("scan_events.id"))


class OutboxMessage(Base):
    """An e-mail to send, written in the same transaction as the change it reports.

    Only what to send is kept, never the message itself: it is composed when sent, so the ticket
    code (in the QR image and the text) is never stored in the clear.
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (
        Index("ix_outbox_messages_due", "status", "next_attempt_at"),
        UniqueConstraint("dedupe_key", name="uq_outbox_messages_dedupe_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    orq: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    kind: Mapped[MailKind] = mapped_column(str_enum(MailKind, "mail_kind"))
    reservation_id: Mapped[str | None] = mapped_column(ForeignKey("ticket_reservations.id"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    recipient: Mapped[str] = mapped_column(String(320))
    # Reminders are sent once: their key is unique; other messages have none.
    dedupe_key: Mapped[str | None] = mapped_column(String(100))
    # Set when the message is about the whole party booked together (one e-mail, every QR code);
    # `reservation_id` then names one of its members.
    party_id: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[MailStatus] = mapped_column(str_enum(MailStatus, "mail_status"))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]

    reservation: Mapped[Reservation | None] = relationship()
