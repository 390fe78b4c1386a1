"""Staff tokens: HS256 JWTs that expire by the service's own clock."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from admit import errors
from admit.domain.roles import Role


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
        try:
            payload = jwt.decode(
                token,
                self._key,
                algorithms=["HS256"],
                options={"verify_exp": False, "require": ["sub", "exp", "orq", "role", "jti", "gen"]},
            )
            claims = TokenClaims(
                operator_id=int(payload["sub"]),
                orq=int(payload["orq"]),
                role=Role(payload["role"]),
                expires_at=datetime.fromtimestamp(int(payload["exp"]), UTC),
                token_id=str(payload["jti"]),
                generation=int(payload["gen"]),
            )
        except (jwt.InvalidTokenError, ValueError, TypeError) as exc:
            raise errors.InvalidToken() from exc
        if now >= claims.expires_at:
            raise errors.TokenExpired()
        return claims
