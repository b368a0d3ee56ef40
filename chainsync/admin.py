from django.contrib import admin

from chainsync.models import ChainEvent, ChainTransaction, SyncState


class ChainRecordAdmin(admin.ModelAdmin):
    """The chain record is the indexer's: visible in the admin, never edited by hand."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ChainTransaction)
class ChainTransactionAdmin(ChainRecordAdmin):
    list_display = ["tx_id", "function_name", "status", "block_height", "tx_index", "canonical"]
    list_filter = ["status", "canonical", "function_name"]
    search_fields = ["tx_id", "sender"]


@admin.register(ChainEvent)
class ChainEventAdmin(ChainRecordAdmin):
    list_display = ["event_name", "project_id", "block_height", "tx_id", "state", "canonical"]
    list_filter = ["state", "canonical", "event_name"]
    search_fields = ["tx_id"]


@admin.register(SyncState)
class SyncStateAdmin(ChainRecordAdmin):
    list_display = ["contract_id", "last_indexed_height", "chain_tip_height", "last_poll_at"]
