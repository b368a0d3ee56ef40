// Every error under /api/ answers one envelope, `{error: {code, message, details}}`, whatever its
// status: 400 the request does not match the schema (details names each field), 401 not signed in
// or a bad token, 403 not allowed, 404, 409 the state does not allow it now, 413, 415, 422 a rule
// the schema cannot state, 429 rate-limited (Retry-After), 503 the chain API is unreachable.
import type { components } from "./schema";

/** The error envelope, as the schema defines it. */
export type ErrorEnvelope = components["schemas"]["Error"];
/** One of the codes `error.code` can carry (the schema's enum). */
export type ErrorCode = ErrorEnvelope["error"]["code"];

export class ApiError extends Error {
  override readonly name = "ApiError";
  readonly status: number;
  readonly code: ErrorCode | "network_error" | "unexpected_response";
  readonly details: Record<string, unknown>;
  /** Seconds to wait before retrying (429, from Retry-After); null otherwise. */
  readonly retryAfter: number | null;

  constructor(
    status: number,
    code: ApiError["code"],
    message: string,
    details: Record<string, unknown> = {},
    retryAfter: number | null = null,
  ) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
    this.retryAfter = retryAfter;
  }

  /** The messages of one field of a 400/422 (`details` is keyed by the camelCase field). */
  fieldErrors(field: string): string[] {
    const value = this.details[field];
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
  }
}

export function isErrorEnvelope(value: unknown): value is ErrorEnvelope {
  if (typeof value !== "object" || value === null || !("error" in value)) return false;
  const inner = (value as { error: unknown }).error;
  return (
    typeof inner === "object" &&
    inner !== null &&
    typeof (inner as { code?: unknown }).code === "string" &&
    typeof (inner as { message?: unknown }).message === "string"
  );
}

/** The ApiError of a failed response (its body already parsed by openapi-fetch). */
export function apiError(response: Response, body: unknown): ApiError {
  const retry = Number.parseInt(response.headers.get("retry-after") ?? "", 10);
  const retryAfter = Number.isFinite(retry) ? retry : null;
  if (isErrorEnvelope(body)) {
    const { code, message, details } = body.error;
    return new ApiError(response.status, code, message, { ...details }, retryAfter);
  }
  return new ApiError(
    response.status,
    "unexpected_response",
    `HTTP ${response.status} without the error envelope`,
    {},
    retryAfter,
  );
}

/**
 * The data of an openapi-fetch result, or throw its ApiError:
 * `const project = await unwrap(api.GET("/api/projects/{project_id}", {params: {path: {project_id: 1}}}))`.
 * A network failure (the server is down, CORS refused the origin) throws ApiError "network_error".
 */
export async function unwrap<R extends { data?: unknown; error?: unknown; response: Response }>(
  pending: Promise<R> | R,
): Promise<Exclude<R["data"], undefined>> {
  let result: R;
  try {
    result = await pending;
  } catch (cause) {
    const error = new ApiError(0, "network_error", String(cause));
    (error as { cause?: unknown }).cause = cause;
    throw error;
  }
  if (!result.response.ok || result.error !== undefined) {
    throw apiError(result.response, result.error);
  }
  return result.data as Exclude<R["data"], undefined>;
}
