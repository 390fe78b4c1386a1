"""Domain errors: a stable code, a human message, details; and the one table of HTTP statuses.

A message is written in English and marked for the errors catalogue; the caller reads it in their own
language (`message_in`), its %(name)s placeholders filled from the details. `message` is the English,
for log lines and the command line.
"""

from __future__ import annotations

from typing import Any

from admit.i18n import N_, SOURCE, Translator, translator


class DomainError(Exception):
    """A refusal the caller can act on; never a bug."""

    code = "DOMAIN_ERROR"
    message = N_("The request cannot be carried out.")
    # The tickets a refusal concerns, where the use case had read them already: for its log line, so
    # that a refusal at a busy moment costs no second read. Never sent to the caller.
    ticket_ids: list[int] | None = None

    def __init__(self, message: str | None = None, **details: Any) -> None:
        """`message`: a marked message (`N_("... %(name)s ...")`) in place of the class's own; its
        placeholders are filled from `details`."""
        self.template = message or type(self).message
        self.details = details
        self.message = self.message_in(translator(SOURCE))
        super().__init__(self.message)

    def message_in(self, t: Translator) -> str:
        """The message in `t`'s language."""
        text = t._(self.template)
        return text % self.details if "%(" in self.template else text


class TicketNotFound(DomainError):
    code = "TICKET_NOT_FOUND"
    message = N_("No ticket has this code.")


class AmbiguousTicket(DomainError):
    code = "AMBIGUOUS_TICKET"
    message = N_("Several tickets end with these characters: give more of the code.")


class PaymentPending(DomainError):
    code = "PAYMENT_PENDING"
    message = N_("Payment for this ticket has not been completed.")


class NotActivated(DomainError):
    code = "NOT_ACTIVATED"
    message = N_("This ticket has not been activated yet.")


class AlreadyActivated(DomainError):
    code = "ALREADY_ACTIVATED"
    message = N_("This ticket is already activated.")


class AlreadyReserved(DomainError):
    code = "ALREADY_RESERVED"
    message = N_("This ticket already has a reservation.")


class NotReserved(DomainError):
    code = "NOT_RESERVED"
    message = N_("This ticket has no reservation.")


class AlreadyPaid(DomainError):
    code = "ALREADY_PAID"
    message = N_("Payment for this ticket is already confirmed.")


class AlreadyVerified(DomainError):
    code = "ALREADY_VERIFIED"
    message = N_("This ticket has already been used for entry.")


class Expired(DomainError):
    code = "EXPIRED"
    message = N_("This ticket has expired.")


class Void(DomainError):
    code = "VOID"
    # Translators: the venue has withdrawn the ticket (refunded or cancelled by staff).
    message = N_("This ticket has been revoked.")


class OrderNotFound(DomainError):
    code = "ORDER_NOT_FOUND"
    message = N_("No order has this id.")


class OrganizationNotFound(DomainError):
    code = "ORGANIZATION_NOT_FOUND"
    message = N_("No organization has this id.")


class InvalidCredentials(DomainError):
    code = "INVALID_CREDENTIALS"
    message = N_("Username or password is wrong.")


class AccountLocked(DomainError):
    code = "ACCOUNT_LOCKED"
    message = N_("Too many failed logins: the account is locked for a while.")


class NotAuthenticated(DomainError):
    code = "NOT_AUTHENTICATED"
    message = N_("Log in first: this needs a staff token.")


class InvalidToken(DomainError):
    code = "INVALID_TOKEN"
    message = N_("The staff token is not valid.")


class TokenExpired(DomainError):
    code = "TOKEN_EXPIRED"
    message = N_("The staff token has expired: log in again.")


class Forbidden(DomainError):
    code = "FORBIDDEN"
    message = N_("Your role does not allow this.")


class DuplicateUsername(DomainError):
    code = "DUPLICATE_USERNAME"
    message = N_("This username is taken.")


class OperatorNotFound(DomainError):
    code = "OPERATOR_NOT_FOUND"
    message = N_("No staff account has this username or id.")


class CannotDisableYourself(DomainError):
    code = "CANNOT_DISABLE_YOURSELF"
    message = N_("You cannot disable your own account: ask another admin.")


class CannotChangeOwnRole(DomainError):
    code = "CANNOT_CHANGE_OWN_ROLE"
    message = N_("You cannot change your own role: ask another admin.")


class ValidationFailed(DomainError):
    code = "VALIDATION_ERROR"
    message = N_("Some fields are not valid.")


class InvalidContact(DomainError):
    code = "INVALID_CONTACT"
    message = N_("The contact details are not valid.")


class SlotNotFound(DomainError):
    code = "SLOT_NOT_FOUND"
    message = N_("No time slot has this id.")


class SlotFull(DomainError):
    code = "SLOT_FULL"
    message = N_("This time slot has no room left for the request.")


class SlotClosed(DomainError):
    code = "SLOT_CLOSED"
    message = N_("This time slot is closed for booking.")


class SlotInPast(DomainError):
    code = "SLOT_IN_PAST"
    message = N_("This time slot has already started.")


class DuplicateSlot(DomainError):
    code = "DUPLICATE_SLOT"
    message = N_("A slot already starts at this date and time.")


class CapacityBelowBooked(DomainError):
    code = "CAPACITY_BELOW_BOOKED"
    message = N_("The capacity cannot go below the places already booked.")


