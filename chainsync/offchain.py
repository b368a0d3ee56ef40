"""The off-chain side of a batch: link the off-chain project funded by a project-created tx,
and keep each linked project in step with the projection, telling its parties what changed.

`Offchain.load` reads (and locks, in pk order) every off-chain project a batch can touch, with
its milestones, in a few queries. `event_sync` then runs once per applied event, in chain order,
on the project's rows in memory: statuses are derived from the projection after that event (so a
replay gives the same result) and reached one legal transition at a time, along the projects'
transition tables, exactly as the projects services would (same checks, same errors). An event
whose step fails leaves no trace off chain (it works on a copy) and gets the reason as its error;
the chain is right whatever happens here. `save` writes the rows that changed and the
notifications in a few statements, once per batch.

Notifications are one per transition and event, as if applied one event at a time; DISPUTE_FILED
and DISPUTE_RESOLVED are per event (`_event_news`, where the dispute records of the projects app
are kept in step event by event)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime

from django.db.models import Count, Q
from django.utils import timezone

from chainsync.bulk import rows_update
from chainsync.models import ChainEvent, ChainProject, ChainTransaction
from chainsync.projection import Applied, Projection
from notifications.events import project_link
from notifications.models import Notification
from notifications.services import NotificationDraft, notifications_create
from projects.models import Milestone, Project
from projects.services import DisputeBook
from stxworx.errors import ApplicationError, InvalidTransition, NotFound

S, M = Project.Status, Milestone.Status
PROJECT_FIELDS = ["status", "on_chain_id", "funding_tx_id", "funding_error", "updated_at"]

# How the indexer walks a project from one chain-derived status to another: (step, to, source).
PROJECT_PATHS: dict[tuple[str, str], list[str]] = {
    (S.PENDING, S.ACTIVE): ["activate"],
    (S.ACTIVE, S.DISPUTED): ["dispute_open"],
    (S.DISPUTED, S.ACTIVE): ["dispute_close"],
    (S.ACTIVE, S.COMPLETED): ["complete"],
    (S.DISPUTED, S.COMPLETED): ["dispute_close", "complete"],
    (S.PENDING, S.REFUNDED): ["refund"],
    (S.ACTIVE, S.REFUNDED): ["refund"],
    (S.DISPUTED, S.REFUNDED): ["refund"],
}
STEPS = {  # step -> (to, only from); as projects.services project_<step>
    "activate": (S.ACTIVE, S.PENDING),
    "dispute_open": (S.DISPUTED, None),
    "dispute_close": (S.ACTIVE, S.DISPUTED),
    "complete": (S.COMPLETED, None),
    "refund": (S.REFUNDED, None),
}
PROJECT_NEWS = {
    S.ACTIVE: (Notification.Type.PROJECT_FUNDED, "The escrow is funded; work can start."),
    S.COMPLETED: (Notification.Type.PAYMENT_RELEASED, "Every milestone is paid."),
    S.REFUNDED: (Notification.Type.REFUND_ISSUED, "The escrow was refunded to the client."),
}


def project_status_from_chain(projection: Projection, chain: ChainProject) -> str:
    milestones = projection.milestones[chain.on_chain_id].values()
    if chain.refunded:
        return S.REFUNDED
    if milestones and all(m.released for m in milestones):
        return S.COMPLETED
    if projection.open_disputes(chain):
        return S.DISPUTED
    return S.ACTIVE


def milestone_statuses_from_chain(projection: Projection, chain: ChainProject) -> dict[int, str]:
    open_slots = {d.slot for d in projection.open_disputes(chain)}
    out = {}
    for slot, m in sorted(projection.milestones[chain.on_chain_id].items()):
        if m.released:
            out[slot] = M.APPROVED if m.released_to == chain.freelancer else M.REFUNDED
        elif chain.refunded:
            out[slot] = M.REFUNDED
        elif slot in open_slots:
            out[slot] = M.DISPUTED
        elif m.complete:
            out[slot] = M.SUBMITTED
        else:
            out[slot] = M.LOCKED
    return out


@dataclass
class State:
    """What the chain sets on an off-chain project, in memory."""

    status: str
    on_chain_id: int | None
    funding_tx_id: str
    funding_error: str
    milestones: dict[int, tuple[str, str]]  # number -> (status, tx_hash)

    def copy(self) -> State:
        return replace(self, milestones=dict(self.milestones))


@dataclass
class Offchain:
    """The off-chain projects of one batch: linked to its on-chain projects or funded by its
    project-created txs (locked), their state in memory, and the news to send."""

    projection: Projection
    rows: dict[int, Project]
    stored: dict[int, State]  # as loaded
    states: dict[int, State]  # as the batch leaves them
    funded: dict[str, int]  # funding tx -> the project it funds (the newest recorded)
    linked: set[int]  # off-chain projects linked to an on-chain one
    reviews: dict[int, int]
    milestone_rows: dict[int, dict[int, Milestone]]  # pk -> number -> row
    disputes: DisputeBook  # the projects' dispute records (projects.services)
    block_times: dict[str, datetime]  # tx -> its block's time, for the batch's dispute events
    news: list[NotificationDraft] = field(default_factory=list)

    @classmethod
    def load(cls, projection: Projection, batch: Iterable[ChainEvent]) -> Offchain:
        """Lock and read the off-chain projects the batch can touch: four queries, none when
        there are none."""
        created = {e.tx_id for e in batch if e.event_name == "project-created"}
        linked = {p.project_id for p in projection.projects.values() if p.project_id}
        rows: dict[int, Project] = {}
        if created or linked:
            query = Project.objects.select_for_update().filter(
                Q(pk__in=linked) | Q(funding_tx_id__in=created)
            )
            rows = {p.pk: p for p in query.order_by("pk")}
        funded: dict[str, int] = {}
        for p in sorted(rows.values(), key=lambda p: (p.created_at, p.pk)):
            if p.funding_tx_id in created:
                funded[p.funding_tx_id] = p.pk  # as .first() under Project's ordering
        milestone_rows: dict[int, dict[int, Milestone]] = {pk: {} for pk in rows}
        if rows:
            for m in Milestone.objects.filter(project_id__in=rows).order_by("number"):
                milestone_rows[m.project_id][m.number] = m
        states = {pk: _state(row, milestone_rows[pk]) for pk, row in rows.items()}
        candidates = set(funded.values()) - linked
        if candidates:
            chains = ChainProject.objects.filter(project_id__in=candidates)
            linked |= set(chains.values_list("project_id", flat=True))
        reviews = dict(
            Project.objects.filter(pk__in=rows).annotate(n=Count("reviews")).values_list("pk", "n")
            if rows
            else {}
        )
        stored = {pk: state.copy() for pk, state in states.items()}
        numbers = {pk: set(by_number) for pk, by_number in milestone_rows.items()}
        disputes = DisputeBook(rows.values(), numbers)
        return cls(
            projection,
            rows,
            stored,
            states,
            funded,
            linked,
            reviews,
            milestone_rows,
            disputes,
            _block_times(batch) if rows else {},
        )

    def amounts(self, tx_id: str) -> list[int] | None:
        """Gross amounts, by milestone number, of the off-chain project funded by `tx_id`."""
        pk = self.funded.get(tx_id)
        if pk is None:
            return None
        return [m.amount for m in self.milestone_rows[pk].values()]

    # --- per event ---

    def event_sync(self, event: ChainEvent, applied: Applied, *, notify: bool) -> str:
        """The off-chain step of an applied event: the reason it failed, or ""."""
        chain = applied.project
        if chain is None:
            return ""
        if event.event_name == "project-created":
            pk = self.funded.get(event.tx_id)
            if pk is None or pk in self.linked:
                return ""  # an on-chain-only project: indexed all the same
        elif chain.project_id is None:
            return ""  # an on-chain-only project: nothing off chain to keep in step
        else:
            pk = chain.project_id
        step = Step(self, self.rows[pk], self.states[pk].copy(), event, notify)
        try:
            step.run(chain, split_corrected=applied.split_corrected)
        except ApplicationError as exc:
            return f"off-chain project not updated: {exc.message}"
        self.states[pk] = step.state
        self.news += step.news
        if step.linked is not None:
            self.projection.project_link(chain, pk if step.linked else None)
            (self.linked.add if step.linked else self.linked.discard)(pk)
        return ""

    # --- writing back ---

    def save(self) -> None:
        """Write the projects and milestones that changed, and the news (pushed after commit)."""
        now = timezone.now()
        projects, milestones = [], []
        for pk, state in sorted(self.states.items()):
            before, row = self.stored[pk], self.rows[pk]
            if (state.status, state.on_chain_id, state.funding_tx_id, state.funding_error) != (
                before.status,
                before.on_chain_id,
                before.funding_tx_id,
                before.funding_error,
            ):
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
        notifications_create(drafts=self.news + self.disputes.save())


def _state(row: Project, milestones: dict[int, Milestone]) -> State:
    return State(
        row.status,
        row.on_chain_id,
        row.funding_tx_id,
        row.funding_error,
        {n: (m.status, m.tx_hash) for n, m in milestones.items()},
    )


@dataclass
class Step:
    """One event's off-chain step for one project, on a copy of its state."""

    offchain: Offchain
    project: Project
    state: State
    event: ChainEvent
    notify: bool
    news: list[NotificationDraft] = field(default_factory=list)
    linked: bool | None = None  # True: link the on-chain project to it; False: unlink it

    def run(self, chain: ChainProject, *, split_corrected: bool) -> None:
        if self.event.event_name == "project-created":
            problem = self._disagreement(chain)
            if problem:  # as projects.services.project_funding_reject
                self.state.funding_error = problem[:2000]
                return
            self.linked = True
        elif split_corrected:
            self._unlink_for(chain)
            return
        self._sync(chain)
        self._event_news()

    def _disagreement(self, chain: ChainProject) -> str:
        project, state = self.project, self.state
        if state.status != S.PENDING:
            return f"the project is {state.status}, not pending"
        if chain.client != project.client_address:
            return f"client {chain.client} is not the project's client"
        if chain.freelancer != project.freelancer_address:
            return f"freelancer {chain.freelancer} is not the accepted freelancer"
        if chain.token != project.token:
            return f"token {chain.token} is not the project's {project.token}"
        rows = self.offchain.projection.milestones[chain.on_chain_id]
        on_chain = {slot: int(m.gross_amount) for slot, m in sorted(rows.items())}
        rows_off = self.offchain.milestone_rows[project.pk]
        off_chain = {n: m.amount for n, m in rows_off.items()}
        if on_chain != off_chain:
            return f"milestone amounts {on_chain} are not the project's {off_chain}"
        return ""

    def _unlink_for(self, chain: ChainProject) -> None:
        """The chain's milestone amounts turned out to be another split than the project's: it
        was never funded on its terms. As a rebuild would leave it: unlinked, pending, the
        disagreement recorded (projects.services.project_chain_unlink, then
        project_funding_reject)."""
        state = self.state
        state.status, state.on_chain_id = S.PENDING, None
        state.milestones = {n: (M.LOCKED, "") for n in state.milestones}
        state.funding_error = self._disagreement(chain)[:2000]
        self.linked = False

    # --- statuses, as projects.services moves them ---

    def _sync(self, chain: ChainProject) -> None:
        projection = self.offchain.projection
        for number, status in milestone_statuses_from_chain(projection, chain).items():
            current = self.state.milestones.get(number)
            if current is not None and current[0] == status:
                continue
            if current is None:
                raise NotFound(f"Project {self.project.pk} has no milestone {number}.")
            if status not in Milestone.TRANSITIONS[current[0]]:
                raise InvalidTransition(
                    f"Milestone {number} cannot go from {current[0]} to {status}."
                )
            self.state.milestones[number] = (status, self.event.tx_id or current[1])
            self._milestone_news(number, status)
        self._project_move(chain, project_status_from_chain(projection, chain))

    def _transition(self, to: str, source: str | None) -> None:
        current = self.state.status
        if to not in Project.TRANSITIONS[current] or (source is not None and current != source):
            raise InvalidTransition(f"A {current} project cannot become {to}.")
        self.state.status = to

    def _project_move(self, chain: ChainProject, target: str) -> None:
        current = self.state.status
        if current == target or (current == S.REVIEWED and target == S.COMPLETED):
            return
        path = PROJECT_PATHS.get((current, target))
        if path is None:  # reported on the event; verify_sync and resync repair it
            raise InvalidTransition(
                f"No chain path from {current} to {target} for project {self.project.pk}."
            )
        for step in path:
            self._transition(*STEPS[step])
            if step == "activate":
                self.state.on_chain_id, self.state.funding_tx_id = (
                    chain.on_chain_id,
                    chain.created_tx,
                )
        if target == S.COMPLETED and self.offchain.reviews.get(self.project.pk, 0) == 2:
            # Completed again after a fork or a rebuild: reviews given before still count.
            self._transition(S.REVIEWED, None)
        if target in PROJECT_NEWS and not (current == S.DISPUTED and target == S.ACTIVE):
            kind, text = PROJECT_NEWS[target]
            self._tell(self._parties(), kind, f"“{self.project.title}”: {text}")

    # --- news ---

    def _parties(self) -> list[str]:
        return [self.project.client_address, self.project.freelancer_address]

    def _tell(self, recipients: list[str], type: str, message: str) -> None:
        if not self.notify:
            return
        pk = self.project.pk
        payload = {"txId": self.event.tx_id, "event": self.event.event_name}
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

    def _event_news(self) -> None:
        """What this event itself means for the project's disputes: the projects app's dispute
        records follow it (projects.services.DisputeBook: checked before anything changes, so a
        refused event leaves no trace) and tell the parties, and the reviewers of a new one."""
        name, payload = self.event.event_name, self.event.payload
        if name != "dispute-filed" and name not in DISPUTE_CLOSING:
            return
        book, event = self.offchain.disputes, self.event
        common = {"project_id": self.project.pk, "tx_id": event.tx_id, "notify": self.notify}
        at = self.offchain.block_times.get(event.tx_id) or timezone.now()
        if name == "dispute-filed":
            book.filed(
                **common,
                number=payload["milestone"],
                filed_by=payload["filed-by"],
                block_height=event.block_height,
                filed_at=at,
            )
        elif DISPUTE_CLOSING[name] is None:  # a refund: every open dispute, for the client
            book.project_closed(**common, reason=name, closed_at=at)
        else:
            favour = DISPUTE_CLOSING[name]
            if name == "dispute-resolved":
                favour = "freelancer" if payload["released-to-freelancer"] else "client"
            book.closed(
                **common, number=payload["milestone"], in_favor_of=favour, reason=name, closed_at=at
            )


# The events that close a dispute (CONTRACT.md) -> in whose favour ("" for dispute-resolved:
# its released-to-freelancer says); None: every open dispute of the project, for the client.
DISPUTE_EVENTS = {
    "dispute-filed",
    "dispute-resolved",
    "milestone-released",
    "force-released",
    "milestone-reset",
    "full-refund",
    "emergency-refund",
    "force-refund",
}
DISPUTE_CLOSING: dict[str, str | None] = {
    "dispute-resolved": "",
    "milestone-released": "freelancer",
    "force-released": "freelancer",
    "milestone-reset": "",
    "full-refund": None,
    "emergency-refund": None,
    "force-refund": None,
}


def _block_times(batch: Iterable[ChainEvent]) -> dict[str, datetime]:
    """When the blocks of the batch's dispute events were made (their calls' block_time): one
    query, none when the batch has no such event."""
    tx_ids = {e.tx_id for e in batch if e.event_name in DISPUTE_EVENTS}
    if not tx_ids:
        return {}
    rows = ChainTransaction.objects.filter(tx_id__in=tx_ids, block_time__isnull=False)
    return dict(rows.values_list("tx_id", "block_time"))
