"""The text of a reservation's QR code: the ticket code with the organization's signed claim.

A scanner without the network decides a reservation it has never seen (booked after its last bundle)
from the claim alone, so only a live reservation gets one: a cancelled or expired reservation's QR
code is the plain ticket code, which every door still reads, and so is a verified one's: it has been
used.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from admit.domain import offline
from admit.domain.lifecycle import ReservationStatus
from admit.security.offline import OfflineSecrets
from admit.services.offline_bundle import signing_key
from admit.services.reservations import ReservationView


def qr_payload(
    session: Session, *, reservation: ReservationView, offline_secrets: OfflineSecrets, now: datetime
) -> str:
    """The QR text of a reservation, in its own transaction."""
    with session.begin():
        return qr_payload_in(session, reservation=reservation, offline_secrets=offline_secrets, now=now)


def qr_payload_in(
    session: Session, *, reservation: ReservationView, offline_secrets: OfflineSecrets, now: datetime
) -> str:
    """The QR text of a reservation, inside the caller's transaction (the e-mail sender's)."""
    if reservation.status is not ReservationStatus.RESERVED:
        return reservation.ticket_code
    slot = reservation.slot
    _, private_sealed = signing_key(session, orq=slot.orq, offline_secrets=offline_secrets, now=now)
    claim = offline.ReservationClaim(
        orq=slot.orq,
        ref=offline.reservation_ref(reservation.reservation_id),
        day=slot.date,
        start=slot.start_time,
        end=slot.end_time,
        version=reservation.sequence,
    )
    message = offline.qr_message(reservation.ticket_code, claim)
    return offline.qr_text(message, offline_secrets.sign(private_sealed, message))
