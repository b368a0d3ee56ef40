"""Shapes of the blockchain API.

Amounts are the contract's u128: a JSON integer below 2**53 (exact in JavaScript), a string of
decimal digits from 2**53 up. Event payloads follow the same rule and keep the contract's own
field names (`project-id`, `gross-amount`, ...), as CONTRACT.md prints them.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from chainsync.log.events import SCHEMAS
from chainsync.models import ChainDispute, ChainEvent
from projects.serializers import BlankAsNull
from stacks import JSON_SAFE_INT, json_int
from stxworx.fields import QueryIntegerField
from stxworx.pagination import PageQuery
from stxworx.serializers import StrictSerializer

U128_DESCRIPTION = (
    "A u128 amount in base units (micro-STX or sats): a JSON integer when below 2^53, "
    "otherwise a string of decimal digits."
)
EVENT_NAMES = sorted(SCHEMAS)
MAX_QUERY_INT = 2**63 - 1


@extend_schema_field(
    {
        "oneOf": [
            {"type": "integer", "minimum": 0, "maximum": JSON_SAFE_INT - 1},
            {"type": "string", "pattern": "^[0-9]+$"},
        ],
        "description": U128_DESCRIPTION,
    }
)
class U128Field(serializers.Field):
    def __init__(self, **kwargs: Any) -> None:
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> Any:
        return json_int(value)


def _json_safe(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return json_int(value)
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_safe(item) for item in value]
    return value


@extend_schema_field(
    {
        "nullable": True,
        "description": "Any JSON value; integers follow the u128 rule. " + U128_DESCRIPTION,
    }
)
class ChainValueField(serializers.Field):
    """A value of either side of a difference: scalar, milestone or dispute object, or null."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> Any:
        return _json_safe(value)


# --- input ----------------------------------------------------------------------------------


class PageFilter(PageQuery):
    """A list with no filter but the page."""


class ChainEventFilter(PageFilter):
    since = QueryIntegerField(
        required=False,
        min_value=0,
        max_value=MAX_QUERY_INT,
        help_text="Only events at this block height or above.",
    )
    type = serializers.ChoiceField(choices=EVENT_NAMES, required=False, help_text="Event name.")
    project = QueryIntegerField(
        required=False, min_value=1, max_value=MAX_QUERY_INT, help_text="On-chain project id."
    )


class VerifyTxInput(StrictSerializer):
    txId = serializers.RegexField(
        r"^0x[0-9a-fA-F]{64}$",
        source="tx_id",
        error_messages={"invalid": "Must be a transaction id: 0x and 64 hex digits."},
    )
    expectedEvent = serializers.ChoiceField(
        choices=EVENT_NAMES, required=False, source="expected_event"
    )


# --- the indexed projection -----------------------------------------------------------------


class ChainMilestoneOutput(serializers.Serializer):
    number = serializers.IntegerField(source="slot", help_text="The contract's slot, 1..4.")
    amount = U128Field(allow_null=True, help_text="Net of the fee. " + U128_DESCRIPTION)
    complete = serializers.BooleanField()
    released = serializers.BooleanField()


class ChainDisputeOutput(serializers.Serializer):
    milestone = serializers.IntegerField(source="slot")
    status = serializers.ChoiceField(choices=ChainDispute.Status.choices)
    filedBy = serializers.CharField(source="filed_by")
    resolvedInFavorOf = BlankAsNull(source="resolved_in_favor_of", allow_null=True)


class ChainProjectOutput(serializers.Serializer):
    onChainId = serializers.IntegerField(source="on_chain_id")
    projectId = serializers.IntegerField(
        source="project_id", allow_null=True, help_text="The off-chain project, when linked."
    )
    client = serializers.CharField()
    freelancer = serializers.CharField()
    token = serializers.CharField()
    totalAmount = U128Field(source="total_amount", help_text="Net escrow. " + U128_DESCRIPTION)
    feePaid = U128Field(source="fee_paid")
    refunded = serializers.BooleanField()
    milestones = ChainMilestoneOutput(many=True)
    disputes = ChainDisputeOutput(many=True)
    final = serializers.BooleanField(
        help_text="The creation is at least CONFIRMATIONS blocks below the chain tip; "
        "provisional (a fork may still undo it) otherwise."
    )


