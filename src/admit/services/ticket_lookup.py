"""Finding tickets by code: the one way a typed or scanned code becomes a row.

The database keeps only a keyed hash of each code (a leak hands out no valid codes), so a code is
normalised (case, separators, look-alike characters), hashed, and matched on `code_hash`. Every query
that finds tickets by code filters with `BY_CODE` (bound as `code_hash`, and `orq` where the look-up is
confined to one organization) or `BY_CODES` (bound as `code_hashes`); statements are built once at import.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, bindparam

from admit.db.models import Ticket
from admit.security import codes
from admit.security.codes import CodeKeys

BY_CODE: ColumnElement[bool] = Ticket.code_hash == bindparam("code_hash")
# Another organization's ticket is not found at all, exactly as an unknown code.
BY_CODE_IN_ORGANIZATION: ColumnElement[bool] = and_(BY_CODE, Ticket.orq == bindparam("orq"))
BY_CODES: ColumnElement[bool] = Ticket.code_hash.in_(bindparam("code_hashes", expanding=True))


def lookup_hash(code: str, keys: CodeKeys) -> str | None:
    """What `code` is found by, or None when it cannot be a ticket code at all."""
    canonical = codes.normalise(code)
    return None if canonical is None else keys.lookup_hash(canonical)
