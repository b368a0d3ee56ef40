from __future__ import annotations

from django.contrib.auth.hashers import make_password
from django.db import transaction

from accounts.models import User


def user_get_or_create(*, address: str) -> User:
    """The user behind a verified address; the first sign-in creates it (with no usable
    password: wallet users never have one)."""
    user, _ = User.objects.get_or_create(
        address=address, defaults={"password": make_password(None)}
    )
    return user


@transaction.atomic
def user_profile_update(
    *,
    user: User,
    display_name: str | None = None,
    bio: str | None = None,
    skills: list[str] | None = None,
) -> User:
    fields = {"display_name": display_name, "bio": bio, "skills": skills}
    changed = [name for name, value in fields.items() if value is not None]
    for name in changed:
        setattr(user, name, fields[name])
    if changed:
        user.save(update_fields=changed)
    return user
