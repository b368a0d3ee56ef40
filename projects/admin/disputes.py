"""The dispute review panel: the dispute list with its filters, the review page and the
resolution form (reviewers only; the decision is signed in the reviewer's wallet, never here),
and the read-only admins of agreements, statements, evidence and resolution attempts."""

from __future__ import annotations

import json
from datetime import timedelta

from django.contrib import admin
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince
from rest_framework.exceptions import ValidationError

from projects.errors import NotDisputeReviewer
from projects.models import (
    Agreement,
    Dispute,
    DisputeStatement,
    Evidence,
    ResolutionAttempt,
)
from projects.selectors import (
    REVIEWERS_GROUP,
    dispute_get,
    dispute_resolution_call,
    dispute_review_get,
    is_dispute_reviewer,
)
from projects.selectors.disputes import disputed_amount
from projects.serializers import DisputeReviewerOutput, ResolutionInput
from projects.services import dispute_resolution_record
from projects.templatetags.dispute_review import short_id, token_amount
from stxworx.admin import ReadOnlyAdmin
from stxworx.apis import validated
from stxworx.errors import ApplicationError, NotFound, error_body

REVIEW_PAGE_CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class DisputeAgeFilter(admin.SimpleListFilter):
    title = "age"
    parameter_name = "age"
    BUCKETS = {"1d": (None, 1), "1-7d": (1, 7), "7d+": (7, None)}

    def lookups(self, request, model_admin):
        return [("1d", "under a day"), ("1-7d", "1 to 7 days"), ("7d+", "over 7 days")]

    def queryset(self, request, queryset):
        if self.value() not in self.BUCKETS:
            return queryset
        low, high = self.BUCKETS[self.value()]
        now = timezone.now()
        if low is not None:
            queryset = queryset.filter(filed_at__lte=now - timedelta(days=low))
        if high is not None:
            queryset = queryset.filter(filed_at__gt=now - timedelta(days=high))
        return queryset


class DisputeAmountFilter(admin.SimpleListFilter):
    """The disputed milestone's gross amount, in whole tokens of its own token."""

    title = "amount"
    parameter_name = "amount"
    UNIT = {"STX": 1_000_000, "sBTC": 100_000_000}  # base units per token
    LIMITS = {"STX": (100, 10_000), "sBTC": (0.01, 1)}  # small below, large above

    def lookups(self, request, model_admin):
        return [
            ("small", "under 100 STX / 0.01 sBTC"),
            ("medium", "100–10,000 STX / 0.01–1 sBTC"),
            ("large", "over 10,000 STX / 1 sBTC"),
        ]

    def queryset(self, request, queryset):
        if self.value() not in ("small", "medium", "large"):
            return queryset
        match = Q()
        for token, (low, high) in self.LIMITS.items():
            low, high = int(low * self.UNIT[token]), int(high * self.UNIT[token])
            bounds = {
                "small": Q(_amount__lt=low),
                "medium": Q(_amount__gte=low, _amount__lte=high),
                "large": Q(_amount__gt=high),
            }[self.value()]
            match |= Q(project__token=token) & bounds
        return queryset.filter(match)


def reviewers_only_refusal(admin_site: admin.AdminSite, request: HttpRequest) -> HttpResponse:
    """The admin page a signed-in staff user outside "Dispute reviewers" gets (403) instead of
    the API's JSON refusal: what they asked for is for dispute reviewers, and how to become one."""
    context = {
        **admin_site.each_context(request),
        "title": "Only dispute reviewers see disputes",
        "group": REVIEWERS_GROUP,
        "user_address": getattr(request.user, "address", ""),
    }
    return TemplateResponse(request, "admin/projects/dispute/refused.html", context, status=403)


