// The frontend's contract, checked by the compiler (`tsc --noEmit`, run by tests/clients/): code
// that reads the shapes the React app relies on, written against the types generated from the
// served schema. If the schema stops saying what the server answers (a list documented as a bare
// array, an error status left out, a nullable field made required), this stops compiling.
// It is never run; every function only has to type-check.
import type { ApiClient, ErrorEnvelope, ResponseOf } from "../src";
import { unwrap } from "../src";

// Type-level equality: Assert<Equal<A, B>> compiles only when A and B are the same type.
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2
  ? true
  : false;
type Assert<T extends true> = T;
type Err<S> = S extends { error: infer E } ? E : never;

// --- the list envelope: {count, page, pageSize, next, previous, results} ------------------

type ProjectsPage = ResponseOf<"/api/projects", "get", 200>;
type FreelancerProposalsPage = ResponseOf<"/api/freelancers/{address}/proposals", "get", 200>;
type ProjectProposalsPage = ResponseOf<"/api/projects/{project_id}/proposals", "get", 200>;
type ProjectReviewsPage = ResponseOf<"/api/projects/{project_id}/reviews", "get", 200>;
type UserReviewsPage = ResponseOf<"/api/users/{address}/reviews", "get", 200>;
type FilesPage = ResponseOf<"/api/files", "get", 200>;

type Envelope<P> = Pick<P & object, Extract<keyof P, "count" | "page" | "pageSize" | "next" | "previous">>;
type EnvelopeShape = {
  count: number;
  page: number;
  pageSize: number;
  next: string | null;
  previous: string | null;
};
export type ListEnvelopes = [
  Assert<Equal<Envelope<ProjectsPage>, EnvelopeShape>>,
  Assert<Equal<Envelope<FreelancerProposalsPage>, EnvelopeShape>>,
  Assert<Equal<Envelope<ProjectProposalsPage>, EnvelopeShape>>,
  Assert<Equal<Envelope<ProjectReviewsPage>, EnvelopeShape>>,
  Assert<Equal<Envelope<UserReviewsPage>, EnvelopeShape>>,
  Assert<Equal<Envelope<FilesPage>, EnvelopeShape>>,
];

export async function openProjects(api: ApiClient): Promise<string[]> {
  const page = await unwrap(
    api.GET("/api/projects", { params: { query: { status: "open", pageSize: 20 } } }),
  );
  const total: number = page.count;
  const more: string | null = page.next;
  // @ts-expect-error the page has no field the server does not send
  void page.total;
  void total, more;
  return page.results.map((project) => {
    const id: number = project.id;
    const budget: number | string = project.budget;
    const milestones: number = project.milestones.length;
    void id, budget, milestones;
    return project.title;
  });
}

export async function myProposals(api: ApiClient, address: string): Promise<number[]> {
  const page = await unwrap(
    api.GET("/api/freelancers/{address}/proposals", { params: { path: { address } } }),
  );
  return page.results.map((proposal) => proposal.projectId);
}

export async function reviewsOf(api: ApiClient, projectId: number): Promise<number[]> {
  const page = await unwrap(
    api.GET("/api/projects/{project_id}/reviews", { params: { path: { project_id: String(projectId) } } }),
  );
  const other = await unwrap(
    api.GET("/api/users/{address}/reviews", { params: { path: { address: "ST1" } } }),
  );
  return [...page.results, ...other.results].map((review) => review.rating);
}

export async function myFiles(api: ApiClient): Promise<string[]> {
  const page = await unwrap(api.GET("/api/files"));
  return page.results.map((file) => file.cid);
}

// --- the error envelope: {error: {code, message, details}} on 400, 401 and 409 -------------

type EnvelopeOf<P extends Parameters<typeof checkEnvelope>[0]> = P;
declare function checkEnvelope(envelope: ErrorEnvelope): void;

export type ErrorStatuses = [
  // 400: a project whose body does not match the schema
  EnvelopeOf<ResponseOf<"/api/projects", "post", 400>>,
  // 401: sign-in with a signature that does not verify; a read of /auth/me without a token
  EnvelopeOf<ResponseOf<"/api/auth/verify", "post", 401>>,
  EnvelopeOf<ResponseOf<"/api/auth/me", "get", 401>>,
  // 409: accepting a proposal of a project that is no longer open
  EnvelopeOf<ResponseOf<"/api/proposals/{proposal_id}/accept", "put", 409>>,
  Assert<Equal<ResponseOf<"/api/proposals/{proposal_id}/accept", "put", 409>, ErrorEnvelope>>,
];

export type ErrorFields = [
  Assert<Equal<Err<ErrorEnvelope>["message"], string>>,
  Assert<Equal<Err<ErrorEnvelope>["details"], Record<string, unknown>>>,
];

export async function postJob(api: ApiClient): Promise<string> {
  const result = await api.POST("/api/projects", {
    body: {
      title: "Logo",
      description: "A logo",
      token: "STX",
      budget: 5_000_000,
      milestones: [{ title: "Draft", amount: 5_000_000 }],
    },
  });
  if (result.error) {
    // every non-2xx body of the operation is the envelope
    const code: string = result.error.error.code;
    const budget: unknown = result.error.error.details["budget"];
    void budget;
    return code;
  }
  return result.data.status;
}

// --- sign-in ----------------------------------------------------------------------------

type ChallengeShape = { challenge: string; nonce: string; expiresAt: string };
type SessionShape = { token: string; expiresAt: string };
export type SignInShapes = [
  Assert<Equal<ResponseOf<"/api/auth/challenge", "post", 200>, ChallengeShape>>,
  Assert<
    Equal<Omit<ResponseOf<"/api/auth/verify", "post", 200>, "user">, SessionShape>
  >,
  Assert<Equal<ResponseOf<"/api/auth/ws-ticket", "post", 200>, { ticket: string; expiresAt: string }>>,
];

export async function signInByHand(api: ApiClient, sign: (text: string) => Promise<string>) {
  const address = "ST3EZ4N7VQ08N9S4K0RN7YJEM08PM3VEHG3QG2915";
  const challenge = await unwrap(api.POST("/api/auth/challenge", { body: { address } }));
  const session = await unwrap(
    api.POST("/api/auth/verify", {
      body: {
        address,
        challenge: challenge.challenge,
        nonce: challenge.nonce,
        signature: await sign(challenge.challenge),
      },
    }),
  );
  const who: string = session.user.address;
  const staff: boolean = session.user.isStaff;
  void who, staff;
  return session.token;
}

// --- the indexer's progress ---------------------------------------------------------------

type SyncShape = {
  lastIndexedBlock: number;
  currentBlock: number;
  lag: number;
  lastPollAt: string | null;
  lastSuccessAt: string | null;
  lastError: string | null;
  healthy: boolean;
  state: "starting" | "failing" | "ok" | "disabled";
};
export type SyncStatus = Assert<
  Equal<ResponseOf<"/api/blockchain/sync-status", "get", 200>, SyncShape>
>;

export async function indexerBehind(api: ApiClient): Promise<number | null> {
  const sync = await unwrap(api.GET("/api/blockchain/sync-status"));
  return sync.healthy ? null : sync.lag;
}
