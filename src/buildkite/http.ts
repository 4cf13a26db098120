// HTTP to Buildkite: bearer auth, keep-alive, timeouts, redirects, gzip, rate-limit pacing and
// retries. Everything returned is either a success or an ApiError with a one-line reason.

import { createGunzip, createInflate } from 'node:zlib';
import { setMaxListeners } from 'node:events';
import { Readable } from 'node:stream';
import { Agent, request, type Dispatcher } from 'undici';
import { ApiError, describeNetworkError, isRetryableStatus, oneLine, type ApiErrorDetails } from './errors.ts';
import { JsonArrayError, JsonArrayReader, type SplitMember } from './json-array.ts';
import {
  RateLimiter,
  realClock,
  type Clock,
  type HeaderLookup,
  type RateLimitWait,
  type Scope,
} from './rate-limiter.ts';

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
  /** Told when requests start waiting for a rate-limit window to reset. */
  readonly onRateLimitWait?: (wait: RateLimitWait) => void;
}

interface HttpStats {
  requests: number;
  rateLimited: number;
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
  readonly stats: HttpStats = { requests: 0, rateLimited: 0 };
  private readonly limiter: RateLimiter;
  private readonly origin: string;
  private readonly retry: RetryPolicy;
  private readonly clock: Clock;
  private readonly dispatcher: Dispatcher;
  private readonly apiTimeoutMs: number;
  /** Aborted by stop(): waits end at once and no request is sent after. */
  private readonly stopping = new AbortController();

  constructor(private readonly options: HttpOptions) {
    this.origin = new URL(options.apiUrl).origin;
    this.retry = options.retry ?? DEFAULT_RETRY;
    this.clock = options.clock ?? realClock;
    this.limiter = new RateLimiter(this.clock, options.onRateLimitWait);
    this.apiTimeoutMs = options.apiTimeoutMs ?? 30_000;
    // Every waiting request listens on it: as many as the concurrency, by design.
    setMaxListeners(0, this.stopping.signal);
    const idle = options.idleTimeoutMs ?? 30_000;
    this.dispatcher = new Agent({
      connections: options.connections ?? 16,
      keepAliveTimeout: 30_000,
      headersTimeout: this.apiTimeoutMs,
      bodyTimeout: idle,
      connect: { timeout: 10_000 },
    });
  }

  /**
   * GET a JSON document, with retries. Returns the body and a header lookup. The API timeout
   * covers the request from the moment it is sent (not the wait for rate-limit budget) to the
   * end of its body.
   */
  async getJson<T>(url: string): Promise<{ body: T; header: HeaderLookup }> {
    return this.withRetries(async () => {
      const res = await this.send(url, 'application/json', this.apiTimeoutMs);
      try {
        const text = await readText(res.stream, res.signal, res.url, JSON_MAX_BYTES, (reason, details) =>
          this.error(reason, details),
        );
        try {
          return { body: JSON.parse(text) as T, header: res.header };
        } catch (error: unknown) {
          throw this.error(`GET ${res.url} answered ${res.status} with a body that is not JSON`, {
            status: res.status,
            method: 'GET',
            url: res.url,
            retryable: false,
            cause: error,
          });
        }
      } finally {
        res.destroy();
      }
    });
  }

  /**
   * GETs a JSON array and hands each element to `onElement` as the body streams (one try: the
   * caller retries the whole page, since elements already handed on cannot be taken back). No
   * limit on the whole body, only the idle timeout between bytes: a 60 MB page of big builds
   * takes as long as it takes to arrive, and a page that stops arriving fails. With `split`, one
   * array member of each element is read element by element too (see JsonArrayReader).
   */
  async getJsonArray(
    url: string,
    onElement: (value: unknown) => void,
    split: SplitMember | null = null,
  ): Promise<{ header: HeaderLookup }> {
    const res = await this.send(url, 'application/json', null);
    try {
      const reader = new JsonArrayReader(onElement, split);
      for await (const chunk of res.body) reader.push(chunk);
      reader.end();
      return { header: res.header };
    } catch (error: unknown) {
      if (error instanceof JsonArrayError) {
        throw this.error(
          `GET ${res.url} answered ${res.status} with a body that is not a JSON array (${error.message})`,
          {
            status: res.status,
            method: 'GET',
            url: res.url,
            retryable: false,
            cause: error,
          },
        );
      }
      throw error;
    } finally {
      res.destroy();
    }
  }

