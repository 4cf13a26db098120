// The bundled action (dist/index.js) run the way a runner runs it: on Node 24, with INPUT_*
// variables, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, an event payload file, RUNNER_TEMP, against the
// Buildkite simulator and the local GitHub stand-in. Build first: npm run bundle && npm run node24.

import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MatchRecord } from '../../src/core/types.ts';
import { codeSpan } from '../../src/report/escape.ts';
import {
  expectedCounts,
  expectedMatches,
  SPEC_PATTERNS,
  startSimulator,
  type GroundTruthQuery,
  type Simulator,
} from '../../src/simulator/index.ts';
import { NODE24 } from '../support/cli.ts';
import { startGitHubStub, type GitHubStub } from '../support/github-stub.ts';
import { expectSameMatches } from '../support/matches.ts';
import { pullRequestEvent, runAction as runBundledAction, type ActionResult } from '../support/run-action.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const BUNDLE = join(ROOT, 'dist/index.js');
const OWNER = 'acme';
const REPO = 'widgets';
const WRITE_TOKEN = 'ghs_write_token_e2e';
const READ_TOKEN = 'ghs_read_only_token_e2e';
/** A PR whose builds match (set once the simulator runs): on-match mode comments on it. */
let PR = 0;

type RunResult = ActionResult;

interface RunOptions {
  readonly inputs?: Record<string, string>;
  readonly env?: Record<string, string>;
  readonly event?: { readonly name: string; readonly payload: Record<string, unknown> };
}

let sim: Simulator;
let github: GitHubStub;
let work: string;

