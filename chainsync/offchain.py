"""Keep the off-chain project linked to an on-chain one in step with the projection, through the
projects services, and tell its parties what changed. Statuses are derived from the projection
(so a replay gives the same result) and reached one legal transition at a time."""

from __future__ import annotations

from dataclasses import dataclass

from chainsync.models import ChainDispute, ChainEvent, ChainProject
from notifications.events import project_link
from notifications.models import Notification
from notifications.services import notification_create
from projects import services as projects
from projects.models import Milestone, Project
from stxworx.errors import InvalidTransition

S, M = Project.Status, Milestone.Status

# How the indexer walks a project from one chain-derived status to another.
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


def project_status_from_chain(chain: ChainProject) -> str:
    milestones = list(chain.milestones.all())
    if chain.refunded:
        return S.REFUNDED
    if milestones and all(m.released for m in milestones):
        return S.COMPLETED
    if chain.disputes.filter(status=ChainDispute.Status.OPEN).exists():
        return S.DISPUTED
    return S.ACTIVE


def milestone_statuses_from_chain(chain: ChainProject) -> dict[int, str]:
    open_slots = set(
        chain.disputes.filter(status=ChainDispute.Status.OPEN).values_list("slot", flat=True)
    )
    out = {}
    for m in chain.milestones.all():
        if m.released:
            out[m.slot] = M.APPROVED if m.released_to == chain.freelancer else M.REFUNDED
        elif chain.refunded:
            out[m.slot] = M.REFUNDED
        elif m.slot in open_slots:
            out[m.slot] = M.DISPUTED
        elif m.complete:
            out[m.slot] = M.SUBMITTED
        else:
            out[m.slot] = M.LOCKED
    return out


@dataclass
class Sync:
    project: Project
    event: ChainEvent
    notify: bool

    def tell(self, recipients: list[str], type: str, message: str) -> None:
        if not self.notify:
            return
        for recipient in dict.fromkeys(r for r in recipients if r):
            notification_create(
                recipient=recipient,
                type=type,
                project_id=self.project.pk,
                message=message,
                link=project_link(self.project.pk),
                payload={"txId": self.event.tx_id, "event": self.event.event_name},
            )


def offchain_sync(chain: ChainProject, event: ChainEvent, *, notify: bool) -> None:
    """Bring the linked off-chain project to what the projection says, after `event`."""
    if chain.project_id is None:
        return
    project = Project.objects.get(pk=chain.project_id)
    sync = Sync(project, event, notify)
    current = dict(project.milestones.values_list("number", "status"))
    for number, status in milestone_statuses_from_chain(chain).items():
        if current.get(number) == status:
            continue  # one read instead of a locked read per milestone per event
        if projects.milestone_chain_status(
            project_id=project.pk, number=number, status=status, tx_id=event.tx_id
        ):
            _milestone_news(sync, number, status)
    _project_move(sync, chain, project_status_from_chain(chain))


def _project_move(sync: Sync, chain: ChainProject, target: str) -> None:
    project = sync.project
    current = project.status
    if current == target or (current == S.REVIEWED and target == S.COMPLETED):
        return
    path = PROJECT_PATHS.get((current, target))
    if path is None:  # reported on the event; verify_sync and resync repair it
        raise InvalidTransition(
            f"No chain path from {current} to {target} for project {project.pk}."
        )
    for step in path:
        if step == "activate":
            projects.project_activate(
                project_id=project.pk,
                on_chain_id=chain.on_chain_id,
                funding_tx_id=chain.created_tx,
            )
        else:
            getattr(projects, f"project_{step}")(project_id=project.pk)
    if target == S.COMPLETED:
        # Completed again after a fork or a rebuild: reviews given before still count.
        projects.project_reviewed_restore(project_id=project.pk)
    parties = [project.client_address, project.freelancer_address]
    news = {
        S.ACTIVE: (Notification.Type.PROJECT_FUNDED, "The escrow is funded; work can start."),
        S.COMPLETED: (Notification.Type.PAYMENT_RELEASED, "Every milestone is paid."),
        S.REFUNDED: (Notification.Type.REFUND_ISSUED, "The escrow was refunded to the client."),
    }
    if target in news and not (current == S.DISPUTED and target == S.ACTIVE):
        sync.tell(parties, news[target][0], f"“{project.title}”: {news[target][1]}")


def _milestone_news(sync: Sync, number: int, status: str) -> None:
    p = sync.project
    title = f"“{p.title}”, milestone {number}"
    both = [p.client_address, p.freelancer_address]
    if status == M.SUBMITTED:
        sync.tell(
            [p.client_address],
            Notification.Type.MILESTONE_SUBMITTED,
            f"{title} is marked complete; review and release it.",
        )
    elif status == M.APPROVED:
        sync.tell(
            [p.freelancer_address], Notification.Type.PAYMENT_RELEASED, f"{title} was paid to you."
        )
        sync.tell([p.client_address], Notification.Type.MILESTONE_APPROVED, f"{title} is released.")
    elif status == M.DISPUTED:
        sync.tell(both, Notification.Type.DISPUTE_FILED, f"{title} is disputed.")
    elif status == M.REFUNDED:
        sync.tell(both, Notification.Type.REFUND_ISSUED, f"{title} was refunded to the client.")
    if status in (M.APPROVED, M.REFUNDED) and sync.event.event_name == "dispute-resolved":
        sync.tell(both, Notification.Type.DISPUTE_RESOLVED, f"The dispute on {title} is resolved.")
