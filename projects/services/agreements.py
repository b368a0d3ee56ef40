"""The agreement frozen when a proposal is accepted: what both sides agreed to (the project, its
milestones, the accepted proposal), as canonical JSON with its SHA-256, so a dispute is judged
against that and not against what was edited later."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any, Protocol

from django.utils import timezone

from projects.models import Agreement, Project


class Proposal(Protocol):
    """What an agreement takes of the accepted proposal (proposals.models.Proposal; the proposals
    app builds on this one, so it is described here rather than imported)."""

    pk: Any
    freelancer_address: str
    cover_letter: str
    proposed_budget: int
    proposed_duration: Any
    portfolio_links: Any
    created_at: datetime


AGREEMENT_VERSION = 1


def agreement_canonical(document: dict[str, Any]) -> str:
    """The exact text that is hashed: sorted keys, no spaces, UTF-8 (no \\u escapes)."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def agreement_sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _agreement_document(project: Project, proposal: Proposal, accepted_at: str) -> dict[str, Any]:
    milestones = project.milestones.order_by("number")
    return {
        "version": AGREEMENT_VERSION,
        "acceptedAt": accepted_at,
        "project": {
            "id": project.pk,
            "title": project.title,
            "description": project.description,
            "category": project.category,
            "skills": list(project.skills),
            "token": project.token,
            "budget": project.budget,
            "clientAddress": project.client_address,
            "freelancerAddress": proposal.freelancer_address,
        },
        "milestones": [
            {
                "number": m.number,
                "title": m.title,
                "description": m.description,
                "amount": m.amount,
                "dueDate": m.due_date.isoformat() if m.due_date else None,
            }
            for m in milestones
        ],
        "proposal": {
            "id": proposal.pk,
            "freelancerAddress": proposal.freelancer_address,
            "coverLetter": proposal.cover_letter,
            "proposedBudget": proposal.proposed_budget,
            "proposedDuration": proposal.proposed_duration,
            "portfolioLinks": list(proposal.portfolio_links),
            "submittedAt": proposal.created_at.isoformat(),
        },
    }


def agreement_freeze(*, project: Project, proposal: Proposal) -> Agreement:
    """Freeze the terms of `project` as accepted with `proposal`. The caller (proposal_accept)
    holds the project's lock inside its transaction. A project accepts one proposal in its
    life, so a second freeze is refused by the one-to-one key (IntegrityError)."""
    accepted_at = timezone.now()
    document = _agreement_document(project, proposal, accepted_at.isoformat())
    text = agreement_canonical(document)
    return Agreement.objects.create(
        project=project,
        proposal=proposal,
        document=text,
        sha256=agreement_sha256(text),
        accepted_at=accepted_at,
    )
