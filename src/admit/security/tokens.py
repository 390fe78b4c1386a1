"""Staff tokens: HS256 JWTs that expire by the service's own clock."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from admit import errors
from admit.db.types import MAX_ID
from admit.domain.roles import Role

# A token's expiry is a whole number of seconds since 1970 that this service could have written: after
# 1970 and before 2100, so that it is an instant Python can hold and compare.
_LATEST_EXPIRY = int(datetime(2100, 1, 1, tzinfo=UTC).timestamp())
# Tokens whose claims are kept once checked: more than a venue's staff have at once.
CHECKED_TOKENS = 4096


@dataclass(frozen=True)
class TokenClaims:
    operator_id: int
    orq: int
    role: Role
    expires_at: datetime
    token_id: str  # `jti`: what a logout revokes
    generation: int  # the operator's token generation when issued: disabling moves it on


class TokenIssuer:
    def __init__(self, secret_key: str, lifetime: timedelta) -> None:
        self._key = hmac.new(secret_key.encode(), b"staff-token", hashlib.sha256).digest()
        self.lifetime = lifetime
        # A token's claims follow from its bytes alone: checked once, they are looked up after that
        # (the signature check is a tenth of the door's CPU per scan). Expiry is still judged each time.
        self._checked: dict[str, TokenClaims] = {}

    def issue(
        self, *, operator_id: int, orq: int, role: Role, now: datetime, generation: int = 0
    ) -> tuple[str, datetime]:
        expires_at = now + self.lifetime
        payload = {
            "sub": str(operator_id),
            "orq": orq,
            "role": role.value,
            "jti": secrets.token_urlsafe(16),
            "gen": generation,
            "iat": int(now.timestamp()),
            "exp": int(expires_at.timestamp()),
        }
        return jwt.encode(payload, self._key, algorithm="HS256"), expires_at

    def read(self, token: str, *, now: datetime) -> TokenClaims:
        """The claims of a valid token; expiry is judged by `now`, so a pinned clock is honoured."""
        claims = self._checked.get(token)
        if claims is None:
            claims = self._check(token)
            if len(self._checked) >= CHECKED_TOKENS:
                self._checked.clear()  # a flood of made-up tokens never gets here: they fail the check
            self._checked[token] = claims
        if now >= claims.expires_at:
            raise errors.TokenExpired()
        return claims

    def _check(self, token: str) -> TokenClaims:
        try:
            payload = jwt.decode(
                token,
                self._key,
                algorithms=["HS256"],
                options={"verify_exp": False, "require": ["sub", "exp", "orq", "role", "jti", "gen"]},
            )
            claims = TokenClaims(
                operator_id=_id(payload["sub"]),
                orq=_id(payload["orq"]),
                role=Role(payload["role"]),
                expires_at=datetime.fromtimestamp(_bounded(payload["exp"], 1, _LATEST_EXPIRY), UTC),
                token_id=str(payload["jti"]),
                generation=_bounded(payload["gen"], 0, MAX_ID),
            )
        except (jwt.InvalidTokenError, ValueError, TypeError, OverflowError) as exc:
            raise errors.InvalidToken() from exc
        return claims


def _id(claim: object) -> int:
    """An id as this service writes it (the operator's as a string, the organization's as a number)."""
    if isinstance(claim, str) and claim.isascii() and claim.isdigit() and len(claim) <= 10:
        claim = int(claim)
    return _bounded(claim, 1, MAX_ID)


def _bounded(claim: object, lowest: int, highest: int) -> int:
    # bool is an int in Python, and a float such as 1e30 would pass int(): neither is a claim we wrote.
    if type(claim) is not int or not lowest <= claim <= highest:
        raise ValueError(f"claim out of range: {claim!r}"[:80])
    return claim
