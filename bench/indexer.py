"""Benchmark the chain indexer: back-fill a synthetic escrow history of N print events from the
loopback fake Hiro API into an empty SQLite file.

    .venv/bin/python bench/indexer.py [--sizes 20000,100000] [--profile-size 5000] [--write]

Per history size, three processes: the fake API (tests/chainsync/hiro_server.py) serving a
deterministic history, built in a process of its own so the chain it holds stays out of the
indexer's memory; a set-up process that migrates a throwaway SQLite file and writes the off-chain
projects waiting for their escrow; and the indexer, which runs `sync_once` (no rate limit) from
the empty database to the tip, polls once more (nothing new), and checks the result against the
history. Measured: events/s excluding the time spent waiting inside HTTP requests, API requests
per route against the floor, peak RSS. Then a cProfile run of the phases on a fresh database.
Prints markdown; `--write` puts it in bench/README.md.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import math
import os
import platform
import pstats
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)  # run as a script: the repo root, not bench/, goes first on the path

import requests  # noqa: E402

from chainsync.c32 import address_from_hash160  # noqa: E402
from chainsync.clarity import bool_, ok, principal, string_ascii, tuple_, uint  # noqa: E402
from tests.chainsync import hiro_server as hiro  # noqa: E402
from tests.chainsync.hiro_server import events, milestone_fees, stx  # noqa: E402

README = ROOT / "bench" / "README.md"
MARKERS = ("<!-- indexer-results:start -->", "<!-- indexer-results:end -->")
STX = 1_000_000
TX_PAGE, LOG_PAGE = 50, 100  # the API's largest pages: principal transactions, contract logs
TARGET_EVENTS_PER_S, TARGET_RATIO, TARGET_MB = 5000, 1.2, 200
FLOOR_ROUTES = {
    "contract_logs": "logs pages (1 per 100 events)",
    "principal_transactions": "principal-transactions pages (1 per 50 txs)",
    "tx_v3": "tx lookups (1 per project-created with amounts not known off-chain)",
}


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
                "tx_v3": lookups,
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


# --- role: serve (the fake API's process) -----------------------------------------------------


def role_serve(args: argparse.Namespace) -> None:
    start = time.perf_counter()
    chain = IndexedChain()
    history = History(chain, args.seed, args.events).build()
    plan = history.plan()
    chain.logs(chain.contract_id)  # derive the cached lists before serving
    plan["build_s"] = time.perf_counter() - start
    server = hiro.HiroServer(chain).start()
    plan["url"] = server.url
    Path(args.plan).write_text(json.dumps(plan))
    print("ready", flush=True)
    sys.stdin.read()  # until the parent closes our stdin
    server.stop()
    counts = server.route_counts()
    rss = _maxrss_mb()
    Path(args.plan + ".served").write_text(json.dumps({"routes": counts, "peak_mb": rss}))


# --- role: setup (migrate a fresh SQLite file, seed the off-chain projects) -------------------


def role_setup(args: argparse.Namespace) -> None:
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from projects.models import Milestone, Project

    seeds = json.loads(Path(args.plan).read_text())["offchain"]
    projects = Project.objects.bulk_create(
        Project(
            title=f"bench project {i}",
            description="Waiting for its escrow.",
            token="STX",
            budget=sum(seed["amounts"]),
            client_address=seed["client"],
            freelancer_address=seed["freelancer"],
            status=Project.Status.PENDING,
            funding_tx_id=seed["tx_id"],
        )
        for i, seed in enumerate(seeds)
    )
    Milestone.objects.bulk_create(
        Milestone(project=project, number=n, title=f"milestone {n}", amount=amount)
        for project, seed in zip(projects, seeds, strict=True)
        for n, amount in enumerate(seed["amounts"], 1)
    )


# --- role: index (the measured process) -------------------------------------------------------


class TimedSession(requests.Session):
    """The client's session, adding up the wall time spent inside HTTP requests (connect, send,
    wait, read the body) and this thread's CPU time in there (requests, urllib3, http.client)."""

    def __init__(self) -> None:
        super().__init__()
        self.trust_env = False  # as the client's own session
        self.wall = self.cpu = 0.0
        self.count = 0

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        wall, cpu = time.perf_counter(), time.thread_time()
        self.count += 1
        try:
            return super().request(*args, **kwargs)
        finally:
            self.wall += time.perf_counter() - wall
            self.cpu += time.thread_time() - cpu


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# What sync_once calls, in order: (module, function, label). Each is timed on its way through
# the module attribute sync_once looks it up by; a step missing from the app is skipped.
PHASES = [
    ("chainsync.reorg", "provisional_tail_check", "fork check of the provisional tail"),
    ("chainsync.services", "chain_fetch", "fetch: walk txs and prints, store"),
    ("chainsync.services", "creation_args_fetch", "tx lookups for unknown amounts"),
    ("chainsync.reorg", "reorg_settle", "settle forks"),
    ("chainsync.services", "events_apply", "apply to the projection"),
]


