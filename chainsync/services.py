"""Writes to the chain record and the projection. `chain_fetch` brings the contract's new print
events and calls into the append-only log (network first, no lock held); `creation_args_fetch`
looks up the amounts of new projects nothing else gives; `events_apply` applies pending events
to the projection in chain order, in batches."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from chainsync.client import ContractLog, StacksApiClient, TxSummary
from chainsync.events import MalformedEvent, json_safe, print_parse
from chainsync.models import ChainEvent, ChainProject, ChainTransaction, SyncState
from chainsync.offchain import offchain_sync
from chainsync.projection import (
    AUDIT_ONLY,
    FEE_DENOMINATOR,
    MAX_SLOTS,
    PROJECT_HANDLERS,
    AmountsUnknown,
    ProjectionError,
    create_args_amounts,
    on_project_created,
    on_settings,
    settings_get,
)
from projects import services as projects_services
from projects.models import Project
from stxworx.errors import ApplicationError

if TYPE_CHECKING:
    from chainsync.reorg import ReorgResult, TailCheck

T = TypeVar("T")


@dataclass(frozen=True)
class FetchResult:
    transactions: int
    events: int
    malformed: int
    tip_height: int
    tip_hash: str = ""


def sync_state_get(*, contract_id: str) -> SyncState:
    state, _ = SyncState.objects.get_or_create(contract_id=contract_id)
    return state


def _height_of(tx_id: str) -> int:
    if not tx_id:
        return -1
    tx = ChainTransaction.objects.filter(tx_id=tx_id).only("block_height").first()
    return tx.block_height if tx else -1


def chain_fetch(*, client: StacksApiClient, contract_id: str) -> FetchResult:
    """Store the contract's calls and print events that are newer than the last completed walk.

    Walks from the head to older pages and stores each page as it arrives, so memory stays flat
    however long the history. A walk stops at a row stored by an earlier, completed walk (at or
    below the height of the newest one it stored: an interrupted walk is redone from the head,
    and a row orphaned by a fork cannot stop it). Calls are walked before prints, so every
    print's call is stored; a print whose call is newer than that walk waits for the next poll.
    No lock is held during I/O. Malformed prints are stored as failed events, with the reason."""
    requests_before = client.requests_made
    tip = client.status().chain_tip
    state = sync_state_get(contract_id=contract_id)
    newest_tx, tx_count = _walk_transactions(client, contract_id, _height_of(state.newest_tx))
    marker = ChainEvent.objects.filter(tx_id=state.newest_event.partition(":")[0]).values_list(
        "block_height", flat=True
    )
    newest_event, events, malformed = _walk_logs(client, contract_id, max(marker, default=-1))
    with transaction.atomic():
        state = SyncState.objects.select_for_update().get(pk=state.pk)
        state.newest_tx = newest_tx or state.newest_tx
        state.newest_event = newest_event or state.newest_event
        state.chain_tip_height = tip.block_height if tip else state.chain_tip_height
        state.last_poll_at = timezone.now()
        state.api_requests += client.requests_made - requests_before
        state.save(
            update_fields=[
                "newest_tx",
                "newest_event",
                "chain_tip_height",
                "last_poll_at",
                "api_requests",
            ]
        )
    tip_hash = tip.block_hash if tip else ""
    return FetchResult(tx_count, events, malformed, state.chain_tip_height, tip_hash)


def _fresh(
    rows: tuple[T, ...], stored: dict[Any, int], key: Any, known: int
) -> tuple[list[T], bool]:
    """The rows of a newest-first page above the first one stored at or below `known`, minus
    those already stored; and whether that stop was reached."""
    fresh = []
    for row in rows:
        height = stored.get(key(row))
        if height is not None and height <= known:
            return fresh, True
        if height is None:
            fresh.append(row)
    return fresh, False


def _walk_transactions(client: StacksApiClient, contract_id: str, known: int) -> tuple[str, int]:
    newest, count = "", 0
    for page in client.principal_transaction_pages(contract_id):
        stored = dict(
            ChainTransaction.objects.filter(tx_id__in=[t.tx_id for t in page]).values_list(
                "tx_id", "block_height"
            )
        )
        fresh, done = _fresh(page, stored, lambda t: t.tx_id, known)
        newest = newest or page[0].tx_id
        _transactions_store(fresh)
        count += len(fresh)
        if done:
            break
    return newest, count


def _walk_logs(client: StacksApiClient, contract_id: str, known: int) -> tuple[str, int, int]:
    """Store new prints page by page. The returned marker (the newest print) is empty when any
    print had to wait for its call: the next walk must come down to the old marker again, or a
    newer stored print would stop it above the one that waited."""
    newest, events, malformed, complete = "", 0, 0, True
    for page in client.contract_log_pages(contract_id):
        stored = {
            (tx_id, index): height
            for tx_id, index, height in ChainEvent.objects.filter(
                tx_id__in={log.tx_id for log in page}
            ).values_list("tx_id", "event_index", "block_height")
        }
        fresh, done = _fresh(page, stored, lambda log: log.key, known)
        _calls_look_up(client, {log.tx_id for log in fresh})
        created, bad, first = _events_store(fresh)
        complete = complete and (bool(first) or not fresh)
        newest = newest or first
        events, malformed = events + created, malformed + bad
        if done:
            break
    return (newest if complete else ""), events, malformed


def _calls_look_up(client: StacksApiClient, tx_ids: set[str]) -> None:
    """Store, by a lookup each, the mined calls of prints that the transaction walk did not list
    (mined between the two walks, or an API listing lagging): rare, and it saves a print from
    waiting a poll or being stranded."""
    missing = tx_ids - set(
        ChainTransaction.objects.filter(tx_id__in=tx_ids).values_list("tx_id", flat=True)
    )
    for tx_id in sorted(missing):
        tx = client.transaction(tx_id)
        if not tx.canonical or tx.block_height is None:
            continue  # not mined (yet): the print waits, and the walk is not complete
        ChainTransaction.objects.get_or_create(
            tx_id=tx.tx_id,
            defaults={
                "block_height": tx.block_height,
                "block_hash": tx.block_hash or "",
                "index_block_hash": tx.index_block_hash or "",
                "burn_block_height": tx.burn_block_height or 0,
                "block_time": datetime.fromtimestamp(tx.block_time, tz=UTC)
                if tx.block_time
                else None,
                "tx_index": tx.tx_index or 0,
                "sender": tx.sender,
                "function_name": tx.contract_call.function_name if tx.contract_call else "",
                "status": tx.status,
            },
        )


def _transactions_store(txs: Iterable[TxSummary]) -> None:
    rows = [
        ChainTransaction(
            tx_id=t.tx_id,
            block_height=t.block_height,
            block_hash=t.block_hash,
            index_block_hash=t.index_block_hash,
            burn_block_height=t.burn_block_height,
            block_time=datetime.fromtimestamp(t.block_time, tz=UTC) if t.block_time else None,
            tx_index=t.tx_index,
            sender=t.sender,
            function_name=t.function_name or "",
            status=t.status,
        )
        for t in txs
    ]
    # A tx seen again (mined anew after a fork) takes its new block.
    ChainTransaction.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["tx_id"],
        update_fields=[
            "block_height",
            "block_hash",
            "index_block_hash",
            "burn_block_height",
            "block_time",
            "tx_index",
            "status",
        ],
    )


def event_placed(event: ChainEvent, tx: ChainTransaction) -> ChainEvent:
    """The event, canonical, at its call's place in the chain."""
    event.canonical = True
    event.block_height, event.block_hash = tx.block_height, tx.block_hash
    event.burn_block_height, event.tx_index = tx.burn_block_height, tx.tx_index
    event.sender, event.function_name = tx.sender, tx.function_name
    return event


