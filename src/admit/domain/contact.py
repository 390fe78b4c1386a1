"""Contact rules: e-mail per RFC 5322 (email-validator), phone per E.164 (phonenumbers).

Internationalised addresses (RFC 6531, e.g. a local part like `josé`) are accepted: the booking
form takes exactly what the sender can put on the wire, because both read an address here.
"""

from __future__ import annotations

import phonenumbers
from email_validator import EmailNotValidError, ValidatedEmail, validate_email


class ContactError(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


def normalise_email(value: str, field: str = "customer_email") -> str:
    return _validated(value, field).normalized


def mail_address(value: str, field: str = "recipient") -> tuple[str, str]:
    """The local part and the ASCII (IDNA) domain to send to: only a non-ASCII local part then needs
    a server that offers SMTPUTF8, and any server can route the domain."""
    result = _validated(value, field)
    return result.local_part, result.ascii_domain


def _validated(value: str, field: str) -> ValidatedEmail:
    try:
        return validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ContactError(field, str(exc)) from exc


def normalise_phone(value: str, field: str = "customer_phone") -> str:
    """The number in E.164 form; a leading + and country code are required."""
    reason = "Enter the number in international form, e.g. +31 20 123 4567."
    if not value.strip().startswith("+"):
        raise ContactError(field, reason)
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException as exc:
        raise ContactError(field, reason) from exc
    if not phonenumbers.is_valid_number(number):
        raise ContactError(field, "This is not a valid phone number.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
