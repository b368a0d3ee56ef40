from __future__ import annotations

from accounts.models import User
from stxworx.errors import NotFound


def user_get(*, address: str) -> User:
    user = User.objects.filter(address=address, is_active=True).first()
    if user is None:
        raise NotFound(f"No user with address {address}.")
    return user
