"""The bench's child processes: `serve` (the fake API with the history), `setup` (migrate a
fresh SQLite file, seed the off-chain projects) and `index` (the measured indexer: one poll from
the empty database, timed phase by phase, then one more, then the checks)."""

from __future__ import annotations

import argparse
import cProfile
import json
import resource
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from bench.indexing.history import History, IndexedChain, _counts
from bench.indexing.profiles import _profile_summary
from chainsync.client.checks import _new_session
from tests.chainsync import hiro_server as hiro

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


class TimedSession(type(_new_session())):  # type: ignore[misc]
    """The client's own kind of session, adding up the wall time spent inside HTTP requests
    (connect, send, wait, read the body) and this thread's CPU time in there (requests,
    urllib3, http.client)."""

    def __init__(self) -> None:
        super().__init__()
        self.trust_env = _new_session().trust_env  # as the client's own session
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
    ("chainsync.indexer", "provisional_tail_check", "fork check of the provisional tail"),
    ("chainsync.indexer", "chain_fetch", "fetch: walk txs and prints, store"),
    ("chainsync.indexer", "creation_args_fetch", "tx lookups for unknown amounts"),
    ("chainsync.indexer", "reorg_settle_due", "settle forks"),
    ("chainsync.indexer", "events_apply", "apply to the projection"),
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

    from chainsync.client import StacksApiClient
    from chainsync.indexer import sync_once

    plan = json.loads(Path(args.plan).read_text())
    connection.ensure_connection()
    session = TimedSession()
    client = StacksApiClient(plan["url"], rate_limit=0, session=session)
    timer = PhaseTimer(session, profile=args.profile)
    timer.install()
    out: dict[str, Any] = {"baseline_mb": _maxrss_mb()}
    cpu, wall = _cpu_s(), time.perf_counter()
    result = sync_once(client=client, contract_id=plan["contract_id"])
    out |= {"wall": time.perf_counter() - wall, "cpu": _cpu_s() - cpu, "peak_mb": _maxrss_mb()}
    out |= {"http": session.wall, "http_cpu": session.cpu, "phases": timer.phases}
    out |= {"requests": dict(client.request_counts), "lookups": result.lookups}
    again = sync_once(client=client, contract_id=plan["contract_id"])
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