class OnChainMilestoneOutput(serializers.Serializer):
    number = serializers.IntegerField()
    amount = U128Field()
    complete = serializers.BooleanField()
    released = serializers.BooleanField()
    completedBurnHeight = serializers.IntegerField(source="completed_burn_height")


class OnChainDisputeOutput(serializers.Serializer):
    milestone = serializers.IntegerField()
    status = serializers.CharField(help_text="open or resolved.")
    filedBy = serializers.CharField(source="filed_by")
    filedBurnHeight = serializers.IntegerField(source="filed_burn_height")
    resolvedInFavorOf = serializers.CharField(source="resolved_in_favor_of", allow_null=True)


class OnChainProjectOutput(serializers.Serializer):
    """The contract's get-project, get-milestone and get-dispute, read live at one tip."""

    client = serializers.CharField()
    freelancer = serializers.CharField()
    token = serializers.CharField()
    totalAmount = U128Field(source="total_amount")
    feePaid = U128Field(source="fee_paid")
    refunded = serializers.BooleanField()
    numMilestones = serializers.IntegerField(source="num_milestones")
    createdBurnHeight = serializers.IntegerField(source="created_burn_height")
    milestones = OnChainMilestoneOutput(many=True)
    disputes = OnChainDisputeOutput(many=True)


class DifferenceOutput(serializers.Serializer):
    field = serializers.CharField(
        help_text="`totalAmount`, `milestones.2.released`, `disputes.1.status`, `milestones.3` "
        "or `disputes.2` (only one side has it: that side's object, null on the other), "
        "`project` (only one side has the project: its on-chain id, null on the other). "
        "The same comparison as verify_sync."
    )
    indexed = ChainValueField()
    onChain = ChainValueField(source="on_chain")


class ChainProjectDetailOutput(ChainProjectOutput):
    """The indexed project with the contract's live state. `onChain` null with `onChainError`
    null: the contract has no such project; `onChainError` set: the Stacks API could not be
    read, so `inSync` is null too."""

    onChain = OnChainProjectOutput(source="live.on_chain", allow_null=True)
    inSync = serializers.BooleanField(source="live.in_sync", allow_null=True)
    differences = DifferenceOutput(source="live.differences", many=True)
    onChainError = serializers.CharField(source="live.error", allow_null=True)


# --- the event log --------------------------------------------------------------------------


class ChainEventOutput(serializers.Serializer):
    txId = serializers.CharField(source="tx_id")
    eventIndex = serializers.IntegerField(source="event_index")
    blockHeight = serializers.IntegerField(source="block_height")
    blockHash = serializers.CharField(source="block_hash")
    burnBlockHeight = serializers.IntegerField(source="burn_block_height")
    txIndex = serializers.IntegerField(source="tx_index")
    sender = serializers.CharField()
    functionName = serializers.CharField(source="function_name")
    event = BlankAsNull(source="event_name", allow_null=True, help_text="Null when malformed.")
    payload = serializers.JSONField(
        help_text="The print's fields under the contract's names; " + U128_DESCRIPTION
    )
    canonical = serializers.BooleanField()
    state = serializers.ChoiceField(choices=ChainEvent.State.choices)
    error = BlankAsNull(allow_null=True)
    final = serializers.BooleanField(
        help_text="Canonical and at least CONFIRMATIONS blocks below the chain tip."
    )


# --- transactions and the indexer -----------------------------------------------------------


