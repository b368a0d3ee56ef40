"""The project lock every write takes first, and a dispute's close fields cleared: shared by the
lifecycle, the chain book and the chain's disputes (below all three, so none imports another
back)."""

from __future__ import annotations

from typing import Any

from projects.models import Project
from stxworx.errors import NotFound


def project_lock(project_id: int) -> Project:
    """The project row, locked for the rest of the caller's transaction.
    Lock order everywhere: project first, then its proposals or milestones."""
    try:
        return Project.objects.select_for_update().get(pk=project_id)
    except Project.DoesNotExist:
        raise NotFound(f"Project {project_id} does not exist.") from None


def unresolved() -> dict[str, Any]:
    """A dispute's close fields, cleared (void, or open again)."""
    return {
        "resolved_in_favor_of": "",
        "close_reason": "",
        "resolved_tx_id": "",
        "resolved_at": None,
    }
