from __future__ import annotations

from django.contrib import admin, messages
from django.utils.html import format_html

from files.models import StoredFile
from files.services import stored_file_pin_request
from stxworx.admin import ReadOnlyAdmin
from stxworx.errors import ApplicationError


@admin.register(StoredFile)
class StoredFileAdmin(ReadOnlyAdmin):
    """Files are written by uploads and the pinning task only; staff may ask for a pin again.
    No delete (ReadOnlyAdmin's), not even for superusers (nor the "delete selected" action):
    evidence and `ipfs://` submission links cite files by CID, and a deleted record would leave
    them dangling (and its bytes orphaned in storage)."""

    list_display = [
        "cid",
        "name",
        "size",
        "content_type",
        "uploaded_by",
        "pin_status",
        "created_at",
    ]
    list_filter = ["pin_status", "content_type"]
    search_fields = ["cid", "sha256", "name", "uploaded_by"]
    readonly_fields = ["download"]
    actions = ["pin_again"]

    @admin.display(description="bytes")
    def download(self, obj: StoredFile) -> str:
        return format_html('<a href="/api/files/{}">/api/files/{}</a>', obj.cid, obj.cid)

    @admin.action(description="Pin again (unpinned or failed files)")
    def pin_again(self, request, queryset) -> None:
        done = 0
        for stored in queryset:
            try:
                stored_file_pin_request(file_id=stored.pk)
                done += 1
            except ApplicationError as exc:
                self.message_user(request, f"{stored.cid}: {exc.message}", messages.WARNING)
        self.message_user(request, f"{done} file(s) queued for pinning.")
