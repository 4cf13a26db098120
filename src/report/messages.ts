// The short texts the entry points print beside the report: warnings, progress lines, why a run
// fails. Wording lives here, with the renderers, so the CLI and the action only choose where a
// text goes (stderr, a workflow command, the step's result).

import { countFailureReasons } from '../core/aggregate.ts';
import { toPrintable } from '../core/clean-line.ts';
import type { LogFailure, MissingLog, ScanReport } from '../core/types.ts';
import { truncateBytes } from './escape.ts';

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** "3 logs could not be fetched": the one wording of that fact, everywhere it is shown. */
export function logsNotFetched(count: number): string {
  return `${plural(count, 'log')} could not be fetched`;
}

/** The fact with each distinct reason and how many logs it cost, most frequent first. */
export function describeLogFailures(failures: readonly LogFailure[]): string {
  const reasons = countFailureReasons(failures).map(
    ([reason, count]) => `${count} × ${truncateBytes(toPrintable(reason), 200)}`,
  );
  return `${logsNotFetched(failures.length)}; matches in them are missing. Reasons: ${reasons.join('; ')}`;
}

/** One line per failed log, for a terminal: build, step, job and reason. */
export function listLogFailures(failures: readonly LogFailure[], max = 20): string[] {
  return listLogs(failures, max, (f) => `: ${toPrintable(f.reason)}`);
}

/** One line per log, for a terminal: build, step and job (and what `more` adds), at most `max`. */
export function listLogs<T extends MissingLog>(
  logs: readonly T[],
  max = 20,
  more: (log: T) => string = () => '',
): string[] {
  const lines = logs
    .slice(0, max)
    .map((f) => `#${f.build_number} ${toPrintable(f.step_label)} (${toPrintable(f.job_id)})${more(f)}`);
  if (logs.length > max) lines.push(`… and ${logs.length - max} more`);
  return lines;
}

/** The warning when the log cache could not be written (the scan itself is not affected). */
export function cacheNotWritten(dir: string, problem: string): string {
  return `the log cache in ${dir} could not be written, so logs were not cached: ${problem}`;
}

/** The warning when the pipeline (its default branch) could not be read. */
export function pipelineUnread(why: string): string {
  return (
    `the pipeline's default branch could not be read (${why}), so failures on it were not looked for; ` +
    'set --baseline-branch (input baseline-branch) to name the branch, or grant the token read_pipelines'
  );
}

/** The warning when the step filter selected no job at all, with the labels most like it. */
export function noJobSelected(step: string, builds: number, closest: readonly string[]): string {
  const near =
    closest.length > 0
      ? `; the closest step labels: ${closest.map((l) => JSON.stringify(toPrintable(l))).join(', ')}`
      : '';
  return `no script job's label contains ${JSON.stringify(step)} (compared case-insensitively) in the ${plural(builds, 'build')} on matching branches${near}`;
}

/** The warning when some baseline-branch logs (evidence only) could not be read. */
export function baselineLogsNotFetched(count: number): string {
  return `${logsNotFetched(count)} on the baseline branch; the evidence of failures there may be incomplete`;
}

/** The warning when the action's `matches` output was cut to what GitHub keeps. */
export function matchesOutputCut(shown: number, total: number, reportFile: string): string {
  return (
    `the matches output holds the first ${shown} of ${total} matches (GitHub keeps at most 1 MB of outputs per job); ` +
    `all of them are in the report file ${reportFile}`
  );
}

/** What makes a completed run fail on purpose: the checks the user asked for. */
export interface FailWhen {
  /** Anything matched (action input `fail-on-match`). */
  readonly matches: boolean;
  /** Some logs could not be fetched (`strict`). */
  readonly unreadLogs: boolean;
  /** How the user named those checks: `fail-on-match is true`, or `--strict`. */
  readonly names: { readonly matches: string; readonly unreadLogs: string };
}

/**
 * Why the run fails although the scan completed, or null when it passes. A result, not an error:
 * the check did what it was asked, and the report stands as written.
 */
export function failingChecks(report: ScanReport, when: FailWhen): string | null {
  const reasons: string[] = [];
  if (when.matches && report.matches.length > 0)
    reasons.push(`${report.matches.length} matches found and ${when.names.matches}`);
  if (when.unreadLogs && report.failures.length > 0)
    reasons.push(`${logsNotFetched(report.failures.length)} and ${when.names.unreadLogs}`);
  return reasons.length > 0 ? reasons.join('; ') : null;
}

/** The action log's closing line of the scan. */
export function describeScanDone(report: ScanReport, reportFile: string): string {
  return `${report.matches.length} matches in ${report.stats.jobs_scanned} logs of ${report.stats.builds_scanned} builds; report: ${reportFile}`;
}
