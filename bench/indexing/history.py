"""The synthetic escrow history the indexer bench serves: a fake-API chain indexed for speed, and
a deterministic mix of escrow calls with the floor's inputs and what the indexer should end up
with (`History.plan`)."""

from __future__ import annotations

import math
import random
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from stacks import bool_, ok, principal, string_ascii, tuple_, uint
from stacks.c32 import address_from_hash160
from tests.chainsync import hiro_server as hiro
from tests.chainsync.hiro_server import events, milestone_fees, stx

STX = 1_000_000
TX_PAGE, LOG_PAGE = 50, 100  # the API's largest pages: principal transactions, contract logs
TX_BATCH = 50  # ids per /extended/v1/tx/multiple request (chainsync.client.TX_MULTIPLE_MAX_IDS)


# --- the fake API's chain, indexed so that a 100,000-event history builds and serves fast ---


class IndexedChain(hiro.Chain):
    """hiro_server's Chain with its linear look-ups replaced by indexes: where a tx is mined,
    and the derived lists (logs, principal rows), cached until the next block. Forks are not
    used here; an orphaned block's txs simply stop being found."""

    def __init__(self, **kwargs: Any) -> None:
        self._block_of: dict[str, hiro.Block] = {}
        self._derived: dict[tuple[str, str], list[Any]] = {}
        super().__init__(**kwargs)

    def _append_block(self, txs: list[hiro.Tx], burn_height: int) -> hiro.Block:
        block = super()._append_block(txs, burn_height)
        self._block_of.update((tx.tx_id, block) for tx in txs)
        self._derived.clear()
        return block

    def _canonical_block_of(self, tx_id: str) -> hiro.Block | None:
        block = self._block_of.get(tx_id)
        return block if block is not None and block.canonical else None

    def logs(self, contract_id: str) -> list[hiro.LogRow]:
        key = ("logs", contract_id)
        if key not in self._derived:
            self._derived[key] = super().logs(contract_id)
        return self._derived[key]

    def principal_rows(self, address: str) -> list[Any]:
        key = ("principal", address)
        if key not in self._derived:
            self._derived[key] = super().principal_rows(address)
        return self._derived[key]


# --- the synthetic history (built in the fake API's process) ---------------------------------


@dataclass
class Job:
    """One escrow project as the history plays it."""

    pid: int
    client: str
    freelancer: str
    slots: list[int]  # gross m1..m4, 0 = unused slot
    fee_rate: int
    offchain: str  # "" on-chain only, "match" terms agree, "mismatch" they do not
    actions: deque[tuple[Any, ...]] = field(default_factory=deque)
    complete: set[int] = field(default_factory=set)
    released: dict[int, str] = field(default_factory=dict)  # slot -> "freelancer" | "client"
    disputes: dict[int, str] = field(default_factory=dict)  # slot -> "open" | "resolved"
    refunded: bool = False
    create_tx: str = ""

    def net(self, slot: int) -> int:
        gross = self.slots[slot - 1]
        return gross - gross * self.fee_rate // 10_000

    @property
    def used(self) -> list[int]:
        return [slot for slot, gross in enumerate(self.slots, 1) if gross]


