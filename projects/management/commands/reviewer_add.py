"""manage.py reviewer_add <address>: make an existing user (e.g. one made by createsuperuser)
a dispute reviewer."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from projects.services.reviewers import dispute_reviewer_add
from stxworx.errors import NotFound


class Command(BaseCommand):
    help = (
        'Make a user a dispute reviewer: staff and in the "Dispute reviewers" group (created '
        "with its view permissions if missing). The user is named by their Stacks address, the "
        "username of this site (as createsuperuser asks for it)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("address", help="The user's Stacks address (their username).")

    def handle(self, *args, address: str, **options) -> None:
        try:
            user, changed = dispute_reviewer_add(address=address)
        except NotFound as exc:
            raise CommandError(f"{exc.message} Create it first (createsuperuser).") from None
        state = "is now" if changed else "was already"
        note = "" if user.is_active else " (the account is inactive: reactivate it to review)"
        self.stdout.write(f"{user.address} {state} a dispute reviewer{note}.")
