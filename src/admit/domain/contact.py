"""Contact rules: e-mail per RFC 5322 (email-validator), phone per E.164 (phonenumbers)."""

from __future__ import annotations

import phonenumbers
from email_validator import EmailNotValidError, validate_email


class ContactError(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


def normalise_email(value: str, field: str = "customer_email") -> str:
    try:
        return validate_email(value, check_deliverability=False).normalized
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