  /**
   * Opens a body for streaming (one try; the caller retries the whole read, since a body that
   * breaks midway must be read again from the start). Returns null on 404.
   */
  async open(url: string, accept: string): Promise<OpenBody | null> {
    try {
      return await this.send(url, accept, null);
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
        if (error.status === 429 && error.waitMs !== null) {
          if (++limited > this.retry.rateLimitRetries) throw error;
          // Buildkite sends no Retry-After: wait for the exceeded window's reset (plus jitter).
          // The limiter holds every other request until then too; this wait keeps the promise
          // for this request even when a later response's headers reopen the window early.
          await this.clock.sleep(error.waitMs, this.stopping.signal);
        } else {
          if (++failures > this.retry.retries) throw error;
          const cap = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (failures - 1));
          await this.clock.sleep(this.clock.random() * cap, this.stopping.signal);
        }
        if (this.stopping.signal.aborted) throw error;
      }
    }
  }

  /**
   * Stops the client: requests waiting for rate-limit budget or a retry give up instead of
   * going out, so a run that has already failed ends promptly and sends nothing more.
   */
  stop(): void {
    this.stopping.abort();
  }

  /** True once stop() was called. */
  get stopped(): boolean {
    return this.stopping.signal.aborted;
  }

  close(): Promise<void> {
    return this.dispatcher.close();
  }

  /** True when `url` is on the configured API origin: the only place the token is sent. */
  isApiUrl(url: string): boolean {
    try {
      return new URL(url).origin === this.origin;
    } catch {
      return false;
    }
  }

  /**
   * One request, redirects followed; throws ApiError for any status other than 2xx. With
   * `timeoutMs`, the whole exchange (every hop and, for the caller, the body) must finish within
   * it, counted from the first send, not from the wait for rate-limit budget.
   */
  private async send(startUrl: string, accept: string, timeoutMs: number | null): Promise<SentBody> {
    let url = startUrl;
    let signal: AbortSignal | undefined;
    // Once a redirect leaves the API origin the token stays behind for the rest of the chain,
    // even if a later hop points back: the token goes where the user configured, nowhere else.
    let mayAuthorize = true;
    for (let hop = 0; ; hop++) {
      const onApi = this.isApiUrl(url);
      mayAuthorize &&= onApi;
      const headers: Record<string, string> = {
        accept,
        'accept-encoding': 'gzip',
        'user-agent': this.options.userAgent,
      };
      if (mayAuthorize) headers.authorization = `Bearer ${this.options.token}`;

      // Only requests to Buildkite count against its rate limits; a redirect target (object
      // storage) does not.
      const ticket = onApi ? await this.limiter.acquire(this.stopping.signal) : null;
      if (this.stopping.signal.aborted) {
        if (ticket) this.limiter.release(ticket, null);
        throw this.error(`GET ${url} not sent: the scan stopped`, {
          status: null,
          method: 'GET',
          url,
          retryable: false,
        });
      }
      if (timeoutMs !== null) signal ??= AbortSignal.timeout(timeoutMs);
      this.stats.requests++;
      let res: Dispatcher.ResponseData;
      try {
        res = await request(url, { method: 'GET', headers, dispatcher: this.dispatcher, signal });
      } catch (error: unknown) {
        if (ticket) this.limiter.release(ticket, null);
        throw this.error(`GET ${url} failed: ${describeNetworkError(error)}`, {
          status: null,
          method: 'GET',
          url,
          retryable: true,
          cause: error,
        });
      }
      const header: HeaderLookup = (name) => {
        const value = res.headers[name];
        return Array.isArray(value) ? (value[0] ?? null) : (value ?? null);
      };
      if (ticket) this.limiter.release(ticket, header);

      const status = res.statusCode;
      const location = header('location');
      if (status >= 300 && status < 400 && location) {
        await res.body.dump().catch(() => undefined);
        if (hop >= MAX_REDIRECTS) {
          throw this.error(`GET ${startUrl} redirected more than ${MAX_REDIRECTS} times`, {
            status,
            method: 'GET',
            url,
            retryable: false,
          });
        }
        let next: URL;
        try {
          next = new URL(location, url);
        } catch {
          throw this.error(`GET ${url} redirected to an invalid location`, {
            status,
            method: 'GET',
            url,
            retryable: false,
          });
        }
        if (next.protocol !== 'https:' && next.protocol !== 'http:') {
          throw this.error(`GET ${url} redirected to a ${next.protocol} URL; not followed`, {
            status,
            method: 'GET',
            url,
            retryable: false,
          });
        }
        url = next.href;
        continue;
      }
      if (status < 200 || status >= 300) {
        throw await this.failure(status, url, res, header, onApi);
      }
      const encoding = (header('content-encoding') ?? '').toLowerCase();
      const raw = res.body;
      const body: Readable =
        encoding === 'gzip' || encoding === 'x-gzip'
          ? raw.pipe(createGunzip())
          : encoding === 'deflate'
            ? raw.pipe(createInflate())
            : raw;
      if (body !== raw) raw.on('error', (error) => body.destroy(error));
      const finalUrl = url;
      return {
        status,
        url: finalUrl,
        contentType: (header('content-type') ?? '').toLowerCase(),
        body: wrapBody(body, finalUrl, (reason, cause) =>
          this.error(reason, { status: null, method: 'GET', url: finalUrl, retryable: true, cause }),
        ),
        destroy: () => {
          raw.destroy();
          if (body !== raw) body.destroy();
        },
        header,
        stream: body,
        signal: signal ?? null,
      };
    }
  }

  private async failure(
    status: number,
    url: string,
    res: Dispatcher.ResponseData,
    header: HeaderLookup,
    onApi: boolean,
  ): Promise<ApiError> {
    let text = '';
    try {
      text = await readText(res.body, AbortSignal.timeout(this.apiTimeoutMs), url, 64 * 1024, (reason, details) =>
        this.error(reason, details),
      );
    } catch {
      // The status says enough.
    }
    let message = '';
    let parsed: { message?: unknown; scope?: unknown; reset?: unknown } = {};
    try {
      const value: unknown = JSON.parse(text);
      if (typeof value === 'object' && value !== null) parsed = value as typeof parsed;
      if (typeof parsed.message === 'string') message = parsed.message;
    } catch {
      // A proxy's HTML error page: report the status alone.
    }
    let waitMs: number | null = null;
    if (status === 429) this.stats.rateLimited++;
    // Buildkite's windows: a 429 from elsewhere (a redirect target) is backed off like a 5xx.
    if (status === 429 && onApi) {
      const scope: Scope =
        parsed.scope === 'rest_org' || parsed.scope === 'org'
          ? 'org'
          : parsed.scope === 'rest_user' || parsed.scope === 'user'
            ? 'user'
            : header('ratelimit-user-remaining') === '0'
              ? 'user'
              : 'org';
      const fromHeader = header(scope === 'user' ? 'ratelimit-user-reset' : 'ratelimit-reset');
      const headerReset = fromHeader !== null && fromHeader.trim() !== '' ? Number(fromHeader) : Number.NaN;
      const bodyReset = typeof parsed.reset === 'number' ? parsed.reset : Number.NaN;
      const reset =
        Number.isFinite(headerReset) && headerReset >= 0
          ? headerReset
          : Number.isFinite(bodyReset) && bodyReset >= 0
            ? bodyReset
            : null;
      // Buildkite's windows are a minute long: a reset beyond five minutes is capped.
      waitMs = this.limiter.exhausted(scope, reset === null ? null : Math.min(reset, 300));
      this.limiter.noteWait(this.clock.now() + waitMs, scope);
    }
    const detail = message ? `: ${oneLine(message)}` : '';
    return this.error(`GET ${url} answered ${status}${detail}`, {
      status,
      method: 'GET',
      url,
      retryable: isRetryableStatus(status),
      waitMs,
      apiMessage: message || null,
    });
  }

  /**
   * Builds an ApiError with the token removed from every text in it: a proxy or a redirect
   * target may echo request headers into its error body or a Location, and these texts end up
   * in reports, warnings and logs.
   */
  private error(message: string, details: ApiErrorDetails): ApiError {
    return new ApiError(this.redact(message), {
      ...details,
      fromApi: details.fromApi ?? this.isApiUrl(details.url),
      url: this.redact(details.url),
      apiMessage: details.apiMessage == null ? details.apiMessage : this.redact(details.apiMessage),
    });
  }

  /** Replaces the token wherever it appears in `text`. */
  private redact(text: string): string {
    const token = this.options.token;
    return token.length >= 4 && text.includes(token) ? text.replaceAll(token, '***') : text;
  }
}