class ReviewersReadOnlyAdmin(ReadOnlyAdmin):
    """The disputes' records: only the dispute reviewers see them, and nobody writes here. Staff
    outside the group who open one of their pages get the refusal page, not a bare 403."""

    def has_module_permission(self, request) -> bool:
        return is_dispute_reviewer(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return is_dispute_reviewer(request.user)

    def changelist_view(self, request, extra_context=None):
        if not is_dispute_reviewer(request.user):
            return reviewers_only_refusal(self.admin_site, request)
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not is_dispute_reviewer(request.user):
            return reviewers_only_refusal(self.admin_site, request)
        return super().change_view(request, object_id, form_url, extra_context)

    def history_view(self, request, object_id, extra_context=None):
        if not is_dispute_reviewer(request.user):
            return reviewers_only_refusal(self.admin_site, request)
        return super().history_view(request, object_id, extra_context)


@admin.register(Dispute)
class DisputeAdmin(ReviewersReadOnlyAdmin):
    """Read-only: disputes open and close on chain. The list links each dispute to its review
    page, where the reviewer's wallet signs the resolution."""

    # Compact, to fit a 1366 px screen beside the filters: the amount carries its token, the
    # addresses and tx ids are shortened (whole on hover and on the review page).
    list_display = [
        "review_link",
        "project_title",
        "milestone",
        "status",
        "age",
        "amount",
        "filer",
        "resolution",
    ]
    list_filter = [
        "status",
        ("project__token", admin.AllValuesFieldListFilter),
        DisputeAgeFilter,
        DisputeAmountFilter,
    ]
    search_fields = ["project__title", "filed_by", "filed_tx_id", "resolved_tx_id"]
    ordering = ["filed_at", "id"]
    list_select_related = ["project"]

    class Media:
        css = {"all": ["projects/dispute_list.css"]}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_amount=disputed_amount())

    @admin.display(description="dispute", ordering="id")
    def review_link(self, obj: Dispute) -> str:
        url = reverse("admin:projects_dispute_review", args=[obj.pk])
        return format_html('<a href="{}">Review #{}</a>', url, obj.pk)

    @admin.display(description="age", ordering="filed_at")
    def age(self, obj: Dispute) -> str:
        return format_html(
            '<span title="filed {}">{}</span>',
            obj.filed_at.strftime("%Y-%m-%d %H:%M:%S %Z"),
            timesince(obj.filed_at, depth=1),
        )

    @admin.display(description="project", ordering="project__title")
    def project_title(self, obj: Dispute) -> str:
        title = obj.project.title
        short = title if len(title) <= 32 else f"{title[:31]}…"
        return format_html('<span title="{}">#{} {}</span>', title, obj.project_id, short)

    @admin.display(description="m.", ordering="milestone_number")
    def milestone(self, obj: Dispute) -> int:
        return obj.milestone_number

    @admin.display(description="amount (gross)", ordering="_amount")
    def amount(self, obj: Dispute) -> str:
        return token_amount(obj._amount, obj.project.token)

    @admin.display(description="filed by", ordering="filed_by")
    def filer(self, obj: Dispute) -> str:
        side = "client" if obj.filed_by == obj.project.client_address else "freelancer"
        return format_html('<span title="{}">{}</span>', obj.filed_by, side)

    @admin.display(description="tx", ordering="resolved_tx_id")
    def resolution(self, obj: Dispute) -> str:
        """The tx that closed it, else the latest one a reviewer broadcast (pending)."""
        tx = obj.resolved_tx_id or obj.resolution_tx_id
        if not tx:
            return "—"
        pending = "" if obj.resolved_tx_id else " (pending)"
        return format_html('<code title="{}">{}</code>{}', tx, short_id(tx, 4), pending)

    def get_urls(self):
        own = [
            path(
                "<int:dispute_id>/review/",
                self.admin_site.admin_view(self.review_view),
                name="projects_dispute_review",
            ),
            path(
                "<int:dispute_id>/resolution/",
                self.admin_site.admin_view(self.resolution_view),
                name="projects_dispute_resolution",
            ),
        ]
        return own + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return redirect("admin:projects_dispute_review", int(object_id))

    def review_view(self, request: HttpRequest, dispute_id: int) -> HttpResponse:
        try:  # checks the reviewer first (NotDisputeReviewer)
            review = dispute_review_get(dispute_id=dispute_id, user=request.user)
        except NotDisputeReviewer:
            return reviewers_only_refusal(self.admin_site, request)
        except NotFound:
            raise Http404 from None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Dispute #{dispute_id}",
            "review": review,
            "call": dispute_resolution_call(dispute=review.dispute),
            "pending_decisions": [
                {"txId": a.tx_id, "releaseToFreelancer": a.release_to_freelancer}
                for a in review.pending_attempts
            ],
            "resolution_url": reverse("admin:projects_dispute_resolution", args=[dispute_id]),
        }
        response = TemplateResponse(request, "admin/projects/dispute/review.html", context)
        response["Content-Security-Policy"] = REVIEW_PAGE_CSP
        return response

    def resolution_view(self, request: HttpRequest, dispute_id: int) -> JsonResponse:
        """POST {txId, rationale, releaseToFreelancer} after the wallet broadcast the call."""
        if request.method != "POST":
            return _json_error("method_not_allowed", "POST the broadcast transaction.", 405)
        try:
            data = validated(ResolutionInput, json.loads(request.body or b"null"))
            dispute = dispute_resolution_record(
                dispute_id=dispute_id, reviewer=request.user, **data
            )
        except (ValueError, TypeError, RecursionError):  # RecursionError: nested too deeply
            return _json_error("parse_error", "The body must be a JSON object.", 400)
        except ValidationError as exc:
            return _json_error("validation_error", "Invalid resolution.", 400, exc.detail)
        except ApplicationError as exc:
            return _json_error(exc.code, exc.message, exc.http_status, exc.extra)
        fresh = dispute_get(dispute_id=dispute.pk, user=request.user)  # with its evidence
        return JsonResponse(DisputeReviewerOutput(fresh).data)


def _json_error(code: str, message: str, status: int, details=None) -> JsonResponse:
    return JsonResponse(error_body(code, message, details), status=status)


@admin.register(Agreement)
class AgreementAdmin(ReviewersReadOnlyAdmin):
    """Frozen agreements: never edited, shown to the reviewers."""

    list_display = ["project", "proposal", "sha256", "accepted_at"]
    search_fields = ["sha256", "project__title"]


@admin.register(DisputeStatement)
class DisputeStatementAdmin(ReviewersReadOnlyAdmin):
    """Each party's statement (the review page shows both side by side); only its party
    rewrites it, through the API, while the dispute is open."""

    list_display = ["dispute", "party", "author", "updated_at"]
    search_fields = ["author", "text"]
    list_select_related = ["dispute"]


@admin.register(Evidence)
class EvidenceAdmin(ReviewersReadOnlyAdmin):
    """Evidence is immutable once submitted: the reviewers read it here (and side by side on the
    review page); nobody edits or deletes it."""

    list_display = ["dispute", "submitted_by", "created_at", "file_cid"]
    search_fields = ["submitted_by", "file_cid", "file_sha256"]
    list_select_related = ["dispute"]


@admin.register(ResolutionAttempt)
class ResolutionAttemptAdmin(ReviewersReadOnlyAdmin):
    """Every resolution a reviewer's wallet broadcast, with its rationale: append-only."""

    list_display = ["dispute", "tx_id", "release_to_freelancer", "reviewer", "recorded_at"]
    search_fields = ["tx_id", "reviewer"]
    list_select_related = ["dispute"]
