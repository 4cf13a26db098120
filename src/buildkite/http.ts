// HTTP to Buildkite: bearer auth, keep-alive, timeouts, redirects, gzip, rate-limit pacing and
// retries. Everything returned is either a success or an ApiError with a one-line reason.

import { createGunzip, createInflate } from 'node:zlib';
import { Readable } from 'node:stream';
import { Agent, request, type Dispatcher } from 'undici';
import { ApiError, describeNetworkError, isRetryableStatus } from './errors.ts';
import { RateLimiter, realClock, type Clock, type HeaderLookup, type Scope } from './rate-limiter.ts';

export interface RetryPolicy {
  /** Tries after the first for network errors, 408 and 5xx. */
  readonly retries: number;
  /** Tries after the first for 429 (each waits for the window to reset). */
  readonly rateLimitRetries: number;
  /** First backoff; doubles each try, with full jitter. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 4, rateLimitRetries: 8, baseDelayMs: 500, maxDelayMs: 20_000 };

export interface HttpOptions {
  readonly apiUrl: string;
  readonly token: string;
  readonly userAgent: string;
  readonly retry?: RetryPolicy;
  readonly clock?: Clock;
  /** Total time for an API call (head and JSON body). */
  readonly apiTimeoutMs?: number;
  /** Longest silence allowed while a log body streams; no total limit, so big logs complete. */
  readonly idleTimeoutMs?: number;
  /** Connections to keep open to the API host; bounded by the scan's concurrency. */
  readonly connections?: number;
}

export interface HttpStats {
  requests: number;
  rateLimited: number;
  retries: number;
}

/** An open response body, decoded from gzip when the server compressed it. */
export interface OpenBody {
  readonly status: number;
  readonly contentType: string;
  readonly body: AsyncIterable<Uint8Array>;
  /** Stops the transfer early (the caller read what it needed). */
  destroy(): void;
}

const MAX_REDIRECTS = 5;

export class BuildkiteHttp {
  readonly stats: HttpStats = { requests: 0, rateLimited: 0, retries: 0 };
  readonly limiter: RateLimiter;
  private readonly origin: string;
  private readonly retry: RetryPolicy;
  private readonly clock: Clock;
  private readonly dispatcher: Dispatcher;
  private readonly apiTimeoutMs: number;

  constructor(private readonly options: HttpOptions) {
    this.origin = new URL(options.apiUrl).origin;
    this.retry = options.retry ?? DEFAULT_RETRY;
    this.clock = options.clock ?? realClock;
    this.limiter = new RateLimiter(this.clock);
    this.apiTimeoutMs = options.apiTimeoutMs ?? 30_000;
    const idle = options.idleTimeoutMs ?? 30_000;
    this.dispatcher = new Agent({
      connections: options.connections ?? 16,
      keepAliveTimeout: 30_000,
      headersTimeout: this.apiTimeoutMs,
      bodyTimeout: idle,
      connect: { timeout: 10_000 },
    });
  }

  /** GET a JSON document, with retries. Returns the body and a header lookup. */
  async getJson<T>(url: string): Promise<{ body: T; header: HeaderLookup }> {
    return this.withRetries(async () => {
      const signal = AbortSignal.timeout(this.apiTimeoutMs);
      const res = await this.send(url, 'application/json', signal);
      try {
        const text = await readText(res.stream, signal, url);
        try {
          return { body: JSON.parse(text) as T, header: res.header };
        } catch (error: unknown) {
          throw new ApiError(`GET ${url} answered ${res.status} with a body that is not JSON`, {
            status: res.status, method: 'GET', url, retryable: false, cause: error,
          });
        }
      } finally {
        res.destroy();
      }
    });
  }

  /**
   * Opens a body for streaming (one try; the caller retries the whole read, since a body that
   * breaks midway must be read again from the start). Returns null on 404.
   */
  async open(url: string, accept: string): Promise<OpenBody | null> {
    try {
      return await this.send(url, accept, undefined);
    } catch (error: unknown) {
      if (error instanceof ApiError && error.status === 404) return null;
      throw error;
    }
  }

