// Reading the action's inputs. Each setting shared with the CLI falls back from its input to
// its BK_* environment variable (action.yml gives those inputs no `default:`, so an empty input
// really means "not given"), then to the built-in default applied by parseSettings. The
// action-only inputs (comment, pr-number, fail-on-match, github-token) are validated here.
//
// Inputs are read straight from the INPUT_* variables the runner sets (the protocol behind
// core.getInput: the name upper-cased, spaces as underscores, hyphens kept), so tests can hand
// in a plain environment object.

import { parseBoolean, SETTING_NAMES, UsageError, type RawSettings, type SettingKey } from '../settings.ts';
import { DEFAULT_TRACKER_LABEL } from './tracker-issue.ts';

export const COMMENT_MODES = ['off', 'on-match', 'always'] as const;

/** When to keep the PR comment: never, once there are matches, or on every run. */
export type CommentMode = (typeof COMMENT_MODES)[number];

export interface ActionInputs {
  /** The settings shared with the CLI, still as text; parseSettings validates them. */
  readonly raw: RawSettings;
  /** Token for the GitHub API, used only to comment on the PR. */
  readonly githubToken: string;
  /** When to create or update the PR comment. */
  readonly comment: CommentMode;
  /** PR to comment on when the event has none (`workflow_dispatch`, `schedule`). */
  readonly prNumber: number | null;
  /** Fail the step, after reporting, when anything matched. */
  readonly failOnMatch: boolean;
  /** Keep one tracker issue for (org, pipeline, step) in the workflow's repository. */
  readonly tracker: boolean;
  /** Title of a new tracker issue (`{org}`, `{pipeline}`, `{step}` filled in); null for the default. */
  readonly trackerTitle: string | null;
  /** The label that marks tracker issues. */
  readonly trackerLabel: string;
}

export type Environment = Readonly<Record<string, string | undefined>>;

/**
 * Reads every input. `setSecret` is called on each token the moment it is read, before any
 * validation can put a value in an error message.
 */
export function readInputs(env: Environment, setSecret: (secret: string) => void): ActionInputs {
  // Trimmed, as core.getInput trims: YAML block scalars end in a newline. So unlike the CLI's
  // --step, a step input cannot keep surrounding spaces.
  const input = (name: string): string => env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`]?.trim() ?? '';
  const setting = (key: SettingKey): string | undefined => {
    const names = SETTING_NAMES[key];
    const value = input(names.input);
    if (value !== '') return value;
    return names.env ? env[names.env]?.trim() || undefined : undefined;
  };

  const token = setting('token');
  if (token) setSecret(token);
  const githubToken = input('github-token');
  if (githubToken) setSecret(githubToken);

  const raw: RawSettings = {
    token,
    org: setting('org'),
    pipeline: setting('pipeline'),
    branchRegex: setting('branchRegex'),
    step: setting('step'),
    maxBuilds: setting('maxBuilds'),
    patternsFile: setting('patternsFile'),
    apiUrl: setting('apiUrl'),
    // One pattern per line; surrounding whitespace and blank lines are dropped. Unlike in the
    // patterns file, a line starting with `#` is a pattern: the input is YAML, with its own comments.
    patterns: input(SETTING_NAMES.patterns.input)
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line !== ''),
    regex: setting('regex'),
    concurrency: setting('concurrency'),
    jobStates: setting('jobStates'),
    cacheDir: setting('cacheDir'),
    cacheMaxMb: setting('cacheMaxMb'),
    strict: setting('strict'),
    // Set by the runner from the input or action.yml's default (`default`); an explicitly empty
    // input turns baseline evidence off, so here empty is not "not given".
    baselineBranch: env[`INPUT_${SETTING_NAMES.baselineBranch.input.toUpperCase()}`]?.trim(),
    minPrs: setting('minPrs'),
    resolveAfter: setting('resolveAfter'),
    discover: setting('discover'),
  };

  return {
    raw,
    githubToken,
    comment: parseCommentMode(input('comment')),
    prNumber: parsePrNumber(input('pr-number')),
    failOnMatch: parseBoolean('fail-on-match', input('fail-on-match')),
    tracker: parseBoolean('tracker', input('tracker')),
    trackerTitle: input('tracker-title') || null,
    trackerLabel: parseLabel(input('tracker-label')),
  };
}

function parseCommentMode(value: string): CommentMode {
  if (value === '') return 'on-match';
  const mode = COMMENT_MODES.find((m) => m === value.toLowerCase());
  if (!mode) throw new UsageError(`comment must be one of ${COMMENT_MODES.join(', ')}, got ${JSON.stringify(value)}`);
  return mode;
}

function parseLabel(value: string): string {
  if (value === '') return DEFAULT_TRACKER_LABEL;
  // GitHub's issue list filters on comma-separated labels: a comma would name two.
  if (value.includes(',') || value.length > 50) {
    throw new UsageError(
      `tracker-label must be one GitHub label (no commas, at most 50 characters), got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

function parsePrNumber(value: string): number | null {
  if (value === '') return null;
  const text = value.replace(/^#/, '');
  const n = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new UsageError(
      `pr-number must be a pull request number (a whole number from 1), got ${JSON.stringify(value)}`,
    );
  }
  return n;
}
