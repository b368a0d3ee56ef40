from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services
from accounts.serializers import ProfileUpdateInput, UserOutput
from stxworx.apis import validated
from stxworx.openapi import errors


class MeApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=UserOutput)
    def get(self, request: Request) -> Response:
        return Response(UserOutput(request.user).data)

    @errors(422)
    @extend_schema(request=ProfileUpdateInput, responses=UserOutput)
    def patch(self, request: Request) -> Response:
        data = validated(ProfileUpdateInput, request.data)
        user = services.user_profile_update(user=request.user, **data)
        return Response(UserOutput(user).data)
