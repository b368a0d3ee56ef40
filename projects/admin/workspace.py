"""The admin of the pre-contract workspace: projects with their milestones, and reviews. A
project's agreed terms are read-only once a proposal is accepted (the agreement is frozen)."""

from __future__ import annotations

from django.contrib import admin
from django.db import models

from projects.models import Milestone, Project, Review


def _agreed(project: Project | None) -> bool:
    """Past `open` a proposal was accepted: the parties, the token, the budget and the
    milestones are what both sides agreed to (and, once funded, what the contract holds). The
    party checks trust these columns, so nobody edits them by hand from then on."""
    return project is not None and project.status != Project.Status.OPEN


# Past `open` only the project's listing text stays editable (moderation).
PROJECT_AGREED_FIELDS = ["client_address", "freelancer_address", "token", "budget"]
MILESTONE_FIELDS = [
    "number",
    "title",
    "description",
    "amount",
    "due_date",
    "status",
    "submission_link",
    "submission_note",
    "submitted_at",
    "tx_hash",
]


# A link typed without a scheme is https (Django 6's default; 5.2 warns about its old http).
URL_FIELDS = {models.URLField: {"assume_scheme": "https"}}


class MilestoneInline(admin.TabularInline):
    model = Milestone
    extra = 0
    formfield_overrides = URL_FIELDS
    fields = ["number", "title", "amount", "due_date", "status", "submission_link", "tx_hash"]

    def get_readonly_fields(self, request, obj: Project | None = None):
        if _agreed(obj):
            return self.fields
        # Milestone status is chain-derived: the admin shows it, only the indexer changes it.
        return ["status", "tx_hash"]

    def has_add_permission(self, request, obj: Project | None = None) -> bool:
        return not _agreed(obj) and super().has_add_permission(request, obj)

    def has_delete_permission(self, request, obj: Project | None = None) -> bool:
        return not _agreed(obj) and super().has_delete_permission(request, obj)


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["id", "title", "status", "token", "budget", "client_address", "created_at"]
    list_filter = ["status", "token", "category"]
    search_fields = ["title", "client_address", "freelancer_address"]
    readonly_fields = [
        "status",
        "on_chain_id",
        "funding_tx_id",
        "funding_error",
        "created_at",
        "updated_at",
    ]
    inlines = [MilestoneInline]

    def get_readonly_fields(self, request, obj: Project | None = None):
        if _agreed(obj):
            return [*PROJECT_AGREED_FIELDS, *self.readonly_fields]
        return self.readonly_fields

    def has_delete_permission(self, request, obj: Project | None = None) -> bool:
        return not _agreed(obj) and super().has_delete_permission(request, obj)

    def get_actions(self, request):
        # "delete selected" checks no object: it would delete agreed projects too
        return {k: v for k, v in super().get_actions(request).items() if k != "delete_selected"}


@admin.register(Milestone)
class MilestoneAdmin(admin.ModelAdmin):
    list_display = ["project", "number", "title", "amount", "status"]
    formfield_overrides = URL_FIELDS
    list_filter = ["status"]

    def get_readonly_fields(self, request, obj: Milestone | None = None):
        if obj is not None and _agreed(obj.project):
            return ["project", *MILESTONE_FIELDS]
        return ["status", "tx_hash"]

    def has_delete_permission(self, request, obj: Milestone | None = None) -> bool:
        if obj is not None and _agreed(obj.project):
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request):
        return {k: v for k, v in super().get_actions(request).items() if k != "delete_selected"}

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "project":  # a new milestone only on a project still open
            kwargs["queryset"] = Project.objects.filter(status=Project.Status.OPEN)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ["project", "reviewer_address", "reviewee_address", "rating", "created_at"]
    search_fields = ["reviewer_address", "reviewee_address"]


# --- the dispute review panel (dispute reviewers only) ------------------------------------------


# The review page renders the parties' text and loads the wallet bundle: scripts only from this
# origin (the vendored @stacks/connect, the page's own JS, the admin's), no inline script, no
# plugins, no framing, forms and fetches to this origin only. Inline styles stay allowed (the
# admin and the wallet's modal use them); the wallet itself is a browser extension, outside it.
