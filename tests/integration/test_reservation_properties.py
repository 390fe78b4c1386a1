"""Random sequences of reserve / move / cancel / verify / expire, checked step by step against a model.

A hypothesis state machine drives the real services on the real databases: one venue with a random
time zone and policy, a few small slots, a handful of ACTIVATED tickets, a door operator, and the
pinned clock, which only moves forward. After every step the database must keep the capacity rules
and agree with the model on which ticket holds a place in which slot, and on what each ticket reads
as; every refusal must be the one the model predicts.

A place is held by every reservation that is not CANCELLED: verification and expiry keep it (the
visitor came, or may still come in; the count is history by then).
"""

from __future__ import annotations

import time as timer
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, event, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from admit import errors
from admit.clock import FrozenClock
from admit.context import AppContext
from admit.db.models import Operator, Reservation, ReservationSlot, Ticket
from admit.domain.calendar import SlotStatus
from admit.domain.lifecycle import ActivationMode, ReservationStatus, TicketStatus
from admit.domain.policy import EntryWindow, Policy, ReservationChanges, UnreservedEntry
from admit.domain.roles import Role
from admit.services.door import Action, scan
from admit.services.expiry import expire_due
from admit.services.issuance import create_order
from admit.services.operators import StaffMember, create_operator
from admit.services.organizations import create_organization, load_venue, update_policy
from admit.services.reservations import Contact, cancel_reservation, move_reservation, reserve
from admit.services.slots import NewSlot, create_slot, update_slot
from admit.services.tickets import view
from tests.builders import empty_tables
from tests.conftest import DEFAULT_NOW

T = TypeVar("T")
S = TicketStatus

# At DEFAULT_NOW it is 09:00 on 20 November in Amsterdam, 21:00 the same day in Tongatapu (UTC+13) and
# 22:00 the day before in Honolulu (UTC-10): "today" and "has started" differ from UTC's in each.
ZONES = ("Europe/Amsterdam", "Pacific/Tongatapu", "Pacific/Honolulu")
START_HOURS = (8, 10, 13, 17, 22)
SLOT_LENGTH = timedelta(hours=1)
CONTACT = Contact("visitor@example.com", "+31201234567")
ALTERNATIVES_WITHIN = timedelta(days=14)
MAX_ALTERNATIVES = 5

