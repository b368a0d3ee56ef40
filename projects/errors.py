from __future__ import annotations

from stxworx.errors import Conflict, NotAllowed


class NotProjectClient(NotAllowed):
    code = "not_project_client"


class NotProjectFreelancer(NotAllowed):
    code = "not_project_freelancer"


class NotProjectParty(NotAllowed):
    code = "not_project_party"


class AlreadyReviewed(Conflict):
    code = "already_reviewed"


class NotDisputeReviewer(NotAllowed):
    code = "not_dispute_reviewer"


class DisputeNotOpen(Conflict):
    code = "dispute_not_open"


class EvidenceLimitReached(Conflict):
    code = "evidence_limit_reached"


class ResolutionAlreadyRecorded(Conflict):
    code = "resolution_already_recorded"
