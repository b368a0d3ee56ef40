"""The fetch phase's own processing, without the network: `chain_fetch` over a recorded walk.

The indexer bench's fetch phase mixes the network, the HTTP client and the storing, and its
processing moves 20-50 % with the load on a shared machine. This helper records one real walk
of the bench's synthetic history (served in-process), then replays `chain_fetch` several times
on an emptied record and reports the CPU time of each replay, with the codec's memos cleared so
that every print is decoded once, as in the real walk.

What is replayed (`--from`):
- `pages` (default): the client's parsed pages (what `principal_transaction_pages` and
  `contract_log_pages` yield), so a replay is the fetch module's own work: reading the prints'
  values (decoded once by the client's parser, kept on each ContractLog), building rows, the
  look-ups and the INSERTs. No HTTP client, no JSON, no Clarity decoding.
- `http`: the HTTP responses, so a replay adds JSON decoding and the client's parsing with
  its Clarity decoding (the session's `request` is replayed; a client that stops calling it
  cannot be measured this way).

    .venv/bin/python -m bench.indexing.fetch_replay [--events 20000] [--runs 3] [--from pages]
        [--split] [--sql] [--profile] [--drop INDEX,...] [--experiment FILE]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import runpy
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests


class RecordingSession(requests.Session):
    """A session that keeps every response by (method, url, params); `replay` serves them."""

    def __init__(self) -> None:
        super().__init__()
        self.trust_env = False
        self.recorded: dict[Any, requests.Response] = {}
        self.replay = False

    def request(self, method: str, url: str, params: Any = None, **kwargs: Any) -> Any:  # type: ignore[override]
        key = (method, url, repr(sorted(params.items()) if isinstance(params, dict) else params))
        if self.replay:
            return self.recorded[key]
        response = super().request(method, url, params=params, **kwargs)
        response.content  # noqa: B018 (read the body now)
        self.recorded[key] = response
        return response


class PagesClient:
    """Wraps a real client: records what chain_fetch asks of it, then (`replay`) answers the
    same from the record, without the network or the client's parsing."""

    def __init__(self, client: Any) -> None:
        self.client, self.replay = client, False
        self.recorded: dict[Any, Any] = {}
        self.requests_made = 0

    def _answer(self, key: Any, ask: Any) -> Any:
        if not self.replay:
            self.recorded[key] = ask()
        return self.recorded[key]

    def status(self) -> Any:
        return self._answer("status", self.client.status)

    def transaction(self, tx_id: str) -> Any:
        return self._answer(("tx", tx_id), lambda: self.client.transaction(tx_id))

    def principal_transaction_pages(self, principal: str) -> Iterator[Any]:
        return self._pages(("txs", principal), self.client.principal_transaction_pages, principal)

    def contract_log_pages(self, contract_id: str) -> Iterator[Any]:
        return self._pages(("logs", contract_id), self.client.contract_log_pages, contract_id)

    def _pages(self, key: Any, walk: Any, arg: str) -> Iterator[Any]:
        if self.replay:
            yield from self.recorded[key]
            return
        pages = self.recorded[key] = []
        for page in walk(arg):
            pages.append(page)
            yield page


def _sql_timer(totals: Counter[str]) -> Any:
    """An execute wrapper adding up the time of each kind of statement (verb and table)."""

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        start = time.process_time()
        try:
            return execute(sql, params, many, context)
        finally:
            words = sql.split()
            table = next((w for w in words[1:6] if "chainsync" in w), "")
            totals[f"SQL {words[0]} {table.strip(chr(34)).split(chr(34))[0]}"] += (
                time.process_time() - start
            )

    return wrapper


def _split_install(client: Any, totals: Counter[str]) -> None:
    """Add up the CPU time of the client's page walks and of the fetch module's steps."""
    from chainsync.log import fetch

    def timed_pages(name: str, walk: Any) -> Any:
        def pages(*a: Any, **kw: Any) -> Any:
            iterator = walk(*a, **kw)
            while True:
                start = time.process_time()
                try:
                    page = next(iterator)
                except StopIteration:
                    return
                finally:
                    totals[f"step {name}"] += time.process_time() - start
                yield page

        return pages

    def timed(name: str, func: Any) -> Any:
        def run(*a: Any, **kw: Any) -> Any:
            start = time.process_time()
            try:
                return func(*a, **kw)
            finally:
                totals[f"step {name}"] += time.process_time() - start

        return run

    for name in ("contract_log_pages", "principal_transaction_pages"):
        setattr(client, name, timed_pages(name, getattr(client, name)))
    for name in ("transactions_store", "_events_store", "_places", "event_row"):
        if hasattr(fetch, name):
            setattr(fetch, name, timed(name, getattr(fetch, name)))


