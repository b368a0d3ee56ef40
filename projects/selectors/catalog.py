from __future__ import annotations

from typing import Any

from django.db.models import Avg, Count, Prefetch, Q, QuerySet

from projects.models import Milestone, Project, Review
from stxworx.errors import NotFound


def project_list(*, filters: dict[str, Any] | None = None) -> QuerySet[Project]:
    """Projects, newest first, with their milestones prefetched (one extra query per page)."""
    filters = filters or {}
    qs = Project.objects.prefetch_related(
        Prefetch("milestones", queryset=Milestone.objects.order_by("number"))
    )
    for key in ("status", "token"):
        if filters.get(key):
            qs = qs.filter(**{key: filters[key]})
    if filters.get("client"):
        qs = qs.filter(client_address=filters["client"])
    if filters.get("freelancer"):
        qs = qs.filter(freelancer_address=filters["freelancer"])
    if filters.get("category"):
        qs = qs.filter(category__iexact=filters["category"])
    if filters.get("search"):
        term = filters["search"]
        qs = qs.filter(Q(title__icontains=term) | Q(description__icontains=term))
    return qs.order_by("-created_at", "-id")


def project_get(*, project_id: int) -> Project:
    try:
        return project_list().get(pk=project_id)
    except Project.DoesNotExist:
        raise NotFound(f"Project {project_id} does not exist.") from None


def review_summary(*, address: str) -> dict[str, Any]:
    agg = Review.objects.filter(reviewee_address=address).aggregate(
        count=Count("id"), average=Avg("rating")
    )
    average = agg["average"]
    return {"count": agg["count"], "averageRating": round(average, 2) if average else None}


def review_list(*, address: str) -> QuerySet[Review]:
    return Review.objects.filter(reviewee_address=address).order_by("-created_at", "-id")
