// The action's tracker step: merge this run into the one tracker issue of (org, pipeline, step).
// Like the PR comment, a refusal is a warning, never a failure: the summary and outputs stand.

import * as core from '@actions/core';
import { context } from '@actions/github';
import type { ScanReport } from '../core/types.ts';
import type { Settings } from '../settings.ts';
import { summarizeTracker, type TrackerSummary } from '../tracker/state.ts';
import type { GitHubClient } from './github-client.ts';
import type { ActionInputs } from './inputs.ts';
import { createTrackerIssues, syncTrackerIssue } from './tracker-issue.ts';

export interface TrackerUpdate {
  readonly issue: number;
  readonly outcome: string;
  readonly summary: TrackerSummary;
}

/** Updates the tracker issue, or returns null (with a warning saying why) when it cannot. */
export async function updateTrackerIssue(
  report: ScanReport,
  settings: Settings,
  inputs: ActionInputs,
  github: GitHubClient | null,
): Promise<TrackerUpdate | null> {
  if (!inputs.tracker) return null;
  if (github === null) {
    core.warning('tracker is true but github-token is empty: the tracker issue was not updated');
    return null;
  }
  // A scan that read no log says nothing of the flakes: it must not count as a quiet run.
  if (report.stats.jobs_scanned === 0) {
    core.warning('no log was scanned, so the tracker issue was left as it is');
    return null;
  }
  try {
    const result = await syncTrackerIssue(createTrackerIssues(github, context.repo), {
      settings,
      label: inputs.trackerLabel,
      title: inputs.trackerTitle,
      run: {
        flakes: report.flakes,
        matches: report.matches,
        runAt: new Date().toISOString(),
        resolveAfter: settings.resolveAfter,
      },
    });
    if (result.problem)
      core.warning(
        `the tracker issue's saved state could not be read, so it was rebuilt from this run: ${result.problem}`,
      );
    for (const note of result.notes) core.warning(note);
    for (const closed of result.closedDuplicates)
      core.info(`Tracker: closed #${closed} as a duplicate of #${result.issue}`);
    core.info(`Tracker: issue #${result.issue} ${result.outcome}`);
    return { issue: result.issue, outcome: result.outcome, summary: summarizeTracker(result.state, result.issue) };
  } catch (error: unknown) {
    core.warning(
      `Could not update the tracker issue: ${error instanceof Error ? error.message : String(error)} The job summary and outputs are written.`,
    );
    return null;
  }
}
