// The tracker issue: one open issue per (org, pipeline, step), found again by the hidden marker
// in its body, whose managed block each scheduled run rewrites from the saved state merged with
// its own scan. GitHub has no compare-and-swap for issues, so two runs that start together may
// both create one; each creator looks again after creating, the oldest issue wins, and a later
// one is closed with a link to it.

import { toPrintable } from '../core/clean-line.ts';
import { mergeRun, type TrackerRun, type TrackerState } from '../tracker/state.ts';
import { parseBody, renderBody, trackerId, trackerMarker, type TrackedStep } from '../tracker/render.ts';
import { createAuthorCheck, toGitHubApiError, type GitHubClient } from './github-client.ts';

export const DEFAULT_TRACKER_LABEL = 'flaky-test';

/** The default of `tracker-title`; `{org}`, `{pipeline}` and `{step}` are filled in. */
export const DEFAULT_TRACKER_TITLE = 'Flaky tests: {org}/{pipeline} — {step}';

/** GitHub refuses longer issue titles. */
const TITLE_MAX_CHARS = 256;

export interface TrackerIssue {
  readonly number: number;
  readonly body: string;
}

/** The calls the tracker needs, so the logic can be tested without GitHub. */
export interface TrackerIssues {
  /** Our open issues labelled `label` whose body holds `marker`, oldest first, every page read. */
  findOpen(marker: string, label: string): Promise<TrackerIssue[]>;
  create(issue: { readonly title: string; readonly body: string; readonly label: string }): Promise<TrackerIssue>;
  updateBody(issue: number, body: string): Promise<void>;
  /** Comments `comment` on `issue`, then closes it as a duplicate. */
  closeAsDuplicate(issue: number, comment: string): Promise<void>;
}

export interface TrackerRequest {
  readonly settings: TrackedStep;
  readonly label: string;
  /** The `tracker-title` template; null for the default. Only a new issue gets it. */
  readonly title: string | null;
  readonly run: TrackerRun;
}

export type TrackerOutcome = 'created' | 'updated' | 'unchanged';

export interface TrackerResult {
  readonly issue: number;
  readonly outcome: TrackerOutcome;
  /** Issues this run closed as duplicates of `issue`. */
  readonly closedDuplicates: readonly number[];
  /** The state now saved in the issue. */
  readonly state: TrackerState;
  /** Why the saved state could not be read (it was rebuilt from this run), or null. */
  readonly problem: string | null;
  /** What the body limit cut. */
  readonly notes: readonly string[];
}

/** Creates the tracker issue, or merges this run into the one there is. */
export async function syncTrackerIssue(issues: TrackerIssues, request: TrackerRequest): Promise<TrackerResult> {
  const id = trackerId(request.settings);
  const marker = trackerMarker(id);
  const [oldest, ...others] = await issues.findOpen(marker, request.label);
  if (oldest) {
    const closed = await closeDuplicates(issues, others, oldest.number);
    return { ...(await updateIssue(issues, oldest, id, request.run)), closedDuplicates: closed };
  }

  const state = mergeRun(null, request.run);
  const rendered = renderBody(state, { id, resolveAfter: request.run.resolveAfter });
  const created = await issues.create({
    title: trackerTitle(request.title, request.settings),
    body: rendered.body,
    label: request.label,
  });
  // Another run may have created one since we looked (or a create GitHub answered with a 5xx
  // was retried after it had happened): the oldest wins. A winner leaves later issues to their
  // creators, so each duplicate gets one closing comment; the next run closes any left over.
  const now = await issues.findOpen(marker, request.label);
  const winner = [created, ...now].reduce((a, b) => (b.number < a.number ? b : a));
  if (winner.number === created.number) {
    const { state: saved, notes } = rendered;
    return { issue: created.number, outcome: 'created', closedDuplicates: [], state: saved, problem: null, notes };
  }
  const closed = await closeDuplicates(issues, [created], winner.number);
  return { ...(await updateIssue(issues, winner, id, request.run)), closedDuplicates: closed };
}

