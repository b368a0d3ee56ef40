from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import auth
from accounts.auth_serializers import (
    ChallengeInput,
    ChallengeOutput,
    SessionOutput,
    TicketOutput,
    VerifyInput,
)
from accounts.authentication import JWTAuthentication
from accounts.serializers import UserOutput
from accounts.throttles import AuthAddressThrottle, AuthIpThrottle
from stxworx.apis import validated
from stxworx.errors import NotAllowed
from stxworx.openapi import errors


class _SignInApi(APIView):
    authentication_classes: list = []  # a stale token must not get in the way of signing in
    permission_classes = [AllowAny]
    throttle_classes = [AuthIpThrottle, AuthAddressThrottle]


class ChallengeApi(_SignInApi):
    @errors(422)
    @extend_schema(request=ChallengeInput, responses=ChallengeOutput)
    def post(self, request: Request) -> Response:
        data = validated(ChallengeInput, request.data)
        record = auth.challenge_create(address=data["address"])
        body = {"challenge": record.message, "nonce": record.nonce, "expiresAt": record.expires_at}
        return Response(ChallengeOutput(body).data)


class VerifyApi(_SignInApi):
    @errors(401, 409, 422)
    @extend_schema(request=VerifyInput, responses=SessionOutput)
    def post(self, request: Request) -> Response:
        data = validated(VerifyInput, request.data)
        session = auth.sign_in_verify(**data)
        body = {
            "token": session.token,
            "expiresAt": session.claims.expires_at,
            "user": session.user,
        }
        return Response(SessionOutput(body).data)


class _SessionApi(APIView):
    """Endpoints about the JWT session itself, so only a Bearer token opens them."""

    authentication_classes = [JWTAuthentication]
    permission_classes = [IsAuthenticated]


class AuthMeApi(_SessionApi):
    @extend_schema(responses=UserOutput)
    def get(self, request: Request) -> Response:
        return Response(UserOutput(request.user).data)


class LogoutApi(_SessionApi):
    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        auth.sign_out(claims=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WsTicketApi(_SessionApi):
    @errors(403)
    @extend_schema(request=None, responses=TicketOutput)
    def post(self, request: Request) -> Response:
        if request.auth is None:
            raise NotAllowed("A WebSocket ticket needs a signed-in session.")
        ticket, expires_at = auth.ws_ticket_issue(user=request.user, claims=request.auth)
        return Response(TicketOutput({"ticket": ticket, "expiresAt": expires_at}).data)
