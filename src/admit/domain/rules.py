"""One definition per rule, for Python and for SQL.

A rule that a hot path also runs inside the database is written once, as a function of its inputs and
of an `Ops`. Comparisons are plain operators, which Python values and SQL columns both understand; the
few combinators that differ between the two (and, or, the first matching case) come from `ops`. `PY`
evaluates a rule on values here; `admit.db.rules.SQL` renders the same rule as an expression over
columns. A property test runs both on every database and checks that they agree.
"""

from __future__ import annotations

from typing import Any, Protocol


class Ops(Protocol):
    def all(self, *terms: Any) -> Any: ...

    def any(self, *terms: Any) -> Any: ...

    def first(self, *cases: tuple[Any, Any], otherwise: Any) -> Any:
        """The value of the first case whose condition holds, else `otherwise`."""
        ...


class _Python:
    """Rules on plain values. Terms are evaluated before they are combined: rules keep them total."""

    def all(self, *terms: Any) -> bool:
        return all(terms)

    def any(self, *terms: Any) -> bool:
        return any(terms)

    def first(self, *cases: tuple[Any, Any], otherwise: Any) -> Any:
        for when, then in cases:
            if when:
                return then
        return otherwise


PY: Ops = _Python()
