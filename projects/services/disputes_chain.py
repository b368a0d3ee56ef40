"""Disputes as the chain files and closes them (indexer only).

`DisputeBook` holds the disputes of some projects in memory, for a batch of chain events: load
them (one query), apply each event in chain order (`filed`, `closed`, `project_closed`: each
checks before it changes anything, so an event it refuses leaves no trace), then `save` (a few
statements whatever the batch's size) and hand the notification drafts to
notifications.services.notifications_create. The caller holds the projects' locks.

`dispute_chain_filed`, `dispute_chain_closed` and `project_disputes_chain_closed` do the same for
one event: lock the project, a book of it, save, notify.

Every event is idempotent, keyed by its transaction: a filing seen again returns its dispute (a
void one, after a rebuild, is reopened silently); a close seen again changes nothing. The
parties are told of every filing and close, the reviewers of every new dispute."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Concatenate, ParamSpec, TypeVar

from django.db import transaction
from django.utils import timezone

from notifications.events import project_link
from notifications.models import Notification
from notifications.services import NotificationDraft, notifications_create
from projects.models import Dispute, Project
from projects.selectors.disputes import dispute_review_link, reviewer_addresses
from projects.services.locks import project_lock, unresolved
from stxworx.errors import InvalidInput, InvalidTransition, NotFound

P = ParamSpec("P")
R = TypeVar("R")
Reason = Dispute.CloseReason
# The events that close every open dispute of a project (always in the client's favour).
PROJECT_CLOSING = {Reason.FULL_REFUND, Reason.EMERGENCY_REFUND, Reason.FORCE_REFUND}
CHANGED_FIELDS = [
    "status",
    "filed_block_height",
    "filed_at",
    "resolved_in_favor_of",
    "close_reason",
    "resolved_tx_id",
    "resolved_at",
    "updated_at",
]


@dataclass
class _News:
    """A notification to draft once the dispute has its id."""

    dispute: Dispute
    type: str
    message: str
    reviewers: bool  # to the reviewers (the review page), else to both parties


class DisputeBook:
    """The disputes of some projects, in memory, for a batch of chain events."""

    def __init__(self, projects: Iterable[Project], milestones: dict[int, set[int]]) -> None:
        self.projects = {p.pk: p for p in projects}
        self.milestones = milestones  # project pk -> its milestone numbers
        self._rows: list[Dispute] | None = None  # read at the first event: none, no query
        self.changed: dict[int, Dispute] = {}  # id(row) -> row, existing rows only
        self.news: list[_News] = []
        self._reviewers: list[str] | None = None

    @property
    def rows(self) -> list[Dispute]:
        """Every dispute of the book's projects, oldest first (one query, the first time)."""
        if self._rows is None:
            query = Dispute.objects.filter(project_id__in=self.projects).order_by("id")
            self._rows = list(query)
        return self._rows

    @classmethod
    def of(cls, projects: Iterable[Project]) -> DisputeBook:
        """A book of these projects, their milestone numbers read (one more query)."""
        from projects.models import Milestone

        projects = list(projects)
        milestones: dict[int, set[int]] = {p.pk: set() for p in projects}
        pairs = Milestone.objects.filter(project__in=projects).values_list("project_id", "number")
        for pk, number in pairs:
            milestones[pk].add(number)
        return cls(projects, milestones)

    # --- events, in chain order ---

    def filed(
        self,
        *,
        project_id: int,
        number: int,
        filed_by: str,
        tx_id: str,
        block_height: int,
        filed_at: datetime,
        notify: bool = True,
    ) -> Dispute:
        """dispute-filed. Raises NotFound (no such milestone), InvalidTransition (the milestone
        already has another open dispute: the chain allows one until a milestone-reset)."""
        project = self._project(project_id)
        if number not in self.milestones.get(project_id, ()):
            raise NotFound(f"Project {project_id} has no milestone {number}.")
        known = self._filed(tx_id)
        if known is not None:
            if known.status == Dispute.Status.VOID:  # mined again, maybe in another block
                self._open_check(project_id, number)
                self._set(
                    known,
                    Dispute.Status.OPEN,
                    filed_block_height=block_height,
                    filed_at=filed_at,
                    **unresolved(),
                )
            return known
        self._open_check(project_id, number)
        dispute = Dispute(
            project=project,
            milestone_number=number,
            filed_by=filed_by,
            filed_tx_id=tx_id,
            filed_block_height=block_height,
            filed_at=filed_at,
        )
        self.rows.append(dispute)
        if notify:
            who = _role(project, filed_by)
            title = _title(project, dispute)
            self._tell(
                dispute,
                Notification.Type.DISPUTE_FILED,
                f"{title} is disputed (filed by the {who}).",
            )
            self._tell(
                dispute,
                Notification.Type.DISPUTE_FILED,
                f"New dispute to review: {title}, filed by the {who}.",
                reviewers=True,
            )
        return dispute

    def closed(
        self,
        *,
        project_id: int,
        number: int,
        tx_id: str,
        in_favor_of: str,
        reason: str,
        closed_at: datetime,
        notify: bool = True,
    ) -> Dispute | None:
        """dispute-resolved, milestone-released, force-released (in favour of "client" or
        "freelancer") or milestone-reset (""): the open dispute on the milestone closes. Returns
        it; the one this tx closed already (seen again); None when none is open (a release of
        an undisputed milestone)."""
        _check_close(reason=reason, in_favor_of=in_favor_of)
        self._project(project_id)
        dispute = self._open(project_id, number)
        if dispute is None:
            return self._find(project_id=project_id, milestone_number=number, resolved_tx_id=tx_id)
        return self._close(dispute, tx_id, in_favor_of, reason, closed_at, notify)

    def project_closed(
        self, *, project_id: int, tx_id: str, reason: str, closed_at: datetime, notify: bool = True
    ) -> list[Dispute]:
        """full-refund, emergency-refund, force-refund: every open dispute of the project closes
        for the client. Returns those closed now (none when seen again)."""
        _check_project_close(reason=reason)
        self._project(project_id)
        open_ones = sorted(
            (
                d
                for d in self.rows
                if d.project_id == project_id and d.status == Dispute.Status.OPEN
            ),
            key=lambda d: d.milestone_number,
        )
        client = Dispute.Party.CLIENT
        return [self._close(d, tx_id, client, reason, closed_at, notify) for d in open_ones]

    # --- writing ---

    def save(self) -> list[NotificationDraft]:
        """Write what changed: the rows that stop being open first, then those that open again,
        then the new ones (one open dispute per milestone holds after every statement); at most
        three statements. Returns the notifications to create (notifications_create)."""
        if self._rows is None:
            return []  # no dispute event: nothing read, nothing to write
        now = timezone.now()
        changed = list(self.changed.values())
        for row in changed:
            row.updated_at = now
        closing = [d for d in changed if d.status != Dispute.Status.OPEN]
        opening = [d for d in changed if d.status == Dispute.Status.OPEN]
        for rows in (closing, opening):
            if rows:
                Dispute.objects.bulk_create(
                    rows, update_conflicts=True, unique_fields=["id"], update_fields=CHANGED_FIELDS
                )
        new = [d for d in self.rows if d.pk is None]
        for row in new:
            row.created_at = row.updated_at = now
        Dispute.objects.bulk_create(new)  # ids set (PostgreSQL, SQLite >= 3.35)
        self.changed = {}
        drafts = [draft for news in self.news for draft in self._drafts(news)]
        self.news = []
        return drafts

    # --- helpers ---

    def _project(self, project_id: int) -> Project:
        project = self.projects.get(project_id)
        if project is None:
            raise NotFound(f"Project {project_id} does not exist.")
        return project

    def _find(self, **values: Any) -> Dispute | None:
        """The book's first dispute with these field values, if any."""
        return next(
            (d for d in self.rows if all(getattr(d, k) == v for k, v in values.items())), None
        )

    def _filed(self, tx_id: str) -> Dispute | None:
        """The dispute this tx filed, when the book has it."""
        return self._find(filed_tx_id=tx_id)

    def _open(self, project_id: int, number: int) -> Dispute | None:
        """The book's first open dispute on this milestone: `_find`'s answer, in a plain loop
        (it runs for every dispute event of a batch, over every dispute of the book)."""
        for d in self.rows:
            if (
                d.project_id == project_id
                and d.milestone_number == number
                and d.status == Dispute.Status.OPEN
            ):
                return d
        return None

    def _open_check(self, project_id: int, number: int) -> None:
        if self._open(project_id, number) is not None:
            raise InvalidTransition(
                f"Milestone {number} of project {project_id} is already disputed."
            )

    def _set(self, dispute: Dispute, to: str, **fields: Any) -> None:
        if not dispute.can_transition(to):
            raise InvalidTransition(
                f"A {dispute.status} dispute cannot become {to}.",
                extra={"status": dispute.status, "to": to},
            )
        dispute.status = to
        for name, value in fields.items():
            setattr(dispute, name, value)
        if dispute.pk is not None:
            self.changed[id(dispute)] = dispute

    def _close(
        self,
        dispute: Dispute,
        tx_id: str,
        in_favor_of: str,
        reason: str,
        closed_at: datetime,
        notify: bool,
    ) -> Dispute:
        self._set(
            dispute,
            Dispute.Status.RESOLVED,
            resolved_in_favor_of=in_favor_of,
            close_reason=reason,
            resolved_tx_id=tx_id,
            resolved_at=closed_at,
        )
        if notify:
            message = _closed_news(self.projects[dispute.project_id], dispute)
            self._tell(dispute, Notification.Type.DISPUTE_RESOLVED, message)
        return dispute

    def _tell(self, dispute: Dispute, type: str, message: str, *, reviewers: bool = False) -> None:
        self.news.append(_News(dispute, type, message, reviewers))

    def _drafts(self, news: _News) -> list[NotificationDraft]:
        dispute = news.dispute
        project = self.projects[dispute.project_id]
        if news.reviewers:
            if self._reviewers is None:
                self._reviewers = reviewer_addresses()
            recipients, link = self._reviewers, dispute_review_link(dispute.pk)
        else:
            recipients = [project.client_address, project.freelancer_address]
            link = project_link(project.pk)
        return _dispute_drafts(project, dispute, recipients, news.type, news.message, link)