def _memos_clear() -> None:
    """Forget the names and principals the codec has seen valid, so every replay decodes as
    the first walk did."""
    from stacks import c32, clarity

    clarity._NAMES.clear()
    clarity._CONTRACT_NAMES.clear()
    clarity._PRINCIPALS.clear()
    getattr(c32, "_address_cached", c32.address_from_hash160).cache_clear()  # older: the cached


def _record_clear() -> None:
    from chainsync.models import ChainEvent, ChainTransaction, SyncState

    ChainEvent.objects.all().delete()
    ChainTransaction.objects.all().delete()
    SyncState.objects.all().delete()


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--from", dest="source", choices=["pages", "http"], default="pages")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of one replay")
    parser.add_argument("--sql", action="store_true", help="time the SQL statements by kind")
    parser.add_argument("--split", action="store_true", help="CPU by step: client pages, stores")
    parser.add_argument("--drop", default="", help="indexes to drop first (to weigh them)")
    parser.add_argument("--experiment", help="a Python file to run after Django's set-up")
    return parser.parse_args()


def _django_setup(drop: str) -> None:
    tmp = tempfile.mkdtemp(prefix="fetch-replay-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stxworx.settings")
    os.environ |= {"SQLITE_PATH": str(Path(tmp) / "db.sqlite3"), "DJANGO_DEBUG": "false"}
    for name in ("DATABASE_URL", "REDIS_URL"):
        os.environ.pop(name, None)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        for name in filter(None, drop.split(",")):
            cursor.execute(f'DROP INDEX "{name}"')


def _profile_print(profiler: cProfile.Profile) -> None:
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    pstats.Stats(profiler).sort_stats("cumulative").print_stats("chainsync", 25)


def main() -> None:
    args = _arguments()
    _django_setup(args.drop)
    from django.db import connection

    if args.experiment:  # e.g. a file that patches a function, to weigh a change before making it
        runpy.run_path(args.experiment)
    from bench.indexing.history import History, IndexedChain
    from chainsync.client import StacksApiClient
    from chainsync.log.fetch import chain_fetch
    from tests.chainsync import hiro_server as hiro

    chain = IndexedChain()
    history = History(chain, args.seed, args.events).build()
    contract_id = history.plan()["contract_id"]
    server = hiro.HiroServer(chain).start()
    session = RecordingSession()
    real = StacksApiClient(server.url, rate_limit=0, session=session)
    client: Any = PagesClient(real) if args.source == "pages" else real
    first = chain_fetch(client=client, contract_id=contract_id)
    server.stop()
    session.replay = client.replay = True
    print(f"recorded {first.events} events, {first.transactions} txs ({args.source})")

    times: list[float] = []
    totals: Counter[str] = Counter()
    if args.split:
        _split_install(client, totals)
    if args.sql:
        connection.execute_wrappers.append(_sql_timer(totals))
    for run in range(args.runs + (1 if args.profile else 0)):
        _record_clear()
        _memos_clear()
        profiler = cProfile.Profile() if args.profile and run == args.runs else None
        if profiler:
            totals.clear()
            with profiler:
                chain_fetch(client=client, contract_id=contract_id)
            _profile_print(profiler)
            continue
        cpu = time.process_time()
        result = chain_fetch(client=client, contract_id=contract_id)
        times.append(time.process_time() - cpu)
        assert (result.events, result.transactions) == (first.events, first.transactions)
    for kind, seconds in sorted(totals.items(), key=lambda item: -item[1]):
        print(f"  {kind}: {seconds / max(len(times), 1):.3f} s per replay")
    if times:
        per_event = statistics.median(times) / first.events * 1e6
        shown = ", ".join(f"{t:.2f}" for t in times)
        print(f"chain_fetch replay CPU s: {shown}; median {per_event:.0f} us per event")


if __name__ == "__main__":
    main()
