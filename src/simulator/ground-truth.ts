// An independent oracle: what a correct scan of the simulator's dataset must report. It reads the
// dataset directly (builds, jobs and clean lines known by construction) and shares no code with
// the scanner, so a test comparing the two checks the scanner rather than restating it.

import type { MatchRecord } from '../core/types.ts';
import type { Dataset } from './dataset.ts';
import type { SimBuild, SimJob } from './api-objects.ts';

export interface GroundTruthQuery {
  /** The newest this many builds are examined. */
  readonly maxBuilds: number;
  /** Tested against the branch, and against `pull/<id>/head` for PR builds. */
  readonly branchRegex: string;
  /** Substring of the job's name (else label), case-insensitive. */
  readonly step: string;
  readonly patterns: readonly string[];
  /** Patterns are regular expressions (tested per clean line) rather than literal substrings. */
  readonly regex: boolean;
  /** When given, only jobs in these states. */
  readonly jobStates?: readonly string[] | null;
}

/**
 * A MatchRecord without `snippet` (the scanner derives it), plus the full clean line the
 * snippet must come from. The oracle shares the record's type with the scanner, never its code.
 */
export type ExpectedMatch = Omit<MatchRecord, 'snippet'> & { readonly line_text: string };

export interface ExpectedCounts {
  readonly builds_scanned: number;
  readonly builds_matched_branch: number;
  readonly jobs_selected: number;
  readonly logs_missing: number;
}

export function pullRequestId(build: SimBuild): string | null {
  const pr = build.pull_request as { id?: string } | null;
  return pr && pr.id ? String(pr.id) : null;
}

/** The window (`scanned`) and its builds that pass the branch filter (`kept`). */
export function selectBuilds(
  dataset: Dataset,
  query: GroundTruthQuery,
): { scanned: readonly SimBuild[]; kept: SimBuild[] } {
  const scanned = dataset.builds.slice(0, query.maxBuilds);
  const branch = new RegExp(query.branchRegex);
  const kept = scanned.filter((b) => {
    const pr = pullRequestId(b);
    return branch.test(b.branch) || (pr !== null && branch.test(`pull/${pr}/head`));
  });
  return { scanned, kept };
}

/**
 * The job's label: `name`, else `label`; a value that is not text (hostile data), or empty text,
 * is no label: an empty name says nothing, so the label stands in (the scanner decides the same).
 */
function label(job: SimJob): string {
  const text = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);
  return text(job.name) ?? text(job.label) ?? '';
}

export function selectJobs(build: SimBuild, query: GroundTruthQuery): SimJob[] {
  const step = query.step.toLowerCase();
  return build.jobs.filter(
    (j) =>
      j.type === 'script' &&
      !!j.started_at &&
      label(j).toLowerCase().includes(step) &&
      (!query.jobStates || query.jobStates.includes(j.state ?? '')),
  );
}

/** Per pattern, whether a clean line matches it: a regex test, or a literal substring. */
export function lineTests(query: GroundTruthQuery): ((line: string) => boolean)[] {
  return query.patterns.map((p) => {
    if (!query.regex) return (line: string): boolean => line.includes(p);
    const re = new RegExp(p);
    return (line: string): boolean => re.test(line);
  });
}

export function expectedMatches(dataset: Dataset, query: GroundTruthQuery): ExpectedMatch[] {
  const tests = lineTests(query);
  const out: ExpectedMatch[] = [];
  for (const build of selectBuilds(dataset, query).kept) {
    for (const job of selectJobs(build, query)) {
      if (!dataset.logExists(job.id)) continue;
      const first: ({ line: number; text: string } | null)[] = tests.map(() => null);
      const counts = tests.map(() => 0);
      let n = 0;
      for (const text of dataset.cleanLines(job.id)) {
        n++;
        tests.forEach((test, i) => {
          if (!test(text)) return;
          counts[i] = (counts[i] as number) + 1;
          first[i] ??= { line: n, text };
        });
      }
      query.patterns.forEach((pattern, i) => {
        const hit = first[i];
        if (!hit) return;
        out.push({
          build_number: build.number,
          branch: build.branch,
          state: build.state,
          step_label: label(job),
          pattern,
          web_url: build.web_url,
          job_id: job.id,
          job_url: job.web_url ?? '',
          job_state: job.state ?? '',
          line: hit.line,
          count: counts[i] as number,
          retried: job.retried === true,
          pull_request: pullRequestId(build),
          created_at: build.created_at,
          line_text: hit.text,
        });
      });
    }
  }
  return out;
}

export function expectedCounts(dataset: Dataset, query: GroundTruthQuery): ExpectedCounts {
  const { scanned, kept } = selectBuilds(dataset, query);
  const jobs = kept.flatMap((b) => selectJobs(b, query));
  return {
    builds_scanned: scanned.length,
    builds_matched_branch: kept.length,
    jobs_selected: jobs.length,
    logs_missing: jobs.filter((j) => !dataset.logExists(j.id)).length,
  };
}
