"""The chain-driven lifecycle of projects and milestones (indexer only), for a batch of events.

`ChainBook` holds some projects, their milestones and disputes in memory: `load` reads (and
locks, in pk order) every project a batch can touch in a few queries, `event` runs once per
applied event in chain order with what the chain says of the project after it (`ChainFacts`,
plain values the indexer hands in: this app never reads the chain), and `save` writes the rows
that changed and the news in a few statements, once per batch.

Statuses are reached one legal transition at a time along the transition tables of
projects.models (`_transition`, `_milestone_move`: the one implementation of each rule, also
behind the one-event services of projects.services.lifecycle, which run a book of one project).
An event whose step fails leaves no trace (it works on a copy of the project's state) and raises
the reason. Notifications are one per transition and event, as if applied one at a time; the
dispute records follow the event (projects.services.disputes_chain.DisputeBook)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, Q
from django.utils import timezone

from notifications.events import project_link
from notifications.models import Notification
from notifications.services import NotificationDraft, notifications_create
from projects.models import Milestone, Project
from projects.services.disputes_chain import DisputeBook
from projects.services.locks import project_lock
from stxworx.errors import InvalidTransition, NotFound
from stxworx.sql import rows_update

S, M = Project.Status, Milestone.Status
PROJECT_FIELDS = ["status", "on_chain_id", "funding_tx_id", "funding_error", "updated_at"]
# How the chain walks a project from one status to another: the transitions, in order.
PROJECT_PATHS: dict[tuple[str, str], list[tuple[str, str | None]]] = {  # (to, only from)
    (S.PENDING, S.ACTIVE): [(S.ACTIVE, S.PENDING)],
    (S.ACTIVE, S.DISPUTED): [(S.DISPUTED, None)],
    (S.DISPUTED, S.ACTIVE): [(S.ACTIVE, S.DISPUTED)],
    (S.ACTIVE, S.COMPLETED): [(S.COMPLETED, None)],
    (S.DISPUTED, S.COMPLETED): [(S.ACTIVE, S.DISPUTED), (S.COMPLETED, None)],
    (S.PENDING, S.REFUNDED): [(S.REFUNDED, None)],
    (S.ACTIVE, S.REFUNDED): [(S.REFUNDED, None)],
    (S.DISPUTED, S.REFUNDED): [(S.REFUNDED, None)],
}
PROJECT_NEWS = {
    S.ACTIVE: (Notification.Type.PROJECT_FUNDED, "The escrow is funded; work can start."),
    S.COMPLETED: (Notification.Type.PAYMENT_RELEASED, "Every milestone is paid."),
    S.REFUNDED: (Notification.Type.REFUND_ISSUED, "The escrow was refunded to the client."),
}


@dataclass(frozen=True)
class DisputeFact:
    """What an event does to the project's disputes: `filed` (number, filed_by), `closed`
    (number, in_favor_of) or `project_closed` (every open one, for the client); `reason` is
    the closing event's name."""

    kind: str
    number: int = 0
    filed_by: str = ""
    in_favor_of: str = ""
    reason: str = ""


@dataclass(slots=True)
class ChainFacts:
    """What the chain says of one on-chain project after one event, as the indexer reads it."""

    tx_id: str
    event_name: str
    block_height: int
    at: datetime | None  # the event's block time, when known
    on_chain_id: int
    created_tx: str
    client: str
    freelancer: str
    token: str
    amounts: dict[int, int]  # gross amount by milestone slot (to check the terms of a funding)
    status: str  # the project status the chain implies
    milestones: dict[int, str]  # slot -> the milestone status the chain implies
    funding: bool = False  # project-created: link the funded project if the terms agree
    split_corrected: bool = False  # the amounts turned out to be another split
    dispute: DisputeFact | None = None
    notify: bool = True


@dataclass
class State:
    """What the chain sets on a project, in memory."""

    status: str
    on_chain_id: int | None
    funding_tx_id: str
    funding_error: str
    milestones: dict[int, tuple[str, str]]  # number -> (status, tx_hash)

    def copy(self) -> State:
        return State(
            self.status,
            self.on_chain_id,
            self.funding_tx_id,
            self.funding_error,
            dict(self.milestones),
        )

    def key(self) -> tuple[str, int | None, str, str]:
        return (self.status, self.on_chain_id, self.funding_tx_id, self.funding_error)


def _transition(state: State, to: str, source: str | None = None) -> None:
    """Move a project to `to` (only from `source`, when given), along Project.TRANSITIONS."""
    current = state.status
    if to not in Project.TRANSITIONS[current] or (source is not None and current != source):
        raise InvalidTransition(
            f"A {current} project cannot become {to}.", extra={"status": current, "to": to}
        )
    state.status = to


def _milestone_move(state: State, pk: int, number: int, status: str, tx_id: str) -> bool:
    """Move a milestone to `status` along Milestone.TRANSITIONS; whether it changed."""
    current = state.milestones.get(number)
    if current is None:
        raise NotFound(f"Project {pk} has no milestone {number}.")
    if current[0] == status:
        return False
    if status not in Milestone.TRANSITIONS[current[0]]:
        raise InvalidTransition(f"Milestone {number} cannot go from {current[0]} to {status}.")
    state.milestones[number] = (status, tx_id or current[1])
    return True


