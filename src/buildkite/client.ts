// The Buildkite REST API calls flake-checker makes: a token check, the builds list (jobs
// embedded, retried attempts included) and job logs as plain text. The client owns its HTTP
// connection: callers read, stop and close through it, never through the HTTP layer.

import { ApiError } from './errors.ts';
import { BuildkiteHttp, type HttpOptions, type OpenBody } from './http.ts';
import { JsonArrayError } from './json-array.ts';
import { logBytes } from './log-body.ts';
import type { BuildkiteBuild, BuildkiteJob } from '../core/build.ts';
import type { BuildkiteAccessToken, BuildkitePipeline } from './types.ts';

const REQUIRED_SCOPES = ['read_builds', 'read_build_logs'] as const;

/** The most the builds list returns per page. */
const PAGE_SIZE_MAX = 100;
/** The smallest page a slow list is cut down to. */
const PAGE_SIZE_FLOOR = 10;

const halve = (n: number): number => Math.max(Math.min(n, PAGE_SIZE_FLOOR), Math.floor(n / 2));

/** A list page that timed out, broke off, or that a gateway gave up on: a smaller one may pass. */
function isSlowPage(error: unknown): boolean {
  return error instanceof ApiError && error.retryable && (error.status === null || error.status === 504);
}

function isTooDeep(error: unknown): boolean {
  return (
    error instanceof ApiError && error.status === 400 && (error.apiMessage ?? '').toLowerCase().includes('this deep')
  );
}

export interface PipelineRef {
  readonly apiUrl: string;
  readonly org: string;
  readonly pipeline: string;
  /** How the user names the settings a message may point to: `--token (BK_TOKEN)`, `buildkite-token (or BK_TOKEN)`. */
  readonly names: { readonly token: string; readonly maxBuilds: string };
}

/** What the scan learns about its traffic, for the report's footer. */
export interface ClientStats {
  readonly requests: number;
  readonly rateLimited: number;
}

/** Reads a log's bytes; started afresh, with a fresh iterable, each time a read is retried. */
export type LogConsumer<T> = (chunks: AsyncIterable<Uint8Array>) => Promise<T>;

export class BuildkiteClient {
  /** Log bodies being read, destroyed when the client stops. */
  private readonly open = new Set<OpenBody>();

  constructor(
    private readonly http: BuildkiteHttp,
    private readonly ref: PipelineRef,
  ) {}

  /** A client with its own connection pool; `close()` it when done. */
  static connect(ref: PipelineRef, http: Omit<HttpOptions, 'apiUrl'>): BuildkiteClient {
    return new BuildkiteClient(new BuildkiteHttp({ ...http, apiUrl: ref.apiUrl }), ref);
  }

  get stats(): ClientStats {
    return this.http.stats;
  }

  /**
   * Stops the client: requests waiting for rate-limit budget or a retry give up instead of going
   * out, and bodies being read are destroyed (one gone quiet would otherwise hold the run until
   * its idle timeout). A run that has failed ends promptly and sends nothing more.
   */
  stop(): void {
    this.http.stop();
    for (const res of this.open) res.destroy();
  }

  get stopped(): boolean {
    return this.http.stopped;
  }

  close(): Promise<void> {
    return this.http.close();
  }

  /**
   * Fails fast with a clear message when the token is rejected or lacks a scope.
   * `GET /v2/access-token` needs no scope itself.
   */
  async checkToken(): Promise<void> {
    let token: BuildkiteAccessToken | null;
    try {
      ({ body: token } = await this.http.getJson<BuildkiteAccessToken | null>(`${this.ref.apiUrl}/v2/access-token`));
    } catch (error: unknown) {
      throw this.rejectedToken(error);
    }
    const scopes =
      typeof token === 'object' && token !== null && Array.isArray(token.scopes)
        ? token.scopes.filter((s): s is string => typeof s === 'string')
        : null;
    if (scopes === null) return; // An answer without scopes: let the calls tell.
    const missing = REQUIRED_SCOPES.filter((s) => !scopes.includes(s));
    if (missing.length > 0) {
      throw new ApiError(
        `the Buildkite token lacks the ${missing.join(' and ')} scope${missing.length > 1 ? 's' : ''} (it has: ${scopes.join(', ') || 'none'})`,
        {
          status: 403,
          method: 'GET',
          url: `${this.ref.apiUrl}/v2/access-token`,
          retryable: false,
          fromApi: true,
        },
      );
    }
  }

