"""Domain errors: a stable code, a human message, details; and the one table of HTTP statuses."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A refusal the caller can act on; never a bug."""

    code = "DOMAIN_ERROR"
    message = "The request cannot be carried out."
    # The tickets a refusal concerns, where the use case had read them already: for its log line, so
    # that a refusal at a busy moment costs no second read. Never sent to the caller.
    ticket_ids: list[int] | None = None

    def __init__(self, message: str | None = None, **details: Any) -> None:
        self.message = message or type(self).message
        self.details = details
        super().__init__(self.message)


class TicketNotFound(DomainError):
    code = "TICKET_NOT_FOUND"
    message = "No ticket has this code."


class AmbiguousTicket(DomainError):
    code = "AMBIGUOUS_TICKET"
    message = "Several tickets end with these characters: give more of the code."


class PaymentPending(DomainError):
    code = "PAYMENT_PENDING"
    message = "Payment for this ticket has not been completed."


class NotActivated(DomainError):
    code = "NOT_ACTIVATED"
    message = "This ticket has not been activated yet."


class AlreadyActivated(DomainError):
    code = "ALREADY_ACTIVATED"
    message = "This ticket is already activated."


class AlreadyReserved(DomainError):
    code = "ALREADY_RESERVED"
    message = "This ticket already has a reservation."


class NotReserved(DomainError):
    code = "NOT_RESERVED"
    message = "This ticket has no reservation."


class AlreadyPaid(DomainError):
    code = "ALREADY_PAID"
    message = "Payment for this ticket is already confirmed."


class AlreadyVerified(DomainError):
    code = "ALREADY_VERIFIED"
    message = "This ticket has already been used for entry."


class Expired(DomainError):
    code = "EXPIRED"
    message = "This ticket has expired."


class Void(DomainError):
    code = "VOID"
    message = "This ticket has been revoked."


class OrderNotFound(DomainError):
    code = "ORDER_NOT_FOUND"
    message = "No order has this id."


class OrganizationNotFound(DomainError):
    code = "ORGANIZATION_NOT_FOUND"
    message = "No organization has this id."


class InvalidCredentials(DomainError):
    code = "INVALID_CREDENTIALS"
    message = "Username or password is wrong."


class AccountLocked(DomainError):
    code = "ACCOUNT_LOCKED"
    message = "Too many failed logins: the account is locked for a while."


class NotAuthenticated(DomainError):
    code = "NOT_AUTHENTICATED"
    message = "Log in first: this needs a staff token."


class InvalidToken(DomainError):
    code = "INVALID_TOKEN"
    message = "The staff token is not valid."


class TokenExpired(DomainError):
    code = "TOKEN_EXPIRED"
    message = "The staff token has expired: log in again."


class Forbidden(DomainError):
    code = "FORBIDDEN"
    message = "Your role does not allow this."


class DuplicateUsername(DomainError):
    code = "DUPLICATE_USERNAME"
    message = "This username is taken."


class OperatorNotFound(DomainError):
    code = "OPERATOR_NOT_FOUND"
    message = "No staff account has this username or id."


class CannotDisableYourself(DomainError):
    code = "CANNOT_DISABLE_YOURSELF"
    message = "You cannot disable your own account: ask another admin."


class CannotChangeOwnRole(DomainError):
    code = "CANNOT_CHANGE_OWN_ROLE"
    message = "You cannot change your own role: ask another admin."


class ValidationFailed(DomainError):
    code = "VALIDATION_ERROR"
    message = "Some fields are not valid."


class InvalidContact(DomainError):
    code = "INVALID_CONTACT"
    message = "The contact details are not valid."


class SlotNotFound(DomainError):
    code = "SLOT_NOT_FOUND"
    message = "No time slot has this id."


class SlotFull(DomainError):
    code = "SLOT_FULL"
    message = "This time slot has no room left for the request."


class SlotClosed(DomainError):
    code = "SLOT_CLOSED"
    message = "This time slot is closed for booking."


class SlotInPast(DomainError):
    code = "SLOT_IN_PAST"
    message = "This time slot has already started."


class DuplicateSlot(DomainError):
    code = "DUPLICATE_SLOT"
    message = "A slot already starts at this date and time."


class CapacityBelowBooked(DomainError):
    code = "CAPACITY_BELOW_BOOKED"
    message = "The capacity cannot go below the places already booked."


class SlotHasBookings(DomainError):
    code = "SLOT_HAS_BOOKINGS"
    message = (
        "Visitors are booked in this slot: say whether to e-mail them a link to choose another time "
        '("notify": true) or not ("notify": false).'
    )


class ReservationNotFound(DomainError):
    code = "RESERVATION_NOT_FOUND"
    message = "No reservation has this id."


class ChangesNotAllowed(DomainError):
    code = "CHANGES_NOT_ALLOWED"
    message = "This venue does not allow reservations to be changed."


class ChangeCutoffPassed(DomainError):
    code = "CHANGE_CUTOFF_PASSED"
    message = "It is too late to change or cancel this reservation."


class CancellationNotAllowed(DomainError):
    code = "CANCELLATION_NOT_ALLOWED"
    message = "This venue does not allow reservations to be cancelled."


class ReservationNotLive(DomainError):
    code = "RESERVATION_NOT_LIVE"
    message = "This reservation is cancelled, used or past: it has no ticket to print or add to a wallet."


class WalletPassNotConfigured(DomainError):
    code = "WALLET_PASS_NOT_CONFIGURED"
    message = "This venue does not offer Apple Wallet passes."


class MessageNotFound(DomainError):
    code = "MESSAGE_NOT_FOUND"
    message = "No e-mail has this id."


class MessageNotFailed(DomainError):
    code = "MESSAGE_NOT_FAILED"
    message = "Only an e-mail that was given up can be sent again."


class Undeliverable(DomainError):
    """An e-mail that no retry can deliver (the message says why); the sender gives it up at once."""

    code = "UNDELIVERABLE"
    message = "This e-mail cannot be delivered."


class NonceReused(DomainError):
    code = "NONCE_REUSED"
    message = "This scan id was already used for another scan: send each scan with a new one."


class NonceExpired(DomainError):
    code = "NONCE_EXPIRED"
    message = "This scan was answered too long ago to be answered again: scan the ticket again."


class RateLimited(DomainError):
    code = "RATE_LIMITED"
    message = "Too many requests: wait a little and try again."


class ServiceBusy(DomainError):
    code = "SERVICE_BUSY"
    message = "The service is busy: nothing was changed, try again."


class MissingParameter(DomainError):
    code = "MISSING_PARAMETER"
    message = "A required parameter is missing."


# One place for HTTP statuses; anything not listed is a 409 state conflict.
HTTP_STATUS: dict[str, int] = {
    "VALIDATION_ERROR": 422,
    "INVALID_CONTACT": 422,
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
    "WALLET_PASS_NOT_CONFIGURED": 404,
    "SLOT_NOT_FOUND": 404,
    "MESSAGE_NOT_FOUND": 404,
    "OPERATOR_NOT_FOUND": 404,
    "CANNOT_DISABLE_YOURSELF": 403,
    "CANNOT_CHANGE_OWN_ROLE": 403,
    "RATE_LIMITED": 429,
    "SERVICE_BUSY": 503,
    "MISSING_PARAMETER": 400,
    "CHANGES_NOT_ALLOWED": 403,
    "CHANGE_CUTOFF_PASSED": 403,
    "CANCELLATION_NOT_ALLOWED": 403,
}


def http_status(error: DomainError) -> int:
    return HTTP_STATUS.get(error.code, 409)