def _dispute_drafts(
    project: Project,
    dispute: Dispute,
    recipients: Iterable[str],
    type: str,
    message: str,
    link: str,
) -> list[NotificationDraft]:
    """One notification about `dispute` to each recipient (blank ones and repeats dropped)."""
    payload = {"disputeId": dispute.pk, "milestone": dispute.milestone_number}
    return [
        NotificationDraft(r, type, message, project.pk, link, payload)
        for r in dict.fromkeys(r for r in recipients if r)
    ]


def _check_close(*, reason: str, in_favor_of: str, **_: Any) -> None:
    if reason not in Reason.values:
        raise InvalidInput(f"{reason} does not close a dispute.", field="reason")
    if in_favor_of not in ("", *Dispute.Party.values):
        raise InvalidInput("Must be client, freelancer or empty.", field="in_favor_of")


def _check_project_close(*, reason: str, **_: Any) -> None:
    if reason not in PROJECT_CLOSING:
        raise InvalidInput(f"{reason} does not close every dispute of a project.", field="reason")


def _role(project: Project, address: str) -> str:
    return "client" if address == project.client_address else "freelancer"


def _title(project: Project, dispute: Dispute) -> str:
    return f"“{project.title}”, milestone {dispute.milestone_number}"


def _closed_news(project: Project, dispute: Dispute) -> str:
    title = _title(project, dispute)
    reason = dispute.close_reason
    if reason == Reason.MILESTONE_RESET:
        return f"The dispute on {title} is closed: the milestone was reset."
    if reason == Reason.MILESTONE_RELEASED:
        return f"The dispute on {title} is closed: the client released the payment."
    if reason in PROJECT_CLOSING:
        return f"The dispute on {title} is closed: the escrow was refunded to the client."
    side = "freelancer" if dispute.resolved_in_favor_of == Dispute.Party.FREELANCER else "client"
    return f"The dispute on {title} is resolved in favour of the {side}."


# --- one event at a time ------------------------------------------------------------------------


def _one_event(
    event: Callable[Concatenate[DisputeBook, P], R], check: Callable[..., None]
) -> Callable[P, R]:
    """The service for one event of the book (same keywords as `event`): `check` the input
    before any lock, lock the project, a book of it, the event, save, notify."""

    @transaction.atomic
    def service(*args: P.args, **kwargs: P.kwargs) -> R:
        check(**kwargs)
        book = DisputeBook.of([project_lock(kwargs["project_id"])])
        result = event(book, *args, **kwargs)
        notifications_create(drafts=book.save())
        return result

    service.__doc__ = f"{event.__doc__}\n\nFor one event: DisputeBook.{event.__name__}."
    return service


# dispute-filed for a linked project.
dispute_chain_filed = _one_event(DisputeBook.filed, check=lambda **_: None)
# An event that closes the open dispute on one milestone.
dispute_chain_closed = _one_event(DisputeBook.closed, check=_check_close)
# A refund: every open dispute of the project closes for the client.
project_disputes_chain_closed = _one_event(DisputeBook.project_closed, check=_check_project_close)