/** What send() returns: an open body plus what getJson needs to finish reading it. */
interface SentBody extends OpenBody {
  /** The URL that answered (after redirects). */
  readonly url: string;
  readonly header: HeaderLookup;
  readonly stream: Readable;
  /** The API timeout running for this exchange, if any. */
  readonly signal: AbortSignal | null;
}

/** Iterates a body, turning stream errors (a cut connection, the idle timeout) into retryable ApiErrors. */
async function* wrapBody(
  body: Readable,
  url: string,
  fail: (reason: string, cause: unknown) => ApiError,
): AsyncIterable<Uint8Array> {
  try {
    for await (const chunk of body) yield chunk as Uint8Array;
  } catch (error: unknown) {
    throw fail(`GET ${url} broke off mid-body: ${describeNetworkError(error)}`, error);
  }
}

/** JSON documents (a page of 100 builds with their jobs) stay far below this. */
const JSON_MAX_BYTES = 256 * 1024 * 1024;

/** Reads a body as UTF-8 up to `limit` bytes (the rest is dropped); network errors become retryable. */
async function readText(
  body: Readable,
  signal: AbortSignal | null,
  url: string,
  limit: number,
  fail: (reason: string, details: ApiErrorDetails) => ApiError,
): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  const onAbort = () => body.destroy(signal?.reason instanceof Error ? signal.reason : new Error('timed out'));
  if (signal?.aborted) onAbort();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const chunk of body) {
      size += (chunk as Buffer).length;
      if (size > limit) break;
      chunks.push(chunk as Buffer);
    }
  } catch (error: unknown) {
    throw fail(`GET ${url} failed: ${describeNetworkError(error)}`, {
      status: null,
      method: 'GET',
      url,
      retryable: true,
      cause: error,
    });
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  return Buffer.concat(chunks).toString('utf8');
}
