// Which pull request, if any, a run reports to.

/** Events whose payload carries the pull request the run is about. */
const PULL_REQUEST_EVENTS: readonly string[] = ['pull_request', 'pull_request_target'];

/**
 * The PR to comment on: `pr-number` when given (so a `workflow_dispatch` or `schedule` run can
 * report to a chosen PR), else the PR of a `pull_request` / `pull_request_target` event, else
 * none. A `schedule` run without `pr-number` therefore never comments.
 */
export function resolvePullRequest(
  eventName: string | undefined,
  payload: unknown,
  prNumber: number | null,
): number | null {
  if (prNumber !== null) return prNumber;
  if (!eventName || !PULL_REQUEST_EVENTS.includes(eventName)) return null;
  const number = isRecord(payload) && isRecord(payload.pull_request) ? payload.pull_request.number : undefined;
  return typeof number === 'number' && Number.isSafeInteger(number) && number > 0 ? number : null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/**
 * The branch names the PR's Buildkite builds may carry: the head's `owner:branch` label (vLLM's
 * PR builds, since Sept 2026) and its ref. Only for the event's own PR: a `pr-number` given by
 * hand comes without its head.
 */
export function headBranches(payload: unknown, pr: number): string[] {
  const pull = isRecord(payload) && isRecord(payload.pull_request) ? payload.pull_request : null;
  if (!pull || pull.number !== pr || !isRecord(pull.head)) return [];
  return [pull.head.label, pull.head.ref].filter((b): b is string => typeof b === 'string' && b !== '');
}
