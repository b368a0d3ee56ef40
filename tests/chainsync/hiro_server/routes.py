"""What each route of the fake API answers, computed from the chain on every request."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from stacks import ClarityDecodeError, ClarityValue, clarity_decode, principal, to_hex
from tests.chainsync.hiro_server.chain import Chain
from tests.chainsync.hiro_server.model import (
    NODE_VERSION,
    SERVER_VERSION,
    Block,
    LogRow,
    MempoolEntry,
    Tx,
    _hash,
)
from tests.chainsync.hiro_server.shapes import (
    _balance_changes,
    _log_item,
    block_json,
    tx_v1_json,
    tx_v1_mempool_json,
    tx_v3_json,
    tx_v3_mempool_json,
    tx_v3_summary_json,
)
from tests.chainsync.hiro_server.state import READ_ONLY, SIGNATURES, EscrowState, _uints


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    route: str | None  # the route name, None for a path no route matches
    params: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: Any  # parsed JSON, raw bytes if not JSON, None if empty


class _BadRequest(Exception):
    pass


class _HttpError(Exception):
    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status, self.body = status, {"error": error, "message": message}


_TX_ID = re.compile(r"0x[0-9a-f]{64}")
_HEX64 = re.compile(r"(?:0x)?[0-9a-fA-F]{64}")
_LOG_CURSOR = re.compile(r"(\d+):(\d+):(\d+):(\d+)")
_TX_CURSOR = re.compile(r"(\d+):(\d+):(\d+)")


class RouteHandlers:
    """The routes of HiroServer, answered from `chain`: each returns (status, body, headers)
    and runs with the chain's lock held."""

    chain: Chain

    def _status(self, request: RecordedRequest, parts: dict[str, str]) -> tuple[int, Any, dict]:
        tip = self.chain.tip
        chain_tip = {
            "block_height": tip.height,
            "block_hash": tip.hash,
            "index_block_hash": tip.index_hash,
            "burn_block_height": tip.burn_height,
        }
        return (
            200,
            {"server_version": SERVER_VERSION, "status": "ready", "chain_tip": chain_tip},
            {},
        )

    def _info(self, request: RecordedRequest, parts: dict[str, str]) -> tuple[int, Any, dict]:
        tip = self.chain.tip
        return (
            200,
            {
                "peer_version": 4207599118,
                "pox_consensus": _hash("pox", tip.burn_height)[2:42],
                "burn_block_height": tip.burn_height,
                "stable_pox_consensus": _hash("pox", tip.burn_height - 7)[2:42],
                "stable_burn_block_height": tip.burn_height - 7,
                "server_version": NODE_VERSION,
                "network_id": self.chain.network_id,
                "parent_network_id": 118034699,
                "stacks_tip_height": tip.height,
                "stacks_tip": tip.hash[2:],
                "stacks_tip_consensus_hash": _hash("consensus", tip.burn_height)[2:42],
                "genesis_chainstate_hash": _hash("genesis")[2:],
                "unanchored_tip": None,
                "unanchored_seq": None,
                "tenure_height": tip.tenure_height,
                "exit_at_block_height": None,
                "is_fully_synced": True,
            },
            {},
        )

    def _contract_logs(
        self, request: RecordedRequest, parts: dict[str, str]
    ) -> tuple[int, Any, dict]:
        limit = _int_param(request, "limit", 20, 1, 100)
        offset = _int_param(request, "offset", 0, 0, 10**9)
        cursor = _cursor_param(request, "cursor", _LOG_CURSOR)
        rows = self.chain.logs(_contract_param(parts))
        start = 0 if cursor is None else _first_at_or_below(rows, cursor)
        page = rows[start + offset : start + offset + limit]
        end = start + offset + limit
        return (
            200,
            {
                "limit": limit,
                "offset": offset,
                "total": len(rows),
                "next_cursor": rows[start - limit].cursor if start >= limit else None,
                "prev_cursor": rows[end].cursor if end < len(rows) else None,
                "cursor": page[0].cursor if page else None,
                "results": [_log_item(row, self.chain.contract_id) for row in page],
            },
            {},
        )

    def _contract_events(
        self, request: RecordedRequest, parts: dict[str, str]
    ) -> tuple[int, Any, dict]:
        limit = _int_param(request, "limit", 20, 0, 50) or 20
        offset = _int_param(request, "offset", 0, 0, 10**9)
        rows = self.chain.logs(_contract_param(parts))[offset : offset + limit]
        results = [_log_item(row, self.chain.contract_id) for row in rows]
        return 200, {"limit": limit, "offset": offset, "results": results}, {}

    def _tx_v1(self, request: RecordedRequest, parts: dict[str, str]) -> tuple[int, Any, dict]:
        tx_id = parts["tx_id"]
        if _HEX64.fullmatch(tx_id) and not tx_id.startswith("0x"):
            return 302, {}, {"location": f"/extended/v1/tx/0x{tx_id}"}
        found = self._locate(tx_id)
        event_limit = _int_param(request, "event_limit", 20, 1, 100)
        event_offset = _int_param(request, "event_offset", 0, 0, 10**9)
        with_args = _param(request, "exclude_function_args") != "true"
        tx, block, entry = found
        if block is None:
            return 200, tx_v1_mempool_json(entry), {}  # type: ignore[arg-type]
        return (
            200,
            tx_v1_json(
                tx,
                block,
                self.chain.contract_id,
                event_limit=event_limit,
                event_offset=event_offset,
                with_args=with_args,
            ),
            {},
        )

    def _tx_multiple(
        self, request: RecordedRequest, parts: dict[str, str]
    ) -> tuple[int, Any, dict]:
        """A map by id: the v1 tx (events included, `event_limit` per tx) of each canonical mined
        or mempool tx, `found: false` for any other id (orphaned copies included)."""
        ids = [i for value in request.params.get("tx_id", []) for i in value.split(",") if i]
        if not ids:
            raise _BadRequest("tx_id is required")
        bad = next((i for i in ids if not _TX_ID.fullmatch(i)), None)
        if bad is not None:
            raise _BadRequest(f"invalid tx id {bad!r}")
        event_limit = _int_param(request, "event_limit", 20, 1, 100)
        event_offset = _int_param(request, "event_offset", 0, 0, 10**9)
        with_args = _param(request, "exclude_function_args") != "true"
        answer: dict[str, Any] = {}
        for tx_id in ids:
            found = self.chain.locate(tx_id)
            tx, block, entry = found if found else (None, None, None)
            if entry is not None:
                answer[tx_id] = {"found": True, "result": tx_v1_mempool_json(entry)}
            elif tx is not None and block is not None and block.canonical:
                result = tx_v1_json(
                    tx,
                    block,
                    self.chain.contract_id,
                    event_limit=event_limit,
                    event_offset=event_offset,
                    with_args=with_args,
                )
                answer[tx_id] = {"found": True, "result": result}
            else:
                answer[tx_id] = {"found": False, "result": {"tx_id": tx_id}}
        return 200, answer, {}

    def _tx_v3(self, request: RecordedRequest, parts: dict[str, str]) -> tuple[int, Any, dict]:
        tx, block, entry = self._locate(parts["tx_id"])
        include = {item for value in request.params.get("include", []) for item in value.split(",")}
        if entry is not None:
            return 200, tx_v3_mempool_json(entry, include), {}
        if block is None or not block.canonical:
            raise _HttpError(404, "Not Found", "Transaction not found")
        return 200, tx_v3_json(tx, block, include), {}

    def _principal_transactions(
        self, request: RecordedRequest, parts: dict[str, str]
    ) -> tuple[int, Any, dict]:
        address = unquote(parts["principal"])
        _checked_principal(address)
        limit = _int_param(request, "limit", 20, 1, 50)
        cursor = _cursor_param(request, "cursor", _TX_CURSOR)
        rows = self.chain.principal_rows(address)
        start = (
            0
            if cursor is None
            else next((i for i, row in enumerate(rows) if row[0] <= cursor), len(rows))
        )
        page, end = rows[start : start + limit], start + limit

        def key(i: int) -> str:
            return ":".join(map(str, rows[i][0]))

        return (
            200,
            {
                "limit": limit,
                "total": len(rows),
                "cursor": {
                    "next": key(end) if end < len(rows) else None,
                    "previous": key(start - limit) if start >= limit else None,
                    "current": key(start) if page else None,
                },
                "results": [
                    {"transaction": tx_v3_summary_json(tx, block)} | _balance_changes(tx, address)
                    for _, block, tx in page
                ],
            },
            {},
        )

    def _block(self, request: RecordedRequest, parts: dict[str, str]) -> tuple[int, Any, dict]:
        ref = parts["block"]
        if not (ref == "latest" or ref.isdigit() or _HEX64.fullmatch(ref)):
            raise _BadRequest(f"invalid height or hash {ref!r}")
        block = self.chain.find_block(ref)
        if block is None:
            raise _HttpError(404, "Not Found", "Block not found")
        return 200, block_json(block), {}

    def _call_read(self, request: RecordedRequest, parts: dict[str, str]) -> tuple[int, Any, dict]:
        contract_id = f"{parts['address']}.{parts['contract']}"
        function = parts["function"]
        args = _call_read_args(request.body)
        if contract_id != self.chain.contract_id:
            raise _HttpError(404, "Not Found", f"No contract {contract_id}")
        state = self.chain.state(self._tip_block(request))
        if function in self.chain.read_only:
            return 200, _okay(self.chain.read_only[function](state, args)), {}
        if function in READ_ONLY:
            return 200, _evaluate(function, state, args), {}
        if function in SIGNATURES:
            cause = f'Unchecked(NotReadOnly("{function}"))'
            return 200, {"okay": False, "cause": cause}, {}
        raise _HttpError(404, "Not Found", f"No function {function} in {contract_id}")

    # --- route helpers ---

    def _locate(self, tx_id: str) -> tuple[Tx, Block | None, MempoolEntry | None]:
        if not _TX_ID.fullmatch(tx_id):
            raise _BadRequest(f"invalid tx id {tx_id!r}")
        found = self.chain.locate(tx_id)
        if found is None:
            raise _HttpError(404, "Not Found", f"could not find transaction by ID {tx_id}")
        return found

    def _tip_block(self, request: RecordedRequest) -> Block | None:
        tip = _param(request, "tip")
        if tip and re.fullmatch(r"[0-9a-f]{64}", tip):
            return self.chain.block_by_index_hash("0x" + tip)
        return None  # omitted, "latest" or malformed: the latest state


