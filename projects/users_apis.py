"""A user's public profile and the reviews they received: the accounts' public profile with the
projects' review summary (here, above both, so accounts imports nothing of projects)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors
from accounts.addresses import address_from_path
from accounts.serializers import PublicProfileOutput
from projects.selectors import review_list, review_summary
from projects.serializers import ReviewOutput
from stxworx.pagination import paginate


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