class PhaseTimer:
    """Wall, CPU, time inside HTTP and peak RSS of each phase of the first poll; with
    `profile`, a cProfile of each. Later calls (the idle second poll) pass through."""

    def __init__(self, session: TimedSession, *, profile: bool) -> None:
        self.session, self.profile = session, profile
        self.phases: dict[str, dict[str, float]] = {}
        self.profiles: dict[str, cProfile.Profile] = {}

    def install(self) -> None:
        import importlib

        for module_name, name, _label in PHASES:
            module = importlib.import_module(module_name)
            if hasattr(module, name):
                setattr(module, name, self._wrap(name, getattr(module, name)))

    def _wrap(self, name: str, func: Callable[..., Any]) -> Callable[..., Any]:
        def run(**kwargs: Any) -> Any:
            if name in self.phases:
                return func(**kwargs)
            http, http_cpu, cpu = self.session.wall, self.session.cpu, _cpu_s()
            count = self.session.count
            profiler = cProfile.Profile() if self.profile else None
            start = time.perf_counter()
            if profiler:
                profiler.enable()
            try:
                return func(**kwargs)
            finally:
                if profiler:
                    profiler.disable()
                    self.profiles[name] = profiler
                self.phases[name] = {
                    "wall": time.perf_counter() - start,
                    "cpu": _cpu_s() - cpu,
                    "http": self.session.wall - http,
                    "http_cpu": self.session.cpu - http_cpu,
                    "peak_mb": _maxrss_mb(),
                    "requests": self.session.count - count,
                }

        return run


def role_index(args: argparse.Namespace) -> None:
    import django

    django.setup()
    from django.db import connection

    from chainsync import services
    from chainsync.client import StacksApiClient

    plan = json.loads(Path(args.plan).read_text())
    connection.ensure_connection()
    session = TimedSession()
    client = StacksApiClient(plan["url"], rate_limit=0, session=session)
    timer = PhaseTimer(session, profile=args.profile)
    timer.install()
    out: dict[str, Any] = {"baseline_mb": _maxrss_mb()}
    cpu, wall = _cpu_s(), time.perf_counter()
    result = services.sync_once(client=client, contract_id=plan["contract_id"])
    out |= {"wall": time.perf_counter() - wall, "cpu": _cpu_s() - cpu, "peak_mb": _maxrss_mb()}
    out |= {"http": session.wall, "http_cpu": session.cpu, "phases": timer.phases}
    out |= {"requests": dict(client.request_counts), "lookups": result.lookups}
    again = services.sync_once(client=client, contract_id=plan["contract_id"])
    out["again"] = {
        "requests": dict(client.request_counts - Counter(out["requests"])),
        "events": again.fetched.events,
        "applied": again.applied.applied + again.applied.failed,
    }
    out["checks"] = _checks(plan)
    out["api_requests_recorded"] = _recorded_requests(plan["contract_id"])
    out["profile"] = {name: _profile_summary(p) for name, p in timer.profiles.items()}
    Path(args.out).write_text(json.dumps(out))


