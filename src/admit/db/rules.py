"""The domain's rules rendered as SQL expressions (see admit.domain.rules)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, case, or_

from admit.domain.rules import Ops


class _Sql:
    def all(self, *terms: Any) -> Any:
        return and_(*terms)

    def any(self, *terms: Any) -> Any:
        return or_(*terms)

    def first(self, *cases: tuple[Any, Any], otherwise: Any) -> Any:
        return case(*cases, else_=otherwise)


SQL: Ops = _Sql()