class ChainBook:
    """Some projects (locked by the caller's transaction), their chain-driven state in memory."""

    def __init__(
        self, rows: dict[int, Project], milestone_rows: dict[int, dict[int, Milestone]]
    ) -> None:
        self.rows = rows
        self.milestone_rows = milestone_rows  # pk -> number -> row
        self.states = {pk: _state(row, milestone_rows[pk]) for pk, row in rows.items()}
        self.stored = {pk: state.copy() for pk, state in self.states.items()}
        numbers = {pk: set(by_number) for pk, by_number in milestone_rows.items()}
        self.disputes = DisputeBook(rows.values(), numbers)
        self.funded: dict[str, int] = {}  # funding tx -> the project it funds (the newest)
        self.news: list[NotificationDraft] = []
        self._reviews: dict[int, int] | None = None

    @classmethod
    def load(cls, *, pks: Iterable[int], funding_txs: set[str]) -> ChainBook:
        """Lock and read the projects `pks` and those funded by `funding_txs`, with their
        milestones: two queries, none when there are none."""
        pks = set(pks)
        rows: dict[int, Project] = {}
        if pks or funding_txs:
            query = Project.objects.select_for_update().filter(
                Q(pk__in=pks) | Q(funding_tx_id__in=funding_txs)
            )
            rows = {p.pk: p for p in query.order_by("pk")}
        book = cls(rows, _milestones(rows))
        for p in sorted(rows.values(), key=lambda p: (p.created_at, p.pk)):
            if p.funding_tx_id in funding_txs:
                book.funded[p.funding_tx_id] = p.pk  # as .first() under Project's ordering
        return book

    @classmethod
    def of(cls, project_id: int) -> ChainBook:
        """A book of one project, locked (NotFound when there is none)."""
        row = project_lock(project_id)
        return cls({row.pk: row}, _milestones({row.pk: row}))

    def reviews(self, pk: int) -> int:
        """How many reviews the project has (one query for the book, the first time)."""
        if self._reviews is None:
            query = Project.objects.filter(pk__in=self.rows).annotate(n=Count("reviews"))
            self._reviews = dict(query.values_list("pk", "n"))
        return self._reviews.get(pk, 0)

    # --- one change, as the one-event services make it ---

    def transition(self, pk: int, to: str, source: str | None = None, **fields: object) -> None:
        state = self.states[pk].copy()
        _transition(state, to, source)
        for name, value in fields.items():
            setattr(state, name, value)
        self.states[pk] = state

    def milestone_status(self, pk: int, number: int, status: str, tx_id: str = "") -> bool:
        return _milestone_move(self.states[pk], pk, number, status, tx_id)

    def reviewed_restore(self, pk: int) -> None:
        if self.states[pk].status == S.COMPLETED and self.reviews(pk) == 2:
            self.transition(pk, S.REVIEWED)

    # --- per event ---

    def event(self, pk: int, facts: ChainFacts) -> bool | None:
        """Keep project `pk` in step with the chain after one event. Returns True when the
        on-chain project is now linked to it, False when unlinked, None otherwise. Raises
        ApplicationError (the step is dropped whole)."""
        step = _Step(self, self.rows[pk], self.states[pk].copy(), facts)
        step.run()
        self.states[pk] = step.state
        self.news += step.news
        return step.linked

    # --- writing back ---

    def save(self) -> None:
        """Write the projects and milestones that changed, and the news (pushed after commit)."""
        now = timezone.now()
        projects, milestones = [], []
        for pk, state in sorted(self.states.items()):
            before, row = self.stored[pk], self.rows[pk]
            if state.key() != before.key():
                row.status, row.on_chain_id = state.status, state.on_chain_id
                row.funding_tx_id, row.funding_error = state.funding_tx_id, state.funding_error
                row.updated_at = now
                projects.append(row)
            for number, value in state.milestones.items():
                if value != before.milestones.get(number):
                    m = self.milestone_rows[pk][number]
                    m.status, m.tx_hash = value
                    milestones.append(m)
        rows_update(Project, projects, PROJECT_FIELDS)
        rows_update(Milestone, milestones, ["status", "tx_hash"])
        self.stored = {pk: state.copy() for pk, state in self.states.items()}
        notifications_create(drafts=self.news + self.disputes.save())
        self.news = []


def _milestones(rows: dict[int, Project]) -> dict[int, dict[int, Milestone]]:
    by_project: dict[int, dict[int, Milestone]] = {pk: {} for pk in rows}
    if rows:
        for m in Milestone.objects.filter(project_id__in=rows).order_by("number"):
            by_project[m.project_id][m.number] = m
    return by_project


def _state(row: Project, milestones: dict[int, Milestone]) -> State:
    return State(
        row.status,
        row.on_chain_id,
        row.funding_tx_id,
        row.funding_error,
        {n: (m.status, m.tx_hash) for n, m in milestones.items()},
    )


