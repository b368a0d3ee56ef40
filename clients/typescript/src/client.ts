// The typed API client: openapi-fetch over the types openapi-typescript generated from the
// served schema (src/schema.ts; regenerate with `make client`, never edit it by hand).
import createClient, { type Client, type Middleware } from "openapi-fetch";
import type { paths } from "./schema";

export type { paths, components, operations } from "./schema";

/** A client of every operation in the schema: `api.GET("/api/projects", {params: {query}})`. */
export type ApiClient = Client<paths>;

export interface ApiClientOptions {
  /** The API's origin, e.g. "https://api.stxworx.com" (every path starts with /api/). */
  baseUrl: string;
  /** The session JWT to send as `Authorization: Bearer …`, read at every request (null: none). */
  token?: () => string | null | undefined;
  /** Another fetch (tests, SSR); the browser's by default. */
  fetch?: (input: Request) => Promise<Response>;
}

export function createApiClient(options: ApiClientOptions): ApiClient {
  const client = createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ""),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const token = options.token;
  if (token) client.use(bearer(token));
  return client;
}

function bearer(token: () => string | null | undefined): Middleware {
  return {
    onRequest({ request }) {
      const value = token();
      if (value && !request.headers.has("authorization")) {
        request.headers.set("authorization", `Bearer ${value}`);
      }
      return request;
    },
  };
}

// --- shapes read off the paths (not off component names, which the server may rename) -------

type Method = "get" | "put" | "post" | "delete" | "patch";
type Json<R> = R extends { content: { "application/json": infer B } } ? B : never;
type Op<P extends keyof paths, M extends Method> = NonNullable<paths[P][M]>;

/** The JSON body a status of an operation answers: `ResponseOf<"/api/projects", "get", 200>`. */
export type ResponseOf<
  P extends keyof paths,
  M extends Method,
  S extends keyof Op<P, M>["responses"],
> = Json<Op<P, M>["responses"][S]>;

/** The JSON request body of an operation. */
export type BodyOf<P extends keyof paths, M extends Method> = Json<
  NonNullable<Op<P, M>["requestBody"]>
>;

/** An item of a list operation's page: `ItemOf<"/api/projects">` is one project. */
export type ItemOf<P extends keyof paths> = ResponseOf<P, "get", 200> extends { results: (infer I)[] }
  ? I
  : never;
