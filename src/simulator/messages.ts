// The texts Buildkite answers errors with (docs/buildkite-api.md, "Authentication and errors"),
// so that a client's error handling meets the real wording.

/** Buildkite's own error bodies, as `{message}`. */
export const MESSAGES = {
  unauthenticated:
    'Authentication required. Please supply a valid API Access Token: https://buildkite.com/docs/apis/rest-api#authentication',
  noOrg: 'No organization found',
  noPipeline: 'No pipeline found',
  noBuild: 'No build found',
  /**
   * Buildkite answers a missing or expired log, and a job without a log (waiter, block, never
   * started), with 404. The only message documented for these is "No job found", so every log
   * 404 uses it; clients must treat any log 404 as "absent" whatever the message.
   */
  noJob: 'No job found',
  tooDeep:
    'Listing builds this deep is not supported. Please narrow your query using filters such as branch or created_from.',
  notFound: 'Not Found',
};

/** A 403's message: the token lacks the scope the endpoint needs. */
export function missingScope(scope: string): string {
  return `Your access token doesn't have the ${scope} scope`;
}

/** Bodies of statuses answered on purpose (faults and `failNext`). */
export const MESSAGES_BY_STATUS: Record<number, string> = {
  400: 'Bad Request',
  401: MESSAGES.unauthenticated,
  403: missingScope('read_builds'),
  404: MESSAGES.notFound,
  408: 'Request Timeout',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};
