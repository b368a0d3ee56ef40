"""Every write to projects, milestones, reviews, the frozen agreement, disputes and evidence.

One module per sub-domain; everything is re-exported here, so `from projects import services`
and `projects.services.<fn>` name every service:

- lifecycle: projects, milestones and reviews, and the chain-caused project transitions
- chain_book: the chain-driven lifecycle for a batch of events (the indexer's; the chain-caused
  services of lifecycle run a book of one project)
- agreements: the agreement frozen when a proposal is accepted
- disputes: statements, evidence, the reviewer's resolution record
- disputes_chain: disputes as the chain files and closes them (one event, or a batch's book)
- reviewers: who reviews disputes (the "Dispute reviewers" group)
"""

from projects.services.agreements import (
    agreement_canonical,
    agreement_freeze,
    agreement_sha256,
)
from projects.services.chain_book import ChainBook, ChainFacts, DisputeFact
from projects.services.disputes import (
    EvidenceFile,
    dispute_resolution_record,
    dispute_statement_set,
    evidence_submit,
)
from projects.services.disputes_chain import (
    DisputeBook,
    dispute_chain_closed,
    dispute_chain_filed,
    project_disputes_chain_closed,
)
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
from projects.services.reviewers import dispute_reviewer_add, reviewers_group_ensure

__all__ = [
    "EDITABLE_FIELDS",
    "ChainBook",
    "ChainFacts",
    "DisputeBook",
    "DisputeFact",
    "EvidenceFile",
    "MilestoneSpec",
    "agreement_canonical",
    "agreement_freeze",
    "agreement_sha256",
    "dispute_chain_closed",
    "dispute_chain_filed",
    "dispute_resolution_record",
    "dispute_reviewer_add",
    "dispute_statement_set",
    "evidence_submit",
    "milestone_chain_status",
    "milestone_submission_record",
    "project_activate",
    "project_cancel",
    "project_chain_unlink",
    "project_complete",
    "project_create",
    "project_dispute_close",
    "project_dispute_open",
    "project_disputes_chain_closed",
    "project_funding_record",
    "project_funding_reject",
    "project_lock",
    "project_mark_pending",
    "project_refund",
    "project_reviewed_restore",
    "project_update",
    "review_create",
    "reviewers_group_ensure",
]
