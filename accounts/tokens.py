"""JWT sessions: HS256 tokens with iss, aud, sub (the address), iat, exp and jti; a revoked jti
is stored until the token would have expired."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

import jwt
from django.conf import settings
from django.utils import timezone

from accounts.models import RevokedToken, User

ALGORITHM = "HS256"


class InvalidToken(Exception):
    def __init__(self, message: str, code: str = "token_invalid") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class TokenClaims:
    address: str
    jti: str
    expires_at: datetime


def token_issue(*, user: User) -> tuple[str, TokenClaims]:
    conf = settings.AUTH
    now = timezone.now()
    claims = TokenClaims(
        address=user.address, jti=secrets.token_hex(16), expires_at=now + conf["JWT_TTL"]
    )
    payload = {
        "iss": conf["JWT_ISSUER"],
        "aud": conf["JWT_AUDIENCE"],
        "sub": user.address,
        "iat": int(now.timestamp()),
        "exp": int(claims.expires_at.timestamp()),
        "jti": claims.jti,
    }
    return jwt.encode(payload, conf["JWT_SIGNING_KEY"], algorithm=ALGORITHM), claims


def token_decode(token: str) -> TokenClaims:
    """The verified claims of `token`, or InvalidToken saying why not. Only HS256 is accepted,
    so `alg: none` and algorithm-confusion tokens fail here."""
    conf = settings.AUTH
    if len(token) > 2048:
        raise InvalidToken("Token too long.")
    try:
        payload = jwt.decode(
            token,
            conf["JWT_SIGNING_KEY"],
            algorithms=[ALGORITHM],
            audience=conf["JWT_AUDIENCE"],
            issuer=conf["JWT_ISSUER"],
            options={"require": ["iss", "aud", "sub", "iat", "exp", "jti"]},
        )
    except jwt.ExpiredSignatureError:
        raise InvalidToken("Token expired; sign in again.", "token_expired") from None
    except jwt.PyJWTError as exc:
        raise InvalidToken(f"Invalid token: {exc}.") from None
    if not isinstance(payload["sub"], str) or not isinstance(payload["jti"], str):
        raise InvalidToken("Invalid token: malformed claims.")
    expires_at = datetime.fromtimestamp(payload["exp"], tz=UTC)
    return TokenClaims(address=payload["sub"], jti=payload["jti"], expires_at=expires_at)


def token_is_revoked(jti: str) -> bool:
    return RevokedToken.objects.filter(jti=jti).exists()


def token_revoke(claims: TokenClaims) -> None:
    """Idempotent. Expired revocations are purged as new ones arrive."""
    RevokedToken.objects.filter(expires_at__lt=timezone.now()).delete()
    RevokedToken.objects.get_or_create(jti=claims.jti, defaults={"expires_at": claims.expires_at})
