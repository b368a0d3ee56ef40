"""The blockchain API: the indexed view of the escrow contract, live checks against the chain,
and the indexer's progress. Public chain data: no sign-in, and a stale token is ignored."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from chainsync import selectors
from chainsync.serializers import (
    ChainEventFilter,
    ChainEventOutput,
    ChainProjectDetailOutput,
    ChainProjectOutput,
    PageFilter,
    SyncStatusOutput,
    VerifyTxInput,
    VerifyTxOutput,
)
from stxworx.apis import query, validated
from stxworx.openapi import errors
from stxworx.pagination import PageNumberPagination, paginate


class _PublicApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]


class _PublicListApi(_PublicApi):
    pagination_class = PageNumberPagination  # for the schema; `paginate` does the work


class ChainProjectListApi(_PublicListApi):
    @extend_schema(parameters=[PageFilter], responses=ChainProjectOutput(many=True))
    def get(self, request: Request) -> Response:
        validated(PageFilter, query(request))
        return paginate(self, request, selectors.chain_project_list(), ChainProjectOutput)


class ChainProjectDetailApi(_PublicApi):
    @extend_schema(
        responses=ChainProjectDetailOutput,
        description="The indexed project with the contract's live state (cached up to "
        "CHAINSYNC['ONCHAIN_CACHE_SECONDS'], 60 s), whether they agree, and where not.",
    )
    def get(self, request: Request, on_chain_id: int) -> Response:
        project = selectors.chain_project_checked_get(on_chain_id=on_chain_id)
        return Response(ChainProjectDetailOutput(project).data)


class ChainEventListApi(_PublicListApi):
    @extend_schema(parameters=[ChainEventFilter], responses=ChainEventOutput(many=True))
    def get(self, request: Request) -> Response:
        filters = validated(ChainEventFilter, query(request))
        return paginate(
            self, request, selectors.chain_event_list(filters=filters), ChainEventOutput
        )


class VerifyTxApi(_PublicApi):
    @errors(404, 503)
    @extend_schema(
        request=VerifyTxInput,
        responses=VerifyTxOutput,
        description="Looks the transaction up on the Stacks API; an aborted call reports the "
        "contract's error code and name, a missing expectedEvent gives confirmed false.",
    )
    def post(self, request: Request) -> Response:
        data = validated(VerifyTxInput, request.data)
        return Response(VerifyTxOutput(selectors.chain_tx_verify(**data)).data)


class SyncStatusApi(_PublicApi):
    @extend_schema(responses=SyncStatusOutput)
    def get(self, request: Request) -> Response:
        return Response(SyncStatusOutput(selectors.sync_status_get()).data)
