// The page of the browser test (tests/browser/test_frontend.py): what a React screen would do,
// through nothing but the generated client and its helpers (../src). The test drives it with
// window.app.*; each step returns plain JSON for the test to check. The API is on another origin
// (given as ?api=), so every request is a real cross-origin one under CORS.
import {
  ApiError,
  type BodyOf,
  createApiClient,
  type LiveNotification,
  type NotificationStream,
  openNotifications,
  type Session,
  signIn,
  signOut,
  type StreamStatus,
  unwrap,
} from "../src";

const apiOrigin = new URLSearchParams(location.search).get("api") ?? location.origin;
let session: Session | null = null;
const api = createApiClient({ baseUrl: apiOrigin, token: () => session?.token });

let stream: NotificationStream | null = null;
const received: LiveNotification[] = [];
const statuses: StreamStatus[] = [];

function log(line: string): void {
  const item = document.createElement("li");
  item.textContent = line;
  document.getElementById("log")?.append(item);
}

/** An error as plain data: the envelope's code and status, whatever threw. */
function failure(error: unknown) {
  if (error instanceof ApiError) {
    return { status: error.status, code: error.code, message: error.message, details: error.details };
  }
  return { status: -1, code: "thrown", message: String(error), details: {} };
}

async function attempt<T>(step: () => Promise<T>) {
  try {
    return { ok: true as const, value: await step() };
  } catch (error) {
    return { ok: false as const, error: failure(error) };
  }
}

const app = {
  signIn: () =>
    attempt(async () => {
      session = await signIn(api); // the wallet is asked for its address, then to sign
      log(`signed in as ${session.user.address}`);
      return { address: session.user.address, expiresAt: session.expiresAt };
    }),

  signOut: () =>
    attempt(async () => {
      await signOut(api);
      session = null;
      return null;
    }),

  me: () => attempt(() => unwrap(api.GET("/api/auth/me"))),

  postJob: (job: BodyOf<"/api/projects", "post">) =>
    attempt(async () => {
      const project = await unwrap(api.POST("/api/projects", { body: job }));
      log(`posted job ${project.id}: ${project.title}`);
      return project;
    }),

  openJobs: (search: string) =>
    attempt(async () => {
      const page = await unwrap(
        api.GET("/api/projects", { params: { query: { status: "open", search, pageSize: 10 } } }),
      );
      return { count: page.count, page: page.page, next: page.next, results: page.results };
    }),

  propose: (projectId: number, proposal: BodyOf<"/api/projects/{project_id}/proposals", "post">) =>
    attempt(() =>
      unwrap(
        api.POST("/api/projects/{project_id}/proposals", {
          params: { path: { project_id: String(projectId) } },
          body: proposal,
        }),
      ),
    ),

  proposalsOf: (projectId: number) =>
    attempt(async () => {
      const page = await unwrap(
        api.GET("/api/projects/{project_id}/proposals", {
          params: { path: { project_id: String(projectId) } },
        }),
      );
      return { count: page.count, results: page.results };
    }),

  proposal: (proposalId: number) =>
    attempt(() =>
      unwrap(
        api.GET("/api/proposals/{proposal_id}", {
          params: { path: { proposal_id: String(proposalId) } },
        }),
      ),
    ),

  accept: (proposalId: number) =>
    attempt(() =>
      unwrap(
        api.PUT("/api/proposals/{proposal_id}/accept", {
          params: { path: { proposal_id: String(proposalId) } },
        }),
      ),
    ),

  listen: (lastId?: number) => {
    stream?.close();
    received.length = 0;
    statuses.length = 0;
    stream = openNotifications({
      api,
      baseUrl: apiOrigin,
      ...(lastId === undefined ? {} : { lastId }),
      backoff: () => 200,
      onNotification: (n) => {
        received.push(n);
        log(`notification ${n.id} ${n.type}: ${n.message}`);
      },
      onStatus: (s) => statuses.push(s),
    });
  },
  /** What the stream delivered so far, its statuses, and the id it would resume from. */
  heard: () => ({ received: [...received], statuses: [...statuses], lastId: stream?.lastId ?? 0 }),
  /** The connection drops (as a network would): the stream must reconnect and resume. */
  dropSocket: () => stream?.socket?.close(4000, "test drop"),
};

declare global {
  interface Window {
    app: typeof app;
  }
}
window.app = app;
document.body.dataset["ready"] = "true";
