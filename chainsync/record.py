"""What forks do to the chain record (ChainTransaction, ChainEvent), and the record compared
with a fresh read of the chain.

Nothing is deleted. A tx whose block left the canonical chain is kept, non-canonical, with the
status the API gives it (`pending`: back in the mempool), and its events too, with the state they
had: an event non-canonical yet `applied` marks "applied, then undone" until a rebuild replays its
project without it (chainsync.rebuild). A tx the chain mines again is re-admitted with its new
block and its prints as the chain now has them (a call executed again may print other values,
e.g. another project id).

What a change touched is returned as `Changes` (the on-chain projects whose stored history
changed) and, between the tail check and the settle after the fetch, kept in the sync state's
`reorg_due`, so a crash in between loses no rebuild."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import NamedTuple

from django.db import transaction
from django.db.models import Min, QuerySet

from chainsync import services
from chainsync.client import StacksApiClient, TxSummary
from chainsync.models import NEWEST_FIRST, ChainEvent, ChainTransaction, SyncState
from chainsync.services.fetch import EVENT_PLACE_FIELDS
from stxworx.sql import CHUNK, chunks

ORPHANED = "pending"  # what the API says of an orphaned tx: back in the mempool
CONTRACT = None  # the key of the contract's own events (settings, audit) in `Changes`

Progress = Callable[[str], None]


@dataclass
class Changes:
    """On-chain project ids whose stored history changed (`touched`), and those where an event
    already applied was orphaned or replaced (`undone`). `CONTRACT` stands for the contract's
    own events."""

    touched: set[int | None] = field(default_factory=set)
    undone: set[int | None] = field(default_factory=set)

    def update(self, other: Changes) -> None:
        self.touched |= other.touched
        self.undone |= other.undone


class _Stored(NamedTuple):
    pk: int
    raw_hex: str
    canonical: bool
    block_height: int
    block_hash: str
    burn_block_height: int
    tx_index: int
    state: str
    project_id: int | None


# --- what the tail check saw ------------------------------------------------------------------


@dataclass(frozen=True)
class Mined:
    """Where a tx now sits in the canonical chain."""

    block_height: int
    block_hash: str
    index_block_hash: str
    burn_block_height: int
    tx_index: int
    block_time: int | None


@dataclass(frozen=True)
class Sighting:
    """A tx lookup's answer about a tx the record holds as orphaned. `mined` None: not in a
    canonical block (`status` pending or dropped_*). `prints`: its print events as the chain now
    has them (event index -> hex), None when no route could list them (keep the stored ones)."""

    tx_id: str
    status: str
    mined: Mined | None
    prints: dict[int, str] | None = None
    result_hex: str | None = None


def fork_record(
    *, contract_id: str, orphaned: Collection[str], sightings: Collection[Sighting]
) -> Changes:
    """Record a tail check, in one transaction: `orphaned` txs (their blocks left the chain) and
    their events become non-canonical, states kept; txs seen mined again are re-admitted with
    their new block and prints (`Sighting`), others take the status seen. The fetch markers go
    below the lowest block involved, so the next walk re-reads everything above it. What changed
    is added to the sync state's `reorg_due` for the settle after the fetch. Counts a reorg."""
    with transaction.atomic():
        state = services.sync_state_lock(contract_id=contract_id)
        involved = {*orphaned, *(s.tx_id for s in sightings if s.mined is not None)}
        rows = ChainTransaction.objects.filter(tx_id__in=involved)
        lowest = rows.aggregate(lowest=Min("block_height"))["lowest"]
        if orphaned:
            ChainTransaction.objects.filter(tx_id__in=orphaned).update(
                canonical=False, status=ORPHANED
            )
            ChainEvent.objects.filter(tx_id__in=orphaned).update(canonical=False)
            state.reorgs += 1
        changes = _sightings_record(sightings)
        changes.undone |= undone_marked()
        if lowest is not None:
            _markers_below(state, lowest)
        due_add(state, changes)
        state.save(update_fields=["reorgs", "newest_tx", "newest_event", "reorg_due"])
    return changes


def orphans_watched() -> list[ChainTransaction]:
    """Orphaned txs still in the mempool as far as the record knows: each poll looks them up
    until they are mined again or dropped (a stale row of one mined again would stop
    chain_fetch's walk)."""
    rows = ChainTransaction.objects.filter(canonical=False, status=ORPHANED)
    return list(rows.order_by("block_height", "tx_index"))


def _sightings_record(sightings: Collection[Sighting]) -> Changes:
    mined: dict[str, Sighting] = {}
    for seen in sightings:
        rows = ChainTransaction.objects.filter(tx_id=seen.tx_id)
        if seen.mined is None:
            rows.update(status=seen.status)
        else:
            rows.update(**_placement(seen, seen.mined))
            mined[seen.tx_id] = seen
    txs = ChainTransaction.objects.in_bulk(list(mined), field_name="tx_id")
    stored = _stored_events(ChainEvent.objects.filter(tx_id__in=list(mined)))
    prints = {tx_id: _prints_or_stored(seen, stored) for tx_id, seen in mined.items()}
    changes = _events_sync(txs, prints, stored)
    changes.update(_events_orphan(stored.values()))
    return changes


