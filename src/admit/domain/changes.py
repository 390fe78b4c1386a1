"""Whether a reservation may still be moved or cancelled, by the organization's policy."""

from __future__ import annotations

from datetime import datetime, timedelta

from admit import errors
from admit.domain.policy import Policy, ReservationChanges


def check_change_allowed(
    policy: Policy, *, slot_starts_at: datetime, now_local: datetime, slot_closed: bool = False
) -> None:
    """Raise why a move is refused, or return.

    A visit whose slot the venue has closed may always move: the venue asked its visitors to choose
    another time, whatever its policy or cutoff.
    """
    if slot_closed:
        return
    if policy.reservation_changes is ReservationChanges.NONE:
        raise errors.ChangesNotAllowed()
    _check_cutoff(policy, slot_starts_at=slot_starts_at, now_local=now_local)


def check_cancel_allowed(policy: Policy, *, slot_starts_at: datetime, now_local: datetime) -> None:
    """Raise why a cancellation is refused, or return."""
    if not policy.cancellation_allowed:
        raise errors.CancellationNotAllowed()
    if policy.reservation_changes is ReservationChanges.NONE:
        raise errors.ChangesNotAllowed()
    _check_cutoff(policy, slot_starts_at=slot_starts_at, now_local=now_local)


def _check_cutoff(policy: Policy, *, slot_starts_at: datetime, now_local: datetime) -> None:
    cutoff = slot_starts_at - timedelta(hours=policy.change_cutoff_hours)
    if now_local >= cutoff:
        raise errors.ChangeCutoffPassed(cutoff=cutoff.isoformat(timespec="minutes"))