class History:
    """A deterministic mix of escrow calls, 1-8 per block, until `target` prints exist.

    Projects run side by side (about 300 open at a time), so a block mixes calls of many
    projects. Each is created (20 % with an off-chain project whose terms agree, 1 % with one
    whose terms do not, 15 % of the on-chain-only ones with sparse slots), then per milestone
    completed and released; 10 % of milestones take another path (a dispute resolved by the
    owner either way or closed by the release, an owner reset, a force-release), 3 % first see
    a release that aborts (u105, no events). 5 % of projects are refunded in full at once, 2 %
    refunded in an emergency part-way. The owner changes the fee rate and the treasury once.
    Every 10,000 events, one print that does not fit: alternately an event for a project never
    created (fails when applied) and an unknown event name (fails when stored). The history is
    cut at exactly `target` prints, so some projects are still open at the tip."""

    def __init__(self, chain: IndexedChain, seed: int, target: int) -> None:
        self.chain, self.rng, self.target = chain, random.Random(seed), target
        self.contract, self.owner = chain.contract_id, chain.deployer
        people = [address_from_hash160(26, self.rng.randbytes(20)) for _ in range(3000)]
        self.clients, self.freelancers = people[:1200], people[1200:]
        self.fee_rate, self.prints, self.aborted = 1000, 0, 0
        self.jobs: list[Job] = []
        self.open: list[Job] = []
        self.misfits: Counter[str] = Counter()
        self.block: list[hiro.Tx] = []

    def build(self) -> History:
        owner_at = {self.target * 3 // 10: "fee", self.target * 6 // 10: "treasury"}
        while self.prints < self.target:
            if self.prints in owner_at:
                self._owner(owner_at.pop(self.prints))
            elif self.prints % 10_000 == 5_000 and self.misfits.total() < self.prints // 10_000 + 1:
                self._misfit("ghost" if self.misfits.total() % 2 == 0 else "unknown")
            elif len(self.open) < 300 or self.rng.random() < 0.16:
                self._create()
            else:
                self._step(self.rng.choice(self.open))
        self._mine()
        return self

    def _call(self, function: str, sender: str, args: list[Any], **kwargs: Any) -> hiro.Tx:
        tx = self.chain.tx(function, sender=sender, args=args, **kwargs)
        self.prints += sum(isinstance(e, hiro.Print) for e in tx.events)
        self.aborted += tx.status != "success"
        self.block.append(tx)
        if len(self.block) >= self.rng.randint(1, 8):
            self._mine()
        return tx

    def _mine(self) -> None:
        if self.block:
            self.chain.mine(*self.block)
            self.block = []

    # --- projects ---

    def _create(self) -> None:
        rng, roll = self.rng, self.rng.random()
        offchain = "match" if roll < 0.20 else "mismatch" if roll < 0.21 else ""
        count = rng.choice((1, 2, 2, 3, 3, 4))
        slots = [rng.randint(1, 500) * STX for _ in range(count)] + [0] * (4 - count)
        if not offchain and rng.random() < 0.15:
            rng.shuffle(slots)
        client, freelancer = rng.choice(self.clients), rng.choice(self.freelancers)
        job = Job(len(self.jobs) + 1, client, freelancer, slots, self.fee_rate, offchain)
        job.actions = self._script(job)
        gross, fee = sum(slots), sum(milestone_fees(slots, self.fee_rate))
        created = events.project_created(
            project_id=job.pid,
            client=client,
            freelancer=freelancer,
            milestones=slots,
            fee_rate=self.fee_rate,
        )
        tx = self._call(
            "create-project-stx",
            client,
            [principal(freelancer), *map(uint, slots)],
            transfers=[stx(client, self.contract, gross), stx(self.contract, self.owner, fee)],
            prints=[created],
            result=ok(uint(job.pid)),
        )
        job.create_tx = tx.tx_id
        self.jobs.append(job)
        self.open.append(job)

    def _script(self, job: Job) -> deque[tuple[Any, ...]]:
        roll = self.rng.random()
        if roll < 0.05:
            return deque([("full_refund",)])
        groups = []
        for slot in job.used:
            group = [("abort_release", slot)] if self.rng.random() < 0.03 else []
            groups.append([*group, ("complete", slot), *self._milestone_end(slot)])
        if roll < 0.07 and len(groups) > 1:
            # Between milestones: the contract refuses an emergency refund during a dispute.
            groups = [*groups[: self.rng.randint(1, len(groups) - 1)], [("emergency_refund",)]]
        return deque(action for group in groups for action in group)

    def _milestone_end(self, slot: int) -> list[tuple[Any, ...]]:
        roll = self.rng.random()
        if roll < 0.05:
            return [("dispute", slot), ("resolve", slot, self.rng.random() < 0.6)]
        if roll < 0.07:
            return [("dispute", slot), ("release", slot)]
        if roll < 0.08:
            return [("dispute", slot), ("reset", slot), ("complete", slot), ("release", slot)]
        if roll < 0.10:
            return [("force_release", slot)]
        return [("release", slot)]

    def _step(self, job: Job) -> None:
        action, *rest = job.actions.popleft()
        getattr(self, "_" + action)(job, *rest)
        if not job.actions:
            self.open.remove(job)

    def _abort_release(self, job: Job, slot: int) -> None:
        self._call("release-milestone-stx", job.client, [uint(job.pid), uint(slot)], error=105)

    def _complete(self, job: Job, slot: int) -> None:
        job.complete.add(slot)
        done = events.milestone_completed(
            project_id=job.pid, milestone=slot, freelancer=job.freelancer
        )
        self._call("complete-milestone", job.freelancer, [uint(job.pid), uint(slot)], prints=[done])

    def _dispute(self, job: Job, slot: int) -> None:
        by = self.rng.choice((job.client, job.freelancer))
        job.disputes[slot] = "open"
        filed = events.dispute_filed(project_id=job.pid, milestone=slot, filed_by=by)
        self._call("file-dispute", by, [uint(job.pid), uint(slot)], prints=[filed])

    def _release(self, job: Job, slot: int) -> None:
        paid = events.milestone_released(project_id=job.pid, milestone=slot, amount=job.net(slot))
        self._pay(job, slot, "release-milestone-stx", job.client, [], paid, to_freelancer=True)

    def _force_release(self, job: Job, slot: int) -> None:
        paid = events.force_released(project_id=job.pid, milestone=slot, amount=job.net(slot))
        self._pay(job, slot, "admin-force-release-stx", self.owner, [], paid, to_freelancer=True)

    def _resolve(self, job: Job, slot: int, to_freelancer: bool) -> None:
        paid = events.dispute_resolved(
            project_id=job.pid,
            milestone=slot,
            released_to_freelancer=to_freelancer,
            amount=job.net(slot),
        )
        extra = [bool_(to_freelancer)]
        function = "admin-resolve-dispute-stx"
        self._pay(job, slot, function, self.owner, extra, paid, to_freelancer=to_freelancer)

    def _pay(
        self,
        job: Job,
        slot: int,
        function: str,
        sender: str,
        extra: list[Any],
        paid: hiro.Print,
        *,
        to_freelancer: bool,
    ) -> None:
        job.released[slot] = "freelancer" if to_freelancer else "client"
        if job.disputes.get(slot) == "open":
            job.disputes[slot] = "resolved"
        payee = job.freelancer if to_freelancer else job.client
        self._call(
            function,
            sender,
            [uint(job.pid), uint(slot), *extra],
            transfers=[stx(self.contract, payee, job.net(slot))],
            prints=[paid],
            result=ok(uint(job.net(slot))),
        )

    def _reset(self, job: Job, slot: int) -> None:
        job.complete.discard(slot)
        job.disputes.pop(slot, None)
        reset = events.milestone_reset(project_id=job.pid, milestone=slot)
        self._call("admin-reset-milestone", self.owner, [uint(job.pid), uint(slot)], prints=[reset])

    def _full_refund(self, job: Job) -> None:
        amount = sum(job.net(slot) for slot in job.used)
        job.refunded = True
        self._call(
            "request-full-refund-stx",
            job.client,
            [uint(job.pid)],
            transfers=[stx(self.contract, job.client, amount)],
            prints=[events.full_refund(project_id=job.pid, amount=amount, client=job.client)],
            result=ok(uint(amount)),
        )

    def _emergency_refund(self, job: Job) -> None:
        paid = sum(job.net(slot) for slot in job.released)
        refund = sum(job.net(slot) for slot in job.used) - paid
        job.refunded = True
        refunded = events.emergency_refund(
            project_id=job.pid, refund_amount=refund, released_amount=paid, client=job.client
        )
        self._call(
            "emergency-refund-stx",
            job.client,
            [uint(job.pid)],
            transfers=[stx(self.contract, job.client, refund)],
            prints=[refunded],
            result=ok(uint(refund)),
        )

    # --- the owner, and prints that do not fit ---

    def _owner(self, which: str) -> None:
        if which == "fee":
            self.fee_rate = 500
            rate = events.fee_rate_updated(new_rate=500)
            self._call("set-fee-rate", self.owner, [uint(500)], prints=[rate])
        else:
            treasury = self.freelancers[0]
            moved = events.treasury_updated(new_treasury=treasury)
            self._call("set-treasury", self.owner, [principal(treasury)], prints=[moved])

    def _misfit(self, kind: str) -> None:
        self.misfits[kind] += 1
        freelancer = self.freelancers[1]
        if kind == "ghost":  # well formed, for a project that does not exist
            odd = events.milestone_completed(project_id=10**9, milestone=1, freelancer=freelancer)
        else:  # not one of the contract's events
            odd = hiro.Print(tuple_({"event": string_ascii("bench-unknown"), "n": uint(1)}))
        self._call("complete-milestone", freelancer, [uint(10**9), uint(1)], prints=[odd])

    # --- the floor's inputs and what the indexer should end up with ---

    def plan(self) -> dict[str, Any]:
        txs = len(self.chain.principal_rows(self.contract))
        lookups = sum(job.offchain != "match" for job in self.jobs)
        return {
            "contract_id": self.contract,
            "events": self.prints,
            "transactions": txs,
            "aborted": self.aborted,
            "blocks": len(self.chain.blocks),
            "projects": len(self.jobs),
            "offchain_projects": sum(bool(job.offchain) for job in self.jobs),
            "floor": {
                "contract_logs": math.ceil(self.prints / LOG_PAGE),
                "principal_transactions": math.ceil(txs / TX_PAGE),
                "tx_multiple": math.ceil(lookups / TX_BATCH),
            },
            "offchain": [_offchain_seed(job) for job in self.jobs if job.offchain],
            "expected": self._expected(),
        }

    def _expected(self) -> dict[str, Any]:
        jobs = self.jobs
        linked = [job for job in jobs if job.offchain == "match"]
        disputes = Counter(s for job in jobs for s in job.disputes.values())
        return {
            "events stored": self.prints,
            "events failed when stored (malformed)": self.misfits["unknown"],
            "events failed when applied": self.misfits["ghost"],
            "events applied": self.prints - self.misfits.total(),
            "events applied with an off-chain error": 0,
            "transactions stored": len(self.chain.principal_rows(self.contract)),
            "aborted transactions stored": self.aborted,
            "on-chain projects": len(jobs),
            "refunded": sum(job.refunded for job in jobs),
            "milestones": sum(len(job.used) for job in jobs),
            "milestones complete": sum(len(job.complete) for job in jobs),
            "milestones released": sum(len(job.released) for job in jobs),
            "milestones released to the client": sum(
                to == "client" for job in jobs for to in job.released.values()
            ),
            "disputes open / resolved": f"{disputes['open']} / {disputes['resolved']}",
            "net escrow (micro-STX)": sum(job.net(slot) for job in jobs for slot in job.used),
            "fee rate": self.fee_rate,
            "linked off-chain projects by status": _counts(_offchain_status(j) for j in linked),
            "their milestones by status": _counts(
                status for job in linked for status in _milestone_statuses(job)
            ),
            "off-chain projects left pending with a funding error": sum(
                job.offchain == "mismatch" for job in jobs
            ),
        }


def _counts(items: Any) -> str:
    return ", ".join(f"{key} {n}" for key, n in sorted(Counter(items).items()))


def _offchain_seed(job: Job) -> dict[str, Any]:
    amounts = [job.slots[slot - 1] for slot in job.used]
    if job.offchain == "mismatch":
        amounts[-1] += STX  # the client funded other terms than agreed
    return {
        "tx_id": job.create_tx,
        "client": job.client,
        "freelancer": job.freelancer,
        "amounts": amounts,
    }


def _offchain_status(job: Job) -> str:
    if job.refunded:
        return "refunded"
    if len(job.released) == len(job.used):
        return "completed"
    return "disputed" if "open" in job.disputes.values() else "active"


def _milestone_statuses(job: Job) -> list[str]:
    out = []
    for slot in job.used:
        if slot in job.released:
            out.append("approved" if job.released[slot] == "freelancer" else "refunded")
        elif job.refunded:
            out.append("refunded")
        elif job.disputes.get(slot) == "open":
            out.append("disputed")
        else:
            out.append("submitted" if slot in job.complete else "locked")
    return out