def event_content_set(event: ChainEvent, raw_hex: str) -> ChainEvent:
    """The print's hex and what it says: pending, or failed with the reason when malformed."""
    event.raw_hex, event.state, event.error = raw_hex, ChainEvent.State.PENDING, ""
    event.event_name, event.payload, event.project_id = "", {}, None
    try:
        parsed = print_parse(raw_hex)
    except MalformedEvent as exc:
        event.state, event.error = ChainEvent.State.FAILED, str(exc)
        return event
    event.event_name, event.payload = parsed.name, json_safe(parsed.fields)
    event.project_id = parsed.project_id
    return event


def _events_store(logs: list[ContractLog]) -> tuple[int, int, str]:
    """Store prints whose call is stored; returns (stored, malformed, newest stored key), the
    key empty when a print had to wait for its call (so the walk does not count as complete)."""
    txs = ChainTransaction.objects.in_bulk({log.tx_id for log in logs}, field_name="tx_id")
    rows = [
        event_content_set(
            event_placed(ChainEvent(tx_id=log.tx_id, event_index=log.event_index), tx),
            log.value_hex,
        )
        for log in logs
        if (tx := txs.get(log.tx_id)) is not None  # else the next poll stores both
    ]
    created = ChainEvent.objects.bulk_create(rows, ignore_conflicts=True)
    malformed = sum(row.state == ChainEvent.State.FAILED for row in rows)
    waiting = len(rows) < len(logs)
    newest = f"{rows[0].tx_id}:{rows[0].event_index}" if rows and not waiting else ""
    return len(created), malformed, newest


