// Which pull request, if any, a run reports to.

/** Events whose payload carries the pull request the run is about. */
const PULL_REQUEST_EVENTS: readonly string[] = ['pull_request', 'pull_request_target'];

/**
 * The PR to comment on: `pr-number` when given (so a `workflow_dispatch` or `schedule` run can
 * report to a chosen PR), else the PR of a `pull_request` / `pull_request_target` event, else
 * none. A `schedule` run without `pr-number` therefore never comments.
 */
export function resolvePullRequest(eventName: string | undefined, payload: unknown, prNumber: number | null): number | null {
  if (prNumber !== null) return prNumber;
  if (!eventName || !PULL_REQUEST_EVENTS.includes(eventName)) return null;
  const number = isRecord(payload) && isRecord(payload.pull_request) ? payload.pull_request.number : undefined;
  return typeof number === 'number' && Number.isSafeInteger(number) && number > 0 ? number : null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
