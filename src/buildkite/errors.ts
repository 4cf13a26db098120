// One error type for everything that goes wrong talking to Buildkite. Its message is a
// one-line reason a user can act on; it carries status, method and URL, never the token.

import { toPrintable } from '../core/clean-line.ts';

/** What an ApiError carries besides its message. */
export interface ApiErrorDetails {
  readonly status: number | null;
  readonly method: string;
  readonly url: string;
  readonly retryable: boolean;
  /** The answer came from the configured API host, not from a redirect target or the network. */
  readonly fromApi?: boolean;
  readonly waitMs?: number | null;
  readonly apiMessage?: string | null;
  readonly cause?: unknown;
}

export class ApiError extends Error {
  override readonly name = 'ApiError';
  /** HTTP status, or null for a network error or timeout. */
  readonly status: number | null;
  readonly method: string;
  /** The URL requested (the token is never part of a URL). */
  readonly url: string;
  /** Worth another try: network errors, timeouts, 408, 429, 5xx. */
  readonly retryable: boolean;
  /**
   * True when the configured API host itself answered (or was being asked). A 401 or 403 from
   * there is about the token; one from a host a redirect led to (object storage) is not.
   */
  readonly fromApi: boolean;
  /** For a 429: how long the exceeded window says to wait, in ms. */
  readonly waitMs: number | null;
  /** The `message` of Buildkite's JSON error body, when there was one. */
  readonly apiMessage: string | null;

  constructor(message: string, details: ApiErrorDetails) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.status = details.status;
    this.method = details.method;
    this.url = details.url;
    this.retryable = details.retryable;
    this.fromApi = details.fromApi ?? false;
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
    const e = current as Error & { code?: unknown; address?: unknown; port?: unknown };
    // DOMException (an aborted or timed-out signal) has a numeric `code`: only strings are errno-like.
    const code = typeof e.code === 'string' ? e.code : '';
    if (code.startsWith('E') && !code.startsWith('ERR_')) {
      const where =
        typeof e.address === 'string' ? `${e.address}${typeof e.port === 'number' ? `:${e.port}` : ''}` : '';
      return [code, where].filter(Boolean).join(' ');
    }
    if (!best && (e.name === 'TimeoutError' || e.name === 'AbortError')) best = 'timed out';
    if (code && !best) {
      best =
        code === 'UND_ERR_HEADERS_TIMEOUT'
          ? 'timed out waiting for response headers'
          : code === 'UND_ERR_BODY_TIMEOUT'
            ? 'no bytes received for the idle timeout'
            : code === 'UND_ERR_SOCKET'
              ? 'connection closed mid-response'
              : code === 'UND_ERR_CONNECT_TIMEOUT'
                ? 'connect timed out'
                : code === 'UND_ERR_ABORTED'
                  ? 'timed out'
                  : code === 'ABORT_ERR'
                    ? 'timed out'
                    : `${code}: ${oneLine(e.message)}`;
    }
    current = e.cause;
  }
  if (best) return best;
  if (error instanceof Error) return oneLine(error.message);
  return oneLine(String(error));
}

/**
 * A server's or the network's message as one printable line: terminal escapes and control
 * characters (from a hostile or broken server) removed, whitespace collapsed, length bounded.
 */
export function oneLine(text: string, max = 300): string {
  const line = toPrintable(text).replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max)}…` : line;
}
