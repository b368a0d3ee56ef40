"""Who reviews disputes: active staff users in the "Dispute reviewers" group
(projects.selectors.is_dispute_reviewer). Operators add one with `manage.py reviewer_add`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.models import Group, Permission
from django.db import transaction

from projects.selectors.disputes import REVIEWERS_GROUP
from stxworx.errors import NotFound

if TYPE_CHECKING:
    from accounts.models import User

# What the group may see in the admin (the panel checks the group itself; these make the
# group's purpose visible in the admin's group page and to any permission-based check).
REVIEWER_PERMISSIONS = [
    "view_dispute",
    "view_disputestatement",
    "view_evidence",
    "view_agreement",
    "view_resolutionattempt",
]


def reviewers_group_ensure() -> Group:
    """The "Dispute reviewers" group, created if missing, holding its view permissions."""
    group, _ = Group.objects.get_or_create(name=REVIEWERS_GROUP)
    permissions = Permission.objects.filter(
        content_type__app_label="projects", codename__in=REVIEWER_PERMISSIONS
    )
    group.permissions.add(*permissions)
    return group


@transaction.atomic(durable=True)
def dispute_reviewer_add(*, address: str) -> tuple[User, bool]:
    """Make the user with this Stacks address (USERNAME_FIELD) a dispute reviewer: staff, in the
    group (created if missing). (the user, whether anything changed). NotFound for no such user;
    an inactive account stays inactive (and so no reviewer) until an operator reactivates it."""
    from accounts.models import User

    user = User.objects.select_for_update().filter(address=address).first()
    if user is None:
        raise NotFound(f"No user has the address {address}.")
    group = reviewers_group_ensure()
    changed = not user.is_staff or not user.groups.filter(pk=group.pk).exists()
    if not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    user.groups.add(group)
    return user, changed
