"""The floor: `GET /api/projects` (page 1, 20 per page) written by hand in plain Django.

Same three queries as the API (COUNT, the page newest first, one milestone prefetch ordered
by number) and the same JSON bytes, without DRF: what the stack costs before any framework.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from projects.models import Milestone, Project

PAGE_SIZE = 20


def _iso_datetime(value: datetime | None) -> str | None:
    # DRF's DateTimeField: isoformat() in the current zone (UTC here), "+00:00" spelled "Z".
    if value is None:
        return None
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _iso_date(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _milestone(m: Milestone) -> dict[str, Any]:
    return {
        "number": m.number,
        "title": m.title,
        "description": m.description,
        "amount": m.amount,
        "dueDate": _iso_date(m.due_date),
        "status": m.status,
        "submissionLink": m.submission_link or None,
        "submissionNote": m.submission_note,
        "submittedAt": _iso_datetime(m.submitted_at),
        "txHash": m.tx_hash or None,
    }


def _project(p: Project, milestones: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": p.id,
        "title": p.title,
        "description": p.description,
        "category": p.category,
        "skills": p.skills,
        "token": p.token,
        "budget": p.budget,
        "status": p.status,
        "clientAddress": p.client_address,
        "freelancerAddress": p.freelancer_address or None,
        "onChainId": p.on_chain_id,
        "fundingTxId": p.funding_tx_id or None,
        "fundingError": p.funding_error or None,
        "milestones": milestones,
        "createdAt": _iso_datetime(p.created_at),
        "updatedAt": _iso_datetime(p.updated_at),
    }


def projects_floor(request: HttpRequest) -> HttpResponse:
    count = Project.objects.count()
    page = list(Project.objects.order_by("-created_at", "-id")[:PAGE_SIZE])
    by_project: dict[int, list[dict[str, Any]]] = {p.id: [] for p in page}
    for m in Milestone.objects.filter(project_id__in=list(by_project)).order_by("number"):
        by_project[m.project_id].append(_milestone(m))
    body = {
        "count": count,
        "page": 1,
        "pageSize": PAGE_SIZE,
        # The API's own links, so the two bodies are equal byte for byte.
        "next": request.build_absolute_uri(reverse("projects")) + "?page=2"
        if count > PAGE_SIZE
        else None,
        "previous": None,
        "results": [_project(p, by_project[p.id]) for p in page],
    }
    # DRF's JSONRenderer settings: compact, UTF-8, U+2028/U+2029 escaped.
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return HttpResponse(text.encode(), content_type="application/json")
