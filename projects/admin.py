from django.contrib import admin

from projects.models import Milestone, Project, Review


class MilestoneInline(admin.TabularInline):
    model = Milestone
    extra = 0
    fields = ["number", "title", "amount", "due_date", "status", "submission_link", "tx_hash"]
    # Milestone status is chain-derived: the admin shows it, only the indexer changes it.
    readonly_fields = ["status", "tx_hash"]


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["id", "title", "status", "token", "budget", "client_address", "created_at"]
    list_filter = ["status", "token", "category"]
    search_fields = ["title", "client_address", "freelancer_address"]
    readonly_fields = ["status", "on_chain_id", "funding_tx_id", "created_at", "updated_at"]
    inlines = [MilestoneInline]


@admin.register(Milestone)
class MilestoneAdmin(admin.ModelAdmin):
    list_display = ["project", "number", "title", "amount", "status"]
    list_filter = ["status"]
    readonly_fields = ["status", "tx_hash"]


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ["project", "reviewer_address", "reviewee_address", "rating", "created_at"]
    search_fields = ["reviewer_address", "reviewee_address"]