  /**
   * The pipeline's default branch and repository (one request; needs the `read_pipelines` scope,
   * which a scan can do without: callers treat a refusal as "unknown").
   */
  async getPipeline(): Promise<BuildkitePipeline> {
    let body: unknown;
    try {
      ({ body } = await this.http.getJson<unknown>(this.pipelineUrl()));
    } catch (error: unknown) {
      throw this.explain(error);
    }
    const fields = isObject(body) ? body : {};
    return { default_branch: str(fields.default_branch) || null, repository: str(fields.repository) || null };
  }

  /**
   * Yields pages of the `max` most recent builds, newest first, with every job embedded and
   * retried attempts included: about ceil(max / 100) requests, never one per build. Each page is
   * read as it streams and only the fields the scan needs are kept (toBuild), so memory does not
   * grow with the size of the API's job objects (docs/buildkite-api.md, "Size of a real list
   * page"); `exclude_pipeline=true` drops the pipeline object repeated in every build.
   * - A page that times out or breaks is asked again with half the `per_page` (down to
   *   PAGE_SIZE_FLOOR), within the usual retries: a pipeline with huge builds still lists.
   * - Buildkite refuses deep page numbers (400 "Listing builds this deep is not supported"); the
   *   listing then goes on from page 1 with `created_to` set to the oldest `created_at` seen,
   *   and builds seen already (at the boundary) are skipped.
   */
  async *listBuilds(max: number, branches: readonly string[] = []): AsyncGenerator<BuildkiteBuild[]> {
    let perPage = Math.min(PAGE_SIZE_MAX, max);
    /** Entries listed since the last restart with `created_to`: where the next page starts. */
    let offset = 0;
    let start = 0;
    let createdTo: string | null = null;
    let oldest: string | null = null;
    const seen = new Set<number>();
    for (;;) {
      let builds: BuildkiteBuild[] = [];
      let entries = 0;
      let link: string | null = null;
      let url = '';
      try {
        await this.http.withRetries(async () => {
          // After a page was cut smaller, the new page may start before `offset`: the builds
          // read twice are skipped below.
          const page = Math.floor(offset / perPage) + 1;
          start = (page - 1) * perPage;
          url = this.buildsUrl(perPage, page, createdTo, branches);
          builds = [];
          entries = 0;
          try {
            // Each job is parsed apart and slimmed at once: a 600 KB build is never one object.
            const res = await this.http.getJsonArray(
              url,
              (value) => {
                entries++;
                const build = toBuild(value);
                if (build) builds.push(build);
              },
              JOBS_SPLIT,
            );
            link = res.header('link');
          } catch (error: unknown) {
            // The next try asks for a smaller page.
            if (isSlowPage(error)) perPage = halve(perPage);
            throw error;
          }
        });
      } catch (error: unknown) {
        if (isTooDeep(error) && oldest !== null && oldest !== createdTo) {
          createdTo = oldest;
          offset = 0;
          continue;
        }
        throw this.explain(error);
      }
      offset = start + entries;
      const fresh = builds.filter((b) => !seen.has(b.number)).slice(0, max - seen.size);
      for (const build of fresh) {
        seen.add(build.number);
        if (build.created_at && (oldest === null || build.created_at < oldest)) oldest = build.created_at;
      }
      if (fresh.length > 0) yield fresh;
      if (seen.size >= max || entries === 0) return;
      const next = resolveLink(nextLink(link), url);
      if (next === null) return;
      // The next page is fetched with the token: a link off the API host ends the listing.
      if (!this.http.isApiUrl(next)) {
        throw new ApiError(`GET ${url} gave a next-page link to another host (${originOf(next)}); not followed`, {
          status: 200,
          method: 'GET',
          url,
          retryable: false,
          fromApi: true,
        });
      }
    }
  }