def _recorded_requests(contract_id: str) -> int:
    from chainsync.models import SyncState

    return SyncState.objects.get(contract_id=contract_id).api_requests


def _checks(plan: dict[str, Any]) -> dict[str, Any]:
    """What the database holds, under the names of History._expected."""
    from django.db.models import Count, F, Q, Sum

    from chainsync.models import (
        ChainDispute,
        ChainEvent,
        ChainMilestone,
        ChainProject,
        ChainTransaction,
        ContractSettings,
    )
    from projects.models import Milestone, Project

    states = Counter(ChainEvent.objects.values_list("state", flat=True))
    applied_with_error = ChainEvent.objects.filter(state="applied").exclude(error="").count()
    malformed = ChainEvent.objects.filter(state="failed", event_name="").count()
    disputes = Counter(ChainDispute.objects.values_list("status", flat=True))
    milestones = ChainMilestone.objects.aggregate(
        n_all=Count("id"),
        n_complete=Count("id", filter=Q(complete=True)),
        n_released=Count("id", filter=Q(released=True)),
        n_to_client=Count("id", filter=Q(released=True, released_to=F("project__client"))),
        net=Sum("amount"),
    )
    linked = Project.objects.filter(chain__isnull=False)
    duplicates = (
        ChainEvent.objects.values("tx_id", "event_index")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    settings = ContractSettings.objects.filter(contract_id=plan["contract_id"]).first()
    return {
        "events stored": sum(states.values()),
        "events failed when stored (malformed)": malformed,
        "events failed when applied": states["failed"] - malformed,
        "events applied": states["applied"],
        "events applied with an off-chain error": applied_with_error,
        "transactions stored": ChainTransaction.objects.count(),
        "aborted transactions stored": ChainTransaction.objects.exclude(status="success").count(),
        "on-chain projects": ChainProject.objects.count(),
        "refunded": ChainProject.objects.filter(refunded=True).count(),
        "milestones": milestones["n_all"],
        "milestones complete": milestones["n_complete"],
        "milestones released": milestones["n_released"],
        "milestones released to the client": milestones["n_to_client"],
        "disputes open / resolved": f"{disputes['open']} / {disputes['resolved']}",
        "net escrow (micro-STX)": int(milestones["net"] or 0),
        "fee rate": settings.fee_rate if settings else None,
        "linked off-chain projects by status": _counts(linked.values_list("status", flat=True)),
        "their milestones by status": _counts(
            Milestone.objects.filter(project__in=linked).values_list("status", flat=True)
        ),
        "off-chain projects left pending with a funding error": Project.objects.filter(
            status="pending"
        )
        .exclude(funding_error="")
        .count(),
        "_pending": states["pending"],
        "_duplicates": duplicates,
    }


# --- profiles ---------------------------------------------------------------------------------

# A function's own time goes to the first layer whose marker is in its file name; built-ins go
# to the layers of their callers (weighted by the time they spent under each).
LAYERS = [
    ("HTTP client (requests, urllib3, http.client, socket)", ("/requests/", "/urllib3/", "/http/")),
    ("JSON decoding", ("/json/",)),
    ("chainsync client (response checks, dataclasses)", ("chainsync/client.py",)),
    ("Clarity decoding, event parsing", ("chainsync/clarity", "chainsync/c32", "chainsync/events")),
    ("chainsync services and projection", ("chainsync/",)),
    ("projects and notifications services", ("projects/", "notifications/")),
    ("channel layer push (asgiref, channels)", ("/asgiref/", "/channels/")),
    ("Django ORM (Python)", ("/django/db/",)),
    ("Django, other", ("/django/",)),
]  # fmt: skip
SQLITE = "SQLite (C: execute, fetch, commit)"


def _layer_shares(stats: dict[Any, Any]) -> dict[str, float]:
    memo: dict[Any, dict[str, float]] = {}

    def mix(key: Any, seen: frozenset[Any]) -> dict[str, float]:
        filename, _line, func = key
        if filename == "~" and "sqlite3" in func:
            return {SQLITE: 1.0}
        direct = next((n for n, marks in LAYERS if any(m in filename for m in marks)), None)
        if direct or key in seen or not stats[key][4]:
            return {direct or "other (interpreter, stdlib)": 1.0}
        if key not in memo:
            callers = stats[key][4]
            weight = sum(edge[2] for edge in callers.values()) or 1.0
            result: dict[str, float] = {}
            for caller, edge in callers.items():
                if caller not in stats:
                    continue
                for layer, share in mix(caller, seen | {key}).items():
                    result[layer] = result.get(layer, 0.0) + share * edge[2] / weight
            memo[key] = result or {"other (interpreter, stdlib)": 1.0}
        return memo[key]

    total = sum(row[2] for row in stats.values()) or 1.0
    shares: dict[str, float] = {}
    for key, row in stats.items():
        for layer, share in mix(key, frozenset()).items():
            shares[layer] = shares.get(layer, 0.0) + share * row[2] / total
    return dict(sorted(shares.items(), key=lambda item: -item[1]))


def _label(key: Any) -> str:
    filename, line, func = key
    if filename == "~":
        return func.split(" at 0x")[0] + (">" if " at 0x" in func else "")
    for prefix in (str(ROOT) + "/", "site-packages/", "python3.11/"):
        if prefix in filename:
            filename = filename.split(prefix, 1)[1]
    return f"{filename}:{line} {func}"


def _profile_summary(profiler: cProfile.Profile) -> dict[str, Any]:
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    total = sum(row[2] for row in stats.values()) or 1.0
    own = sorted(stats.items(), key=lambda item: -item[1][2])[:12]
    cumulative = [
        (key, row)
        for key, row in stats.items()
        if str(ROOT) in key[0] and "/.venv/" not in key[0] and "bench/" not in key[0]
    ]
    cumulative.sort(key=lambda item: -item[1][3])
    root = max((row[3] for _key, row in cumulative), default=1.0) or 1.0  # the phase itself
    return {
        "total_s": total,
        "layers": _layer_shares(stats),
        "own": [(_label(k), row[1], row[2] / total) for k, row in own],
        "cumulative": [(_label(k), row[1], row[3] / root) for k, row in cumulative[:12]],
    }


# --- the parent: one size after another -------------------------------------------------------


def _env(db: Path) -> dict[str, str]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "stxworx.settings", "SQLITE_PATH": str(db)}
    env |= {"DJANGO_DEBUG": "false", "PYTHONUNBUFFERED": "1"}  # no query log, as in production
    for name in ("DATABASE_URL", "REDIS_URL"):  # the bench runs the embedded default
        env.pop(name, None)
    return env