@dataclass
class _Step:
    """One event's step for one project, on a copy of its state."""

    book: ChainBook
    project: Project
    state: State
    facts: ChainFacts
    news: list[NotificationDraft] = field(default_factory=list)
    linked: bool | None = None

    def run(self) -> None:
        facts = self.facts
        if facts.funding:
            problem = self._disagreement()
            if problem:  # as project_funding_reject
                self.state.funding_error = problem[:2000]
                return
            self.linked = True
        elif facts.split_corrected:
            self._unlink()
            return
        for number, status in facts.milestones.items():
            if _milestone_move(self.state, self.project.pk, number, status, facts.tx_id):
                self._milestone_news(number, status)
        self._project_move(facts.status)
        self._disputes()

    def _disagreement(self) -> str:
        project, state, facts = self.project, self.state, self.facts
        if state.status != S.PENDING:
            return f"the project is {state.status}, not pending"
        if facts.client != project.client_address:
            return f"client {facts.client} is not the project's client"
        if facts.freelancer != project.freelancer_address:
            return f"freelancer {facts.freelancer} is not the accepted freelancer"
        if facts.token != project.token:
            return f"token {facts.token} is not the project's {project.token}"
        off_chain = {n: m.amount for n, m in self.book.milestone_rows[project.pk].items()}
        if facts.amounts != off_chain:
            return f"milestone amounts {facts.amounts} are not the project's {off_chain}"
        return ""

    def _unlink(self) -> None:
        """The chain's milestone amounts are another split than the project's: it was never
        funded on its terms. As a rebuild would leave it (project_chain_unlink, then
        project_funding_reject): unlinked, pending, milestones locked, the disagreement kept."""
        state = self.state
        state.status, state.on_chain_id = S.PENDING, None
        state.milestones = {n: (M.LOCKED, "") for n in state.milestones}
        state.funding_error = self._disagreement()[:2000]
        self.linked = False

    def _project_move(self, target: str) -> None:
        current = self.state.status
        if current == target or (current == S.REVIEWED and target == S.COMPLETED):
            return
        path = PROJECT_PATHS.get((current, target))
        if path is None:  # reported on the event; verify_sync and resync repair it
            raise InvalidTransition(
                f"No chain path from {current} to {target} for project {self.project.pk}."
            )
        for to, source in path:
            _transition(self.state, to, source)
            if to == S.ACTIVE and source == S.PENDING:  # as project_activate
                self.state.on_chain_id = self.facts.on_chain_id
                self.state.funding_tx_id = self.facts.created_tx
        if target == S.COMPLETED and self.book.reviews(self.project.pk) == 2:
            # Completed again after a fork or a rebuild: reviews given before still count.
            _transition(self.state, S.REVIEWED)
        if target in PROJECT_NEWS and not (current == S.DISPUTED and target == S.ACTIVE):
            kind, text = PROJECT_NEWS[target]
            self._tell(self._parties(), kind, f"“{self.project.title}”: {text}")

    def _disputes(self) -> None:
        """The projects' dispute records follow the event (DisputeBook: checked before anything
        changes, so a refused event leaves no trace) and tell the parties and reviewers."""
        fact, facts = self.facts.dispute, self.facts
        if fact is None:
            return
        book = self.book.disputes
        common = {"project_id": self.project.pk, "tx_id": facts.tx_id, "notify": facts.notify}
        at = facts.at or timezone.now()
        if fact.kind == "filed":
            book.filed(
                **common,
                number=fact.number,
                filed_by=fact.filed_by,
                block_height=facts.block_height,
                filed_at=at,
            )
        elif fact.kind == "project_closed":
            book.project_closed(**common, reason=fact.reason, closed_at=at)
        else:
            book.closed(
                **common,
                number=fact.number,
                in_favor_of=fact.in_favor_of,
                reason=fact.reason,
                closed_at=at,
            )

    # --- news ---

    def _parties(self) -> list[str]:
        return [self.project.client_address, self.project.freelancer_address]

    def _tell(self, recipients: list[str], type: str, message: str) -> None:
        if not self.facts.notify:
            return
        pk = self.project.pk
        payload = {"txId": self.facts.tx_id, "event": self.facts.event_name}
        self.news += [
            NotificationDraft(r, type, message, pk, project_link(pk), payload)
            for r in dict.fromkeys(r for r in recipients if r)
        ]

    def _milestone_news(self, number: int, status: str) -> None:
        p = self.project
        title = f"“{p.title}”, milestone {number}"
        if status == M.SUBMITTED:
            self._tell(
                [p.client_address],
                Notification.Type.MILESTONE_SUBMITTED,
                f"{title} is marked complete; review and release it.",
            )
        elif status == M.APPROVED:
            self._tell(
                [p.freelancer_address],
                Notification.Type.PAYMENT_RELEASED,
                f"{title} was paid to you.",
            )
            self._tell(
                [p.client_address], Notification.Type.MILESTONE_APPROVED, f"{title} is released."
            )
        elif status == M.REFUNDED:
            self._tell(
                self._parties(),
                Notification.Type.REFUND_ISSUED,
                f"{title} was refunded to the client.",
            )
