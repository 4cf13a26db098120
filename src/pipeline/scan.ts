// The scan pipeline: list builds, select jobs, read each log once (cache or network), match,
// and build the report. Both entry points (CLI and action) call `scan`.

import pLimit from 'p-limit';
import { BuildkiteClient } from '../buildkite/client.ts';
import { ApiError } from '../buildkite/errors.ts';
import { BuildkiteHttp, DEFAULT_RETRY, type HttpOptions, type OpenBody } from '../buildkite/http.ts';
import type { BuildkiteBuild, BuildkiteJob } from '../buildkite/types.ts';
import { CacheCorruptError, LogCache } from '../cache/log-cache.ts';
import { LogScanner, type PatternHit } from '../core/scan-log.ts';
import { isFinished, jobLabel, matchesBranch, selectJobs, toMatchRecord } from '../core/select.ts';
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
}

/**
 * Shorter retry delays for tests and the benchmark: FLAKE_CHECKER_RETRY_BASE_MS sets the first
 * backoff, so a fault-injection run does not wait seconds per retry. Not a user setting.
 */
export function retryOverridesFromEnv(env: NodeJS.ProcessEnv): ScanOptions['http'] {
  const text = env.FLAKE_CHECKER_RETRY_BASE_MS;
  const base = Number(text);
  if (!text || !Number.isFinite(base) || base < 0) return undefined;
  return { retry: { ...DEFAULT_RETRY, baseDelayMs: base, maxDelayMs: base * 16 } };
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
    return await runScan(settings, new BuildkiteClient(http, settings), http, cache, options.progress);
  } finally {
    await http.close();
  }
}

async function runScan(
  settings: Settings,
  client: BuildkiteClient,
  http: BuildkiteHttp,
  cache: LogCache | null,
  progress: ScanOptions['progress'],
): Promise<ScanReport> {
  await client.checkToken();

  const limit = pLimit(settings.concurrency);
  const work: { build: BuildkiteBuild; job: BuildkiteJob; outcome: Promise<JobOutcome> }[] = [];
  let listed = 0;
  let matchedBranch = 0;
  let done = 0;
  let fatal: unknown = null;
  const every = Math.max(10, settings.concurrency * 4);

  const runJob = (build: BuildkiteBuild, job: BuildkiteJob) =>
    limit(async (): Promise<JobOutcome> => {
      if (fatal) return { kind: 'failed', reason: 'scan stopped' };
      try {
        return await readJob(settings, client, http, cache, build, job);
      } catch (error: unknown) {
        // Auth and configuration errors stop the run; anything else is this log's failure.
        if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
          // Queued jobs see `fatal` and return at once.
          fatal ??= error;
          throw error;
        }
        return { kind: 'failed', reason: error instanceof Error ? error.message : String(error) };
      } finally {
        done++;
        if (progress && (done % every === 0 || done === work.length)) progress({ kind: 'logs', done, total: work.length });
      }
    });

  for await (const page of client.listBuilds(settings.maxBuilds)) {
    listed += page.length;
    for (const build of page) {
      if (!matchesBranch(build, settings.branchPattern)) continue;
      matchedBranch++;
      for (const job of selectJobs(build, settings)) work.push({ build, job, outcome: runJob(build, job) });
    }
    progress?.({ kind: 'builds', listed, matchedBranch, selectedJobs: work.length });
    if (fatal) break;
  }

  const outcomes = await Promise.allSettled(work.map((w) => w.outcome));
  if (fatal) throw fatal;
  if (cache) await cache.evict();

  const matches: MatchRecord[] = [];
  const failures: LogFailure[] = [];
  let scanned = 0;
  let missing = 0;
  let fromCache = 0;
  let bytes = 0;
  outcomes.forEach((settled, i) => {
    const { build, job } = work[i]!;
    const outcome: JobOutcome = settled.status === 'fulfilled' ? settled.value : { kind: 'failed', reason: String(settled.reason) };
    if (outcome.kind === 'missing') {
      missing++;
    } else if (outcome.kind === 'failed') {
      failures.push({ build_number: build.number, job_id: job.id, step_label: jobLabel(job), job_url: job.web_url ?? '', reason: outcome.reason });
    } else {
      scanned++;
      bytes += outcome.bytes;
      if (outcome.cached) fromCache++;
      outcome.hits.forEach((hit, p) => {
        if (hit) matches.push(toMatchRecord(build, job, settings.compiled[p]!.source, hit));
      });
    }
  });

  return {
    matches,
    failures,
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
 * Reads one job's log to the end and scans it: from the cache when it holds the log, else
 * from Buildkite with retries. A read that breaks midway starts again with a fresh scanner,
 * so its matches count once.
 */
async function readJob(
  settings: Settings,
  client: BuildkiteClient,
  http: BuildkiteHttp,
  cache: LogCache | null,
  build: BuildkiteBuild,
  job: BuildkiteJob,
): Promise<JobOutcome> {
  const key = cache ? LogCache.key([settings.apiUrl, settings.org, settings.pipeline, job.id]) : '';
  if (cache) {
    const cached = await cache.read(key);
    if (cached) {
      const scanner = new LogScanner(settings.compiled);
      try {
        for await (const chunk of cached) scanner.push(chunk);
        return { kind: 'scanned', hits: scanner.end(), bytes: scanner.bytesScanned, cached: true };
      } catch (error: unknown) {
        if (!(error instanceof CacheCorruptError)) throw error;
        await cache.remove(key);
      }
    }
  }

  return http.withRetries(async (): Promise<JobOutcome> => {
    const res = await client.openLog(build.number, job);
    if (!res) return { kind: 'missing' };
    const scanner = new LogScanner(settings.compiled);
    // Only a finished job's log is final; a running job's log would be cached half-written.
    const writer = cache && isFinished(job) ? await cache.writer(key) : null;
    try {
      for await (const chunk of logBytes(res)) {
        scanner.push(chunk);
        if (writer) await writer.write(chunk);
      }
      await writer?.commit();
      return { kind: 'scanned', hits: scanner.end(), bytes: scanner.bytesScanned, cached: false };
    } catch (error: unknown) {
      res.destroy();
      await writer?.abort();
      throw error;
    }
  });
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
