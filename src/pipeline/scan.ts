// The scan pipeline: list builds, select jobs, read each log once (cache or network), match,
// and build the report. Both entry points (CLI and action) call `scan`.

import pLimit from 'p-limit';
import { BuildkiteClient } from '../buildkite/client.ts';
import { ApiError } from '../buildkite/errors.ts';
import type { HttpOptions } from '../buildkite/http.ts';
import { LogCache } from '../cache/log-cache.ts';
import type { BuildkiteBuild, BuildkiteJob } from '../core/build.ts';
import { buildScanReport, type JobOutcome, type JobResult } from '../core/scan-report.ts';
import { closestLabels } from '../core/closest.ts';
import { prNumber } from '../core/flakes.ts';
import { jobLabel, keepJobs, matchesBranch, selectJobs, toMatchRecord } from '../core/select.ts';
import { DISCOVER_NEEDLES, FailureExtractor } from '../core/discover/extract.ts';
import { SlowPatternError, TimedScanner } from '../core/timed-scanner.ts';
import type { MatchRecord, ScanProgress, ScanReport } from '../core/types.ts';
import { baselineLogsNotFetched, cacheNotWritten, noJobSelected, pipelineUnread } from '../report/messages.ts';
import { settingLabel, type Settings } from '../settings.ts';
import { buildkiteLogSource, cachedLogSource, type LogSource } from './log-source.ts';

export { SlowPatternError } from '../core/timed-scanner.ts';

export type { ScanProgress } from '../core/types.ts';

export interface ScanOptions {
  readonly progress?: (event: ScanProgress) => void;
  /** Overrides for tests and the benchmark (retry delays, timeouts). */
  readonly http?: Partial<Omit<HttpOptions, 'apiUrl' | 'token'>>;
  readonly userAgent?: string;
  /** Longest time matching may take on one log before the run stops (tests shorten it). */
  readonly scanBudgetMs?: number;
  /**
   * The PR a comment will be about, with the branch names its builds may carry (the head's
   * `owner:branch` label and its ref): its newest builds are looked up by branch, so a PR whose
   * builds fell out of the window is still told about them.
   */
  readonly pullRequest?: { readonly number: string; readonly branches: readonly string[] };
}

/** How many of a PR's newest builds are looked up by branch, beyond the window. */
const PULL_REQUEST_BUILDS = 5;

/**
 * Matching one log may take this long at most. Legitimate scans run at tens of MB/s (a 1 GiB
 * log in well under a minute); only a pattern that backtracks catastrophically comes near.
 */
const SCAN_BUDGET_MS = 5 * 60_000;

export async function scan(settings: Settings, options: ScanOptions = {}): Promise<ScanReport> {
  const names = {
    token: settingLabel('token', settings.surface),
    maxBuilds: settingLabel('maxBuilds', settings.surface),
  };
  const client = BuildkiteClient.connect(
    { ...settings, names },
    {
      token: settings.token,
      userAgent: options.userAgent ?? 'flake-checker',
      connections: settings.concurrency + 2,
      onRateLimitWait: (wait) => options.progress?.({ kind: 'waiting', ...wait }),
      ...options.http,
    },
  );
  const cache = settings.cacheDir ? new LogCache(settings.cacheDir, settings.cacheMaxMb * 1024 * 1024) : null;
  try {
    const logs = logSourceFor(settings, client, cache);
    const results = await readSelectedJobs(settings, client, logs, options);
    const pullRequestMatches = options.pullRequest
      ? await readPullRequestBuilds(
          settings,
          client,
          logs,
          options.pullRequest,
          results.listedNumbers,
          results.baselineBranch,
        )
      : [];
    if (cache) await cache.evict();
    const report = buildScanReport(
      results.jobs,
      settings.patterns,
      { ...results.counts, ...client.stats },
      results.warnings,
      {
        minPrs: settings.minPrs,
        baselineBranch: results.baselineBranch,
      },
    );
    const unread = report.stats.baseline_logs_failed;
    const warnings = [
      ...report.warnings,
      ...(unread > 0 ? [baselineLogsNotFetched(unread)] : []),
      ...(cache?.problem ? [cacheNotWritten(cache.dir, cache.problem)] : []),
    ];
    return { ...report, warnings, repository: results.repository, pullRequestMatches };
  } finally {
    await client.close();
  }
}

function logSourceFor(settings: Settings, client: BuildkiteClient, cache: LogCache | null): LogSource {
  const network = buildkiteLogSource(client);
  if (!cache) return network;
  return cachedLogSource(cache, network, (job) =>
    LogCache.key([settings.apiUrl, settings.org, settings.pipeline, job.id]),
  );
}

/**
 * Lists the builds page by page and starts reading each selected job's log as soon as its page
 * arrives, `concurrency` at a time. Settles every read (they never reject) before anything is
 * thrown, so no request outlives the scan.
 */