  private buildsUrl(perPage: number, page: number, createdTo: string | null, branches: readonly string[]): string {
    const query = new URLSearchParams({
      per_page: String(perPage),
      include_retried_jobs: 'true',
      exclude_pipeline: 'true',
    });
    if (page > 1) query.set('page', String(page));
    if (createdTo !== null) query.set('created_to', createdTo);
    for (const branch of branches) query.append('branch[]', branch);
    return `${this.pipelineUrl()}/builds?${query}`;
  }

  /**
   * Reads a job's log through `consume`, with retries: a read that breaks midway starts again
   * from the first byte with a fresh iterable, so whatever `consume` computes counts once.
   * Returns null when the log is missing or expired (404). Once the client stops, a read in
   * progress fails at its next chunk.
   */
  async readLog<T>(buildNumber: number, job: BuildkiteJob, consume: LogConsumer<T>): Promise<T | null> {
    return this.http.withRetries(async (): Promise<T | null> => {
      const res = await this.openLog(buildNumber, job);
      if (!res) return null;
      this.open.add(res);
      try {
        return await consume(this.unlessStopped(logBytes(res)));
      } catch (error: unknown) {
        res.destroy();
        throw error;
      } finally {
        this.open.delete(res);
      }
    });
  }

  private async *unlessStopped(chunks: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
    for await (const chunk of chunks) {
      // Why the client stopped does not matter here: the run throws its own error.
      if (this.http.stopped) throw new Error('scan stopped');
      yield chunk;
    }
  }

  /**
   * Opens a job's log as plain text (`.../log.txt` with `Accept: text/plain`), gzip accepted.
   * Returns null when the log is missing or expired (404). One try: see BuildkiteHttp.open.
   */
  private async openLog(buildNumber: number, job: BuildkiteJob): Promise<OpenBody | null> {
    const url = `${this.pipelineUrl()}/builds/${buildNumber}/jobs/${encodeURIComponent(job.id)}/log.txt`;
    try {
      return await this.http.open(url, 'text/plain');
    } catch (error: unknown) {
      // A token revoked mid-scan: the same message as at the start.
      throw this.rejectedToken(error);
    }
  }

  private pipelineUrl(): string {
    const { apiUrl, org, pipeline } = this.ref;
    return `${apiUrl}/v2/organizations/${encodeURIComponent(org)}/pipelines/${encodeURIComponent(pipeline)}`;
  }

  /**
   * A 401 from the API host means the token was rejected, whichever call saw it; one from a host
   * a redirect led to says nothing about the token and is left as it is.
   */
  private rejectedToken(error: unknown): unknown {
    if (error instanceof ApiError && error.status === 401 && error.fromApi) {
      return new ApiError(`Buildkite rejected the token (401): check ${this.ref.names.token}`, {
        ...details(error),
        cause: error,
      });
    }
    return error;
  }

  /** Names what was not found or not allowed, in the user's terms. */
  private explain(error: unknown): unknown {
    if (!(error instanceof ApiError)) return error;
    if (error.status === 401) return this.rejectedToken(error);
    const { org, pipeline } = this.ref;
    const text = (error.apiMessage ?? '').toLowerCase();
    if (error.status === 404 && text.includes('organization')) {
      return new ApiError(`Buildkite organization "${org}" was not found, or the token cannot see it (404)`, {
        ...details(error),
        cause: error,
      });
    }
    if (error.status === 404) {
      return new ApiError(`Buildkite pipeline "${org}/${pipeline}" was not found, or the token cannot see it (404)`, {
        ...details(error),
        cause: error,
      });
    }
    if (error.status === 200 && error.cause instanceof JsonArrayError) {
      return new ApiError(`${error.method} ${error.url} did not answer a list of builds`, {
        ...details(error),
        cause: error,
      });
    }
    if (error.status === 400 && text.includes('this deep')) {
      return new ApiError(`Buildkite refuses to list builds this deep (400): lower ${this.ref.names.maxBuilds}`, {
        ...details(error),
        cause: error,
      });
    }
    return error;
  }
}

