// Choosing which builds and jobs to scan, and turning a hit into a match record.

import type { BuildkiteBuild, BuildkiteJob } from './build.ts';
import type { PatternHit } from './scan-log.ts';
import type { MatchRecord } from './types.ts';

/** The PR number of a PR build as a string, or null (`pull_request` is null or `{}` otherwise). */
export function pullRequestId(build: BuildkiteBuild): string | null {
  const id = build.pull_request?.id;
  if (id === null || id === undefined || id === '') return null;
  return String(id);
}

/**
 * The branch filter. A build is kept when the regex matches its branch, or when it is a PR
 * build and the regex matches `pull/<id>/head`: on vllm/ci PR builds carry the contributor's
 * branch (`owner:branch`), so this is how the spec's default `^pull/|^pr/` keeps meaning
 * "PR builds".
 */
export function matchesBranch(build: BuildkiteBuild, branchPattern: RegExp): boolean {
  if (branchPattern.test(build.branch ?? '')) return true;
  const pr = pullRequestId(build);
  return pr !== null && branchPattern.test(`pull/${pr}/head`);
}

/** A job's label: `name` (script jobs), else `label` (block jobs). */
export function jobLabel(job: BuildkiteJob): string {
  return job.name || job.label || '';
}

export interface JobFilter {
  /** Step label substring; compared case-insensitively. */
  readonly step: string;
  /** Only these job states, or every state when null. */
  readonly jobStates: readonly string[] | null;
}

/**
 * Jobs worth a log download: script jobs (only they have logs; vLLM's `Run <label>` block jobs
 * would otherwise match the label) that started, whose label contains the step substring.
 * Every retried attempt is a job of its own: a failed first attempt is where a flake shows.
 */
export function selectJobs(build: BuildkiteBuild, filter: JobFilter): BuildkiteJob[] {
  const needle = filter.step.toLowerCase();
  // Jobs come through toBuild, which keeps only objects with a string id.
  return (build.jobs ?? []).filter(
    (job) =>
      job.type === 'script' &&
      Boolean(job.started_at) &&
      jobLabel(job).toLowerCase().includes(needle) &&
      (filter.jobStates === null || filter.jobStates.includes(job.state ?? '')),
  );
}

/**
 * The build with only the jobs the scan still needs of it: `jobs`, and the attempts their retry
 * chains lead to (`retried_in_job_id`, followed to the end). A vLLM build holds ~266 jobs, and
 * the scan keeps a build for each job it reads: the rest of them would be kept for nothing.
 */
export function keepJobs(build: BuildkiteBuild, jobs: readonly BuildkiteJob[]): BuildkiteBuild {
  const all = build.jobs ?? [];
  if (jobs.length === all.length) return build;
  const byId = new Map(all.map((j) => [j.id, j]));
  const kept = new Set<BuildkiteJob>();
  for (const job of jobs) {
    for (
      let at: BuildkiteJob | undefined = job;
      at && !kept.has(at);
      at = at.retried_in_job_id ? byId.get(at.retried_in_job_id) : undefined
    ) {
      kept.add(at);
    }
  }
  return { ...build, jobs: all.filter((j) => kept.has(j)) };
}

/** The job's page: its own `web_url`, else the build's page scrolled to the job, else ''. */
export function jobUrl(build: BuildkiteBuild, job: BuildkiteJob): string {
  return job.web_url ?? (build.web_url ? `${build.web_url}#${job.id}` : '');
}

/** Builds the public record of one pattern's hit in one job's log. */
export function toMatchRecord(build: BuildkiteBuild, job: BuildkiteJob, pattern: string, hit: PatternHit): MatchRecord {
  return {
    build_number: build.number,
    branch: build.branch ?? '',
    state: build.state ?? '',
    step_label: jobLabel(job),
    pattern,
    snippet: hit.snippet,
    web_url: build.web_url ?? '',
    job_id: job.id,
    job_url: jobUrl(build, job),
    job_state: job.state ?? '',
    line: hit.line,
    count: hit.count,
    retried: job.retried === true,
    pull_request: pullRequestId(build),
    created_at: build.created_at ?? '',
  };
}

/** True for job states that will not change: such a job's log is final and can be cached. */
export function isFinished(job: BuildkiteJob): boolean {
  return (
    Boolean(job.finished_at) &&
    !['running', 'canceling', 'timing_out', 'assigned', 'accepted', 'scheduled', 'waiting', 'pending'].includes(
      job.state ?? '',
    )
  );
}