def _placement(seen: Sighting, mined: Mined) -> dict[str, object]:
    when = datetime.fromtimestamp(mined.block_time, tz=UTC) if mined.block_time else None
    fields: dict[str, object] = {
        "canonical": True,
        "status": seen.status,
        "block_height": mined.block_height,
        "block_hash": mined.block_hash,
        "index_block_hash": mined.index_block_hash,
        "burn_block_height": mined.burn_block_height,
        "tx_index": mined.tx_index,
        "block_time": when,
    }
    return fields | ({"result_hex": seen.result_hex} if seen.result_hex else {})


def _prints_or_stored(seen: Sighting, stored: Mapping[tuple[str, int], _Stored]) -> dict[int, str]:
    if seen.prints is not None:
        return seen.prints
    return {i: row.raw_hex for (tx_id, i), row in stored.items() if tx_id == seen.tx_id}


def _markers_below(state: SyncState, height: int) -> None:
    """Point chain_fetch's walk markers at the newest canonical rows below `height`: its next
    walk reads everything above them again, skipping what is stored."""
    below = {"canonical": True, "block_height__lt": height}
    tx = ChainTransaction.objects.filter(**below).order_by("-block_height", "-tx_index").first()
    event = ChainEvent.objects.filter(**below).order_by(*NEWEST_FIRST).first()
    state.newest_tx = tx.tx_id if tx else ""
    state.newest_event = f"{event.tx_id}:{event.event_index}" if event else ""


# --- what is due -----------------------------------------------------------------------------


def undone_marked() -> set[int | None]:
    """Projects (CONTRACT for the contract's own events) holding an event that was applied and
    has since left the canonical chain: their projection must be rebuilt."""
    rows = ChainEvent.objects.filter(canonical=False, state=ChainEvent.State.APPLIED)
    return set(rows.values_list("project_id", flat=True).distinct())


def contract_events_pending() -> bool:
    """A canonical settings or audit event not applied yet (a partial rebuild could not place
    it in chain order: rebuild everything instead)."""
    return (
        ChainEvent.objects.filter(
            canonical=True, state=ChainEvent.State.PENDING, project_id__isnull=True
        )
        .exclude(event_name="")
        .exists()
    )


def due_of(state: SyncState) -> Changes:
    due = state.reorg_due or {}
    return Changes(set(due.get("touched", ())), set(due.get("undone", ())))


def due_add(state: SyncState, changes: Changes) -> None:
    due = due_of(state)
    due.update(changes)
    due.touched |= due.undone
    if due.touched:
        state.reorg_due = {"touched": _ids(due.touched), "undone": _ids(due.undone)}


def _ids(ids: set[int | None]) -> list[int | None]:
    return sorted(ids, key=lambda i: (i is not None, i or 0))


# --- the whole history read again ------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """The contract's canonical history up to `tip_height`, as the API gives it now."""

    tip_height: int
    txs: tuple[TxSummary, ...]
    prints: dict[str, dict[int, str]]  # tx id -> event index -> print hex
    create_args: dict[str, list[str]]  # looked-up arguments of create calls nothing else gives


def snapshot_fetch(
    *, client: StacksApiClient, contract_id: str, progress: Progress | None = None
) -> Snapshot:
    """Read the contract's whole history: every logs page and every transactions page (the
    costly part: the API's rate limit bounds it), and one tx lookup per create call whose
    amounts nothing stored gives. Rows above the tip read first are left to the indexer.
    No database writes; raises StacksApiError."""
    tip = client.status().chain_tip
    height = tip.block_height if tip else 0
    logs = client.contract_logs_since(contract_id)
    txs = tuple(
        t for t in client.principal_transactions_since(contract_id) if t.block_height <= height
    )
    listed = {t.tx_id for t in txs}
    prints: dict[str, dict[int, str]] = defaultdict(dict)
    for log in logs:
        if log.tx_id in listed:
            prints[log.tx_id][log.event_index] = log.value_hex
    if progress:
        progress(f"read {len(logs)} events in {len(txs)} transactions up to block {height}")
    return Snapshot(height, txs, dict(prints), _create_args_fetch(client, prints))


def _create_args_fetch(
    client: StacksApiClient, prints: Mapping[str, Mapping[int, str]]
) -> dict[str, list[str]]:
    found = {}
    for tx_id, events in prints.items():
        for index, raw in events.items():
            event = services.event_content_set(ChainEvent(tx_id=tx_id, event_index=index), raw)
            # Off-chain amounts are not trusted here (no fee rate in force is known yet): only
            # stored call arguments spare the lookup.
            if event.event_name == "project-created" and not services.stored_args([tx_id]):
                call = client.transaction(tx_id).contract_call
                found[tx_id] = list((call.function_args if call else None) or ())
    return found