# --- amounts of new projects ---------------------------------------------------------------


def _gross_from_offchain(event: ChainEvent, fee_rate: int) -> list[int] | None:
    """m1..m4 from the off-chain project funded by this tx, when they reproduce what the print
    says (gross, fee at `fee_rate`, number of milestones); then no transaction lookup is needed.
    Anything else counts as unknown: the call's arguments are looked up."""
    project = Project.objects.filter(funding_tx_id=event.tx_id).only("pk").first()
    if project is None:
        return None
    amounts = list(project.milestones.order_by("number").values_list("amount", flat=True))
    if len(amounts) > MAX_SLOTS:
        return None
    p = event.payload
    fee = sum(m * fee_rate // FEE_DENOMINATOR for m in amounts)
    fits = (
        sum(amounts) == int(p.get("gross-amount", -1))
        and fee == int(p.get("fee-collected", -1))
        and len(amounts) == int(p.get("num-milestones", -1))
    )
    return [*amounts, *[0] * (MAX_SLOTS - len(amounts))] if fits else None


def creation_amounts(event: ChainEvent, fee_rate: int) -> list[int] | None:
    tx = ChainTransaction.objects.filter(tx_id=event.tx_id).only("function_args").first()
    return create_args_amounts(tx) or _gross_from_offchain(event, fee_rate)


def creation_args_fetch(*, client: StacksApiClient, contract_id: str) -> int:
    """Look up the arguments of pending project-created calls whose amounts nothing stored
    gives: one transaction request each. Reads the pending events in chunks, so memory stays
    flat. Returns how many were fetched."""
    fetched, after = 0, 0
    while True:
        chunk = list(
            ChainEvent.objects.filter(
                event_name="project-created",
                state=ChainEvent.State.PENDING,
                canonical=True,
                pk__gt=after,
            )
            .only("pk", "tx_id", "payload", "block_height", "tx_index", "event_index")
            .order_by("pk")[:500]
        )
        for event in chunk:
            if creation_amounts(event, fee_rate_at(event, contract_id)) is None:
                _args_fetch(client, event.tx_id)
                fetched += 1
        if len(chunk) < 500:
            return fetched
        after = chunk[-1].pk


def fee_rate_at(event: ChainEvent, contract_id: str) -> int:
    """The fee rate the contract applied to `event`'s call: the last fee-rate-updated before it
    in chain order that still waits to be applied, else the applied settings."""
    earlier = (
        ChainEvent.objects.filter(
            event_name="fee-rate-updated", state=ChainEvent.State.PENDING, canonical=True
        )
        .filter(
            Q(block_height__lt=event.block_height)
            | Q(block_height=event.block_height, tx_index__lt=event.tx_index)
        )
        .order_by("-block_height", "-tx_index", "-event_index")
        .values_list("payload", flat=True)
        .first()
    )
    return int(earlier["new-rate"]) if earlier else settings_get(contract_id).fee_rate


def _args_fetch(client: StacksApiClient, tx_id: str) -> None:
    tx = client.transaction(tx_id)
    args = list((tx.contract_call.function_args if tx.contract_call else None) or ())
    ChainTransaction.objects.filter(tx_id=tx_id).update(function_args=args)


# --- applying events to the projection -----------------------------------------------------


@dataclass(frozen=True)
class ApplyResult:
    applied: int
    failed: int
    blocked: bool  # stopped at an event that cannot be applied yet (amounts unknown)


def _apply_one(event: ChainEvent, contract_id: str) -> ChainProject | None:
    """The projection's part. Raises ProjectionError (the event fails) or AmountsUnknown (the
    batch stops there)."""
    name = event.event_name
    if name == "project-created":
        fee_rate = settings_get(contract_id).fee_rate
        gross = creation_amounts(event, fee_rate)
        if gross is None:
            raise AmountsUnknown(event.tx_id)
        return on_project_created(event, gross, fee_rate)
    if name in PROJECT_HANDLERS:
        return PROJECT_HANDLERS[name](event)
    if name not in AUDIT_ONLY:
        on_settings(event, contract_id)
    return None


def _offchain(chain: ChainProject, event: ChainEvent, *, notify: bool) -> str:
    """The off-chain project's part. The chain is right whatever happens here: a failure is
    reported on the event (verify_sync and resync repair it), never undoes the projection."""
    if chain.project_id is None and event.event_name != "project-created":
        return ""  # an on-chain-only project: nothing off chain to keep in step (no savepoint)
    try:
        with transaction.atomic():
            if event.event_name == "project-created":
                link_offchain(chain, event, notify=notify)
            else:
                offchain_sync(chain, event, notify=notify)
    except ApplicationError as exc:
        return f"off-chain project not updated: {exc.message}"
    return ""


def events_apply(*, contract_id: str, batch_size: int = 500, notify: bool = True) -> ApplyResult:
    """Apply pending canonical events in chain order, a batch per database transaction together
    with the sync state, so a crash anywhere loses nothing and applies nothing twice. An event
    that does not fit is recorded as failed and the rest go on."""
    applied = failed = 0
    while True:
        with transaction.atomic():
            state = SyncState.objects.select_for_update().get_or_create(contract_id=contract_id)[0]
            batch = list(
                ChainEvent.objects.filter(state=ChainEvent.State.PENDING, canonical=True).order_by(
                    "block_height", "tx_index", "event_index"
                )[:batch_size]
            )
            done, blocked = _apply_batch(batch, contract_id, notify=notify)
            ChainEvent.objects.bulk_update(done, ["state", "error", "applied_at"])
            ok = sum(e.state == ChainEvent.State.APPLIED for e in done)
            applied, failed = applied + ok, failed + len(done) - ok
            _state_advance(state, done, ok, len(done) - ok)
        if blocked or len(batch) < batch_size:
            return ApplyResult(applied, failed, blocked)


def _apply_batch(
    batch: list[ChainEvent], contract_id: str, *, notify: bool
) -> tuple[list[ChainEvent], bool]:
    done: list[ChainEvent] = []
    now = timezone.now()
    for event in batch:
        try:
            with transaction.atomic():  # a savepoint: a failed event leaves no trace
                chain = _apply_one(event, contract_id)
        except AmountsUnknown:
            return done, True
        except (ProjectionError, KeyError, ValueError) as exc:
            event.state, event.error = ChainEvent.State.FAILED, f"{type(exc).__name__}: {exc}"
        else:
            event.state = ChainEvent.State.APPLIED
            event.error = _offchain(chain, event, notify=notify) if chain else ""
        event.applied_at = now
        done.append(event)
    return done, False


def _state_advance(state: SyncState, done: list[ChainEvent], ok: int, bad: int) -> None:
    if done:
        state.last_indexed_height = done[-1].block_height
        state.last_indexed_hash = done[-1].block_hash
    state.events_applied += ok
    state.events_failed += bad
    state.save(
        update_fields=[
            "last_indexed_height",
            "last_indexed_hash",
            "events_applied",
            "events_failed",
        ]
    )


def link_offchain(chain: ChainProject, event: ChainEvent, *, notify: bool) -> None:
    """Link the off-chain project funded by this tx when its parties and gross milestone
    amounts agree with the chain's; otherwise record the disagreement on it."""
    project = Project.objects.filter(funding_tx_id=event.tx_id).first()
    if project is None or ChainProject.objects.filter(project=project).exists():
        return  # an on-chain-only project: indexed all the same
    problem = _disagreement(chain, project)
    if problem:
        projects_services.project_funding_reject(project_id=project.pk, reason=problem)
        return
    chain.project = project
    chain.save(update_fields=["project"])
    offchain_sync(chain, event, notify=notify)


def _disagreement(chain: ChainProject, project: Project) -> str:
    if project.status != Project.Status.PENDING:
        return f"the project is {project.status}, not pending"
    if chain.client != project.client_address:
        return f"client {chain.client} is not the project's client"
    if chain.freelancer != project.freelancer_address:
        return f"freelancer {chain.freelancer} is not the accepted freelancer"
    if chain.token != project.token:
        return f"token {chain.token} is not the project's {project.token}"
    on_chain = {m.slot: int(m.gross_amount) for m in chain.milestones.all()}
    off_chain = dict(project.milestones.values_list("number", "amount"))
    if on_chain != off_chain:
        return f"milestone amounts {on_chain} are not the project's {off_chain}"
    return ""


# --- one poll -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SyncResult:
    fetched: FetchResult
    lookups: int
    applied: ApplyResult
    tail: TailCheck | None = None
    reorg: ReorgResult | None = None


def sync_once(*, client: StacksApiClient, contract_id: str, notify: bool = True) -> SyncResult:
    """Catch up with the chain once: re-check the provisional tail for forks (chainsync.reorg),
    fetch, look up what is missing, settle what a fork changed (rebuild, chain_reorg), apply.
    API errors propagate (the caller records them and backs off); what was stored or applied
    stays, and what a fork left due is settled by the next poll."""
    from chainsync import reorg  # builds on this module

    requests_before = client.requests_made
    tail = reorg.provisional_tail_check(client=client, contract_id=contract_id)
    probes = client.requests_made - requests_before
    fetched = chain_fetch(client=client, contract_id=contract_id)  # counts its own requests
    requests_before = client.requests_made
    lookups = creation_args_fetch(client=client, contract_id=contract_id)
    settled = reorg.reorg_settle(contract_id=contract_id, notify=notify)
    applied = events_apply(contract_id=contract_id, notify=notify)
    _indexed_through(contract_id, fetched)
    SyncState.objects.filter(contract_id=contract_id).update(
        last_success_at=timezone.now(),
        last_error="",
        api_requests=F("api_requests") + probes + client.requests_made - requests_before,
    )
    return SyncResult(fetched, lookups, applied, tail, settled)


def _indexed_through(contract_id: str, fetched: FetchResult) -> None:
    """How far the projection is complete: the tip read by this poll when nothing canonical
    waits, else just below the oldest waiting event (so quiet blocks do not count as lag)."""
    waiting = (
        ChainEvent.objects.filter(state=ChainEvent.State.PENDING, canonical=True)
        .order_by("block_height")
        .values_list("block_height", flat=True)
        .first()
    )
    if waiting is None:
        height, block_hash = fetched.tip_height, fetched.tip_hash
    else:
        height, block_hash = waiting - 1, ""
    SyncState.objects.filter(contract_id=contract_id).update(
        last_indexed_height=height, last_indexed_hash=block_hash
    )


def contract_followed_check(*, contract_id: str) -> None:
    """One database follows one contract: refuse to mix another contract's events into it."""
    other = (
        SyncState.objects.exclude(contract_id=contract_id)
        .values_list("contract_id", flat=True)
        .first()
    )
    if other is not None:
        raise ContractMismatch(
            f"This database follows {other}, not {contract_id}: point ESCROW_CONTRACT_ID back, "
            "or index the new contract into a fresh database."
        )


class ContractMismatch(ApplicationError):
    code = "contract_mismatch"
    http_status = 409


def sync_failure_record(*, contract_id: str, error: str) -> None:
    SyncState.objects.get_or_create(contract_id=contract_id)
    SyncState.objects.filter(contract_id=contract_id).update(
        last_error=error[:2000], last_poll_at=timezone.now()
    )