  /**
   * Runs `attempt` until it succeeds or fails for good: retryable ApiErrors are tried again
   * with exponential backoff and full jitter; a 429 waits for its window's reset instead.
   */
  async withRetries<T>(attempt: () => Promise<T>): Promise<T> {
    let failures = 0;
    let limited = 0;
    for (;;) {
      try {
        return await attempt();
      } catch (error: unknown) {
        if (!(error instanceof ApiError) || !error.retryable) throw error;
        if (error.status === 429) {
          if (++limited > this.retry.rateLimitRetries) throw error;
          // The limiter already knows the window is empty; acquire() waits for its reset.
        } else {
          if (++failures > this.retry.retries) throw error;
          const cap = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (failures - 1));
          await this.clock.sleep(this.clock.random() * cap);
        }
        this.stats.retries++;
      }
    }
  }

  close(): Promise<void> {
    return this.dispatcher.close();
  }

  /** One request, redirects followed; throws ApiError for any status other than 2xx. */
  private async send(startUrl: string, accept: string, signal: AbortSignal | undefined): Promise<OpenBody & { header: HeaderLookup; stream: Readable }> {
    let url = startUrl;
    for (let hop = 0; ; hop++) {
      const sameHost = new URL(url).origin === this.origin;
      const headers: Record<string, string> = {
        accept,
        'accept-encoding': 'gzip',
        'user-agent': this.options.userAgent,
      };
      // The token goes to the configured API host only, never to a redirect target elsewhere.
      if (sameHost) headers.authorization = `Bearer ${this.options.token}`;

      await this.limiter.acquire();
      this.stats.requests++;
      let res: Dispatcher.ResponseData;
      try {
        res = await request(url, { method: 'GET', headers, dispatcher: this.dispatcher, signal });
      } catch (error: unknown) {
        this.limiter.release(null);
        throw new ApiError(`GET ${url} failed: ${describeNetworkError(error)}`, {
          status: null, method: 'GET', url, retryable: true, cause: error,
        });
      }
      const header: HeaderLookup = (name) => {
        const value = res.headers[name];
        return Array.isArray(value) ? (value[0] ?? null) : (value ?? null);
      };
      this.limiter.release(sameHost ? header : null);

      const status = res.statusCode;
      if (status >= 300 && status < 400 && header('location')) {
        await res.body.dump();
        if (hop >= MAX_REDIRECTS) {
          throw new ApiError(`GET ${startUrl} redirected more than ${MAX_REDIRECTS} times`, {
            status, method: 'GET', url, retryable: false,
          });
        }
        url = new URL(header('location')!, url).href;
        continue;
      }
      if (status < 200 || status >= 300) {
        throw await this.failure(status, url, res, header);
      }
      const encoding = (header('content-encoding') ?? '').toLowerCase();
      const raw = res.body;
      const body: Readable =
        encoding === 'gzip' || encoding === 'x-gzip' ? raw.pipe(createGunzip())
          : encoding === 'deflate' ? raw.pipe(createInflate())
            : raw;
      if (body !== raw) raw.on('error', (error) => body.destroy(error));
      return {
        status,
        contentType: (header('content-type') ?? '').toLowerCase(),
        body: wrapBody(body, url),
        destroy: () => {
          raw.destroy();
          if (body !== raw) body.destroy();
        },
        header,
        stream: body,
      };
    }
  }

  private async failure(status: number, url: string, res: Dispatcher.ResponseData, header: HeaderLookup): Promise<ApiError> {
    let text = '';
    try {
      text = await readText(res.body, AbortSignal.timeout(this.apiTimeoutMs), url, 64 * 1024);
    } catch {
      // The status says enough.
    }
    let message = '';
    let parsed: { message?: unknown; scope?: unknown; reset?: unknown } = {};
    try {
      parsed = JSON.parse(text) as typeof parsed;
      if (typeof parsed.message === 'string') message = parsed.message;
    } catch {
      // A proxy's HTML error page: report the status alone.
    }
    let waitMs: number | null = null;
    if (status === 429) {
      this.stats.rateLimited++;
      const scope: Scope = parsed.scope === 'rest_org' || parsed.scope === 'org' ? 'org'
        : parsed.scope === 'rest_user' || parsed.scope === 'user' ? 'user'
          : header('ratelimit-user-remaining') === '0' ? 'user' : 'org';
      const fromHeader = Number(header(scope === 'user' ? 'ratelimit-user-reset' : 'ratelimit-reset'));
      const fromBody = typeof parsed.reset === 'number' ? parsed.reset : Number.NaN;
      const reset = Number.isFinite(fromHeader) && header(scope === 'user' ? 'ratelimit-user-reset' : 'ratelimit-reset') !== null
        ? fromHeader : Number.isFinite(fromBody) ? fromBody : null;
      waitMs = this.limiter.exhausted(scope, reset);
    }
    const detail = message ? `: ${oneLine(message)}` : '';
    return new ApiError(`GET ${url} answered ${status}${detail}`, {
      status, method: 'GET', url, retryable: isRetryableStatus(status), waitMs, apiMessage: message || null,
    });
  }
}

/** Iterates a body, turning stream errors into retryable ApiErrors. */
async function* wrapBody(body: Readable, url: string): AsyncIterable<Uint8Array> {
  try {
    for await (const chunk of body) yield chunk as Uint8Array;
  } catch (error: unknown) {
    throw new ApiError(`GET ${url} broke off mid-body: ${describeNetworkError(error)}`, {
      status: null, method: 'GET', url, retryable: true, cause: error,
    });
  }
}

async function readText(body: Readable, signal: AbortSignal, url: string, limit = 256 * 1024 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  const onAbort = () => body.destroy(signal.reason as Error);
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const chunk of body) {
      size += (chunk as Buffer).length;
      if (size > limit) break;
      chunks.push(chunk as Buffer);
    }
  } catch (error: unknown) {
    throw new ApiError(`GET ${url} failed: ${describeNetworkError(error)}`, {
      status: null, method: 'GET', url, retryable: true, cause: error,
    });
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}
