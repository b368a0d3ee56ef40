from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.addresses import address_from_path
from projects.selectors import project_get
from proposals import selectors, services
from proposals.serializers import ProposalCreateInput, ProposalFilter, ProposalOutput
from stxworx.apis import actor, query, validated
from stxworx.errors import NotAllowed
from stxworx.openapi import errors
from stxworx.pagination import paginate


class ProjectProposalsApi(APIView):
    permission_classes = [IsAuthenticated]

    @errors(403)
    @extend_schema(parameters=[ProposalFilter], responses=ProposalOutput(many=True))
    def get(self, request: Request, project_id: int) -> Response:
        filters = validated(ProposalFilter, query(request))
        qs = selectors.proposal_list_for_project(
            project=project_get(project_id=project_id),
            viewer=actor(request),
            status=filters.get("status"),
        )
        return paginate(self, request, qs, ProposalOutput)

    @errors(409, 422)
    @extend_schema(request=ProposalCreateInput, responses={201: ProposalOutput})
    def post(self, request: Request, project_id: int) -> Response:
        data = validated(ProposalCreateInput, request.data)
        claimed = data.pop("freelancer_address", None)
        if claimed is not None and claimed != actor(request):
            raise NotAllowed(
                "freelancerAddress must be your own address.", code="freelancer_mismatch"
            )
        proposal = services.proposal_create(
            project_id=project_id, freelancer_address=actor(request), **data
        )
        return Response(ProposalOutput(proposal).data, status=status.HTTP_201_CREATED)


class FreelancerProposalsApi(APIView):
    permission_classes = [IsAuthenticated]

    @errors(403)
    @extend_schema(parameters=[ProposalFilter], responses=ProposalOutput(many=True))
    def get(self, request: Request, address: str) -> Response:
        filters = validated(ProposalFilter, query(request))
        qs = selectors.proposal_list_for_freelancer(
            address=address_from_path(address), viewer=actor(request), status=filters.get("status")
        )
        return paginate(self, request, qs, ProposalOutput)


class ProposalDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @errors(403)
    @extend_schema(responses=ProposalOutput)
    def get(self, request: Request, proposal_id: int) -> Response:
        proposal = selectors.proposal_get(proposal_id=proposal_id, viewer=actor(request))
        return Response(ProposalOutput(proposal).data)


class ProposalWithdrawApi(APIView):
    """A withdrawn proposal stays readable (the client saw it): a state, not a DELETE."""

    permission_classes = [IsAuthenticated]

    @errors(409)
    @extend_schema(
        request=None,
        responses=ProposalOutput,
        description="Withdraws a pending proposal (its freelancer): 200 with it, now `withdrawn`.",
    )
    def put(self, request: Request, proposal_id: int) -> Response:
        proposal = services.proposal_withdraw(proposal_id=proposal_id, actor=actor(request))
        return Response(ProposalOutput(proposal).data)


class ProposalAcceptApi(APIView):
    permission_classes = [IsAuthenticated]

    @errors(409)
    @extend_schema(request=None, responses=ProposalOutput)
    def put(self, request: Request, proposal_id: int) -> Response:
        proposal = services.proposal_accept(proposal_id=proposal_id, actor=actor(request))
        return Response(ProposalOutput(proposal).data)


class ProposalRejectApi(APIView):
    permission_classes = [IsAuthenticated]

    @errors(409)
    @extend_schema(request=None, responses=ProposalOutput)
    def put(self, request: Request, proposal_id: int) -> Response:
        proposal = services.proposal_reject(proposal_id=proposal_id, actor=actor(request))
        return Response(ProposalOutput(proposal).data)
