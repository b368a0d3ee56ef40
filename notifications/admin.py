from django.contrib import admin

from notifications.models import Notification, NotificationPreference


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["id", "recipient", "type", "project", "created_at", "read_at"]
    list_filter = ["type"]
    search_fields = ["recipient", "message"]


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ["recipient", "muted_types", "updated_at"]
    search_fields = ["recipient"]
