from django.contrib import admin

from chainsync.models import (
    ChainDispute,
    ChainEvent,
    ChainMilestone,
    ChainProject,
    ChainTransaction,
    ContractSettings,
    SyncState,
)
from stxworx.admin import ReadOnlyAdmin, ReadOnlyInline


@admin.register(ChainTransaction)
class ChainTransactionAdmin(ReadOnlyAdmin):
    list_display = ["tx_id", "function_name", "status", "block_height", "tx_index", "canonical"]
    list_filter = ["status", "canonical", "function_name"]
    search_fields = ["tx_id", "sender"]


@admin.register(ChainEvent)
class ChainEventAdmin(ReadOnlyAdmin):
    list_display = ["event_name", "project_id", "block_height", "tx_id", "state", "canonical"]
    list_filter = ["state", "canonical", "event_name"]
    search_fields = ["tx_id"]


@admin.register(SyncState)
class SyncStateAdmin(ReadOnlyAdmin):
    list_display = ["contract_id", "last_indexed_height", "chain_tip_height", "last_poll_at"]


class ChainMilestoneInline(ReadOnlyInline):
    model = ChainMilestone


@admin.register(ChainProject)
class ChainProjectAdmin(ReadOnlyAdmin):
    list_display = [
        "on_chain_id",
        "project",
        "client",
        "freelancer",
        "token",
        "total_amount",
        "refunded",
    ]
    search_fields = ["client", "freelancer", "created_tx"]
    inlines = [ChainMilestoneInline]


@admin.register(ChainDispute)
class ChainDisputeAdmin(ReadOnlyAdmin):
    list_display = ["project", "slot", "status", "filed_by", "resolved_in_favor_of"]
    list_filter = ["status"]


@admin.register(ChainMilestone)
class ChainMilestoneAdmin(ReadOnlyAdmin):
    list_display = ["project", "slot", "amount", "complete", "released", "released_to"]


@admin.register(ContractSettings)
class ContractSettingsAdmin(ReadOnlyAdmin):
    list_display = ["contract_id", "owner", "treasury", "paused", "fee_rate"]
