"""The schema's description (settings.SPECTACULAR_SETTINGS): errors, lists, the WebSocket."""

API_DESCRIPTION = """
## Errors

Every error under `/api/` (whatever raises it: validation, a service, an unknown path or method,
CSRF, a body too large, a server error) is JSON in one envelope, the `Error` schema:
`{"error": {"code": "...", "message": "...", "details": {...}}}`. `code` is stable (the `Error`
schema lists every one); `message` is for people. **400 means the schema says no** (a missing or
unknown field, a wrong type, a length, a pattern, an enum); a request the schema allows is refused
only with 401, 403, 404, 409, 413, 415, 422 or 429. **422** is a rule JSON Schema cannot state
(milestone amounts summing to the budget, an address checksum); 409 a state that does not allow
the action now; 415 a body's media type, or a file whose bytes are not an allowed type.

## Lists

Every list answers `{count, page, pageSize, next, previous, results}` (`?page=1&pageSize=20`,
pageSize at most 100; a page past the last is a 404), except `GET /api/notifications`, which
pages by cursor (`nextCursor`).

## The notifications WebSocket

1. `POST /api/auth/ws-ticket` with the Bearer token: `{ticket, expiresAt}`, single use, 30 s.
2. Connect to `ws(s)://HOST/ws/notifications?ticket=<ticket>` (optionally `&resume=<lastId>`).
   Without a valid ticket the server closes with code 4401 before accepting.
3. Client → server (JSON text frames): `{"resume": lastId}` (the `WsResume` schema): every
   notification after `lastId`, in order and once each, then the live ones (live ones that arrive
   before the resume are held until it, at most 1 s); `{"ack": id}` (`WsAck`) marks one read.
4. Server → client: a notification (`WsNotification`: `{id, type, projectId, message, link,
   timestamp}`), `{"type": "ping", "timestamp"}` every 25 s (`WsPing`), `{"type": "error",
   "message"}` for a bad message (`WsError`). The socket closes with 4401 when the session is
   revoked (logout); reconnect with a new ticket otherwise, resuming from the last id seen.
"""
