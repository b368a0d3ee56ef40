"""Summaries of a cProfile run of the indexer's phases: own time by layer (library, app, SQLite)
and the top functions."""

from __future__ import annotations

import cProfile
import pstats
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]

# --- profiles ---------------------------------------------------------------------------------

# A function's own time goes to the first layer whose marker is in its file name; built-ins go
# to the layers of their callers (weighted by the time they spent under each).
LAYERS = [
    ("HTTP client (requests, urllib3, http.client, socket)", ("/requests/", "/urllib3/", "/http/")),
    ("JSON decoding", ("/json/",)),
    ("chainsync client (response checks, dataclasses)", ("chainsync/client/",)),
    ("Clarity decoding, event parsing", ("stacks", "chainsync/log/events")),
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