def snapshot_reconcile(snapshot: Snapshot, *, contract_id: str) -> Changes:
    """Make the stored record what `snapshot` says, up to its tip: listed txs canonical with
    their (new) blocks, unlisted ones orphaned; events added, moved, re-read or orphaned; the
    fetch markers at the snapshot's tip. History is kept (nothing is deleted) and rows above
    the tip are left to the indexer. Runs in the caller's transaction; returns what changed."""
    state = services.sync_state_lock(contract_id=contract_id)
    services.transactions_store(snapshot.txs)
    listed = {t.tx_id for t in snapshot.txs}
    _txs_flag(listed, snapshot.tip_height)
    for tx_id, args in snapshot.create_args.items():
        ChainTransaction.objects.filter(tx_id=tx_id).update(function_args=args)
    txs = ChainTransaction.objects.in_bulk(listed, field_name="tx_id")
    stored = _stored_events(ChainEvent.objects.all())
    changes = _events_sync(txs, snapshot.prints, stored)
    height = snapshot.tip_height
    changes.update(
        _events_orphan(
            row
            for (tx_id, _), row in stored.items()
            if tx_id in listed or row.block_height <= height
        )
    )
    state.chain_tip_height = max(state.chain_tip_height, height)
    _markers_below(state, height + 1)
    state.save(update_fields=["chain_tip_height", "newest_tx", "newest_event"])
    return changes


def _txs_flag(listed: set[str], height: int) -> None:
    rows = ChainTransaction.objects.filter(block_height__lte=height)
    flags = list(rows.values_list("pk", "tx_id", "canonical"))
    readmit = [pk for pk, tx_id, canonical in flags if tx_id in listed and not canonical]
    orphan = [pk for pk, tx_id, canonical in flags if tx_id not in listed and canonical]
    for chunk in chunks(readmit):
        ChainTransaction.objects.filter(pk__in=chunk).update(canonical=True)
    for chunk in chunks(orphan):
        ChainTransaction.objects.filter(pk__in=chunk).update(canonical=False, status=ORPHANED)


# --- events: the shared comparison -----------------------------------------------------------


def _stored_events(rows: QuerySet[ChainEvent]) -> dict[tuple[str, int], _Stored]:
    columns = rows.values_list("tx_id", "event_index", *_Stored._fields)
    return {(tx_id, index): _Stored(*rest) for tx_id, index, *rest in columns}


def _events_sync(
    txs: Mapping[str, ChainTransaction],
    prints: Mapping[str, Mapping[int, str]],
    stored: dict[tuple[str, int], _Stored],
) -> Changes:
    """Bring the events of `txs` to `prints`, in each tx's block. Consumes the matching rows
    from `stored`: what is left there is no longer printed (the caller orphans it)."""
    changes, new, moved = Changes(), [], []
    for tx_id, tx in sorted(txs.items()):
        for index, raw in sorted(prints.get(tx_id, {}).items()):
            row = stored.pop((tx_id, index), None)
            if row is None:
                new.append(
                    services.event_placed(
                        services.event_content_set(ChainEvent(tx_id=tx_id, event_index=index), raw),
                        tx,
                    )
                )
                changes.touched.add(new[-1].project_id)
            elif row.raw_hex != raw:
                changes.update(_content_replace(row, raw, tx))
            elif _moved(row, tx):
                moved.append(services.event_placed(ChainEvent(pk=row.pk), tx))
                changes.touched.add(row.project_id)
    ChainEvent.objects.bulk_create(new)
    ChainEvent.objects.bulk_update(moved, EVENT_PLACE_FIELDS, batch_size=CHUNK)
    return changes


def _content_replace(row: _Stored, raw: str, tx: ChainTransaction) -> Changes:
    """The tx was executed again and printed something else at this index."""
    event = services.event_placed(
        services.event_content_set(ChainEvent.objects.get(pk=row.pk), raw), tx
    )
    event.save()
    undone = {row.project_id} if row.state == ChainEvent.State.APPLIED else set()
    return Changes(touched={row.project_id, event.project_id}, undone=undone)


def _events_orphan(rows: Iterable[_Stored]) -> Changes:
    changes = Changes()
    orphans = [row for row in rows if row.canonical]
    for row in orphans:
        changes.touched.add(row.project_id)
        if row.state == ChainEvent.State.APPLIED:
            changes.undone.add(row.project_id)
    for chunk in chunks(row.pk for row in orphans):
        ChainEvent.objects.filter(pk__in=chunk).update(canonical=False)
    return changes


def _moved(row: _Stored, tx: ChainTransaction) -> bool:
    where = (row.block_height, row.block_hash, row.burn_block_height, row.tx_index)
    return not row.canonical or where != (
        tx.block_height,
        tx.block_hash,
        tx.burn_block_height,
        tx.tx_index,
    )
