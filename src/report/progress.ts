// The scan's progress as a person reads it: a terminal status line redrawn in place, and the
// lines an action log gets. Pure: events fold into a state, and the state (with the time)
// renders to text; the entry points decide when to draw.

import type { ScanProgress } from '../core/types.ts';
import { plural } from './messages.ts';

export interface ProgressState {
  readonly builds: Extract<ScanProgress, { kind: 'builds' }> | null;
  readonly logs: Extract<ScanProgress, { kind: 'logs' }> | null;
  readonly wait: Extract<ScanProgress, { kind: 'waiting' }> | null;
}

export const NO_PROGRESS: ProgressState = { builds: null, logs: null, wait: null };

export function nextProgress(state: ProgressState, event: ScanProgress): ProgressState {
  switch (event.kind) {
    case 'builds':
      return { ...state, builds: event };
    case 'logs':
      return { ...state, logs: event };
    case 'waiting':
      return { ...state, wait: event };
  }
}

/** Whole seconds left until `untilMs`, rounded up; 0 once passed. */
export function secondsLeft(untilMs: number, nowMs: number): number {
  return Math.max(0, Math.ceil((untilMs - nowMs) / 1000));
}

/** "waiting 41 s for Buildkite's rate limit (50/min per user)". */
export function describeWait(wait: NonNullable<ProgressState['wait']>, nowMs: number): string {
  const who = wait.scope === 'user' ? 'per user' : 'per organization';
  const limit = wait.limit === null ? who : `${wait.limit}/min ${who}`;
  return `waiting ${secondsLeft(wait.untilMs, nowMs)} s for Buildkite's rate limit (${limit})`;
}

function megabytes(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** The terminal's status line: builds listed, logs done of total, MB read, matches, any wait. */
export function describeStatus(state: ProgressState, nowMs: number): string {
  const parts: string[] = [];
  if (state.builds) {
    const b = state.builds;
    parts.push(`${b.listed} builds listed, ${b.matchedBranch} on matching branches`);
  }
  const total = state.logs?.total ?? state.builds?.selectedJobs ?? 0;
  if (state.builds || state.logs) {
    const l = state.logs;
    parts.push(
      `${l?.done ?? 0}/${total} logs, ${megabytes(l?.bytes ?? 0)}, ${plural(l?.matches ?? 0, 'match', 'matches')}`,
    );
  }
  if (state.wait && state.wait.untilMs > nowMs) parts.push(describeWait(state.wait, nowMs));
  return parts.join(' · ');
}

/** An action log line for a page of builds. */
export function describeBuilds(event: NonNullable<ProgressState['builds']>): string {
  return `Builds: ${event.listed} listed, ${event.matchedBranch} on matching branches, ${event.selectedJobs} jobs selected`;
}

/** An action log line for the logs so far. */
export function describeLogs(state: ProgressState): string {
  const l = state.logs;
  const total = l?.total ?? state.builds?.selectedJobs ?? 0;
  return `Logs: ${l?.done ?? 0} of ${total} read (${megabytes(l?.bytes ?? 0)}), ${plural(l?.matches ?? 0, 'match', 'matches')} so far`;
}
