from __future__ import annotations

from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records that only the system writes (security records, the chain's record and its
    projection): visible in the admin for audit, never edited or deleted by hand. Deleting
    would be worse than editing: a deleted stored file leaves the evidence and submissions that
    cite it dangling, a deleted revoked token works again. Not even superusers may delete."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
