"""Every write to projects, milestones, reviews, the frozen agreement, disputes and evidence.

One module per sub-domain; everything is re-exported here, so `from projects import services`
and `projects.services.<fn>` name every service:

- lifecycle: projects, milestones and reviews, and the chain-caused project transitions
- agreements: the agreement frozen when a proposal is accepted
- disputes: disputes as the chain files and closes them, statements, evidence, resolutions
"""

from projects.services.lifecycle import (
    EDITABLE_FIELDS,
    MilestoneSpec,
    milestone_chain_status,
    milestone_submission_record,
    project_activate,
    project_cancel,
    project_chain_unlink,
    project_complete,
    project_create,
    project_dispute_close,
    project_dispute_open,
    project_funding_record,
    project_funding_reject,
    project_lock,
    project_mark_pending,
    project_refund,
    project_reviewed_restore,
    project_update,
    review_create,
)

__all__ = [
    "EDITABLE_FIELDS",
    "MilestoneSpec",
    "milestone_chain_status",
    "milestone_submission_record",
    "project_activate",
    "project_cancel",
    "project_chain_unlink",
    "project_complete",
    "project_create",
    "project_dispute_close",
    "project_dispute_open",
    "project_funding_record",
    "project_funding_reject",
    "project_lock",
    "project_mark_pending",
    "project_refund",
    "project_reviewed_restore",
    "project_update",
    "review_create",
]
