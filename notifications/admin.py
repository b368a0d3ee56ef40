from django.contrib import admin

from notifications.models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["id", "recipient", "type", "project", "created_at", "read_at"]
    list_filter = ["type"]
    search_fields = ["recipient", "message"]