function details(error: ApiError) {
  return { status: error.status, method: error.method, url: error.url, retryable: false, fromApi: error.fromApi };
}

/** A Link target resolved against the page that gave it (Buildkite's are absolute already). */
function resolveLink(target: string | null, base: string): string | null {
  if (target === null) return null;
  try {
    return new URL(target, base).href;
  } catch {
    return target;
  }
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'an invalid URL';
  }
}

type Fields = Record<string, unknown>;
const isObject = (value: unknown): value is Fields =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const str = (value: unknown): string | null => (typeof value === 'string' ? value : null);
const bool = (value: unknown): boolean | null => (typeof value === 'boolean' ? value : null);
const num = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : null);

/**
 * A build of the list as the types promise it, or null for an entry that is not a build.
 * The API (or a proxy in front of it) may omit, null or mistype any field; the core then sees
 * a string or null, never a number where it expects text, so no field can crash the scan.
 */
export function toBuild(value: unknown): BuildkiteBuild | null {
  if (!isObject(value)) return null;
  const number = value.number;
  if (typeof number !== 'number' || !Number.isSafeInteger(number)) return null;
  const pr = value.pull_request;
  const prId = isObject(pr) ? pr.id : null;
  return {
    id: str(value.id) ?? undefined,
    number,
    state: str(value.state),
    branch: str(value.branch),
    commit: str(value.commit),
    message: str(value.message),
    web_url: str(value.web_url),
    created_at: str(value.created_at),
    started_at: str(value.started_at),
    finished_at: str(value.finished_at),
    source: str(value.source),
    pull_request: isObject(pr)
      ? {
          id: typeof prId === 'string' || (typeof prId === 'number' && Number.isFinite(prId)) ? prId : null,
          base: str(pr.base),
          repository: str(pr.repository),
        }
      : null,
    jobs: Array.isArray(value.jobs) ? value.jobs.flatMap((job) => toJob(job) ?? []) : [],
  };
}

/**
 * The fields of a job the scan reads. The pipeline keeps every job of a build it reads a log of
 * (retry chains run through them), thousands of builds of hundreds of jobs on vllm/ci, so a job
 * keeps no more than it must: labels, types and states are shared (interned), and `raw_log_url`
 * is left out (logs are fetched by build number and job id).
 */
function toJob(value: unknown): BuildkiteJob | null {
  if (!isObject(value) || typeof value.id !== 'string' || value.id === '') return null;
  return {
    id: value.id,
    type: shared(str(value.type)),
    name: shared(str(value.name)),
    label: shared(str(value.label)),
    state: shared(str(value.state)),
    web_url: str(value.web_url),
    started_at: str(value.started_at),
    finished_at: str(value.finished_at),
    exit_status: num(value.exit_status),
    soft_failed: bool(value.soft_failed),
    retried: bool(value.retried),
    retried_in_job_id: str(value.retried_in_job_id),
    retries_count: num(value.retries_count),
  };
}

/** Interned texts: one string per distinct label or state, however many jobs carry it. */
const SHARED = new Map<string, string>();
/** A pipeline has hundreds of labels; past this, texts are kept as they come. */
const SHARED_MAX = 10_000;

function shared(text: string | null): string | null {
  if (text === null) return null;
  const known = SHARED.get(text);
  if (known !== undefined) return known;
  if (SHARED.size < SHARED_MAX) SHARED.set(text, text);
  return text;
}

/** How a list page's builds are read: each of their jobs parsed alone and kept slim (toJob is idempotent). */
const JOBS_SPLIT = { field: 'jobs', map: toJob } as const;

/** The `rel="next"` target of a Link header, or null. */
export function nextLink(link: string | null): string | null {
  if (!link) return null;
  for (const part of link.split(',')) {
    const m = /<([^>]*)>\s*;(.*)/.exec(part.trim());
    if (m && /\brel\s*=\s*"?([^";]*\s)?next(\s[^";]*)?"?/.test(m[2]!)) return m[1]!;
  }
  return null;
}
