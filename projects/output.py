"""The project and milestone JSON as plain dicts, from database rows: the list and detail
endpoints' hot path (no model instances, no per-field DRF dispatch).

`ProjectOutput`/`MilestoneOutput` (projects/serializers.py) stay the documented schema; these
functions build the same JSON (a test holds them equal, field for field, and the contract tests
hold the responses to the schema). Datetimes are written as DRF's DateTimeField writes them: in
the current time zone, ISO 8601, `Z` for UTC."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, tzinfo
from typing import Any

from django.utils import timezone

# The columns the rows carry, in order (selectors.catalog reads them with values_list).
PROJECT_COLUMNS = (
    "id", "title", "description", "category", "skills", "token", "budget", "status",
    "client_address", "freelancer_address", "on_chain_id", "funding_tx_id", "funding_error",
    "created_at", "updated_at",
)  # fmt: skip
MILESTONE_COLUMNS = (
    "project_id", "number", "title", "description", "amount", "due_date", "status",
    "submission_link", "submission_note", "submitted_at", "tx_hash",
)  # fmt: skip


def iso_datetime(value: datetime | None, tz: tzinfo | None = None) -> str | None:
    if value is None:
        return None
    text = value.astimezone(tz or timezone.get_current_timezone()).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def iso_date(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def milestone_json(row: Sequence[Any], tz: tzinfo) -> dict[str, Any]:
    _, number, title, description, amount, due, status, link, note, submitted, tx = row
    return {
        "number": number,
        "title": title,
        "description": description,
        "amount": amount,
        "dueDate": iso_date(due),
        "status": status,
        "submissionLink": link or None,
        "submissionNote": note,
        "submittedAt": iso_datetime(submitted, tz),
        "txHash": tx or None,
    }


def project_json(
    row: Sequence[Any], milestones: Sequence[Sequence[Any]], tz: tzinfo
) -> dict[str, Any]:
    """One project row with its milestone rows (in number order)."""
    (pk, title, description, category, skills, token, budget, status, client, freelancer,
     on_chain_id, funding_tx, funding_error, created, updated) = row  # fmt: skip
    return {
        "id": pk,
        "title": title,
        "description": description,
        "category": category,
        "skills": [str(skill) for skill in skills],
        "token": token,
        "budget": budget,
        "status": status,
        "clientAddress": client,
        "freelancerAddress": freelancer or None,
        "onChainId": on_chain_id,
        "fundingTxId": funding_tx or None,
        "fundingError": funding_error or None,
        "milestones": [milestone_json(m, tz) for m in milestones],
        "createdAt": iso_datetime(created, tz),
        "updatedAt": iso_datetime(updated, tz),
    }