async function updateIssue(
  issues: TrackerIssues,
  issue: TrackerIssue,
  id: string,
  run: TrackerRun,
): Promise<Omit<TrackerResult, 'closedDuplicates'>> {
  const saved = parseBody(issue.body);
  const state = mergeRun(saved.state, run);
  const { outside, problem } = saved;
  const rendered = renderBody(state, { id, resolveAfter: run.resolveAfter, outside, problem });
  const result = { issue: issue.number, state: rendered.state, problem: saved.problem, notes: rendered.notes };
  if (rendered.body === issue.body) return { ...result, outcome: 'unchanged' };
  await issues.updateBody(issue.number, rendered.body);
  return { ...result, outcome: 'updated' };
}

async function closeDuplicates(
  issues: TrackerIssues,
  duplicates: readonly TrackerIssue[],
  of: number,
): Promise<number[]> {
  const closed: number[] = [];
  for (const issue of duplicates) {
    await issues.closeAsDuplicate(
      issue.number,
      `Closed as a duplicate of #${of}: two flake-checker runs created a tracker for the same pipeline and step at ` +
        `the same time. #${of} keeps the record.`,
    );
    closed.push(issue.number);
  }
  return closed;
}

/** The title of a new tracker: `template` (or the default) with `{org}`, `{pipeline}`, `{step}` filled in. */
export function trackerTitle(template: string | null, settings: TrackedStep): string {
  const values: Record<string, string> = { org: settings.org, pipeline: settings.pipeline, step: settings.step };
  const title = toPrintable(template || DEFAULT_TRACKER_TITLE)
    .replace(/\{(org|pipeline|step)\}/g, (_, name: string) => toPrintable(values[name] ?? ''))
    .replace(/\s+/g, ' ')
    .trim();
  return title.length > TITLE_MAX_CHARS ? `${title.slice(0, TITLE_MAX_CHARS - 1)}…` : title;
}

/** TrackerIssues over the REST API of one repository. Failures are GitHubApiErrors. */
export function createTrackerIssues(
  octokit: GitHubClient,
  target: { readonly owner: string; readonly repo: string },
): TrackerIssues {
  const { owner, repo } = target;
  const isOurs = createAuthorCheck(octokit);
  const guard = <T>(call: () => Promise<T>): Promise<T> =>
    call().catch((error: unknown) => {
      throw toGitHubApiError(error, issuesHint);
    });
  return {
    findOpen: (marker, label) =>
      guard(async () => {
        const found: TrackerIssue[] = [];
        const pages = octokit.paginate.iterator(octokit.rest.issues.listForRepo, {
          owner,
          repo,
          state: 'open',
          labels: label,
          sort: 'created',
          direction: 'asc',
          per_page: 100,
        });
        for await (const page of pages) {
          for (const issue of page.data) {
            // The issues list holds pull requests too.
            if (issue.pull_request || !(issue.body ?? '').includes(marker)) continue;
            if (await isOurs(issue.user)) found.push({ number: issue.number, body: issue.body ?? '' });
          }
        }
        return found.sort((a, b) => a.number - b.number);
      }),
    create: ({ title, body, label }) =>
      guard(async () => {
        const res = await octokit.rest.issues.create({ owner, repo, title, body, labels: [label] });
        return { number: res.data.number, body: res.data.body ?? body };
      }),
    updateBody: (issue, body) =>
      guard(async () => {
        await octokit.rest.issues.update({ owner, repo, issue_number: issue, body });
      }),
    closeAsDuplicate: (issue, comment) =>
      guard(async () => {
        await octokit.rest.issues.createComment({ owner, repo, issue_number: issue, body: comment });
        const closed = { state: 'closed', state_reason: 'duplicate' } as const;
        await octokit.rest.issues.update({ owner, repo, issue_number: issue, ...closed });
      }),
  };
}

/** What to do about a refusal: a 403 or 404 here nearly always means a token without `issues: write`. */
function issuesHint(status: number | null, reason: string): string {
  if ((status === 403 && !/rate limit/i.test(reason)) || status === 404) {
    return 'The token cannot manage issues here: grant `issues: write` in the workflow, or set `tracker: off`.';
  }
  if (status === 410) return 'Issues are turned off in this repository: turn them on, or set `tracker: off`.';
  return '';
}
