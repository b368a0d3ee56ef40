"""The projects app's admin: the workspace (projects, milestones, reviews) and the dispute review
panel. Django's autodiscovery imports this package; each module registers its own admins."""

from projects.admin import disputes, workspace

__all__ = ["disputes", "workspace"]
