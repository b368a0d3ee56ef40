from __future__ import annotations

from stxworx.errors import Conflict, NotAllowed


class OwnProject(NotAllowed):
    code = "own_project"


class AlreadyProposed(Conflict):
    code = "already_proposed"


class NotProposalFreelancer(NotAllowed):
    code = "not_proposal_freelancer"
