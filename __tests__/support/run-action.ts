// Runs the bundled action (dist/index.js) the way a runner runs it: on Node 24, with INPUT_*
// variables (action.yml's defaults filled in, as a runner does), GITHUB_OUTPUT,
// GITHUB_STEP_SUMMARY, an event payload file and RUNNER_TEMP, in a clean environment.

import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readActionMetadata } from '../action/action-yml.ts';
import { NODE24 } from './cli.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const BUNDLE = join(ROOT, 'dist/index.js');

/** Throws, saying what to run, unless the bundle and the Node 24 runtime are there. */
export function requireBuiltAction(): void {
  if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run npm run bundle`);
  if (!existsSync(NODE24)) throw new Error(`${NODE24} is missing: run npm run node24`);
}

export interface ActionEvent {
  readonly name: string;
  readonly payload: Record<string, unknown>;
}

export interface ActionRun {
  /** A fresh directory for this run's files (HOME, workspace, RUNNER_TEMP below it). */
  readonly dir: string;
  /** The repository the workflow runs in. */
  readonly owner: string;
  readonly repo: string;
  /** Where the GitHub API stand-in listens (GITHUB_API_URL). */
  readonly githubUrl: string;
  /** What `${{ github.token }}` stands for: the default of `github-token`. */
  readonly githubToken: string;
  readonly event: ActionEvent;
  readonly inputs?: Record<string, string>;
  readonly env?: Record<string, string>;
}

export interface ActionResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly outputs: Record<string, string>;
  readonly summary: string;
  /** The report file's text ('' when there is none). */
  readonly report: string;
}

/** The inputs a runner sets from action.yml's defaults when a workflow leaves them out. */
function actionDefaults(githubToken: string): Record<string, string> {
  return Object.fromEntries(
    [...readActionMetadata(join(ROOT, 'action.yml')).inputs].flatMap(([name, input]) =>
      input.default === null ? [] : [[name, input.default === '${{ github.token }}' ? githubToken : input.default]],
    ),
  );
}

/** A pull_request event payload, trimmed to the fields an action reads but real in shape. */
export function pullRequestEvent(owner: string, repo: string, number: number, name = 'pull_request'): ActionEvent {
  const account = { login: owner, type: 'Organization' };
  const repository = { id: 1, name: repo, full_name: `${owner}/${repo}`, owner: account };
  return {
    name,
    payload: {
      action: 'synchronize',
      number,
      pull_request: {
        number,
        state: 'open',
        title: 'Fix the flaky engine test',
        user: { login: 'contributor' },
        head: { ref: 'fix-engine', sha: 'a'.repeat(40), repo: { ...repository, full_name: `contributor/${repo}` } },
        base: { ref: 'main', sha: 'b'.repeat(40), repo: repository },
      },
      repository,
      sender: { login: 'contributor' },
    },
  };
}

/** Runs dist/index.js on Node 24 as a runner would; never throws on a failed step. */
export async function runAction(run: ActionRun): Promise<ActionResult> {
  const temp = join(run.dir, 'runner-temp');
  const files = {
    output: join(run.dir, 'output'),
    summary: join(run.dir, 'summary.md'),
    event: join(run.dir, 'event.json'),
  };
  mkdirSync(temp, { recursive: true });
  writeFileSync(files.output, '');
  writeFileSync(files.summary, '');
  writeFileSync(files.event, JSON.stringify(run.event.payload));
  const inputs = { ...actionDefaults(run.githubToken), ...run.inputs };
  const env: Record<string, string> = {
    // A clean environment: nothing from the developer's shell (BK_TOKEN, proxies) leaks in.
    PATH: process.env.PATH ?? '',
    HOME: run.dir,
    GITHUB_ACTIONS: 'true',
    CI: 'true',
    GITHUB_OUTPUT: files.output,
    GITHUB_STEP_SUMMARY: files.summary,
    GITHUB_EVENT_PATH: files.event,
    GITHUB_EVENT_NAME: run.event.name,
    GITHUB_REPOSITORY: `${run.owner}/${run.repo}`,
    GITHUB_API_URL: run.githubUrl,
    GITHUB_SERVER_URL: 'https://github.example',
    GITHUB_RUN_ID: '987654321',
    GITHUB_WORKSPACE: run.dir,
    RUNNER_TEMP: temp,
    // Short retry backoff (see retryOverridesFromEnv).
    FLAKE_CHECKER_RETRY_BASE_MS: '2',
    ...Object.fromEntries(Object.entries(inputs).map(([name, value]) => [`INPUT_${name.toUpperCase()}`, value])),
    ...run.env,
  };
  const { status, stdout, stderr } = await new Promise<{ status: number | null; stdout: string; stderr: string }>(
    (done) => {
      const options = { cwd: run.dir, env, timeout: 45_000, maxBuffer: 64 * 1024 * 1024 };
      execFile(NODE24, [BUNDLE], options, (error, out, err) => {
        const code = error && typeof error.code === 'number' ? error.code : error ? null : 0;
        done({ status: code, stdout: out, stderr: err });
      });
    },
  );
  const outputs = parseOutputFile(readFileSync(files.output, 'utf8'));
  const reportPath = outputs['report-file'];
  return {
    status,
    stdout,
    stderr,
    outputs,
    summary: readFileSync(files.summary, 'utf8'),
    report: reportPath && existsSync(reportPath) ? readFileSync(reportPath, 'utf8') : '',
  };
}

/** Reads GITHUB_OUTPUT's `name<<delimiter` blocks (the format @actions/core writes). */
export function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  for (const m of text.matchAll(/^([^\n<]+)<<(\S+)\n([\s\S]*?)\n\2$/gm)) outputs[m[1]!] = m[3]!;
  return outputs;
}
