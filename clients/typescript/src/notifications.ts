// The live notification stream, `/ws/notifications`:
// - a single-use, 30-second ticket from `POST /api/auth/ws-ticket` opens it (`?ticket=`), because
//   a browser cannot set headers on the handshake;
// - `&resume=<lastId>` replays, in order and once each, every notification after lastId, then
//   live ones; so after a drop (or a page reload) nothing is lost and nothing comes twice;
// - the server pings every 25 s and closes with 4401 when the session is revoked (sign-out).
// This helper keeps one socket open: it fetches a fresh ticket for every (re)connect, resumes from
// the last id it delivered, and reconnects with a backoff until closed or signed out.
import type { ApiClient, ItemOf } from "./client";
import { ApiError, unwrap } from "./errors";

/** One notification as the stream sends it: the inbox's item without `read`. */
export type LiveNotification = Omit<ItemOf<"/api/notifications">, "read">;

export type StreamStatus =
  | "connecting"
  | "open"
  | "reconnecting"
  /** The session is gone (signed out, expired, revoked): sign in again, then open a new stream. */
  | "unauthorized"
  | "closed";

export interface NotificationStreamOptions {
  api: ApiClient;
  /** The API's origin (http(s)://…); the socket goes to ws(s):// on the same host. */
  baseUrl: string;
  /** Called once per notification, in id order. */
  onNotification: (notification: LiveNotification) => void;
  onStatus?: (status: StreamStatus) => void;
  /** `{"type": "error", "message"}` frames (a bad ack, a malformed message). */
  onServerError?: (message: string) => void;
  /**
   * Deliver what came after this id (e.g. the last one the app showed, kept across reloads).
   * Without it the stream starts after the newest notification in the inbox.
   */
  lastId?: number;
  /** Milliseconds to wait before reconnect attempt n (1, 2, …): 0.5 s doubling to 30 s by default. */
  backoff?: (attempt: number) => number;
  /** Another WebSocket implementation (Node, tests); the browser's by default. */
  WebSocket?: typeof WebSocket;
}

export interface NotificationStream {
  /** The id of the last notification delivered (what a reconnect resumes from). */
  readonly lastId: number;
  readonly status: StreamStatus;
  /** The socket currently open (or opening), for diagnostics. */
  readonly socket: WebSocket | null;
  /** Mark one notification read (the same as PUT /api/notifications/{id}/read). */
  ack(id: number): void;
  /** Close for good (no reconnect). */
  close(): void;
}

const CLOSE_UNAUTHORIZED = 4401;

export function openNotifications(options: NotificationStreamOptions): NotificationStream {
  const Socket = options.WebSocket ?? globalThis.WebSocket;
  const backoff = options.backoff ?? ((n: number) => Math.min(30_000, 500 * 2 ** (n - 1)));
  let lastId = options.lastId ?? null;
  let status: StreamStatus = "connecting";
  let socket: WebSocket | null = null;
  let attempt = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let stopped = false;

  const setStatus = (next: StreamStatus) => {
    status = next;
    options.onStatus?.(next);
  };

  const stop = (final: "closed" | "unauthorized") => {
    stopped = true;
    if (timer !== null) clearTimeout(timer);
    socket?.close(1000);
    socket = null;
    setStatus(final);
  };

  const retry = () => {
    if (stopped) return;
    attempt += 1;
    setStatus("reconnecting");
    timer = setTimeout(connect, backoff(attempt));
  };

  async function connect(): Promise<void> {
    timer = null;
    try {
      if (lastId === null) lastId = await newestId(options.api);
      const { ticket } = await unwrap(options.api.POST("/api/auth/ws-ticket"));
      if (stopped) return;
      const url = new URL("/ws/notifications", options.baseUrl.replace(/^http/, "ws"));
      url.searchParams.set("ticket", ticket);
      url.searchParams.set("resume", String(lastId));
      socket = new Socket(url.toString());
    } catch (error) {
      if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
        stop("unauthorized");
      } else {
        retry();
      }
      return;
    }
    const current = socket;
    current.onopen = () => {
      attempt = 0;
      setStatus("open");
    };
    current.onmessage = (event: MessageEvent) => {
      const message = parse(event.data);
      if (message === null) return;
      if (typeof message.id === "number") {
        if (lastId !== null && message.id <= lastId) return; // already delivered
        lastId = message.id;
        options.onNotification(message as LiveNotification);
      } else if (message.type === "error") {
        options.onServerError?.(String(message.message));
      } // {"type": "ping"}: nothing to do
    };
    current.onclose = (event: CloseEvent) => {
      if (socket !== current) return;
      socket = null;
      if (stopped) return;
      // 4401 after accepting: the session was revoked. A refused handshake (a bad ticket) shows
      // as 1006; the next ticket request tells an expired session (401) from a network fault.
      if (event.code === CLOSE_UNAUTHORIZED) stop("unauthorized");
      else retry();
    };
  }

  setStatus("connecting");
  void connect();

  return {
    get lastId() {
      return lastId ?? 0;
    },
    get status() {
      return status;
    },
    get socket() {
      return socket;
    },
    ack(id: number) {
      socket?.send(JSON.stringify({ ack: id }));
    },
    close() {
      stop("closed");
    },
  };
}

/** The newest notification's id in the inbox (0 when empty): a fresh stream starts after it. */
async function newestId(api: ApiClient): Promise<number> {
  const inbox = await unwrap(api.GET("/api/notifications", { params: { query: { limit: 1 } } }));
  return inbox.results[0]?.id ?? 0;
}

function parse(data: unknown): Record<string, unknown> | null {
  if (typeof data !== "string") return null;
  try {
    const value: unknown = JSON.parse(data);
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
