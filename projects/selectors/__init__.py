"""Reads of projects, reviews, disputes and evidence, scoped to what the caller may see. One
module per sub-domain, everything re-exported here (`from projects import selectors`)."""

from projects.selectors.catalog import project_get, project_list, review_list, review_summary

__all__ = ["project_get", "project_list", "review_list", "review_summary"]
