"""The blockchain API: the indexed view of the escrow contract, live checks against the chain,
and the indexer's progress. Public chain data: no sign-in, and a stale token is ignored."""

from __future__ import annotations

import hmac

from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from chainsync import selectors
from chainsync.chainhook import ChainhookMalformed, is_hosted
from chainsync.client import StacksApiError, chainsync_settings
from chainsync.conf import escrow_contract_id, stacks_network
from chainsync.handlers.push import (
    ChainhookBadPayload,
    ChainhookDisabled,
    ChainhookUnauthorized,
    chainhook_receive,
)
from chainsync.serializers import (
    ChainEventFilter,
    ChainEventOutput,
    ChainhookHostedInput,
    ChainhookInput,
    ChainhookOutput,
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
from stxworx.parsers import JSONParser


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


class ChainhookParser(JSONParser):
    max_bytes = 5 * 1024 * 1024  # a block's worth of payloads, past the 2.5 MB of the rest


# A self-hosted chainhook's v1 body or a hosted Chainhooks 2.0 one: exactly one of the two.
CHAINHOOK_DELIVERY = PolymorphicProxySerializer(
    component_name="ChainhookDelivery",
    serializers=[ChainhookInput, ChainhookHostedInput],
    resource_type_field_name=None,
)


class ChainhookApi(_PublicApi):
    parser_classes = [ChainhookParser]

    @errors(400, 401, 413, 422, 503)
    @extend_schema(
        request=CHAINHOOK_DELIVERY,
        responses=ChainhookOutput,
        description="Chainhook's push: a self-hosted chainhook's v1 `http_post` body (`apply`, "
        "`rollback`), or Hiro's hosted Chainhooks 2.0 webhook (`chainhook`, `event`), with "
        "`Authorization: Bearer <CHAINHOOK_SECRET>` (2.0's consumer secret). Undoes `rollback` "
        "blocks, then stores `apply` blocks' prints of the escrow contract as provisional (the "
        "poller confirms or rolls them back) and applies them; a 2.0 payload's apply blocks are "
        "read back from the Stacks API (a request per block, one batch for the txs), and one of "
        "another network is ignored. "
        "Redelivery changes nothing. 503 `chainhook_disabled` when CHAINHOOK_SECRET is unset, "
        "`chain_api_unavailable` when the API cannot be read for a 2.0 payload (Chainhooks "
        "delivers again); 401 `chainhook_unauthorized` for a missing or wrong secret; 400 "
        "`parse_error` for a body that is not JSON, or `validation_error` for one not of this "
        "schema; 422 `chainhook_malformed` for blocks that are not Chainhook blocks (a rule the "
        "schema leaves open); 413 over 5 MB. Nothing is stored on an error.",
    )
    def post(self, request: Request) -> Response:
        secret = chainsync_settings().get("CHAINHOOK_SECRET") or ""
        if not secret:
            raise ChainhookDisabled("Chainhook ingestion is off: CHAINHOOK_SECRET is not set.")
        given = request.META.get("HTTP_AUTHORIZATION", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {secret}".encode()):
            raise ChainhookUnauthorized("A missing or wrong Chainhook secret.")
        shape = ChainhookHostedInput if is_hosted(request.data) else ChainhookInput
        body = validated(shape, request.data)
        try:
            outcome = chainhook_receive(
                body=body, contract_id=escrow_contract_id(), network=stacks_network()
            )
        except ChainhookMalformed as exc:
            raise ChainhookBadPayload(str(exc)) from exc
        except StacksApiError as exc:
            message = f"The Stacks API could not be read: {exc.message}"
            raise selectors.ChainApiUnavailable(message) from None
        return Response(ChainhookOutput(outcome).data)
