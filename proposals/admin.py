from django.contrib import admin

from proposals.models import Proposal


@admin.register(Proposal)
class ProposalAdmin(admin.ModelAdmin):
    list_display = ["id", "project", "freelancer_address", "proposed_budget", "status"]
    list_filter = ["status"]
    search_fields = ["freelancer_address", "project__title"]
    readonly_fields = ["status", "created_at", "updated_at"]
