"""The project and milestone JSON as plain dicts: the list and detail endpoints' hot path.

`ProjectOutput`/`MilestoneOutput` (projects/serializers.py) stay the documented schema; these
functions build the same JSON without DRF's per-field dispatch (a test holds them equal, field for
field, and the contract tests hold the responses to the schema). Datetimes are written as DRF's
DateTimeField writes them: in the current time zone, ISO 8601, `Z` for UTC."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.utils import timezone

from projects.models import Milestone, Project


def iso_datetime(value: datetime | None) -> str | None:
    if value is None:
        return None
    text = timezone.localtime(value).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def iso_date(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def milestone_output(m: Milestone) -> dict[str, Any]:
    return {
        "number": m.number,
        "title": m.title,
        "description": m.description,
        "amount": m.amount,
        "dueDate": iso_date(m.due_date),
        "status": m.status,
        "submissionLink": m.submission_link or None,
        "submissionNote": m.submission_note,
        "submittedAt": iso_datetime(m.submitted_at),
        "txHash": m.tx_hash or None,
    }


def project_output(p: Project) -> dict[str, Any]:
    """One project with its milestones (prefetched by the catalog selectors, in number order)."""
    return {
        "id": p.id,
        "title": p.title,
        "description": p.description,
        "category": p.category,
        "skills": list(p.skills),
        "token": p.token,
        "budget": p.budget,
        "status": p.status,
        "clientAddress": p.client_address,
        "freelancerAddress": p.freelancer_address or None,
        "onChainId": p.on_chain_id,
        "fundingTxId": p.funding_tx_id or None,
        "fundingError": p.funding_error or None,
        "milestones": [milestone_output(m) for m in p.milestones.all()],
        "createdAt": iso_datetime(p.created_at),
        "updatedAt": iso_datetime(p.updated_at),
    }
