// The scan pipeline: list builds, select jobs, read each log once (cache or network), match,
// and build the report. Both entry points (CLI and action) call `scan`.

import pLimit from 'p-limit';
import { BuildkiteClient } from '../buildkite/client.ts';
import { ApiError } from '../buildkite/errors.ts';
import { BuildkiteHttp, DEFAULT_RETRY, type HttpOptions, type OpenBody } from '../buildkite/http.ts';
import type { BuildkiteBuild, BuildkiteJob } from '../buildkite/types.ts';
import { CacheCorruptError, LogCache } from '../cache/log-cache.ts';
import { LogScanner, type PatternHit } from '../core/scan-log.ts';
import { isFinished, jobLabel, jobUrl, matchesBranch, selectJobs, toMatchRecord } from '../core/select.ts';
import type { LogFailure, MatchRecord, ScanReport } from '../core/types.ts';
import type { Settings } from '../settings.ts';

export type ScanProgress =
  | { readonly kind: 'builds'; readonly listed: number; readonly matchedBranch: number; readonly selectedJobs: number }
  | { readonly kind: 'logs'; readonly done: number; readonly total: number };

export interface ScanOptions {
  readonly progress?: (event: ScanProgress) => void;
  /** Overrides for tests and the benchmark (retry delays, timeouts). */
  readonly http?: Partial<Omit<HttpOptions, 'apiUrl' | 'token'>>;
  readonly userAgent?: string;
  /** Longest time matching may take on one log before the run stops (tests shorten it). */
  readonly scanBudgetMs?: number;
}

/**
 * Matching one log may take this long at most. Legitimate scans run at tens of MB/s (a 1 GiB
 * log in well under a minute); only a pattern that backtracks catastrophically comes near.
 */
const SCAN_BUDGET_MS = 5 * 60_000;

/**
 * Test and benchmark hooks, not user settings: FLAKE_CHECKER_RETRY_BASE_MS sets the first
 * backoff, so a fault-injection run does not wait seconds per retry; FLAKE_CHECKER_RETRIES sets
 * how many times a failed request is tried again.
 */
export function retryOverridesFromEnv(env: NodeJS.ProcessEnv): ScanOptions['http'] {
  const base = envNumber(env.FLAKE_CHECKER_RETRY_BASE_MS);
  const retries = envNumber(env.FLAKE_CHECKER_RETRIES);
  if (base === null && retries === null) return undefined;
  return {
    retry: {
      ...DEFAULT_RETRY,
      ...(base === null ? {} : { baseDelayMs: base, maxDelayMs: base * 16 }),
      ...(retries === null ? {} : { retries: Math.min(20, Math.floor(retries)) }),
    },
  };
}

function envNumber(text: string | undefined): number | null {
  const n = Number(text);
  return text && Number.isFinite(n) && n >= 0 ? n : null;
}

/** A pattern too slow to finish on a log: a configuration problem, so the run stops. */
export class SlowPatternError extends Error {
  override readonly name = 'SlowPatternError';
}

/** A log served as JSON (`{content}`) instead of text is parsed only up to this size. */
const JSON_LOG_MAX_BYTES = 64 * 1024 * 1024;

type JobOutcome =
  | { readonly kind: 'scanned'; readonly hits: (PatternHit | null)[]; readonly bytes: number; readonly cached: boolean }
  | { readonly kind: 'missing' }
  | { readonly kind: 'failed'; readonly reason: string };

export async function scan(settings: Settings, options: ScanOptions = {}): Promise<ScanReport> {
  const http = new BuildkiteHttp({
    apiUrl: settings.apiUrl,
    token: settings.token,
    userAgent: options.userAgent ?? 'flake-checker',
    connections: settings.concurrency + 2,
    ...options.http,
  });
  const cache = settings.cacheDir ? new LogCache(settings.cacheDir, settings.cacheMaxMb * 1024 * 1024) : null;
  try {
    return await runScan(settings, new BuildkiteClient(http, settings), http, cache, options);
  } finally {
    await http.close();
  }
}

