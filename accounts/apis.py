from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.addresses import address_from_path
from accounts.serializers import ProfileUpdateInput, PublicProfileOutput, UserOutput
from projects.selectors import review_list, review_summary
from projects.serializers import ReviewOutput
from stxworx.apis import validated
from stxworx.openapi import errors
from stxworx.pagination import paginate


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


class UserDetailApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses=PublicProfileOutput)
    def get(self, request: Request, address: str) -> Response:
        user = selectors.user_get(address=address_from_path(address))
        user.review_summary = review_summary(address=user.address)
        return Response(PublicProfileOutput(user).data)


class UserReviewsApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses=ReviewOutput(many=True))
    def get(self, request: Request, address: str) -> Response:
        return paginate(
            self, request, review_list(address=address_from_path(address)), ReviewOutput
        )