def _child(role: str, env: dict[str, str], timeout: float, *extra: str) -> None:
    argv = [sys.executable, str(Path(__file__)), "--role", role, *extra]
    try:
        done = subprocess.run(
            argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        sys.exit(f"{role} took more than {timeout:.0f} s (--timeout); stopped")
    if done.returncode:
        sys.exit(f"{role} failed:\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}")


def run_history(
    events_n: int, profiles: list[bool], args: argparse.Namespace, tmp: Path
) -> dict[str, Any]:
    """Serve one history and index it once per entry of `profiles` (True: under cProfile),
    each time from a fresh database."""
    plan_path = tmp / f"plan-{events_n}.json"
    argv = [sys.executable, str(Path(__file__)), "--role", "serve", "--events", str(events_n)]
    argv += ["--seed", str(args.seed), "--plan", str(plan_path)]
    server = subprocess.Popen(argv, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    runs = []
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == b"ready"
        plan = json.loads(plan_path.read_text())
        for i, profile in enumerate(profiles):
            db, out = tmp / f"db-{events_n}-{i}.sqlite3", tmp / f"out-{events_n}-{i}.json"
            _child("setup", _env(db), args.timeout, "--plan", str(plan_path))
            extra = ["--plan", str(plan_path), "--out", str(out)] + ["--profile"] * profile
            _child("index", _env(db), args.timeout, *extra)
            runs.append(json.loads(out.read_text()))
            print(f"{events_n:,} events{' (profiled)' * profile}: indexed", file=sys.stderr)
    finally:
        if server.stdin:
            server.stdin.close()
        server.wait(timeout=60)
    served = json.loads((tmp / f"plan-{events_n}.json.served").read_text())
    measured = [run for run, profile in zip(runs, profiles, strict=True) if not profile]
    return {
        "plan": plan,
        "run": measured[0] if measured else None,
        "runs": runs,
        "profile": [run for run, profile in zip(runs, profiles, strict=True) if profile],
        "served": served,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20000,100000", help="history lengths, in events")
    parser.add_argument("--profile-size", type=int, default=5000, help="0: no profiled run")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=1800, help="per process, seconds")
    parser.add_argument("--write", action="store_true", help="rewrite bench/README.md results")
    parser.add_argument("--role", choices=["serve", "setup", "index"], help=argparse.SUPPRESS)
    parser.add_argument("--events", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--plan", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--profile", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role:
        {"serve": role_serve, "setup": role_setup, "index": role_index}[args.role](args)
        return
    start = time.perf_counter()
    plans = {int(size): [False] for size in args.sizes.split(",")}
    if args.profile_size:
        plans.setdefault(args.profile_size, []).append(True)
    with tempfile.TemporaryDirectory(prefix="stxworx-bench-indexer-") as tmp_name:
        tmp = Path(os.environ.get("BENCH_KEEP_DIR") or tmp_name)  # keep the files to look at
        tmp.mkdir(parents=True, exist_ok=True)
        results = [run_history(n, profiles, args, tmp) for n, profiles in plans.items()]
    text = report(results, time.perf_counter() - start, args)
    print(text)
    if args.write:
        readme_write(text)


# --- report -----------------------------------------------------------------------------------


def _processing(run: dict[str, Any]) -> float:
    """Wall time minus the time spent waiting inside HTTP requests (the client's own CPU time
    in requests/urllib3 stays in: it is the indexer's work)."""
    return run["wall"] - (run["http"] - run["http_cpu"])


def _verdict(ok: bool) -> str:
    return "**met**" if ok else "**NOT met**"


def report(histories: list[dict[str, Any]], seconds: float, args: argparse.Namespace) -> str:
    results = [h for h in histories if h["run"] is not None]
    lines = [
        f"Run {time.strftime('%Y-%m-%d %H:%M')}: {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, {platform.system()} {platform.release()}; history seed "
        f"{args.seed}; the fake API in a process of its own; client rate limit off. The whole "
        f"bench took **{seconds / 60:.1f} min** (building the histories, set-up, "
        f"{len(results)} measured run{'s' * (len(results) != 1)}"
        f"{', one profiled run' if args.profile_size else ''}).",
        "",
        *_size_table(results),
        "",
        "The fake API's process (history built in "
        + ", ".join(f"{r['plan']['build_s']:.0f} s" for r in results)
        + "; peak RSS "
        + ", ".join(f"{r['served']['peak_mb']:.0f} MB" for r in results)
        + ") is not in these numbers.",
        "",
        *_requests_table(results),
        "",
        *_targets(results),
        "",
        *_phase_table(results[-1]),
        "",
        *_checks_table(results),
    ]
    profiled = [h for h in histories if h["profile"]]
    if profiled:
        lines += ["", *_profile_report(profiled[0])]
    return "\n".join(lines)


def _size_table(results: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| history | txs (aborted) | blocks | projects (with an off-chain record) | first poll, "
        "wall s | waiting in HTTP s | processing s | events/s, processing | events/s, CPU "
        "| peak RSS MB (after start-up) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        plan, run = r["plan"], r["run"]
        n = plan["events"]
        lines.append(
            f"| {n:,} events | {plan['transactions']:,} ({plan['aborted']:,}) | "
            f"{plan['blocks']:,} | {plan['projects']:,} ({plan['offchain_projects']:,}) | "
            f"{run['wall']:.1f} | {run['http'] - run['http_cpu']:.1f} | {_processing(run):.1f} | "
            f"**{n / _processing(run):,.0f}** | {n / run['cpu']:,.0f} | "
            f"**{run['peak_mb']:.0f}** ({run['baseline_mb']:.0f}) |"
        )
    return lines


def _requests_table(results: list[dict[str, Any]]) -> list[str]:
    head = "| route | the floor counts |"
    rule = "|---|---|"
    for r in results:
        head += f" floor, {r['plan']['events']:,} | made |"
        rule += "---:|---:|"
    routes = list(FLOOR_ROUTES) + sorted(
        {route for r in results for route in r["run"]["requests"]} - set(FLOOR_ROUTES)
    )
    lines = [head, rule]
    for route in routes:
        row = f"| `{route}` | {FLOOR_ROUTES.get(route, '(not in the floor)')} |"
        for r in results:
            floor = r["plan"]["floor"].get(route, 0)
            row += f" {floor:,} | {r['run']['requests'].get(route, 0):,} |"
        lines.append(row)
    total = "| **total** | |"
    for r in results:
        floor, made = sum(r["plan"]["floor"].values()), sum(r["run"]["requests"].values())
        total += f" **{floor:,}** | **{made:,}** ({made / floor:.3f} x) |"
    lines.append(total)
    lines.append("")
    for r in results:
        again, served = r["run"]["again"], _served_matches(r)
        lines.append(
            f"- {r['plan']['events']:,} events: the poll after catching up (nothing new) made "
            f"{sum(again['requests'].values())} requests ({_counts_inline(again['requests'])}), "
            f"stored {again['events']} events and applied {again['applied']}; the fake API "
            f"counted {'the same requests' if served else 'DIFFERENT requests'} as the client."
        )
    return lines


def _counts_inline(counts: dict[str, int]) -> str:
    return ", ".join(f"{route} {n}" for route, n in sorted(counts.items()))


def _served_matches(result: dict[str, Any]) -> bool:
    sent: Counter[str] = Counter()
    for run in result["runs"]:
        sent.update(run["requests"])
        sent.update(run["again"]["requests"])
    return sent == Counter(result["served"]["routes"])


def _targets(results: list[dict[str, Any]]) -> list[str]:
    last, first = results[-1], results[0]
    rate = last["plan"]["events"] / _processing(last["run"])
    rates = ", ".join(f"{r['plan']['events'] / _processing(r['run']):,.0f}" for r in results)
    floor, made = sum(last["plan"]["floor"].values()), sum(last["run"]["requests"].values())
    ratios = [
        sum(r["run"]["requests"].values()) / sum(r["plan"]["floor"].values()) for r in results
    ]
    peaks = [r["run"]["peak_mb"] for r in results]
    flat = peaks[-1] - peaks[0] <= 0.1 * peaks[0]
    sizes = " / ".join(f"{r['plan']['events']:,}" for r in results)
    return [
        f"- Processing, {last['plan']['events']:,} events: **{rate:,.0f} events/s** "
        f"(by size, {sizes}: {rates}); target >= {TARGET_EVENTS_PER_S:,}: "
        f"{_verdict(rate >= TARGET_EVENTS_PER_S)}.",
        f"- API requests, {last['plan']['events']:,} events: **{made:,} for a floor of "
        f"{floor:,} ({made / floor:.3f} x)**; target <= {TARGET_RATIO} x: "
        f"{_verdict(max(ratios) <= TARGET_RATIO)}.",
        f"- Peak RSS of the indexing process ({sizes} events): **"
        + " / ".join(f"{p:.0f}" for p in peaks)
        + f" MB** (after start-up: {first['run']['baseline_mb']:.0f} MB); target <= "
        f"{TARGET_MB} MB {_verdict(max(peaks) <= TARGET_MB)}, flat (within 10 % over "
        f"{results[-1]['plan']['events'] / results[0]['plan']['events']:.0f}x the history) "
        f"{_verdict(flat)}.",
    ]


def _phase_table(result: dict[str, Any]) -> list[str]:
    run = result["run"]
    lines = [
        f"The first poll of {result['plan']['events']:,} events, phase by phase (`sync_once` "
        "calls them in this order):",
        "",
        "| phase | wall s | requests | waiting in HTTP s | processing s | peak RSS after, MB |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for _module, name, label in PHASES:
        phase = run["phases"].get(name)
        if phase is None:
            continue
        waiting = phase["http"] - phase["http_cpu"]
        lines.append(
            f"| {label} (`{name}`) | {phase['wall']:.1f} | {phase['requests']:,} | "
            f"{waiting:.1f} | {phase['wall'] - waiting:.1f} | {phase['peak_mb']:.0f} |"
        )
    return lines


def _checks_table(results: list[dict[str, Any]]) -> list[str]:
    head = "| after the first poll | " + " | ".join(
        f"{r['plan']['events']:,}: expected | got" for r in results
    )
    lines = [
        "Correctness (expected from the history as generated; got from the database):",
        "",
        head + " |",
        "|---|" + "---:|---:|" * len(results),
    ]
    for key in results[0]["plan"]["expected"]:
        row = f"| {key} |"
        for r in results:
            want, got = r["plan"]["expected"].get(key), r["run"]["checks"].get(key)
            row += f" {want} | {got}{'' if want == got else ' **DIFFERS**'} |"
        lines.append(row)
    extra = [
        ("events still pending", "_pending"),
        ("duplicate (tx_id, event_index)", "_duplicates"),
    ]
    for label, key in extra:
        lines.append(f"| {label} |" + "".join(f" 0 | {r['run']['checks'][key]} |" for r in results))
    return lines


def _profile_report(result: dict[str, Any]) -> list[str]:
    prof = result["profile"][0]["profile"]
    names = [(n, label) for _m, n, label in PHASES if n in prof and prof[n]["total_s"] > 0.1]
    lines = [
        f"cProfile of the first poll, {result['plan']['events']:,} events, on a fresh database "
        "(profiling slows Python code about 1.5-2x; read the shares). Own time by layer:",
        "",
        "| layer | " + " | ".join(f"`{name}`" for name, _ in names) + " |",
        "|---|" + "---:|" * len(names),
    ]
    layers = sorted(
        {layer for name, _ in names for layer in prof[name]["layers"]},
        key=lambda layer: -max(prof[name]["layers"].get(layer, 0) for name, _ in names),
    )
    for layer in layers:
        cells = " | ".join(f"{prof[name]['layers'].get(layer, 0):.0%}" for name, _ in names)
        lines.append(f"| {layer} | {cells} |")
    lines.append(
        "| profiled seconds | " + " | ".join(f"{prof[n]['total_s']:.1f}" for n, _ in names) + " |"
    )
    for name, label in names:
        if name not in ("chain_fetch", "events_apply"):
            continue
        lines += ["", f"`{name}` ({label}), top functions by own time:", ""]
        lines += [
            f"- {share:.1%} `{fn}` ({calls:,} calls)" for fn, calls, share in prof[name]["own"][:8]
        ]
        lines += ["", f"`{name}`, the app's functions by cumulative time:", ""]
        lines += [
            f"- {share:.0%} `{fn}` ({calls:,} calls)"
            for fn, calls, share in prof[name]["cumulative"][:10]
        ]
    return lines


def readme_write(text: str) -> None:
    body = README.read_text()
    start, end = MARKERS
    if start not in body:
        sys.exit(f"bench/README.md has no {start} ... {end} section")
    head, rest = body.split(start, 1)
    README.write_text(f"{head}{start}\n{text}\n{end}{rest.split(end, 1)[1]}")


if __name__ == "__main__":
    main()
