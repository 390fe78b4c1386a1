"""Staff tokens expire by the service's clock; roles include the ones below them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from admit import errors
from admit.domain.roles import Role
from admit.security.tokens import TokenIssuer

NOW = datetime(2025, 11, 20, 8, 0, tzinfo=UTC)
ISSUER = TokenIssuer("s" * 40, timedelta(hours=8))


def test_a_token_is_good_for_eight_hours_by_the_given_clock() -> None:
    token, expires_at = ISSUER.issue(operator_id=7, orq=3, role=Role.MANAGER, now=NOW)
    assert expires_at == NOW + timedelta(hours=8)
    claims = ISSUER.read(token, now=NOW + timedelta(hours=7, minutes=59))
    assert (claims.operator_id, claims.orq, claims.role) == (7, 3, Role.MANAGER)
    with pytest.raises(errors.TokenExpired):
        ISSUER.read(token, now=NOW + timedelta(hours=8))


def test_a_token_signed_with_another_key_or_altered_is_refused() -> None:
    token, _ = TokenIssuer("t" * 40, timedelta(hours=8)).issue(operator_id=1, orq=1, role=Role.ADMIN, now=NOW)
    with pytest.raises(errors.InvalidToken):
        ISSUER.read(token, now=NOW)
    good, _ = ISSUER.issue(operator_id=1, orq=1, role=Role.OPERATOR, now=NOW)
    assert ISSUER.read(good, now=NOW).role is Role.OPERATOR  # checked once and kept: an altered copy is not
    with pytest.raises(errors.InvalidToken):
        ISSUER.read(good[:-2] + ("AA" if not good.endswith("AA") else "BB"), now=NOW)
    with pytest.raises(errors.InvalidToken):
        ISSUER.read("not a token", now=NOW)


def test_roles_include_the_ones_below_them() -> None:
    assert Role.ADMIN.includes(Role.MANAGER) and Role.ADMIN.includes(Role.OPERATOR)
    assert Role.MANAGER.includes(Role.OPERATOR) and not Role.MANAGER.includes(Role.ADMIN)
    assert not Role.OPERATOR.includes(Role.MANAGER)
