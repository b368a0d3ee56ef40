"""What forks do to the chain record (ChainTransaction, ChainEvent), and the comparison of stored
events with the chain's that the tail check and the snapshot (chainsync.log.snapshot) share.

Nothing is deleted. A tx whose block left the canonical chain is kept, non-canonical, with the
status the API gives it (`pending`: back in the mempool), and its events too, with the state they
had: an event non-canonical yet `applied` marks "applied, then undone" until a rebuild replays its
project without it (chainsync.handlers.rebuild). A tx the chain mines again is re-admitted with its
new block and its prints as the chain now has them (a call executed again may print other values,
e.g. another project id).

What a change touched is returned as `Changes` (the on-chain projects whose stored history
changed) and, between the tail check and the settle after the fetch, kept in the sync state's
`reorg_due`, so a crash in between loses no rebuild."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import NamedTuple

from django.db import transaction
from django.db.models import Min, QuerySet

from chainsync.log.events import EVENT_PLACE_FIELDS, event_content_set, event_placed
from chainsync.log.state import sync_state_lock
from chainsync.models import NEWEST_FIRST, ChainEvent, ChainTransaction, SyncState
from stxworx.sql import CHUNK, chunks

ORPHANED = "pending"  # what the API says of an orphaned tx: back in the mempool
CONTRACT = None  # the key of the contract's own events (settings, audit) in `Changes`


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
    with transaction.atomic(durable=True):
        state = sync_state_lock(contract_id=contract_id)
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
            markers_below(state, lowest)
        due_add(state, changes)
        state.save(update_fields=["reorgs", *MARKERS, "reorg_due"])
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
    stored = stored_events(ChainEvent.objects.filter(tx_id__in=list(mined)))
    prints = {tx_id: _prints_or_stored(seen, stored) for tx_id, seen in mined.items()}
    changes = events_sync(txs, prints, stored)
    changes.update(events_orphan(stored.values()))
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


MARKERS = ["newest_tx", "newest_event", "logs_through_tx"]  # what markers_below sets


def markers_below(state: SyncState, height: int) -> None:
    """Point chain_fetch's walk markers at the newest canonical rows below `height`: its next
    walk reads everything above them again, skipping what is stored."""
    below = {"canonical": True, "block_height__lt": height}
    tx = ChainTransaction.objects.filter(**below).order_by("-block_height", "-tx_index").first()
    event = ChainEvent.objects.filter(**below).order_by(*NEWEST_FIRST).first()
    state.newest_tx = tx.tx_id if tx else ""
    state.newest_event = f"{event.tx_id}:{event.event_index}" if event else ""
    state.logs_through_tx = ""  # and the prints are walked again, whatever the calls show


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


# --- events: the shared comparison -----------------------------------------------------------


def stored_events(rows: QuerySet[ChainEvent]) -> dict[tuple[str, int], _Stored]:
    columns = rows.values_list("tx_id", "event_index", *_Stored._fields)
    return {(tx_id, index): _Stored(*rest) for tx_id, index, *rest in columns}


def events_sync(
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
                    event_placed(
                        event_content_set(ChainEvent(tx_id=tx_id, event_index=index), raw),
                        tx,
                    )
                )
                changes.touched.add(new[-1].project_id)
            elif row.raw_hex != raw:
                changes.update(_content_replace(row, raw, tx))
            elif _moved(row, tx):
                moved.append(event_placed(ChainEvent(pk=row.pk), tx))
                changes.touched.add(row.project_id)
    ChainEvent.objects.bulk_create(new)
    ChainEvent.objects.bulk_update(moved, EVENT_PLACE_FIELDS, batch_size=CHUNK)
    return changes


def _content_replace(row: _Stored, raw: str, tx: ChainTransaction) -> Changes:
    """The tx was executed again and printed something else at this index."""
    event = event_placed(event_content_set(ChainEvent.objects.get(pk=row.pk), raw), tx)
    event.save()
    undone = {row.project_id} if row.state == ChainEvent.State.APPLIED else set()
    return Changes(touched={row.project_id, event.project_id}, undone=undone)


def events_orphan(rows: Iterable[_Stored]) -> Changes:
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
