// The sticky PR comment: exactly one per PR per (org, pipeline, step), found again by a hidden
// marker and updated in place, so reruns and new pushes never add comments.

import { createHash } from 'node:crypto';
import type { getOctokit } from '@actions/github';
import type { Settings } from '../settings.ts';
import type { CommentMode } from './inputs.ts';

/** GitHub refuses issue comments longer than this many characters (422). */
export const COMMENT_MAX_CHARS = 65_536;

/**
 * The hidden marker that identifies our comment. The step label is free text (it could even
 * hold `-->`), so it enters as a hash; org and pipeline are validated slugs and stay readable.
 * The step is matched case-insensitively, so it is hashed lower-cased: changing only its case
 * keeps the same comment.
 */
export function commentMarker(settings: Pick<Settings, 'org' | 'pipeline' | 'step'>): string {
  const stepHash = createHash('sha256').update(settings.step.toLowerCase()).digest('hex').slice(0, 12);
  return `<!-- flake-checker:${settings.org}/${settings.pipeline}/${stepHash} -->`;
}

export interface ExistingComment {
  readonly id: number;
  readonly body: string;
}

/** The three calls the sticky comment needs, so the logic can be tested without GitHub. */
export interface IssueComments {
  /** The first comment whose body starts with `marker`, searching every page. */
  find(marker: string): Promise<ExistingComment | null>;
  create(body: string): Promise<void>;
  update(id: number, body: string): Promise<void>;
}

export type CommentOutcome = 'created' | 'updated' | 'unchanged' | 'skipped';

/**
 * Creates, updates or leaves the comment. In `on-match` mode a comment is only created when
 * there are matches, but an existing one is always updated, so a PR whose matches are gone
 * says so instead of showing stale matches.
 */
export async function syncComment(
  comments: IssueComments,
  request: { readonly mode: CommentMode; readonly hasMatches: boolean; readonly marker: string; readonly body: string },
): Promise<CommentOutcome> {
  if (request.mode === 'off') return 'skipped';
  if (!request.body.startsWith(request.marker)) throw new Error('comment body must start with its marker');
  const existing = await comments.find(request.marker);
  if (existing) {
    if (existing.body === request.body) return 'unchanged';
    await comments.update(existing.id, request.body);
    return 'updated';
  }
  if (request.mode === 'on-match' && !request.hasMatches) return 'skipped';
  await comments.create(request.body);
  return 'created';
}

type GitHubClient = ReturnType<typeof getOctokit>;

/** IssueComments over the REST API of one issue (a PR is an issue for comments). */
export function createIssueComments(
  octokit: GitHubClient,
  target: { readonly owner: string; readonly repo: string; readonly issueNumber: number },
): IssueComments {
  const { owner, repo, issueNumber } = target;
  // Whose comments can be ours: the token's own account when GitHub tells (a personal token),
  // else any bot (GITHUB_TOKEN may not ask who it is; it comments as github-actions[bot]).
  // Anyone can paste our marker into a comment; a person's comment is never taken for ours.
  let author: Promise<string | null> | null = null;
  const whoAmI = () =>
    (author ??= octokit.rest.users.getAuthenticated().then(
      (res) => res.data.login,
      () => null,
    ));
  const isOurs = (user: { login?: string; type?: string } | null | undefined, login: string | null) =>
    login !== null ? user?.login === login : user?.type === 'Bot';
  return {
    async find(marker) {
      const login = await whoAmI();
      // The iterator follows the Link header page by page and stops at the first hit; busy PRs
      // have hundreds of comments and ours may be on any page.
      const pages = octokit.paginate.iterator(octokit.rest.issues.listComments, {
        owner,
        repo,
        issue_number: issueNumber,
        per_page: 100,
      });
      for await (const page of pages) {
        // Starts-with, not includes: a reply quoting our comment must not be taken for it.
        const hit = page.data.find((c) => isOurs(c.user, login) && (c.body ?? '').trimStart().startsWith(marker));
        if (hit) return { id: hit.id, body: hit.body ?? '' };
      }
      return null;
    },
    async create(body) {
      await octokit.rest.issues.createComment({ owner, repo, issue_number: issueNumber, body });
    },
    async update(id, body) {
      await octokit.rest.issues.updateComment({ owner, repo, comment_id: id, body });
    },
  };
}

/**
 * Why GitHub refused, in one line. Octokit's RequestError carries `status`; a 403 or 404 here
 * nearly always means a read-only token (pull requests from forks get one).
 */
export function describeCommentError(error: unknown): string {
  const status = typeof error === 'object' && error !== null && 'status' in error ? error.status : undefined;
  const message = ((error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '').replace(/\.$/, '');
  const hint =
    status === 403 || status === 404
      ? ' The token cannot write comments here (pull requests from forks get a read-only token); ' +
        'grant `pull-requests: write`, or set `comment: off`.'
      : '';
  return `${typeof status === 'number' ? `HTTP ${status}: ` : ''}${message}.${hint}`;
}
