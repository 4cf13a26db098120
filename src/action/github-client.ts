// The Octokit every GitHub call goes through: @actions/github's client with two plugins, so a
// scheduled run survives GitHub having a bad minute.
// - @octokit/plugin-retry tries 5xx answers and network errors again, backing off 1, 4, 9 s.
// - @octokit/plugin-throttling honours rate limits: a primary limit (403 or 429 with
//   `x-ratelimit-remaining: 0`, waiting until `x-ratelimit-reset`) and a secondary one (the
//   documented "You have exceeded a secondary rate limit" message, waiting `retry-after`). It
//   also spaces writes, as GitHub asks of integrations that write a lot.
// A 403 that is neither (a token without the permission) is never tried again: it cannot
// succeed. Nor are 400, 401, 404, 410, 422 and 451.

import { getOctokit } from '@actions/github';
import { retry } from '@octokit/plugin-retry';
import { throttling, type ThrottlingOptions } from '@octokit/plugin-throttling';
import { describeNetworkError, oneLine } from '../buildkite/errors.ts';

export type GitHubClient = ReturnType<typeof getOctokit>;

export interface GitHubClientOptions {
  /** The API's base URL; by default GITHUB_API_URL, else https://api.github.com. */
  readonly baseUrl?: string;
  readonly userAgent?: string;
  /** Tries after the first, for 5xx and network errors and for each kind of rate limit. */
  readonly retries?: number;
  /** The longest wait a rate limit may ask for, in seconds; a longer one fails the call. */
  readonly maxWaitSeconds?: number;
  /**
   * How long one second of waiting lasts, in ms: 1000. Tests set 0 or 1, so a `retry-after: 60`
   * costs them 60 ms; every wait (backoff, rate limits, write spacing) scales with it.
   */
  readonly secondMs?: number;
  /** Where a wait or a give-up is told (core.info in the action); nowhere by default. */
  readonly log?: (message: string) => void;
}

export const DEFAULT_GITHUB_RETRIES = 3;
export const DEFAULT_MAX_WAIT_SECONDS = 120;

/**
 * The statuses plugin-retry must leave alone. Its defaults, plus 429: plugin-throttling owns
 * 429 (and the rate-limit 403s), and waits as long as GitHub says, not a fixed backoff.
 */
const DO_NOT_RETRY = [400, 401, 403, 404, 410, 422, 429, 451];

type LimitHandler = NonNullable<ThrottlingOptions['onRateLimit']>;
type WriteGroup = NonNullable<ThrottlingOptions['write']>;

/** The Octokit of `getOctokit`, retrying what can succeed on retry and honouring rate limits. */
export function createGitHubClient(token: string, options: GitHubClientOptions = {}): GitHubClient {
  const secondMs = options.secondMs ?? 1000;
  const retries = options.retries ?? DEFAULT_GITHUB_RETRIES;
  const maxWait = options.maxWaitSeconds ?? DEFAULT_MAX_WAIT_SECONDS;
  const log = options.log ?? (() => {});
  const onLimit =
    (kind: string): LimitHandler =>
    (retryAfter, request, _octokit, retryCount) => {
      const where = `${request.method} ${request.url}`;
      if (retryCount >= retries) {
        log(`GitHub ${kind} on ${where}: still limited after ${plural(retries, 'retry', 'retries')}; giving up`);
        return false;
      }
      if (retryAfter > maxWait) {
        log(`GitHub ${kind} on ${where}: it asks to wait ${retryAfter} s, more than ${maxWait} s; giving up`);
        return false;
      }
      log(`GitHub ${kind} on ${where}: waiting ${retryAfter} s (retry ${retryCount + 1} of ${retries})`);
      return true;
    };
  return getOctokit(
    token,
    {
      ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}),
      ...(options.userAgent ? { userAgent: options.userAgent } : {}),
      retry: { retries, retryAfterBaseValue: secondMs, doNotRetry: DO_NOT_RETRY },
      throttle: {
        retryAfterBaseValue: secondMs,
        onRateLimit: onLimit('rate limit'),
        onSecondaryRateLimit: onLimit('secondary rate limit'),
        // The plugin's own spacing (1 s between writes, 3 s between writes that notify) lives
        // in process-wide limiters that cannot be scaled; these do the same per client.
        write: spacedGroup(secondMs),
        notifications: spacedGroup(3 * secondMs),
      },
    },
    retry,
    throttling,
  );
}

/**
 * Test and fault-injection hook, read from the environment rather than settings:
 * FLAKE_CHECKER_GITHUB_RETRY_MS sets `secondMs`, so a run against a stand-in that answers
 * `retry-after: 60` does not wait a minute.
 */
