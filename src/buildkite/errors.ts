// One error type for everything that goes wrong talking to Buildkite. Its message is a
// one-line reason a user can act on; it carries status, method and URL, never the token.

export class ApiError extends Error {
  override readonly name = 'ApiError';
  /** HTTP status, or null for a network error or timeout. */
  readonly status: number | null;
  readonly method: string;
  /** The URL requested (the token is never part of a URL). */
  readonly url: string;
  /** Worth another try: network errors, timeouts, 408, 429, 5xx. */
  readonly retryable: boolean;
  /** For a 429: how long the exceeded window says to wait, in ms. */
  readonly waitMs: number | null;
  /** The `message` of Buildkite's JSON error body, when there was one. */
  readonly apiMessage: string | null;

  constructor(
    message: string,
    details: { status: number | null; method: string; url: string; retryable: boolean; waitMs?: number | null; apiMessage?: string | null; cause?: unknown },
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.status = details.status;
    this.method = details.method;
    this.url = details.url;
    this.retryable = details.retryable;
    this.waitMs = details.waitMs ?? null;
    this.apiMessage = details.apiMessage ?? null;
  }
}

/** Statuses that may succeed on another try. 400, 401, 403 and 404 never do. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/**
 * Turns a network-level error into a short reason: undici wraps the real cause (a refused
 * connection, a reset, a timeout) in generic errors; users need the cause
 * (`ECONNREFUSED 127.0.0.1:443`), not `fetch failed`.
 */
export function describeNetworkError(error: unknown): string {
  const seen = new Set<unknown>();
  let current: unknown = error;
  let best = '';
  while (current instanceof Error && !seen.has(current)) {
    seen.add(current);
    const e = current as Error & { code?: string; address?: string; port?: number };
    if (e.code && e.code.startsWith('E') && !e.code.startsWith('ERR_')) {
      return [e.code, e.address ? `${e.address}${e.port ? `:${e.port}` : ''}` : ''].filter(Boolean).join(' ');
    }
    if (e.code && !best) {
      best = e.code === 'UND_ERR_HEADERS_TIMEOUT' ? 'timed out waiting for response headers'
        : e.code === 'UND_ERR_BODY_TIMEOUT' ? 'no bytes received for the idle timeout'
        : e.code === 'UND_ERR_SOCKET' ? 'connection closed mid-response'
        : e.code === 'UND_ERR_CONNECT_TIMEOUT' ? 'connect timed out'
        : e.code === 'ABORT_ERR' || e.name === 'TimeoutError' ? 'timed out'
        : `${e.code}: ${e.message}`;
    }
    current = e.cause;
  }
  if (best) return best;
  if (error instanceof Error) return error.name === 'TimeoutError' ? 'timed out' : error.message;
  return String(error);
}
