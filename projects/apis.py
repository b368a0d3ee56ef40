from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated, IsAuthenticatedOrReadOnly
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from projects import selectors, services
from projects.serializers import (
    FundingInput,
    MilestoneOutput,
    ProjectCreateInput,
    ProjectFilter,
    ProjectOutput,
    ProjectUpdateInput,
    ReviewInput,
    ReviewOutput,
    SubmissionInput,
)
from stxworx.apis import actor, query, validated
from stxworx.pagination import paginate


def _milestone_specs(items: list[dict[str, Any]]) -> list[services.MilestoneSpec]:
    return [services.MilestoneSpec(**item) for item in items]


def _project_response(project_id: int, code: int = status.HTTP_200_OK) -> Response:
    project = selectors.project_get(project_id=project_id)
    return Response(ProjectOutput(project).data, status=code)


class ProjectListApi(APIView):
    permission_classes = [IsAuthenticatedOrReadOnly]

    @extend_schema(parameters=[ProjectFilter], responses=ProjectOutput(many=True))
    def get(self, request: Request) -> Response:
        filters = validated(ProjectFilter, query(request))
        return paginate(self, request, selectors.project_list(filters=filters), ProjectOutput)

    @extend_schema(request=ProjectCreateInput, responses={201: ProjectOutput})
    def post(self, request: Request) -> Response:
        data = validated(ProjectCreateInput, request.data)
        data["milestones"] = _milestone_specs(data["milestones"])
        project = services.project_create(client_address=actor(request), **data)
        return _project_response(project.pk, status.HTTP_201_CREATED)


class ProjectDetailApi(APIView):
    permission_classes = [IsAuthenticatedOrReadOnly]

    @extend_schema(responses=ProjectOutput)
    def get(self, request: Request, project_id: int) -> Response:
        return _project_response(project_id)

    @extend_schema(request=ProjectUpdateInput, responses=ProjectOutput)
    def patch(self, request: Request, project_id: int) -> Response:
        data = validated(ProjectUpdateInput, request.data)
        if "milestones" in data:
            data["milestones"] = _milestone_specs(data["milestones"])
        services.project_update(project_id=project_id, actor=actor(request), **data)
        return _project_response(project_id)

    @extend_schema(request=None, responses=ProjectOutput, description="Cancels an open project.")
    def delete(self, request: Request, project_id: int) -> Response:
        services.project_cancel(project_id=project_id, actor=actor(request))
        return _project_response(project_id)


class ProjectFundingApi(APIView):
    """The client records the transaction that funds the escrow; the indexer activates the
    project when it sees the contract create it with the agreed terms."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=FundingInput, responses=ProjectOutput)
    def post(self, request: Request, project_id: int) -> Response:
        data = validated(FundingInput, request.data)
        services.project_funding_record(
            project_id=project_id, actor=actor(request), tx_id=data["tx_id"].lower()
        )
        return _project_response(project_id)


class MilestoneSubmissionApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=SubmissionInput, responses=MilestoneOutput)
    def put(self, request: Request, project_id: int, number: int) -> Response:
        data = validated(SubmissionInput, request.data)
        milestone = services.milestone_submission_record(
            project_id=project_id,
            number=number,
            actor=actor(request),
            link=data["submissionLink"],
            note=data.get("note", ""),
        )
        return Response(MilestoneOutput(milestone).data)


class ProjectReviewsApi(APIView):
    permission_classes = [IsAuthenticatedOrReadOnly]

    @extend_schema(responses=ReviewOutput(many=True))
    def get(self, request: Request, project_id: int) -> Response:
        project = selectors.project_get(project_id=project_id)
        return paginate(self, request, project.reviews.order_by("-created_at"), ReviewOutput)

    @extend_schema(request=ReviewInput, responses={201: ReviewOutput})
    def post(self, request: Request, project_id: int) -> Response:
        data = validated(ReviewInput, request.data)
        review = services.review_create(project_id=project_id, actor=actor(request), **data)
        return Response(ReviewOutput(review).data, status=status.HTTP_201_CREATED)
