"""Reads of projects, reviews, disputes and evidence, scoped to what the caller may see. One
module per sub-domain, everything re-exported here (`from projects import selectors`):

- catalog: projects and reviews
- disputes: disputes for the parties and the reviewers, who is a reviewer
- review: the reviewer's whole view of one dispute (reads the chain)
"""

from projects.selectors.catalog import (
    project_get,
    project_json_get,
    project_list,
    project_rows,
    projects_json,
    review_list,
    review_summary,
)
from projects.selectors.disputes import (
    REVIEWERS_GROUP,
    AgreementView,
    DisputeReview,
    admin_dispute_list,
    agreement_view,
    dispute_closing_attempt_warning,
    dispute_get,
    dispute_list,
    dispute_published_rationale,
    dispute_review_link,
    is_dispute_reviewer,
    reviewer_addresses,
)
from projects.selectors.review import dispute_resolution_call, dispute_review_get

__all__ = [
    "REVIEWERS_GROUP",
    "AgreementView",
    "DisputeReview",
    "admin_dispute_list",
    "agreement_view",
    "dispute_closing_attempt_warning",
    "dispute_get",
    "dispute_list",
    "dispute_published_rationale",
    "dispute_resolution_call",
    "dispute_review_get",
    "dispute_review_link",
    "is_dispute_reviewer",
    "project_get",
    "project_json_get",
    "project_list",
    "project_rows",
    "projects_json",
    "review_list",
    "review_summary",
    "reviewer_addresses",
]