def _param(request: RecordedRequest, name: str) -> str | None:
    values = request.params.get(name)
    return values[-1] if values else None


def _int_param(request: RecordedRequest, name: str, default: int, low: int, high: int) -> int:
    text = _param(request, name)
    if text is None:
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        raise _BadRequest(f"{name} must be an integer in {low}..{high}")
    return int(text)


def _cursor_param(
    request: RecordedRequest, name: str, pattern: re.Pattern[str]
) -> tuple[int, ...] | None:
    text = _param(request, name)
    if text is None:
        return None
    found = pattern.fullmatch(text)
    if not found:
        raise _BadRequest(f"{name} does not match {pattern.pattern}")
    return tuple(int(group) for group in found.groups())


def _checked_principal(address: str) -> str:
    try:
        principal(address)
    except ValueError as exc:
        raise _BadRequest(f"invalid principal {address!r}: {exc}") from None
    return address


def _contract_param(parts: dict[str, str]) -> str:
    contract_id = _checked_principal(parts["contract_id"])
    if "." not in contract_id:
        raise _BadRequest("not a contract id")
    return contract_id


def _first_at_or_below(rows: list[LogRow], cursor: tuple[int, ...]) -> int:
    start = next((i for i, row in enumerate(rows) if row.key <= cursor), None)
    if start is None:
        raise _HttpError(404, "Not Found", "Cursor not found")
    return start


def _call_read_args(body: Any) -> list[ClarityValue]:
    if not isinstance(body, dict) or not isinstance(body.get("sender"), str):
        raise _BadRequest("body must be {sender, arguments}")
    _checked_principal(body["sender"])
    arguments = body.get("arguments")
    if not isinstance(arguments, list) or not all(isinstance(a, str) for a in arguments):
        raise _BadRequest("arguments must be a list of hex strings")
    try:
        return [clarity_decode(a) for a in arguments]
    except ClarityDecodeError as exc:
        raise _BadRequest(f"invalid argument: {exc}") from None


def _okay(value: ClarityValue) -> dict[str, Any]:
    return {"okay": True, "result": to_hex(value)}


def _evaluate(function: str, state: EscrowState, args: list[ClarityValue]) -> dict[str, Any]:
    arity, evaluate = READ_ONLY[function]
    if len(args) != arity:
        return {"okay": False, "cause": f"Unchecked(IncorrectArgumentCount({arity}, {len(args)}))"}
    try:
        return _okay(evaluate(state, _uints(args)))
    except TypeError:
        return {"okay": False, "cause": "Unchecked(TypeValueError(UIntType, ...))"}
