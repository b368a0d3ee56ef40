"""The only routes the client may use (all under the configured base URL), and the page
sizes the API allows on each."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

DEFAULT_RATE_LIMIT = 50  # requests per minute: Hiro's limit per IP without a key
LOGS_MAX_LIMIT = 100
EVENTS_MAX_LIMIT = 50
PRINCIPAL_TXS_MAX_LIMIT = 50
TX_EVENTS_MAX_LIMIT = 100
# Ids per /extended/v1/tx/multiple request: 50 keep the URL (67 bytes an id) near 3.5 KB, well
# inside the proxy's ~16 KB header limit that bounds the API's undocumented maximum.
TX_MULTIPLE_MAX_IDS = 50
V1_WALK_OVERLAP = 10  # rows each v1 page re-reads from the previous one
V1_WALK_RESTARTS = 3


@dataclass(frozen=True, slots=True)
class Route:
    name: str
    method: str
    template: str

    def path(self, **parts: str) -> str:
        return self.template.format(**{key: quote(value, safe="") for key, value in parts.items()})


STATUS = Route("status", "GET", "/extended")
INFO = Route("info", "GET", "/v2/info")
CONTRACT_LOGS = Route("contract_logs", "GET", "/extended/v2/smart-contracts/{contract_id}/logs")
CONTRACT_EVENTS = Route("contract_events", "GET", "/extended/v1/contract/{contract_id}/events")
TX_V1 = Route("tx_v1", "GET", "/extended/v1/tx/{tx_id}")
TX_V3 = Route("tx_v3", "GET", "/extended/v3/transactions/{tx_id}")
TX_MULTIPLE = Route("tx_multiple", "GET", "/extended/v1/tx/multiple")
PRINCIPAL_TXS = Route(
    "principal_transactions", "GET", "/extended/v3/principals/{principal}/transactions"
)
BLOCK = Route("block", "GET", "/extended/v2/blocks/{block}")
CALL_READ = Route("call_read", "POST", "/v2/contracts/call-read/{address}/{contract}/{function}")
ROUTES = (
    STATUS,
    INFO,
    CONTRACT_LOGS,
    CONTRACT_EVENTS,
    TX_V1,
    TX_V3,
    TX_MULTIPLE,
    PRINCIPAL_TXS,
    BLOCK,
    CALL_READ,
)