class SlotHasBookings(DomainError):
    code = "SLOT_HAS_BOOKINGS"
    # Translators: for the admin's program: keep "notify": true and "notify": false as they are.
    message = N_(
        "Visitors are booked in this slot: say whether to e-mail them a link to choose another time "
        '("notify": true) or not ("notify": false).'
    )


class ReservationNotFound(DomainError):
    code = "RESERVATION_NOT_FOUND"
    message = N_("No reservation has this id.")


class PartyNotFound(DomainError):
    code = "PARTY_NOT_FOUND"
    message = N_("No party of visitors has this id.")


class ChangesNotAllowed(DomainError):
    code = "CHANGES_NOT_ALLOWED"
    message = N_("This venue does not allow reservations to be changed.")


class ChangeCutoffPassed(DomainError):
    code = "CHANGE_CUTOFF_PASSED"
    message = N_("It is too late to change or cancel this reservation.")


class CancellationNotAllowed(DomainError):
    code = "CANCELLATION_NOT_ALLOWED"
    message = N_("This venue does not allow reservations to be cancelled.")


class ReservationNotLive(DomainError):
    code = "RESERVATION_NOT_LIVE"
    message = N_("This reservation is cancelled, used or past: it has no ticket to print or add to a wallet.")


class WalletPassNotConfigured(DomainError):
    code = "WALLET_PASS_NOT_CONFIGURED"
    message = N_("This venue does not offer Apple Wallet passes.")


class MessageNotFound(DomainError):
    code = "MESSAGE_NOT_FOUND"
    message = N_("No e-mail has this id.")


class MessageNotFailed(DomainError):
    code = "MESSAGE_NOT_FAILED"
    # Translators: an e-mail that could not be delivered after every retry.
    message = N_("Only an e-mail that was given up can be sent again.")


class Undeliverable(DomainError):
    """An e-mail that no retry can deliver (the message says why); the sender gives it up at once."""

    code = "UNDELIVERABLE"
    message = N_("This e-mail cannot be delivered.")


class NonceReused(DomainError):
    code = "NONCE_REUSED"
    # Translators: a scan id is the unique number a door device gives each scan it sends.
    message = N_("This scan id was already used for another scan: send each scan with a new one.")


class NonceExpired(DomainError):
    code = "NONCE_EXPIRED"
    message = N_("This scan was answered too long ago to be answered again: scan the ticket again.")


class InvalidSearchRef(DomainError):
    code = "INVALID_SEARCH_REF"
    # Translators: the door's search for a visitor gives each booking found a reference to scan it by.
    message = N_("This is not a search result of yours: find the visitor again, or scan their ticket.")


class SearchRefExpired(DomainError):
    code = "SEARCH_REF_EXPIRED"
    message = N_("This search result has expired: find the visitor again.")


class RateLimited(DomainError):
    code = "RATE_LIMITED"
    message = N_("Too many requests: wait a little and try again.")

    def message_in(self, t: Translator) -> str:
        seconds = self.details.get("retry_after")
        if self.template != RateLimited.message or not isinstance(seconds, int):
            return super().message_in(t)
        # The same seconds as the Retry-After header.
        return t.ngettext(
            "Too many requests: wait %(num)d second and try again.",
            "Too many requests: wait %(num)d seconds and try again.",
            seconds,
        )


class TooManyDownloads(DomainError):
    code = "TOO_MANY_DOWNLOADS"
    message = N_("Other downloads are being written right now: try again in a few seconds.")


class ServiceBusy(DomainError):
    code = "SERVICE_BUSY"
    message = N_("The service is busy: nothing was changed, try again.")


class MissingParameter(DomainError):
    code = "MISSING_PARAMETER"
    message = N_("A required parameter is missing.")


# One place for HTTP statuses; anything not listed is a 409 state conflict.
HTTP_STATUS: dict[str, int] = {
    "VALIDATION_ERROR": 422,
    "INVALID_CONTACT": 422,
    "INVALID_SEARCH_REF": 422,
    "SEARCH_REF_EXPIRED": 410,
    "NOT_AUTHENTICATED": 401,
    "INVALID_TOKEN": 401,
    "TOKEN_EXPIRED": 401,
    "INVALID_CREDENTIALS": 401,
    "ACCOUNT_LOCKED": 403,
    "FORBIDDEN": 403,
    "TICKET_NOT_FOUND": 404,
    "ORDER_NOT_FOUND": 404,
    "ORGANIZATION_NOT_FOUND": 404,
    "RESERVATION_NOT_FOUND": 404,
    "PARTY_NOT_FOUND": 404,
    "WALLET_PASS_NOT_CONFIGURED": 404,
    "SLOT_NOT_FOUND": 404,
    "MESSAGE_NOT_FOUND": 404,
    "OPERATOR_NOT_FOUND": 404,
    "CANNOT_DISABLE_YOURSELF": 403,
    "CANNOT_CHANGE_OWN_ROLE": 403,
    "RATE_LIMITED": 429,
    "TOO_MANY_DOWNLOADS": 429,
    "SERVICE_BUSY": 503,
    "MISSING_PARAMETER": 400,
    "CHANGES_NOT_ALLOWED": 403,
    "CHANGE_CUTOFF_PASSED": 403,
    "CANCELLATION_NOT_ALLOWED": 403,
}


def http_status(error: DomainError) -> int:
    return HTTP_STATUS.get(error.code, 409)