async function runScan(
  settings: Settings,
  client: BuildkiteClient,
  http: BuildkiteHttp,
  cache: LogCache | null,
  options: ScanOptions,
): Promise<ScanReport> {
  const { progress } = options;
  // The token check runs alongside the first page of builds (one round trip saved), but no
  // log is requested before it passes, and its clearer message wins over the list's error.
  const tokenChecked = client.checkToken();
  tokenChecked.catch(() => undefined);

  const limit = pLimit(settings.concurrency);
  const work: { build: BuildkiteBuild; job: BuildkiteJob; outcome: Promise<JobOutcome> }[] = [];
  let listed = 0;
  let matchedBranch = 0;
  let done = 0;
  // The error that stops the run. Queued jobs see it and return at once; jobs reading a log
  // stop at their next chunk, so the run ends promptly and no request outlives scan().
  let fatal: unknown = null;
  const every = Math.max(10, settings.concurrency * 4);
  const reader: JobReader = {
    settings, client, http, cache,
    budgetMs: options.scanBudgetMs ?? SCAN_BUDGET_MS,
    open: new Set(),
  };
  const stop = (error: unknown): void => {
    fatal ??= error;
    // Requests waiting for budget or a retry give up; a body that has gone quiet would
    // otherwise hold the run until its idle timeout.
    http.stop();
    for (const res of reader.open) res.destroy();
  };

  const runJob = (build: BuildkiteBuild, job: BuildkiteJob) =>
    limit(async (): Promise<JobOutcome> => {
      if (fatal) return { kind: 'failed', reason: 'scan stopped' };
      try {
        return await readJob(reader, build, job);
      } catch (error: unknown) {
        // Auth and configuration errors stop the run; anything else is this log's failure.
        if (isFatal(error, http)) stop(error);
        return { kind: 'failed', reason: error instanceof Error ? error.message : String(error) };
      } finally {
        done++;
        if (progress && (done % every === 0 || done === work.length)) progress({ kind: 'logs', done, total: work.length });
      }
    });

  try {
    for await (const page of client.listBuilds(settings.maxBuilds)) {
      await tokenChecked;
      listed += page.length;
      for (const build of page) {
        if (!matchesBranch(build, settings.branchPattern)) continue;
        matchedBranch++;
        for (const job of selectJobs(build, settings)) work.push({ build, job, outcome: runJob(build, job) });
      }
      progress?.({ kind: 'builds', listed, matchedBranch, selectedJobs: work.length });
      if (fatal) break;
    }
    await tokenChecked;
  } catch (error: unknown) {
    await tokenChecked;
    stop(error);
  }

  // Settles every job (they never reject) before anything is thrown or the connections close.
  const outcomes = await Promise.all(work.map((w) => w.outcome));
  if (fatal) throw fatal;
  if (cache) await cache.evict();

  const matches: MatchRecord[] = [];
  const failures: LogFailure[] = [];
  let scanned = 0;
  let missing = 0;
  let fromCache = 0;
  let bytes = 0;
  outcomes.forEach((outcome, i) => {
    const { build, job } = work[i]!;
    if (outcome.kind === 'missing') {
      missing++;
    } else if (outcome.kind === 'failed') {
      failures.push({ build_number: build.number, job_id: job.id, step_label: jobLabel(job), job_url: jobUrl(build, job), reason: outcome.reason });
    } else {
      scanned++;
      bytes += outcome.bytes;
      if (outcome.cached) fromCache++;
      outcome.hits.forEach((hit, p) => {
        if (hit) matches.push(toMatchRecord(build, job, settings.compiled[p]!.source, hit));
      });
    }
  });

  const warnings = cache?.problem ? [`the log cache in ${settings.cacheDir} could not be written, so logs were not cached: ${cache.problem}`] : [];
  return {
    matches,
    failures,
    warnings,
    stats: {
      builds_scanned: listed,
      builds_matched_branch: matchedBranch,
      jobs_selected: work.length,
      jobs_scanned: scanned,
      logs_missing: missing,
      logs_failed: failures.length,
      logs_from_cache: fromCache,
      bytes_scanned: bytes,
      requests: http.stats.requests,
      rate_limited: http.stats.rateLimited,
    },
  };
}

/**
 * Errors that stop the whole run rather than one log: the API host refusing the token (401) or
 * a scope (403), and a pattern too slow to finish. A 403 from a redirect target (object storage
 * refusing an expired signed URL) is that log's failure only.
 */
function isFatal(error: unknown, http: BuildkiteHttp): boolean {
  if (error instanceof SlowPatternError) return true;
  return error instanceof ApiError && (error.status === 401 || error.status === 403) && http.isApiUrl(error.url);
}

interface JobReader {
  readonly settings: Settings;
  readonly client: BuildkiteClient;
  readonly http: BuildkiteHttp;
  readonly cache: LogCache | null;
  /** Time matching may take on one log. */
  readonly budgetMs: number;
  /** Log bodies being read, destroyed when the run stops. */
  readonly open: Set<OpenBody>;
}

/**
 * Reads one job's log to the end and scans it: from the cache when it holds the log, else
 * from Buildkite with retries. A read that breaks midway starts again with a fresh scanner,
 * so its matches count once.
 */
