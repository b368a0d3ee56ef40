"""One applied event's off-chain step for one project (`Step`), on a copy of its state in
memory (`State`): the link of a funded project, its statuses reached one legal transition at a
time along the projects' transition tables (same checks, same errors as projects.services), the
dispute records kept in step, and the news for its parties. A step that fails is dropped whole:
the batch keeps the state it had."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.utils import timezone

from chainsync.models import ChainEvent, ChainProject
from chainsync.offchain.rules import (
    DISPUTE_CLOSING,
    PROJECT_NEWS,
    PROJECT_PATHS,
    STEPS,
    M,
    S,
    milestone_statuses_from_chain,
    project_status_from_chain,
)
from notifications.events import project_link
from notifications.models import Notification
from notifications.services import NotificationDraft
from projects.models import Milestone, Project
from stxworx.errors import InvalidTransition, NotFound

if TYPE_CHECKING:
    from chainsync.offchain.batch import Offchain


@dataclass
class State:
    """What the chain sets on an off-chain project, in memory."""

    status: str
    on_chain_id: int | None
    funding_tx_id: str
    funding_error: str
    milestones: dict[int, tuple[str, str]]  # number -> (status, tx_hash)

    def copy(self) -> State:
        """A copy to change (its milestones too), made once per event of a linked project."""
        return State(
            self.status,
            self.on_chain_id,
            self.funding_tx_id,
            self.funding_error,
            dict(self.milestones),
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
