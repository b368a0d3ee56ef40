"""The bench's markdown report, and rewriting its section of bench/README.md."""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.indexing.roles import PHASES

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "bench" / "README.md"
MARKERS = ("<!-- indexer-results:start -->", "<!-- indexer-results:end -->")
TARGET_EVENTS_PER_S, TARGET_RATIO, TARGET_MB = 5000, 1.2, 200
FLOOR_ROUTES = {
    "contract_logs": "logs pages (1 per 100 events)",
    "principal_transactions": "principal-transactions pages (1 per 50 txs)",
    "tx_multiple": "tx batches (1 per 50 project-created with amounts not known off-chain)",
}
RATE_LIMITS = (50, 500)  # requests/minute: Hiro's public API without a key, and with one


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
        f"- For reference, not the target's reading: with the HTTP client's own CPU counted as "
        f"network time too (wall minus all time inside requests), "
        f"{last['plan']['events'] / (last['run']['wall'] - last['run']['http']):,.0f} events/s; "
        f"the client's CPU inside requests was {last['run']['http_cpu']:.1f} s for "
        f"{made:,} requests ({last['run']['http_cpu'] / made * 1e6:,.0f} µs each).",
        f"- API requests, {last['plan']['events']:,} events: **{made:,} for a floor of "
        f"{floor:,} ({made / floor:.3f} x)**; target <= {TARGET_RATIO} x: "
        f"{_verdict(max(ratios) <= TARGET_RATIO)}.",
        _rate_bound(last, made),
        f"- Peak RSS of the indexing process ({sizes} events): **"
        + " / ".join(f"{p:.0f}" for p in peaks)
        + f" MB** (after start-up: {first['run']['baseline_mb']:.0f} MB); target <= "
        f"{TARGET_MB} MB {_verdict(max(peaks) <= TARGET_MB)}, flat (within 10 % over "
        f"{results[-1]['plan']['events'] / results[0]['plan']['events']:.0f}x the history) "
        f"{_verdict(flat)}.",
    ]


def _rate_bound(result: dict[str, Any], made: int) -> str:
    """The wall time of the same history under the API's rate limits: the client's limiter
    (chainsync.client.transport.RateLimiter, a bucket of 2 refilled at limit - 1 a minute)
    paces requests evenly and the processing runs in its waits, so the requests set it."""
    times = ", ".join(
        f"**{_minutes(max((made - 2) * 60 / (limit - 1), result['run']['wall']))}** at {limit}/min"
        for limit in RATE_LIMITS
    )
    return (
        f"- Under the API's rate limit, the same {result['plan']['events']:,}-event history "
        f"would take {times} ({made:,} requests at the limiter's steady pace of the limit less "
        f"one a minute; this run's {result['run']['wall']:.0f} s of wall time overlaps its "
        "waits)."
    )


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min" if seconds < 3600 else f"{seconds / 3600:.1f} h"


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