SETTINGS = settings(
    max_examples=25,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

picks = st.integers(min_value=0, max_value=9)  # taken modulo the number of tickets or slots
policies = st.builds(
    Policy,
    # Mostly `deny`: under `allow` the door verifies unreserved tickets, which ends their story early.
    unreserved_entry=st.sampled_from([UnreservedEntry.DENY] * 3 + [UnreservedEntry.ALLOW]),
    # Mostly the permissive default, so that moves and cancels get exercised, sometimes the strict one.
    reservation_changes=st.sampled_from([ReservationChanges.UNTIL_CUTOFF] * 4 + [ReservationChanges.NONE]),
    change_cutoff_hours=st.sampled_from([0, 2, 2, 24]),
    cancellation_allowed=st.sampled_from([True, True, True, False]),
    entry_window=st.sampled_from([EntryWindow(), EntryWindow(0, 0), EntryWindow(30, 15)]),
)
# (days ahead of the venue's today, start hour, capacity)
slot_layouts = st.lists(
    st.tuples(st.integers(0, 3), st.sampled_from(START_HOURS), st.integers(1, 3)),
    min_size=2,
    max_size=5,
    unique_by=lambda layout: (layout[0], layout[1]),
)


@dataclass
class ModelSlot:
    id: int
    starts_at: datetime  # naive, venue time
    ends_at: datetime
    capacity: int
    closed: bool = False


@dataclass
class ModelTicket:
    id: int
    code: str
    status: TicketStatus = S.ACTIVATED  # as stored, before expiry on read
    slot_id: int | None = None  # the slot where its reservation holds a place
    reservation_id: str | None = None  # its latest reservation, perhaps cancelled since
    cancelled: int = 0


def outcome_of(call: Callable[[], T]) -> tuple[T | None, errors.DomainError | None]:
    """(result, None) when the call succeeds, (None, the error) when the domain refuses it."""
    try:
        return call(), None
    except errors.DomainError as refused:
        return None, refused


def prefer(pick: int, useful: Sequence[T], every: Sequence[T]) -> T:
    """Mostly (seven picks in ten) one of the useful choices, if any; otherwise any choice at all."""
    choices = useful if useful and pick < 7 else every
    return choices[pick % len(choices)]


def assert_refused_for(refused: errors.DomainError | None, reasons: set[str]) -> None:
    """Refused exactly when some refusal applies, and then with one of those that apply."""
    if reasons:
        assert refused is not None, f"went through, but expected one of {sorted(reasons)}"
        assert refused.code in reasons, (refused.code, sorted(reasons))
    else:
        assert refused is None, f"refused with {refused.code}, but nothing should stop it"


def code_of(refused: errors.DomainError | None) -> str | None:
    return None if refused is None else refused.code


class ReservationMachine(RuleBasedStateMachine):
    """One venue, its slots and tickets; the rules are what visitors, admins, the door and time do."""

    def __init__(self, context: AppContext, clock: FrozenClock) -> None:
        super().__init__()
        self.context = context
        self.clock = clock
        empty_tables(context.engine)
        clock.set(DEFAULT_NOW)
        self.orq = 0
        self.operator_id = 0
        self.zone = ZoneInfo("UTC")
        self.policy = Policy()
        self.slots: list[ModelSlot] = []
        self.tickets: list[ModelTicket] = []

    # --- set-up -------------------------------------------------------------------------------------

    @initialize(
        timezone=st.sampled_from(ZONES),
        policy=policies,
        layout=slot_layouts,
        count=st.integers(2, 5),
        bookings=st.lists(st.tuples(picks, picks), max_size=4),
    )
    def open_venue(
        self,
        timezone: str,
        policy: Policy,
        layout: list[tuple[int, int, int]],
        count: int,
        bookings: list[tuple[int, int]],
    ) -> None:
        """The venue opens with its slots, tickets and door; some holders book straight away."""
        now = self.clock.now()
        self.zone, self.policy = ZoneInfo(timezone), policy
        with self.session() as session:
            self.orq = create_organization(session, name="Venue", timezone=timezone, now=now).id
        with self.session() as session:
            changes = {field: getattr(policy, field) for field in Policy.__dataclass_fields__}
            update_policy(session, orq=self.orq, changes=changes)
        with self.session() as session:
            door = create_operator(
                session,
                orq=self.orq,
                username="door",
                name="Door",
                role=Role.OPERATOR,
                password=None,
                pin="123456",
                now=now,
            )
            self.operator_id = door.id
        today = self.now_local().date()
        for days_ahead, hour, capacity in layout:
            starts_at = datetime.combine(today + timedelta(days=days_ahead), time(hour))
            new = NewSlot(starts_at.date(), starts_at.time(), (starts_at + SLOT_LENGTH).time())
            with self.session() as session:
                slot = create_slot(session, orq=self.orq, slot=new, capacity=capacity, now=now)
            self.slots.append(ModelSlot(slot.id, starts_at, starts_at + SLOT_LENGTH, capacity))
        with self.session() as session:
            order = create_order(
                session,
                orq=self.orq,
                quantity=count,
                activation_mode=ActivationMode.IMMEDIATE,
                paid=True,
                customer_email=None,
                valid_until=None,
                keys=self.context.keys,
                actor_id=self.operator_id,
                now=now,
            )
        with self.session() as session, session.begin():
            ids = {t.code_hash: t.id for t in session.scalars(select(Ticket).where(Ticket.orq == self.orq))}
        self.tickets = [
            ModelTicket(ids[self.context.keys.lookup_hash(issued.code)], issued.code)
            for issued in order.tickets
        ]
        note(f"venue in {timezone} at {self.now_local()}; {policy}; {self.slots}")
        for ticket_pick, slot_pick in bookings:
            self.reserve_one(ticket_pick, slot_pick)

    # --- visitors -----------------------------------------------------------------------------------

    @rule(ticket=picks, slot=picks)
    def reserve_one(self, ticket: int, slot: int) -> None:
        self.reserve_together(self.some_tickets([ticket]), prefer(slot, self.open_slots(), self.slots))

    @rule(tickets=st.lists(picks, min_size=2, max_size=3), slot=picks)
    def reserve_a_batch(self, tickets: list[int], slot: int) -> None:
        """All or nothing: one ticket that may not reserve, or too little room, books none of them."""
        self.reserve_together(self.some_tickets(tickets), prefer(slot, self.open_slots(), self.slots))

    @rule(ticket=picks, slot=picks, offset=st.sampled_from([-1, 0]))
    def reserve_as_the_slot_starts(self, ticket: int, slot: int, offset: int) -> None:
        """A minute before its start a slot still books; at its start it is SLOT_IN_PAST."""
        chosen = prefer(slot, self.open_slots(), self.slots)
        self.move_clock_to(chosen.starts_at + timedelta(minutes=offset))
        self.reserve_together(self.some_tickets([ticket]), chosen)

    def reserve_together(self, tickets: list[ModelTicket], slot: ModelSlot) -> None:
        reasons = self.reserve_refusals(tickets, slot)
        made, refused = outcome_of(
            lambda: self.call(
                reserve,
                ticket_codes=[t.code for t in tickets],
                slot_id=slot.id,
                contact=CONTACT,
                keys=self.context.keys,
            )
        )
        assert_refused_for(refused, reasons)
        event(f"reserve: {code_of(refused) or 'made'}")
        self.check_slot_full(refused, slot, len(tickets))
        if made is None:
            return
        assert [m.ticket_code for m in made] == [t.code for t in tickets]
        for ticket, reservation in zip(tickets, made, strict=True):
            assert reservation.status is ReservationStatus.RESERVED
            ticket.status, ticket.slot_id, ticket.reservation_id = (
                S.RESERVED,
                slot.id,
                reservation.reservation_id,
            )

    @precondition(lambda self: self.has_reserved())
    @rule(ticket=picks, slot=picks)
    def move(self, ticket: int, slot: int) -> None:
        holder = self.reserver(ticket)
        self.move_to(holder, self.move_target(slot, holder))

    @precondition(lambda self: self.has_reserved())
    @rule(ticket=picks)
    def cancel(self, ticket: int) -> None:
        self.cancel_it(self.reserver(ticket))

    @precondition(lambda self: self.has_reserved())
    @rule(ticket=picks, slot=picks, offset=st.sampled_from([-1, 0]), cancelling=st.booleans())
    def change_at_the_cutoff(self, ticket: int, slot: int, offset: int, cancelling: bool) -> None:
        """A minute before the cutoff a move or cancel goes through; at the cutoff it is refused."""
        holder = self.reserver(ticket)
        if holder.slot_id is not None:
            self.move_clock_to(self.cutoff(self.slot_by_id(holder.slot_id)) + timedelta(minutes=offset))
        if cancelling:
            self.cancel_it(holder)
        else:
            self.move_to(holder, self.move_target(slot, holder))

    def move_to(self, holder: ModelTicket, target: ModelSlot) -> None:
        reasons = self.move_refusals(holder, target)
        rid = holder.reservation_id or ""
        moved, refused = outcome_of(
            lambda: self.call(move_reservation, reservation_id=rid, slot_id=target.id, keys=self.context.keys)
        )
        assert_refused_for(refused, reasons)
        event(f"move: {code_of(refused) or ('moved' if target.id != holder.slot_id else 'stayed')}")
        self.check_slot_full(refused, target, 1)
        if moved is not None:
            assert moved.slot.id == target.id
            holder.slot_id = target.id

    def cancel_it(self, holder: ModelTicket) -> None:
        reasons = self.change_refusals(holder, cancelling=True)
        rid = holder.reservation_id or ""
        cancelled, refused = outcome_of(
            lambda: self.call(cancel_reservation, reservation_id=rid, keys=self.context.keys)
        )
        assert_refused_for(refused, reasons)
        event(f"cancel: {code_of(refused) or 'cancelled'}")
        if cancelled is not None:
            assert cancelled.status is ReservationStatus.CANCELLED
            holder.status, holder.slot_id = S.ACTIVATED, None
            holder.cancelled += 1

    # --- the door -----------------------------------------------------------------------------------

    @precondition(lambda self: self.has_reserved())
    @rule(ticket=picks)
    def door_verifies(self, ticket: int) -> None:
        """An operator presses "Mark as Verified" now, whatever the ticket's state."""
        self.verify_and_check(
            prefer(ticket, [t for t in self.tickets if t.status is S.RESERVED], self.tickets)
        )

    @precondition(lambda self: self.has_reserved())
    @rule(ticket=picks, minutes=st.sampled_from([-31, -30, -1, 0, 59, 60, 74, 75]))
    def holder_comes_to_the_door(self, ticket: int, minutes: int) -> None:
        """Time passes to around the held slot's start (entry windows open early and close late)."""
        holder = self.reserver(ticket)
        if holder.slot_id is not None:
            self.move_clock_to(self.slot_by_id(holder.slot_id).starts_at + timedelta(minutes=minutes))
        self.verify_and_check(holder)

    # --- admins -------------------------------------------------------------------------------------

    @rule(
        slot=picks, capacity=st.none() | st.integers(0, 3), status=st.sampled_from([None, "ACTIVE", "CLOSED"])
    )
    def admin_changes_slot(self, slot: int, capacity: int | None, status: str | None) -> None:
        chosen = self.slot(slot)
        expected = (
            "CAPACITY_BELOW_BOOKED" if capacity is not None and capacity < self.booked(chosen) else None
        )
        _, refused = outcome_of(
            lambda: self.call(
                update_slot,
                slot_id=chosen.id,
                orq=self.orq,
                capacity=capacity,
                status=SlotStatus(status) if status else None,
                notify=False,  # closing with visitors booked, telling no one: the counts' rules alone
            )
        )
        assert code_of(refused) == expected
        if refused is None:
            chosen.capacity = chosen.capacity if capacity is None else capacity
            chosen.closed = chosen.closed if status is None else status == "CLOSED"

    # --- time ---------------------------------------------------------------------------------------

    @rule(minutes=st.integers(min_value=1, max_value=6 * 60))
    def time_passes(self, minutes: int) -> None:
        self.clock.advance(timedelta(minutes=minutes))

    @rule(
        slot=picks,
        moment=st.sampled_from(["cutoff", "opens", "start", "end", "closes"]),
        offset=st.sampled_from([-1, 0, 1]),
    )
    def time_reaches_a_boundary(self, slot: int, moment: str, offset: int) -> None:
        """Land on a slot's cutoff, start, end or entry window edge, or a minute either side of it."""
        chosen = self.slot(slot)
        at = {
            "cutoff": self.cutoff(chosen),
            "opens": self.entry_opens(chosen),
            "start": chosen.starts_at,
            "end": chosen.ends_at,
            "closes": self.entry_closes(chosen),
        }[moment]
        self.move_clock_to(at + timedelta(minutes=offset))

    @precondition(lambda self: self.has_reserved())
    @rule()
    def sweep(self) -> None:
        self.expire_and_check()

    @precondition(lambda self: self.has_reserved())
    @rule(ticket=picks, offset=st.sampled_from([-1, 0]))
    def entry_closes_unverified(self, ticket: int, offset: int) -> None:
        """The held slot's entry window closes and the sweep runs: RESERVED tickets expire, places kept."""
        holder = self.reserver(ticket)
        if holder.slot_id is not None:
            self.move_clock_to(self.entry_closes(self.slot_by_id(holder.slot_id)) + timedelta(minutes=offset))
        self.expire_and_check()

    # --- what the model expects ---------------------------------------------------------------------

    # Each returns every refusal that applies; which one a refused request names first is not part of
    # the contract (a ticket already reserved into a slot that has started may hear either).

    def reserve_refusals(self, tickets: Sequence[ModelTicket], slot: ModelSlot) -> set[str]:
        reasons = {self.status_refusal(t) for t in tickets if self.effective(t) is not S.ACTIVATED}
        return reasons | self.taking_refusals(slot, len(tickets))

    def taking_refusals(self, slot: ModelSlot, places: int) -> set[str]:
        reasons = set()
        if self.now_local() >= slot.starts_at:
            reasons.add("SLOT_IN_PAST")
        if slot.closed:
            reasons.add("SLOT_CLOSED")
        if self.booked(slot) + places > slot.capacity:
            reasons.add("SLOT_FULL")
        return reasons

    def change_refusals(self, ticket: ModelTicket, *, cancelling: bool) -> set[str]:
        # A visit whose slot the venue closed may move whatever the policy and its cutoff say.
        closed_away = not cancelling and ticket.slot_id is not None and self.slot_by_id(ticket.slot_id).closed
        reasons = set()
        if cancelling and not self.policy.cancellation_allowed:
            reasons.add("CANCELLATION_NOT_ALLOWED")
        if self.policy.reservation_changes is ReservationChanges.NONE and not closed_away:
            reasons.add("CHANGES_NOT_ALLOWED")
        if ticket.slot_id is None:  # its reservation was cancelled
            return reasons | {"NOT_RESERVED"}
        if self.effective(ticket) is not S.RESERVED:
            reasons.add(self.status_refusal(ticket))
        if self.now_local() >= self.cutoff(self.slot_by_id(ticket.slot_id)) and not closed_away:
            reasons.add("CHANGE_CUTOFF_PASSED")
        return reasons

    def move_refusals(self, ticket: ModelTicket, target: ModelSlot) -> set[str]:
        reasons = self.change_refusals(ticket, cancelling=False)
        if ticket.slot_id == target.id:  # moving to where it is changes nothing
            return reasons
        return reasons | self.taking_refusals(target, 1)

    def status_refusal(self, ticket: ModelTicket) -> str:
        """Why this ticket cannot take the step asked of it, from the status its holder reads."""
        return {
            S.ACTIVATED: "NOT_RESERVED",
            S.RESERVED: "ALREADY_RESERVED",
            S.VERIFIED: "ALREADY_VERIFIED",
            S.EXPIRED: "EXPIRED",
        }[self.effective(ticket)]

    def expected_verdict(self, ticket: ModelTicket) -> tuple[str, bool]:
        """(verdict code, whether the scan verifies the ticket), as DESIGN.md's door table says."""
        status, now = self.effective(ticket), self.now_local()
        if status is S.VERIFIED:
            return "ALREADY_VERIFIED", False
        if status is S.EXPIRED:
            return "EXPIRED", False
        if status is S.ACTIVATED:
            if self.policy.unreserved_entry is UnreservedEntry.ALLOW:
                return "NO_RESERVATION_ALLOWED", True
            return "NO_RESERVATION", False
        assert ticket.slot_id is not None
        slot = self.slot_by_id(ticket.slot_id)
        if slot.starts_at.date() != now.date():
            return "WRONG_DATE", False
        if now < self.entry_opens(slot):
            return "TOO_EARLY", False
        return "VALID", True

    def expected_alternatives(self, slot: ModelSlot, places: int) -> list[int]:
        """Open slots nearest in time to the one asked for, with room for the whole request."""
        candidates = [
            s
            for s in self.slots
            if s.id != slot.id
            and not s.closed
            and s.capacity - self.booked(s) >= places
            and self.now_local() < s.starts_at
            and abs(s.starts_at - slot.starts_at) <= ALTERNATIVES_WITHIN
        ]
        candidates.sort(key=lambda s: (abs(s.starts_at - slot.starts_at), s.starts_at))
        return [s.id for s in candidates[:MAX_ALTERNATIVES]]

    def check_slot_full(self, refused: errors.DomainError | None, slot: ModelSlot, places: int) -> None:
        """SLOT_FULL says how many places are left and offers the nearest slots with room."""
        if refused is None or refused.code != "SLOT_FULL":
            return
        offered = [alternative["slot_id"] for alternative in refused.details["alternatives"]]
        assert offered == self.expected_alternatives(slot, places)
        assert refused.details["available"] == slot.capacity - self.booked(slot)

    # --- the invariants, after every step ------------------------------------------------------------

    @invariant()
    def database_keeps_the_rules_and_agrees_with_the_model(self) -> None:
        now = self.clock.now()
        codes = {t.id: t.code for t in self.tickets}
        with self.session() as session, session.begin():
            slots = session.scalars(select(ReservationSlot).where(ReservationSlot.orq == self.orq)).all()
            reservations = session.scalars(select(Reservation).where(Reservation.orq == self.orq)).all()
            tickets = session.scalars(select(Ticket).where(Ticket.orq == self.orq)).all()
            views = {t.id: view(session, t, code=codes[t.id], now=now) for t in tickets}
        assert_capacity_rules(slots, reservations, tickets)

        stored_slots = {s.id: s for s in slots}
        for model_slot in self.slots:
            stored, booked = stored_slots[model_slot.id], self.booked(model_slot)
            status = SlotStatus.FULL if booked == model_slot.capacity else SlotStatus.ACTIVE
            expected = (booked, model_slot.capacity, SlotStatus.CLOSED if model_slot.closed else status)
            assert (stored.booked_count, stored.total_capacity, stored.status) == expected, model_slot

        stored_tickets = {t.id: t for t in tickets}
        for model in self.tickets:
            assert stored_tickets[model.id].status is model.status, model
            mine = [r for r in reservations if r.ticket_id == model.id]
            live = [r for r in mine if r.status is not ReservationStatus.CANCELLED]
            assert len(mine) - len(live) == model.cancelled, model
            assert [(r.id, r.slot_id) for r in live] == (
                [] if model.slot_id is None else [(model.reservation_id, model.slot_id)]
            ), model
            # What the holder reads: expiry by the venue's clock applies before any sweep writes it.
            seen, effective = views[model.id], self.effective(model)
            assert seen.status is effective, (seen.status, model)
            if model.slot_id is None:
                assert seen.reservation is None, model
            else:
                assert seen.reservation is not None
                assert (seen.reservation.slot_id, seen.reservation.status) == (
                    model.slot_id,
                    ReservationStatus(effective.value),  # RESERVED, VERIFIED or EXPIRED, as its ticket
                ), model

    # --- helpers --------------------------------------------------------------------------------------

    def session(self) -> Session:
        return self.context.sessions()

    def call(self, service: Callable[..., T], **kwargs: Any) -> T:
        """Run a service in its own session at the pinned time, as a request would."""
        with self.session() as session:
            return service(session, now=self.clock.now(), **kwargs)

    def ticket(self, pick: int) -> ModelTicket:
        return self.tickets[pick % len(self.tickets)]

    def some_tickets(self, ticket_picks: list[int]) -> list[ModelTicket]:
        """Distinct tickets, mostly ACTIVATED ones (which may reserve)."""
        left, chosen = list(self.tickets), []
        for pick in ticket_picks[: len(self.tickets)]:
            chosen.append(prefer(pick, [t for t in left if t.status is S.ACTIVATED], left))
            left.remove(chosen[-1])
        return chosen

    def has_reserved(self) -> bool:
        return any(t.reservation_id is not None for t in self.tickets)

    def reserver(self, pick: int) -> ModelTicket:
        """A ticket that has made a reservation: mostly one that may still change it, sometimes any (it
        may have been cancelled, verified or expired since), so that both changes and refusals are common."""
        reservers = [t for t in self.tickets if t.reservation_id is not None]
        changeable = [
            t
            for t in reservers
            if self.effective(t) is S.RESERVED
            and t.slot_id is not None
            and self.now_local() < self.cutoff(self.slot_by_id(t.slot_id))
        ]
        return prefer(pick, changeable, reservers)

    def open_slots(self) -> list[ModelSlot]:
        return [s for s in self.slots if not s.closed and self.now_local() < s.starts_at]

    def move_target(self, pick: int, holder: ModelTicket) -> ModelSlot:
        """Mostly another open slot with room, so that moves often go through."""
        elsewhere = [s for s in self.open_slots() if s.id != holder.slot_id and self.booked(s) < s.capacity]
        return prefer(pick, elsewhere, self.slots)

    def slot(self, pick: int) -> ModelSlot:
        return self.slots[pick % len(self.slots)]

    def slot_by_id(self, slot_id: int) -> ModelSlot:
        return next(s for s in self.slots if s.id == slot_id)

    def booked(self, slot: ModelSlot) -> int:
        return sum(1 for t in self.tickets if t.slot_id == slot.id)

    def cutoff(self, slot: ModelSlot) -> datetime:
        return slot.starts_at - timedelta(hours=self.policy.change_cutoff_hours)

    def entry_opens(self, slot: ModelSlot) -> datetime:
        window = self.policy.entry_window
        if window.minutes_before_start is None:
            return datetime.combine(slot.starts_at.date(), time.min)
        return slot.starts_at - timedelta(minutes=window.minutes_before_start)

    def entry_closes(self, slot: ModelSlot) -> datetime:
        """The `day` window admits all of the slot's day; a minutes window until the end plus its grace."""
        window = self.policy.entry_window
        if window.minutes_after_end is None:
            return datetime.combine(slot.starts_at.date() + timedelta(days=1), time.min)
        return slot.ends_at + timedelta(minutes=window.minutes_after_end)

    def now_local(self) -> datetime:
        return self.clock.now().astimezone(self.zone).replace(tzinfo=None)

    def effective(self, ticket: ModelTicket) -> TicketStatus:
        """A RESERVED ticket whose entry window has closed in venue time reads EXPIRED."""
        if ticket.status is not S.RESERVED or ticket.slot_id is None:
            return ticket.status
        closed = self.now_local() >= self.entry_closes(self.slot_by_id(ticket.slot_id))
        return S.EXPIRED if closed else S.RESERVED

    def move_clock_to(self, local: datetime) -> None:
        """Only forwards: real time never runs back, and neither would the sweep's writes."""
        if local > self.now_local():
            self.clock.set(local.replace(tzinfo=self.zone))

    def verify_and_check(self, ticket: ModelTicket) -> None:
        expected = self.expected_verdict(ticket)
        with self.session() as session:
            with session.begin():
                operator = StaffMember.of(session.get_one(Operator, self.operator_id))
            outcome = scan(
                session,
                code=ticket.code,
                operator=operator,
                action=Action.VERIFY,
                nonce=None,
                device_id="lane-1",
                venue=load_venue(session, operator.orq),
                keys=self.context.keys,
                now=self.clock.now(),
                started=timer.perf_counter(),
            )
        assert (outcome.code, outcome.verified_now) == expected, ticket
        event(f"scan: {outcome.code}")
        if outcome.verified_now:
            ticket.status = S.VERIFIED

    def expire_and_check(self) -> None:
        due = [t for t in self.tickets if t.status is S.RESERVED and self.effective(t) is S.EXPIRED]
        with self.session() as session:
            expired = expire_due(session, now=self.clock.now())
        assert expired == len(due), (expired, due)
        # The model's tickets have no validity date: every one due is a reservation nobody came to.
        assert expired.no_shows == len(due), (expired.no_shows, due)
        event(f"sweep: {'expired some' if due else 'nothing due'}")
        for ticket in due:
            ticket.status = S.EXPIRED


def assert_capacity_rules(
    slots: Sequence[ReservationSlot], reservations: Sequence[Reservation], tickets: Sequence[Ticket]
) -> None:
    """What holds whatever happened: exact counts, no overbooking, one live reservation per ticket."""
    holding = Counter(r.slot_id for r in reservations if r.status is not ReservationStatus.CANCELLED)
    for slot in slots:
        assert slot.booked_count == holding[slot.id], (slot.id, slot.booked_count, holding[slot.id])
        assert 0 <= slot.booked_count <= slot.total_capacity
        if slot.status is not SlotStatus.CLOSED:
            assert (slot.status is SlotStatus.FULL) == (slot.booked_count == slot.total_capacity)
    for ticket in tickets:
        live = [
            r.status
            for r in reservations
            if r.ticket_id == ticket.id and r.status is not ReservationStatus.CANCELLED
        ]
        assert len(live) <= 1
        if ticket.status is S.RESERVED:
            assert live == [ReservationStatus.RESERVED]
        elif ticket.status is S.ACTIVATED:
            assert live == []
        elif ticket.status is S.VERIFIED:
            assert live in ([], [ReservationStatus.VERIFIED])
        elif ticket.status is S.EXPIRED:
            assert live in ([], [ReservationStatus.EXPIRED])


def test_random_reservation_sequences_keep_capacity_exact_and_match_the_model(
    standalone_context: AppContext, clock: FrozenClock
) -> None:
    """Any sequence of reserves, moves, cancels, scans, slot changes, time and sweeps keeps the rules."""

    class OnThisDatabase(ReservationMachine):
        def __init__(self) -> None:
            super().__init__(standalone_context, clock)

    run_state_machine_as_test(OnThisDatabase, settings=SETTINGS)