beforeAll(async () => {
  if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run npm run bundle`);
  if (!existsSync(NODE24)) throw new Error(`${NODE24} is missing: run npm run node24`);
  sim = await startSimulator({ seed: 7, builds: 60, logLines: [20, 80] });
  github = await startGitHubStub({
    owner: OWNER,
    repo: REPO,
    tokens: { [WRITE_TOKEN]: 'write', [READ_TOKEN]: 'read' },
  });
  work = mkdtempSync(join(tmpdir(), 'flake-checker-e2e-'));
  PR = Number(expectedMatches(sim.dataset, query).find((m) => m.pull_request !== null)!.pull_request);
});

afterAll(async () => {
  await sim?.close();
  await github?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

const scheduleEvent = { name: 'schedule', payload: { schedule: '17 */6 * * *' } };

let runs = 0;
/** Runs dist/index.js on Node 24 as a runner would (the shared runner); never throws on a failed step. */
async function runAction(options: RunOptions): Promise<RunResult> {
  const dir = join(work, `run-${++runs}`);
  mkdirSync(dir, { recursive: true });
  return runBundledAction({
    dir,
    owner: OWNER,
    repo: REPO,
    githubUrl: github.url,
    githubToken: WRITE_TOKEN,
    event: options.event ?? pullRequestEvent(OWNER, REPO, PR),
    inputs: options.inputs,
    env: options.env,
  });
}

/** The token may appear only in the `::add-mask::` command that registers it. */
function expectNoSecret(result: RunResult, secret: string): void {
  const log = `${result.stdout}\n${result.stderr}`
    .split('\n')
    .filter((line) => line !== `::add-mask::${secret}`)
    .join('\n');
  expect(log).not.toContain(secret);
  expect(result.summary).not.toContain(secret);
  expect(JSON.stringify(result.outputs)).not.toContain(secret);
  expect(result.report).not.toContain(secret);
}

const query: GroundTruthQuery = {
  maxBuilds: 60,
  branchRegex: '.*',
  step: 'v1 test others',
  patterns: SPEC_PATTERNS,
  regex: true,
};
const baseInputs = () => ({
  'buildkite-token': sim.token,
  'api-url': sim.url,
  'max-builds': String(query.maxBuilds),
  'branch-regex': query.branchRegex,
  step: query.step,
  patterns: query.patterns.join('\n'),
  regex: 'true',
});

describe('the bundled action on Node 24', () => {
  it('runs on Node 24', async () => {
    const version = await new Promise<string>((done, fail) =>
      execFile(NODE24, ['--version'], (error, stdout) => (error ? fail(error) : done(stdout.trim()))),
    );
    expect(version).toMatch(/^v24\./);
  });

  it('reports exactly the ground truth in outputs, report file and summary, and comments once across two runs', async () => {
    const expected = expectedMatches(sim.dataset, query);
    const counts = expectedCounts(sim.dataset, query);
    expect(expected.length).toBeGreaterThan(0);

    const first = await runAction({ inputs: baseInputs() });
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    expectNoSecret(first, sim.token);
    expectNoSecret(first, WRITE_TOKEN);

    const matches = JSON.parse(first.outputs.matches!) as MatchRecord[];
    expectSameMatches(matches, expected);
    expect(first.outputs['match-count']).toBe(String(expected.length));
    expect(first.outputs['builds-scanned']).toBe(String(counts.builds_scanned));
    expect(Number(first.outputs['jobs-scanned'])).toBe(counts.jobs_selected - counts.logs_missing);

    const reportFile = first.outputs['report-file']!;
    expect(reportFile.startsWith(join(work, `run-${runs}`, 'runner-temp'))).toBe(true);
    const report = JSON.parse(first.report) as Record<string, unknown>;
    expect(report).toMatchObject({
      settings: { org: 'vllm', pipeline: 'ci', step: query.step, max_builds: 60, regex: true, api_url: sim.url },
      match_count: expected.length,
      failure_count: 0,
      stats: { builds_scanned: counts.builds_scanned, jobs_selected: counts.jobs_selected },
      matches,
      failures: [],
    });

    // Phases are grouped, with progress lines.
    expect(first.stdout).toContain('::group::Scan vllm/ci');
    expect(first.stdout).toMatch(/^Builds: \d+ listed/m);
    expect(first.stdout).toContain(`PR #${PR}: comment created`);

    // The summary: counts, one section per pattern, links to builds and jobs.
    expect(first.summary).toContain(`**${expected.length} matches**`);
    expect(first.summary).toContain(`Scanned the ${counts.builds_scanned} most recent builds`);
    for (const pattern of new Set(expected.map((e) => e.pattern)))
      expect(first.summary).toContain(`### ${codeSpan(pattern)}\n`);
    for (const m of expected.slice(0, 5)) {
      expect(first.summary).toContain(`[build ${m.build_number}](${m.web_url})`);
      expect(first.summary).toContain(`](${m.job_url})`);
    }

    expect(github.on(PR)).toHaveLength(1);
    const comment = github.on(PR)[0]!;
    expect(comment.body).toMatch(/^<!-- flake-checker:vllm\/ci\/[0-9a-f]{12} -->\n/);
    expect(comment.body).toContain(`**${expected.length} matches**`);
    expect(comment.body).toContain('https://github.example/acme/widgets/actions/runs/987654321');

    // A rerun of the same workflow run with the same matches leaves the comment as it is.
    const second = await runAction({ inputs: baseInputs() });
    expect(second.status).toBe(0);
    expect(second.stdout).toContain(`PR #${PR}: comment unchanged`);
    expect(github.on(PR)).toHaveLength(1);
    expect(github.on(PR)[0]!.id).toBe(comment.id);

    // Matches gone (a pattern that matches nothing): the comment says so, still one comment.
    const third = await runAction({ inputs: { ...baseInputs(), patterns: 'no such text anywhere', regex: 'false' } });
    expect(third.status).toBe(0);
    expect(github.on(PR)).toHaveLength(1);
    expect(github.on(PR)[0]!.body).toContain('**No matches**');
  });

  it('never comments on a schedule run without pr-number, but does with one', async () => {
    const before = github.requests.length;
    const scheduled = await runAction({ inputs: { ...baseInputs(), comment: 'always' }, event: scheduleEvent });
    expect(scheduled.status).toBe(0);
    expect(github.requests.length).toBe(before);
    expect(scheduled.summary).toContain('matches**');
    expect(scheduled.stdout).toContain('No pull request to comment on (event schedule, no pr-number)');

    const dispatched = await runAction({
      // PR 77 has no builds: `always` comments anyway (on-match would not: see flakes.test.ts).
      inputs: { ...baseInputs(), 'pr-number': '77', comment: 'always' },
      event: { name: 'workflow_dispatch', payload: { inputs: { 'pr-number': '77' }, ref: 'refs/heads/main' } },
    });
    expect(dispatched.status).toBe(0);
    expect(github.on(77)).toHaveLength(1);
  });

  it('turns a read-only token into a warning, with summary and outputs still written', async () => {
    const result = await runAction({
      inputs: { ...baseInputs(), 'github-token': READ_TOKEN, comment: 'always' },
      event: pullRequestEvent(OWNER, REPO, 501, 'pull_request_target'),
    });
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(
      /^::warning::Could not comment on PR #501: HTTP 403: Resource not accessible by integration/m,
    );
    expect(result.stdout).not.toContain('::error::');
    expect(github.on(501)).toHaveLength(0);
    expect(Number(result.outputs['match-count'])).toBeGreaterThan(0);
    expect(result.summary).toContain('matches**');
    expectNoSecret(result, READ_TOKEN);
  });

  it('fails on match after reporting when fail-on-match is true', async () => {
    const result = await runAction({ inputs: { ...baseInputs(), 'fail-on-match': 'true', comment: 'off' } });
    expect(result.status).toBe(1);
    const count = result.outputs['match-count'];
    expect(Number(count)).toBeGreaterThan(0);
    expect(result.stdout).toContain(`::error::${count} matches found and fail-on-match is true`);
    expect(result.summary).toContain(`**${count} matches**`);
    // The check did what it was asked: a verdict, not a failed run.
    expect(result.summary).not.toContain('flake-checker failed');
    expect(result.report).not.toBe('');
  });

  it('falls back to every BK_* variable when the inputs are empty', async () => {
    const other = await startSimulator({
      seed: 11,
      builds: 40,
      org: 'acme-org',
      pipeline: 'nightly',
      logLines: [20, 80],
    });
    try {
      const patternsFile = join(work, 'patterns.txt');
      writeFileSync(patternsFile, '# flakes\nget_num_new_matched_tokens 96\nCUDA out of memory\n');
      const q: GroundTruthQuery = {
        maxBuilds: 25,
        branchRegex: '^pull/',
        step: 'V1 TEST OTHERS',
        patterns: ['get_num_new_matched_tokens 96', 'CUDA out of memory'],
        regex: false,
      };
      const env = {
        BK_TOKEN: other.token,
        BK_ORG: 'acme-org',
        BK_PIPELINE: 'nightly',
        BK_BRANCH_REGEX: q.branchRegex,
        BK_STEP_SUBSTR: q.step,
        BK_MAX_BUILDS: String(q.maxBuilds),
        BK_PATTERNS_FILE: patternsFile,
        BK_API_URL: other.url,
      };
      // The runner sets an empty INPUT_ for nothing here; empty inputs must fall through too.
      const result = await runAction({
        inputs: { 'buildkite-token': '', org: '', comment: 'off' },
        env,
        event: scheduleEvent,
      });
      expect(result.status).toBe(0);
      expectNoSecret(result, other.token);
      const report = JSON.parse(result.report) as { settings: Record<string, unknown> };
      expect(report.settings).toMatchObject({
        org: 'acme-org',
        pipeline: 'nightly',
        branch_regex: q.branchRegex,
        step: q.step,
        max_builds: q.maxBuilds,
        patterns: q.patterns,
        regex: false,
        api_url: other.url,
      });
      const expected = expectedMatches(other.dataset, q);
      expect(expected.length).toBeGreaterThan(0);
      expectSameMatches(JSON.parse(result.outputs.matches!) as MatchRecord[], expected);
      expect(result.outputs['builds-scanned']).toBe('25');

      // An input wins over its variable.
      const overridden = await runAction({ inputs: { 'max-builds': '10', comment: 'off' }, env, event: scheduleEvent });
      expect(overridden.outputs['builds-scanned']).toBe('10');
    } finally {
      await other.close();
    }
  });

  it('fails an invalid input with a message naming it, before any request', async () => {
    sim.resetStats();
    const result = await runAction({ inputs: { ...baseInputs(), 'max-builds': 'abc' } });
    expect(result.status).not.toBe(0);
    expect(result.stdout).toContain(
      '::error::max-builds (BK_MAX_BUILDS) must be a whole number from 1 to 5000, got "abc"',
    );
    expect(sim.stats.requests).toBe(0);
    expect(result.outputs).toEqual({});

    const comment = await runAction({ inputs: { ...baseInputs(), comment: 'loud' } });
    expect(comment.status).not.toBe(0);
    expect(comment.stdout).toContain('::error::comment must be one of off, on-match, always, got "loud"');
    expectNoSecret(comment, sim.token);
  });

  it('keeps a rejected token out of every output', async () => {
    const bogus = 'bkua_this_token_is_not_valid_0123456789';
    const result = await runAction({ inputs: { ...baseInputs(), 'buildkite-token': bogus } });
    expect(result.status).not.toBe(0);
    expect(result.stdout).toContain(`::add-mask::${bogus}`);
    expect(result.stdout).toMatch(/^::error::.*401/m);
    // Named as the action's user knows it, not as the CLI's --token.
    expect(result.stdout).toContain('::error::Buildkite rejected the token (401): check buildkite-token (BK_TOKEN)');
    expect(result.summary).toMatch(
      /^### flake-checker failed\n\nBuildkite rejected the token \\\(401\\\)\\: check buildkite\\-token \\\(BK\\_TOKEN\\\)/,
    );
    expectNoSecret(result, bogus);
  });

  it('warns about logs it could not fetch, and fails with strict, after reporting', async () => {
    const flaky = await startSimulator({ seed: 3, builds: 12, logLines: [20, 40], faults: { cutRate: 1 } });
    try {
      const inputs = {
        ...baseInputs(),
        'buildkite-token': flaky.token,
        'api-url': flaky.url,
        'max-builds': '6',
        comment: 'off',
      };
      const q = { ...query, maxBuilds: 6 };
      const { jobs_selected: selected, logs_missing: missing } = expectedCounts(flaky.dataset, q);
      expect(selected - missing).toBeGreaterThan(0);

      const result = await runAction({ inputs: { ...inputs, strict: 'true' }, event: scheduleEvent });
      expect(result.status).toBe(1);
      expect(result.stdout).toMatch(new RegExp(`^::warning::${selected - missing} logs could not be fetched`, 'm'));
      expect(result.stdout).toContain(`::error::${selected - missing} logs could not be fetched and strict is true`);
      expect(result.summary).toContain('> [!WARNING]');
      const report = JSON.parse(result.report) as { failure_count: number };
      expect(report.failure_count).toBe(selected - missing);
    } finally {
      await flaky.close();
    }
  });
});
