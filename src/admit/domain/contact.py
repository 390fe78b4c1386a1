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


def normalise_phone(value: str, field: str = "customer_phone", region: str | None = None) -> str:
    """The number in E.164 form.

    A number with + and its country code is read as it stands; one without, as people write it at
    home (020 123 4567), is read in `region` (ISO 3166 alpha-2), the venue's country unless the
    visitor chose another.
    """
    text = value.strip()
    if not text.startswith("+") and region is None:
        raise ContactError(field, "Enter the number in international form, e.g. +31 20 123 4567.")
    try:
        number = phonenumbers.parse(text, None if text.startswith("+") else region)
    except phonenumbers.NumberParseException as exc:
        raise ContactError(field, "This is not a phone number: use digits, spaces and dashes.") from exc
    if not phonenumbers.is_valid_number(number):
        where = "" if text.startswith("+") or region is None else f" in {region}"
        raise ContactError(field, f"This is not a valid phone number{where}.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
