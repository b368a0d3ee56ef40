from __future__ import annotations

from rest_framework import authentication, exceptions
from rest_framework.request import Request

from accounts.models import User
from accounts.tokens import InvalidToken, TokenClaims, token_decode, token_is_revoked


class JWTAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <jwt>`. Sets `request.auth` to the token's claims."""

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[User, TokenClaims] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Authorization header must be 'Bearer <token>'.", code="token_invalid"
            )
        try:
            claims = token_decode(header[1].decode("ascii"))
        except InvalidToken as exc:
            raise exceptions.AuthenticationFailed(str(exc), code=exc.code) from None
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid token.", code="token_invalid") from None
        if token_is_revoked(claims.jti):
            raise exceptions.AuthenticationFailed(
                "Token revoked; sign in again.", code="token_revoked"
            )
        user = User.objects.filter(address=claims.address, is_active=True).first()
        if user is None:
            raise exceptions.AuthenticationFailed(
                "No active user for this token.", code="token_user_unknown"
            )
        return user, claims

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="api"'
