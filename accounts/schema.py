"""OpenAPI: the Bearer JWT, so Swagger UI offers "Authorize" with a token from /api/auth/verify."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class JWTAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.JWTAuthentication"
    name = "wallet-jwt"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "From POST /api/auth/verify (wallet sign-in); 24 h.",
        }