class TxErrorOutput(serializers.Serializer):
    code = serializers.IntegerField(allow_null=True, help_text="The contract's `(err uNNN)`.")
    name = serializers.CharField(allow_null=True, help_text="e.g. ERR-ALREADY-RELEASED")
    reason = serializers.CharField()


class VerifyTxOutput(serializers.Serializer):
    confirmed = serializers.BooleanField(
        help_text="In a canonical block, successful, a call to the escrow contract, and "
        "(when asked) it printed expectedEvent."
    )
    status = serializers.CharField(
        help_text="success, abort_by_response, abort_by_post_condition, pending, dropped_…"
    )
    blockHeight = serializers.IntegerField(source="block_height", allow_null=True)
    confirmations = serializers.IntegerField(
        help_text="1 in the newest block the indexer saw; 0 when not in a canonical block."
    )
    events = ChainEventOutput(many=True, help_text="The indexed events of the transaction.")
    error = TxErrorOutput(allow_null=True)


class SyncStatusOutput(serializers.Serializer):
    lastIndexedBlock = serializers.IntegerField(
        source="last_indexed_block", help_text="Every event up to this block is applied."
    )
    currentBlock = serializers.IntegerField(
        source="current_block", help_text="The chain tip at the last poll."
    )
    lag = serializers.IntegerField()
    lastPollAt = serializers.DateTimeField(source="last_poll_at", allow_null=True)
    lastSuccessAt = serializers.DateTimeField(source="last_success_at", allow_null=True)
    lastError = serializers.CharField(source="last_error", allow_null=True)
    healthy = serializers.BooleanField(
        help_text="A successful poll within 3 poll intervals and lag under MAX_LAG_BLOCKS."
    )
    state = serializers.ChoiceField(
        choices=["starting", "failing", "ok", "disabled"],
        help_text=(
            "starting: no poll has completed yet; failing: the last poll failed and none "
            "succeeded within 3 poll intervals (lastError says why); disabled: "
            "INDEXER_ENABLED is off; ok otherwise."
        ),
    )


class ChainhookInput(StrictSerializer):
    """A Chainhook v1 delivery (self-hosted chainhook's `http_post` body). Each block:
    block_identifier {index, hash}, metadata {stacks_block_hash, bitcoin_anchor_block_identifier
    {index}, block_time?}, transactions [{transaction_identifier {hash}, metadata {success, sender,
    position {index}, kind?, receipt {events}}}]; a print is a SmartContractEvent {position
    {index}, data {contract_identifier, topic "print", raw_value "0x…"}}."""

    apply = serializers.ListField(child=serializers.DictField())
    rollback = serializers.ListField(child=serializers.DictField())
    events = serializers.ListField(child=serializers.DictField(), required=False)
    chainhook = serializers.DictField(required=False)


class ChainhookHostedInput(StrictSerializer):
    """A Chainhooks 2.0 delivery (Hiro's hosted webhook), as @hirosystems/chainhooks-client
    2.1.1's ChainhookEventSchema has it."""

    chainhook = serializers.DictField(help_text="{uuid, name?}: the chainhook that matched.")
    event = serializers.DictField(
        help_text="{chain, network, apply[], rollback[]}: blocks of transactions"
        "[{transaction_identifier {hash}, operations[], metadata}]; a print is a contract_log "
        "operation {metadata {contract_identifier, topic, value}}."
    )


class ChainhookOutput(serializers.Serializer):
    rolledBack = serializers.IntegerField(
        source="rolled_back", help_text="Stored txs the rollback blocks took out of the chain."
    )
    stored = serializers.IntegerField(help_text="Print events newly stored (0 on redelivery).")
    readmitted = serializers.IntegerField(help_text="Orphaned txs the apply blocks mined again.")
    ignored = serializers.IntegerField(help_text="Print events of other contracts, left out.")
    applied = serializers.IntegerField(help_text="Pending events applied in this request.")
    failed = serializers.IntegerField(help_text="Pending events that failed to apply.")
