from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, PolymorphicProxySerializer, extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated, IsAuthenticatedOrReadOnly
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from projects import selectors, services
from projects.serializers import (
    AdminDisputeFilter,
    AdminDisputeListOutput,
    DisputeOutput,
    DisputeReviewerOutput,
    DisputeReviewOutput,
    EvidenceInput,
    EvidenceOutput,
    FundingInput,
    MilestoneOutput,
    ProjectCreateInput,
    ProjectFilter,
    ProjectOutput,
    ProjectUpdateInput,
    ReviewInput,
    ReviewOutput,
    StatementInput,
    SubmissionInput,
)
from stxworx.apis import actor, query, validated
from stxworx.openapi import errors
from stxworx.pagination import paginate


def _milestone_specs(items: list[dict[str, Any]]) -> list[services.MilestoneSpec]:
    return [services.MilestoneSpec(**item) for item in items]


def _project_response(project_id: int, code: int = status.HTTP_200_OK) -> Response:
    return Response(selectors.project_json_get(project_id=project_id), status=code)


class ProjectListApi(APIView):
    permission_classes = [IsAuthenticatedOrReadOnly]

    @errors(422)
    @extend_schema(parameters=[ProjectFilter], responses=ProjectOutput(many=True))
    def get(self, request: Request) -> Response:
        filters = validated(ProjectFilter, query(request))
        rows = selectors.project_rows(filters=filters)
        return paginate(self, request, rows, selectors.projects_json)

    @errors(422)
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

    @errors(409, 422)
    @extend_schema(request=ProjectUpdateInput, responses=ProjectOutput)
    def patch(self, request: Request, project_id: int) -> Response:
        data = validated(ProjectUpdateInput, request.data)
        if "milestones" in data:
            data["milestones"] = _milestone_specs(data["milestones"])
        services.project_update(project_id=project_id, actor=actor(request), **data)
        return _project_response(project_id)


class ProjectCancelApi(APIView):
    """A cancel is a state, not a removal: the project stays readable (its proposals and the
    parties' lists name it), so it is not a DELETE, which would promise the resource is gone."""

    permission_classes = [IsAuthenticated]

    @errors(409)
    @extend_schema(
        request=None,
        responses=ProjectOutput,
        description="Cancels an open project (the client): 200 with the project, now `cancelled`.",
    )
    def put(self, request: Request, project_id: int) -> Response:
        services.project_cancel(project_id=project_id, actor=actor(request))
        return _project_response(project_id)


class ProjectFundingApi(APIView):
    """The client records the transaction that funds the escrow; the indexer activates the
    project when it sees the contract create it with the agreed terms."""

    permission_classes = [IsAuthenticated]

    @errors(409, 422)
    @extend_schema(request=FundingInput, responses=ProjectOutput)
    def post(self, request: Request, project_id: int) -> Response:
        data = validated(FundingInput, request.data)
        services.project_funding_record(
            project_id=project_id, actor=actor(request), tx_id=data["tx_id"].lower()
        )
        return _project_response(project_id)


class MilestoneSubmissionApi(APIView):
    permission_classes = [IsAuthenticated]

    @errors(409, 422)
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

    @errors(409, 422)
    @extend_schema(request=ReviewInput, responses={201: ReviewOutput})
    def post(self, request: Request, project_id: int) -> Response:
        data = validated(ReviewInput, request.data)
        review = services.review_create(project_id=project_id, actor=actor(request), **data)
        return Response(ReviewOutput(review).data, status=status.HTTP_201_CREATED)


# --- disputes -----------------------------------------------------------------------------------


# What a dispute's parties see, or (for dispute reviewers) the same with the resolution.
DISPUTE_VIEW = PolymorphicProxySerializer(
    component_name="DisputeView",
    serializers=[DisputeOutput, DisputeReviewerOutput],
    resource_type_field_name=None,
)


def _dispute_response(request: Request, dispute_id: int) -> Response:
    dispute = selectors.dispute_get(dispute_id=dispute_id, user=request.user)
    output = DisputeReviewerOutput if selectors.is_dispute_reviewer(request.user) else DisputeOutput
    return Response(output(dispute).data)


class ProjectDisputesApi(APIView):
    """A project's disputes: its parties and the dispute reviewers."""

    permission_classes = [IsAuthenticated]

    @errors(403)
    @extend_schema(responses=DisputeOutput(many=True))
    def get(self, request: Request, project_id: int) -> Response:
        disputes = selectors.dispute_list(project_id=project_id, user=request.user)
        return paginate(self, request, disputes, DisputeOutput)


class DisputeDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @errors(403)
    @extend_schema(responses=DISPUTE_VIEW)
    def get(self, request: Request, dispute_id: int) -> Response:
        return _dispute_response(request, dispute_id)


class DisputeStatementApi(APIView):
    """A party's own statement on the dispute: one per side, rewritten by each PUT while the
    dispute is open; both parties and the reviewers see both (`statements`)."""

    permission_classes = [IsAuthenticated]

    @errors(403, 409, 422)
    @extend_schema(
        request=StatementInput,
        responses={
            200: OpenApiResponse(DISPUTE_VIEW, description="Your statement replaced the old."),
            201: OpenApiResponse(DISPUTE_VIEW, description="Your side's first statement."),
        },
        description="403 `not_project_party`: a dispute reviewer, who is no party; 404: no such "
        "dispute, or you are not one of its parties; 409 `dispute_not_open`: it is closed.",
    )
    def put(self, request: Request, dispute_id: int) -> Response:
        data = validated(StatementInput, request.data)
        _, created = services.dispute_statement_set(
            dispute_id=dispute_id, actor=actor(request), text=data["statement"]
        )
        response = _dispute_response(request, dispute_id)
        if created:
            response.status_code = status.HTTP_201_CREATED
        return response


class DisputeEvidenceApi(APIView):
    permission_classes = [IsAuthenticated]

    @errors(409, 422)
    @extend_schema(request=EvidenceInput, responses={201: EvidenceOutput})
    def post(self, request: Request, dispute_id: int) -> Response:
        data = validated(EvidenceInput, request.data)
        evidence = services.evidence_submit(
            dispute_id=dispute_id,
            actor=actor(request),
            description=data["description"],
            links=data.get("links", []),
            file_cid=data.get("fileCid"),
        )
        return Response(EvidenceOutput(evidence).data, status=status.HTTP_201_CREATED)


class AdminDisputeListApi(APIView):
    """Every dispute, oldest first (dispute reviewers only)."""

    permission_classes = [IsAuthenticated]

    @errors(403)
    @extend_schema(parameters=[AdminDisputeFilter], responses=AdminDisputeListOutput(many=True))
    def get(self, request: Request) -> Response:
        filters = validated(AdminDisputeFilter, query(request))
        disputes = selectors.admin_dispute_list(user=request.user, filters=filters)
        return paginate(self, request, disputes, AdminDisputeListOutput)


class AdminDisputeDetailApi(APIView):
    """The dispute with both parties' evidence, the frozen agreement, the milestone submission,
    the project's timeline of chain events and off-chain actions, and the contract's live state
    with the disagreements (dispute reviewers only; reads the chain)."""

    permission_classes = [IsAuthenticated]

    @errors(403)
    @extend_schema(responses=DisputeReviewOutput)
    def get(self, request: Request, dispute_id: int) -> Response:
        review = selectors.dispute_review_get(dispute_id=dispute_id, user=request.user)
        return Response(DisputeReviewOutput(review).data)
