"""Reading a query typed at the door to find a visitor without their QR: what it can match, and what is shown.

A query is read three ways at once, and a reservation matches if any fits:
- the e-mail address contains it (case-insensitive): "jane", "smith@", "example.com" all find
  jane.smith@example.com, which is how a visitor spells an address out loud;
- the phone number contains its digits, ignoring spaces, dashes, brackets, "+" and leading zeros
  (so "06 1234 5678", "+31 6 1234 5678" and "0031 6…" all find +31612345678);
- the ticket code ends with it, read as a code is typed (case, separators, look-alike letters).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from admit.i18n import N_
from admit.security import codes

MIN_LENGTH = 4
MAX_LENGTH = 100
MAX_RESULTS = 20

_PHONE_CHARACTERS = re.compile(r"[\d\s+\-().]+")
_CODE_TAIL = re.compile(f"[{codes.ALPHABET}]{{{MIN_LENGTH},{codes.LENGTH}}}")


class QueryRefused(ValueError):
    """Why a query cannot be searched for: a marked sentence for the operator, its %(name)s values, and
    the rule in brief for the API's field details."""

    def __init__(self, message: str, rule: str, **values: int) -> None:
        super().__init__(rule)
        self.message = message
        self.rule = rule
        self.values = values


@dataclass(frozen=True)
class VisitorQuery:
    email: str  # lower case, matched anywhere in the address
    phone_digits: str | None  # None: not a phone number
    code_tail: str | None  # None: cannot be the end of a code

    @property
    def code_suffix(self) -> str | None:
        """The four characters a ticket row keeps; a longer tail is checked against the whole code."""
        return None if self.code_tail is None else codes.suffix(self.code_tail)


def read_query(raw: str) -> VisitorQuery:
    """The three readings of what the operator typed, or QueryRefused."""
    text = raw.strip()
    if len(text) < MIN_LENGTH:
        raise QueryRefused(
            # Translators: min_length is always several characters (4).
            N_("Type at least %(min_length)d characters of the e-mail, phone number or ticket code."),
            f"type at least {MIN_LENGTH} characters of the e-mail, phone or ticket code",
            min_length=MIN_LENGTH,
        )
    if len(text) > MAX_LENGTH:
        raise QueryRefused(
            # Translators: max_length is always many characters (100).
            N_("Type at most %(max_length)d characters."),
            f"at most {MAX_LENGTH} characters",
            max_length=MAX_LENGTH,
        )
    if any(not character.isprintable() for character in text):
        raise QueryRefused(
            N_("Type letters, digits and signs only: the search cannot contain control characters."),
            "printable characters only (no control characters)",
        )
    digits = re.sub(r"\D", "", text).lstrip("0")
    phone = digits if _PHONE_CHARACTERS.fullmatch(text) and len(digits) >= MIN_LENGTH else None
    tail = codes.tidy(text)
    return VisitorQuery(
        email=text.lower(),
        phone_digits=phone,
        code_tail=tail if _CODE_TAIL.fullmatch(tail) else None,
    )


def masked_email(address: str) -> str:
    """ja…@example.com: enough to confirm with the visitor, not enough to read the address off the screen."""
    local, _, domain = address.rpartition("@")
    return f"{local[:2]}…@{domain}" if local else "…"


def masked_phone(number: str) -> str:
    """…4567: the last four digits."""
    return "…" + number[-4:]