export function gitHubClientOverridesFromEnv(env: NodeJS.ProcessEnv): Pick<GitHubClientOptions, 'secondMs'> {
  const text = env.FLAKE_CHECKER_GITHUB_RETRY_MS;
  if (text === undefined || text === '') return {};
  const ms = Number(text);
  if (!Number.isInteger(ms) || ms < 0 || ms > 1000) {
    throw new Error(`FLAKE_CHECKER_GITHUB_RETRY_MS must be a whole number of ms from 0 to 1000, got "${text}"`);
  }
  return { secondMs: ms };
}

/**
 * A stand-in for the Bottleneck group plugin-throttling spaces writes with: it calls only
 * `key(id).schedule(options, fn)`. Jobs start one at a time, at least `gapMs` apart.
 */
function spacedGroup(gapMs: number): WriteGroup {
  const lanes = new Map<string, { tail: Promise<unknown>; last: number }>();
  const group = {
    key(id = '') {
      let lane = lanes.get(id);
      if (!lane) lanes.set(id, (lane = { tail: Promise.resolve(), last: -Infinity }));
      const current = lane;
      return {
        schedule(...args: unknown[]): Promise<unknown> {
          const [fn, ...rest] = typeof args[0] === 'function' ? args : args.slice(1);
          const run = current.tail.then(async () => {
            const wait = current.last + gapMs - Date.now();
            if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
            current.last = Date.now();
            return (fn as (...a: unknown[]) => unknown)(...rest);
          });
          current.tail = run.catch(() => {});
          return run;
        },
      };
    },
  };
  // Only the two methods above are ever called; the rest of Bottleneck's API is not needed.
  return group as unknown as WriteGroup;
}

/** What went wrong talking to GitHub: status, method and URL, never the token. */
export class GitHubApiError extends Error {
  override readonly name = 'GitHubApiError';
  /** HTTP status, or null for a network error. */
  readonly status: number | null;
  readonly method: string;
  readonly url: string;

  constructor(message: string, details: { status: number | null; method: string; url: string; cause: unknown }) {
    super(message, { cause: details.cause });
    this.status = details.status;
    this.method = details.method;
    this.url = details.url;
  }
}

/**
 * An Octokit failure as a GitHubApiError with a one-line message, `hint` (for the status) after
 * it. Octokit's RequestError carries status, request and response; a network error arrives as a
 * status 500 without a response, its real cause underneath.
 */
export function toGitHubApiError(
  error: unknown,
  hint: (status: number | null, reason: string) => string = () => '',
): GitHubApiError {
  if (error instanceof GitHubApiError) return error;
  const e = (typeof error === 'object' && error !== null ? error : {}) as {
    status?: unknown;
    request?: { method?: unknown; url?: unknown };
    response?: unknown;
    message?: unknown;
    cause?: unknown;
  };
  const method = typeof e.request?.method === 'string' ? e.request.method : '';
  const url = typeof e.request?.url === 'string' ? e.request.url : '';
  const network = e.response === undefined && e.cause !== undefined;
  const status = !network && typeof e.status === 'number' ? e.status : null;
  // GitHub's message ends with " - https://docs.github.com/…": the status says enough.
  const reason = network
    ? describeNetworkError(e.cause)
    : oneLine(String(e.message ?? error)).replace(/ - https:\/\/docs\.github\.com\S*$/, '');
  const what = status === null ? 'failed' : `answered HTTP ${status}`;
  const where = method && url ? ` to ${method} ${url}` : '';
  const extra = hint(status, reason);
  const said = `GitHub ${what}${where}: ${reason.replace(/\.$/, '')}.`;
  const message = extra ? `${said} ${extra}` : said;
  return new GitHubApiError(message, { status, method, url, cause: error });
}

/**
 * Whose issues and comments can be ours: the token's own account when GitHub tells (a personal
 * token), else any bot (GITHUB_TOKEN may not ask who it is; it writes as github-actions[bot]).
 * Anyone can paste a hidden marker; a person's issue or comment is never taken for ours.
 */
export function createAuthorCheck(octokit: GitHubClient): (user: GitHubUser | null | undefined) => Promise<boolean> {
  let login: Promise<string | null> | null = null;
  return async (user) => {
    login ??= octokit.rest.users.getAuthenticated().then(
      (res) => res.data.login,
      () => null,
    );
    const own = await login;
    return own !== null ? user?.login === own : user?.type === 'Bot';
  };
}

interface GitHubUser {
  readonly login?: string;
  readonly type?: string;
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}