async function readSelectedJobs(
  settings: Settings,
  client: BuildkiteClient,
  logs: LogSource,
  options: ScanOptions,
): Promise<{
  jobs: JobResult[];
  counts: { listed: number; matchedBranch: number; baselineBuilds: number; windowStart: string; windowEnd: string };
  baselineBranch: string | null;
  repository: string | null;
  warnings: readonly string[];
  listedNumbers: ReadonlySet<number>;
}> {
  const { progress } = options;
  const budgetMs = options.scanBudgetMs ?? SCAN_BUDGET_MS;
  // The token check runs alongside the first page of builds (one round trip saved), but no
  // log is requested before it passes, and its clearer message wins over the list's error.
  const tokenChecked = client.checkToken();
  tokenChecked.catch(() => undefined);
  // So is the pipeline's: its default branch is the baseline, its repository where PRs live.
  const pipelineRead = readPipeline(client, settings);

  const limit = pLimit(settings.concurrency);
  const work: { build: BuildkiteBuild; job: BuildkiteJob; outcome: Promise<JobOutcome>; evidenceOnly: boolean }[] = [];
  let listed = 0;
  let matchedBranch = 0;
  let baselineBuilds = 0;
  // Step labels of script jobs on matching branches, to suggest when the step selects none.
  const labelsSeen = new Set<string>();
  const listedNumbers = new Set<number>();
  let windowStart = '';
  let windowEnd = '';
  let pipeline: PipelineFacts = { baselineBranch: null, repository: null, warnings: [] };
  let done = 0;
  let bytesRead = 0;
  let matchesFound = 0;
  // The error that stops the run. Queued jobs see it and return at once; jobs reading a log
  // stop at their next chunk, so the run ends promptly.
  let fatal: unknown = null;
  const stop = (error: unknown): void => {
    fatal ??= error;
    client.stop();
  };
  const tell = () => progress?.({ kind: 'logs', done, total: work.length, bytes: bytesRead, matches: matchesFound });
  // Bytes are told every MiB, so a counter moves while a big log streams.
  const onBytes = (n: number) => {
    const before = bytesRead;
    bytesRead += n;
    if (Math.floor(bytesRead / MIB) > Math.floor(before / MIB)) tell();
  };

  const readJob = (build: BuildkiteBuild, job: BuildkiteJob, evidenceOnly: boolean) =>
    limit(async (): Promise<JobOutcome> => {
      if (fatal) return { kind: 'failed', reason: 'scan stopped' };
      try {
        const outcome = await scanLog(logs, build, job, settings, budgetMs, onBytes);
        if (outcome.kind === 'scanned' && !evidenceOnly) {
          matchesFound += outcome.hits.filter((hit) => hit !== null).length + outcome.failures.length;
        }
        return outcome;
      } catch (error: unknown) {
        // Auth and configuration errors stop the run; anything else is this log's failure.
        if (isFatal(error)) stop(error);
        return { kind: 'failed', reason: error instanceof Error ? error.message : String(error) };
      } finally {
        done++;
        tell();
      }
    });

  try {
    for await (const page of client.listBuilds(settings.maxBuilds)) {
      await tokenChecked;
      pipeline = await pipelineRead;
      listed += page.length;
      for (const build of page) {
        listedNumbers.add(build.number);
        const created = build.created_at ?? '';
        if (created !== '' && (windowStart === '' || created < windowStart)) windowStart = created;
        if (created > windowEnd) windowEnd = created;
        if (matchesBranch(build, settings.branchPattern)) {
          matchedBranch++;
          if (labelsSeen.size < MAX_LABELS_KEPT)
            for (const job of build.jobs ?? []) if (job.type === 'script') labelsSeen.add(jobLabel(job));
          const jobs = selectJobs(build, settings);
          // Kept until the report: only the jobs it needs (retry chains run through the rest).
          const kept = keepJobs(build, jobs);
          for (const job of jobs)
            work.push({ build: kept, job, outcome: readJob(kept, job, false), evidenceOnly: false });
        } else if (pipeline.baselineBranch !== null && build.branch === pipeline.baselineBranch) {
          // Evidence, not results: only attempts that did not pass, since a green job on the
          // baseline branch is no failure evidence and each log costs a request.
          baselineBuilds++;
          const jobs = selectJobs(build, settings).filter((job) => job.state !== 'passed');
          const kept = keepJobs(build, jobs);
          for (const job of jobs)
            work.push({ build: kept, job, outcome: readJob(kept, job, true), evidenceOnly: true });
        }
      }
      progress?.({ kind: 'builds', listed, matchedBranch, selectedJobs: work.length });
      if (fatal) break;
    }
    await tokenChecked;
  } catch (error: unknown) {
    await tokenChecked.catch(stop);
    stop(error);
  }

  const outcomes = await Promise.all(work.map((w) => w.outcome));
  if (fatal) throw fatal;
  const noJob = matchedBranch > 0 && !work.some((w) => !w.evidenceOnly);
  const warnings = noJob ? [noJobSelected(settings.step, matchedBranch, closestLabels(settings.step, labelsSeen))] : [];
  return {
    jobs: work.map(({ build, job, evidenceOnly }, i) => ({ build, job, evidenceOnly, outcome: outcomes[i]! })),
    counts: { listed, matchedBranch, baselineBuilds, windowStart, windowEnd },
    ...pipeline,
    warnings: [...pipeline.warnings, ...warnings],
    listedNumbers,
  };
}