async function readJob(reader: JobReader, build: BuildkiteBuild, job: BuildkiteJob): Promise<JobOutcome> {
  const { settings, client, http, cache } = reader;
  const key = cache ? LogCache.key([settings.apiUrl, settings.org, settings.pipeline, job.id]) : '';
  if (cache) {
    const cached = await cache.read(key);
    if (cached) {
      const scanner = new TimedScanner(settings, reader.budgetMs);
      try {
        for await (const chunk of cached) scanner.push(chunk);
        return { kind: 'scanned', hits: scanner.end(), bytes: scanner.bytes, cached: true };
      } catch (error: unknown) {
        if (!(error instanceof CacheCorruptError)) throw error;
        await cache.remove(key);
      }
    }
  }

  // Once the run stops, http sends nothing more (a retry's request fails at once) and a read in
  // progress gives up at its next chunk; why does not matter, the run throws its own error.
  return http.withRetries(async (): Promise<JobOutcome> => {
    const res = await client.openLog(build.number, job);
    if (!res) return { kind: 'missing' };
    reader.open.add(res);
    const scanner = new TimedScanner(settings, reader.budgetMs);
    // Only a finished job's log is final; a running job's log would be cached half-written.
    const writer = cache && isFinished(job) ? await cache.writer(key) : null;
    try {
      for await (const chunk of logBytes(res)) {
        if (http.stopped) throw new Error('scan stopped');
        scanner.push(chunk);
        if (writer) await writer.write(chunk);
      }
      const hits = scanner.end();
      await writer?.commit();
      return { kind: 'scanned', hits, bytes: scanner.bytes, cached: false };
    } catch (error: unknown) {
      res.destroy();
      await writer?.abort();
      throw error;
    } finally {
      reader.open.delete(res);
    }
  });
}

/**
 * The scanner with a time budget. Matching is synchronous, so the budget is checked between
 * chunks: it stops a pattern that is slow on every line (polynomial backtracking), not one
 * that never returns on a single line (exponential backtracking), which no check between
 * chunks can interrupt; lines are matched in bounded pieces, which keeps most such cases finite.
 * On overrun the chunk is timed per pattern to name the culprit.
 */
class TimedScanner {
  private readonly scanner: LogScanner;
  private spentMs = 0;

  constructor(private readonly settings: Settings, private readonly budgetMs: number) {
    this.scanner = new LogScanner(settings.compiled);
  }

  get bytes(): number {
    return this.scanner.bytesScanned;
  }

  push(chunk: Uint8Array): void {
    const t0 = performance.now();
    this.scanner.push(chunk);
    this.spentMs += performance.now() - t0;
    if (this.spentMs > this.budgetMs) this.overrun(chunk);
  }

  end(): (PatternHit | null)[] {
    const t0 = performance.now();
    const hits = this.scanner.end();
    this.spentMs += performance.now() - t0;
    if (this.spentMs > this.budgetMs) this.overrun(new Uint8Array(0));
    return hits;
  }

  private overrun(chunk: Uint8Array): never {
    let slowest = this.settings.compiled[0]!;
    let slowestMs = -1;
    if (this.settings.compiled.length > 1 && chunk.length > 0) {
      for (const pattern of this.settings.compiled) {
        const probe = new LogScanner([pattern]);
        const t0 = performance.now();
        probe.push(chunk);
        probe.end();
        const ms = performance.now() - t0;
        if (ms > slowestMs) [slowest, slowestMs] = [pattern, ms];
      }
    }
    const budget = this.budgetMs >= 1000 ? `${Math.round(this.budgetMs / 100) / 10} s` : `${Math.round(this.budgetMs)} ms`;
    throw new SlowPatternError(
      `matching one log took more than ${budget}, most of it in pattern ${JSON.stringify(slowest.source)}: the regex likely backtracks catastrophically; make it more specific (avoid nested or adjacent unbounded repeats such as (a+)+ or .*.*)`,
    );
  }
}

/**
 * The text of a log response. A proxy (or an API that ignores `Accept`) may answer the JSON
 * shape `{content, ...}` instead of text; then the content is the log.
 */
async function* logBytes(res: OpenBody): AsyncIterable<Uint8Array> {
  if (!res.contentType.includes('json')) {
    yield* res.body;
    return;
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    size += chunk.length;
    if (size > JSON_LOG_MAX_BYTES) throw new Error(`the log came as JSON larger than ${JSON_LOG_MAX_BYTES} bytes; not scanned`);
    chunks.push(chunk);
  }
  let content: unknown;
  try {
    content = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { content?: unknown }).content;
  } catch {
    throw new Error('the log came as JSON that does not parse; not scanned');
  }
  if (typeof content !== 'string') throw new Error('the log came as JSON without a "content" string; not scanned');
  yield Buffer.from(content, 'utf8');
}
