from __future__ import annotations

from typing import Any

from django.db.models import Avg, Count, Prefetch, Q, QuerySet
from django.utils import timezone

from projects.models import Milestone, Project, Review
from projects.output import MILESTONE_COLUMNS, PROJECT_COLUMNS, project_json
from stxworx.errors import NotFound

PROJECT_ORDER = ("-created_at", "-id")  # newest first


def project_list(*, filters: dict[str, Any] | None = None) -> QuerySet[Project]:
    """Projects, newest first, with their milestones prefetched (one extra query per page)."""
    milestones = Prefetch("milestones", queryset=Milestone.objects.order_by("number"))
    projects = Project.objects.order_by(*PROJECT_ORDER)
    return _filtered(projects, filters or {}).prefetch_related(milestones)


# The row querysets the hot reads start from, built once: every request clones them (cheap)
# instead of resolving the columns and the ordering again (values_list and order_by cost as
# much as the query's SQL). Unevaluated, they hold no data and no connection.
_PROJECT_ROWS = Project.objects.order_by(*PROJECT_ORDER).values_list(*PROJECT_COLUMNS)
_MILESTONE_ROWS = Milestone.objects.order_by("project_id", "number").values_list(*MILESTONE_COLUMNS)


def project_rows(*, filters: dict[str, Any] | None = None) -> QuerySet:
    """The same projects as rows of PROJECT_COLUMNS (for `projects_json`: no model instances)."""
    return _filtered(_PROJECT_ROWS.all(), filters or {})


def projects_json(rows: list[tuple]) -> list[dict[str, Any]]:
    """The JSON of a page of project rows, their milestones read in one query."""
    milestones: dict[int, list[tuple]] = {row[0]: [] for row in rows}
    if milestones:
        for m in _MILESTONE_ROWS.filter(project_id__in=list(milestones)):
            milestones[m[0]].append(m)
    tz = timezone.get_current_timezone()
    return [project_json(row, milestones[row[0]], tz) for row in rows]


def project_json_get(*, project_id: int) -> dict[str, Any]:
    """One project's JSON (two queries), or NotFound."""
    rows = list(project_rows().filter(pk=project_id))
    if not rows:
        raise NotFound(f"Project {project_id} does not exist.")
    return projects_json(rows)[0]


def _filtered(qs: QuerySet, filters: dict[str, Any]) -> QuerySet:
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
    return qs


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