/**
 * The match records of a PR's newest builds that the window did not list: found by branch,
 * kept only when the build's PR number is this PR's (a fork's `main` must not bring in main).
 * A failure here is left out quietly: these builds are a courtesy to the PR, not the scan.
 */
async function readPullRequestBuilds(
  settings: Settings,
  client: BuildkiteClient,
  logs: LogSource,
  pr: NonNullable<ScanOptions['pullRequest']>,
  listed: ReadonlySet<number>,
  baselineBranch: string | null,
): Promise<MatchRecord[]> {
  // A fork's PR from its own `main` has the ref `main`: that name would bring in the baseline.
  const branches = [...new Set(pr.branches.filter((b) => b !== '' && b !== baselineBranch))];
  if (branches.length === 0) return [];
  const builds: BuildkiteBuild[] = [];
  try {
    // Other PRs may share a branch name (`owner:main`): look a little further than we keep.
    for await (const page of client.listBuilds(PULL_REQUEST_BUILDS * 4, branches)) {
      builds.push(...page.filter((b) => prNumber(b) === pr.number));
    }
  } catch {
    return [];
  }
  const older = builds.slice(0, PULL_REQUEST_BUILDS).filter((b) => !listed.has(b.number));
  const limit = pLimit(settings.concurrency);
  const records = await Promise.all(
    older.flatMap((build) =>
      selectJobs(build, settings).map((job) =>
        limit(async () => {
          const outcome = await scanLog(logs, build, job, settings, SCAN_BUDGET_MS, () => undefined).catch(() => null);
          if (outcome?.kind !== 'scanned') return [];
          return outcome.hits.flatMap((hit, p) =>
            hit && settings.patterns[p] !== undefined ? [toMatchRecord(build, job, settings.patterns[p]!, hit)] : [],
          );
        }),
      ),
    ),
  );
  return records.flat();
}

/** Labels kept for the "closest step labels" hint; a few builds' worth is plenty. */
const MAX_LABELS_KEPT = 2000;

interface PipelineFacts {
  readonly baselineBranch: string | null;
  /** The pipeline's repository (Git URL), or null when unknown. */
  readonly repository: string | null;
  readonly warnings: readonly string[];
}

/**
 * The baseline branch and the repository. Reading the pipeline needs the `read_pipelines` scope,
 * which the scan itself does not: a refusal turns baseline evidence from the default branch off
 * with a warning (a named baseline branch is used as it is) and never fails the scan.
 */
async function readPipeline(client: BuildkiteClient, settings: Settings): Promise<PipelineFacts> {
  const named = settings.baseline?.from === 'setting' ? settings.baseline.branch : null;
  try {
    const { default_branch, repository } = await client.getPipeline();
    const baselineBranch = settings.baseline === null ? null : (named ?? default_branch);
    return { baselineBranch, repository, warnings: [] };
  } catch (error: unknown) {
    // Never thrown: a token or pipeline the API refuses is reported by the token check and the
    // builds list, with their own clearer messages.
    const why = error instanceof Error ? error.message : String(error);
    const warnings = settings.baseline?.from === 'pipeline' ? [pipelineUnread(why)] : [];
    return { baselineBranch: named, repository: null, warnings };
  }
}

const MIB = 1024 * 1024;

/** Reads one job's log to the end through the scanner; `onBytes` hears of every chunk. */
async function scanLog(
  logs: LogSource,
  build: BuildkiteBuild,
  job: BuildkiteJob,
  settings: Settings,
  budgetMs: number,
  onBytes: (n: number) => void,
): Promise<JobOutcome> {
  const read = await logs.read(build, job, async (chunks) => {
    // A fresh extractor with each read: a retried download starts again from the first line.
    const extractor = settings.discover ? new FailureExtractor() : null;
    const visitor = extractor && {
      needles: DISCOVER_NEEDLES,
      visit: (n: number, line: string) => extractor.push(n, line),
    };
    const scanner = new TimedScanner(settings.compiled, budgetMs, () => performance.now(), visitor);
    for await (const chunk of chunks) {
      scanner.push(chunk);
      onBytes(chunk.length);
    }
    const hits = scanner.end();
    return { hits, bytes: scanner.bytes, failures: extractor?.end() ?? [] };
  });
  if (read === null) return { kind: 'missing' };
  return { kind: 'scanned', ...read.value, cached: read.cached };
}

/**
 * Errors that stop the whole run rather than one log: the API host refusing the token (401) or
 * a scope (403), and a pattern too slow to finish. A 403 from a redirect target (object storage
 * refusing an expired signed URL) is that log's failure only.
 */
function isFatal(error: unknown): boolean {
  if (error instanceof SlowPatternError) return true;
  return error instanceof ApiError && (error.status === 401 || error.status === 403) && error.fromApi;
}
