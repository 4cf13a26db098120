// The bundled CLI against the Buildkite simulator over HTTP: exact match sets (compared with
// the simulator's independent ground truth), both output formats, exit codes and messages.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { MatchRecord } from '../../src/core/types.ts';
import { DEFAULT_PATTERNS } from '../../src/settings.ts';
import {
  expectedBaselineCounts,
  expectedCounts,
  expectedMatches,
  SIGNATURES,
  startSimulator,
  type GroundTruthQuery,
  type Simulator,
} from '../../src/simulator/index.ts';
import { runCli } from '../support/cli.ts';
import { expectSameMatches } from '../support/matches.ts';

let sim: Simulator;
let dir: string;
const env = () => ({ BK_TOKEN: sim.token, BK_API_URL: sim.url });

beforeAll(async () => {
  // Generous rate limits: this file runs many scans against one simulator within a minute.
  sim = await startSimulator({ seed: 7, builds: 260, rateLimit: { orgLimit: 100_000, userLimit: 100_000 } });
  dir = mkdtempSync(join(tmpdir(), 'flake-checker-cli-'));
});
afterAll(async () => {
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  sim.setFaults({ error5xxRate: 0, cutRate: 0, burst429: 0, slowRate: 0, jsonLogRate: 0 });
  sim.resetStats();
});

const specQuery: GroundTruthQuery = {
  maxBuilds: 200,
  branchRegex: '^pull/|^pr/',
  step: 'v1 Test others',
  patterns: DEFAULT_PATTERNS,
  regex: true,
};

describe('flake-checker CLI against the simulator', () => {
  it('with the spec defaults reports exactly the ground truth as JSON, in ceil(N/100) + logs + 1 requests', async () => {
    const res = await runCli(['--json', '--no-cache'], env());
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const matches = JSON.parse(res.stdout) as MatchRecord[];
    const expected = expectedMatches(sim.dataset, specQuery);
    expect(expected.length).toBeGreaterThan(3);
    expect(expected.some((m) => m.retried)).toBe(true);
    expectSameMatches(matches, expected);
    // One list request per 100 builds, one per log (the selected ones, and main's attempts that
    // did not pass, read as baseline evidence), one token check, one for the pipeline.
    const counts = expectedCounts(sim.dataset, specQuery);
    const baseline = expectedBaselineCounts(sim.dataset, { ...specQuery, baselineBranch: 'main' });
    expect(baseline.baseline_jobs_selected).toBeGreaterThan(0);
    expect(sim.stats.listRequests).toBe(2);
    expect(sim.stats.tokenRequests).toBe(1);
    expect(sim.stats.pipelineRequests).toBe(1);
    expect(sim.stats.logRequests).toBe(counts.jobs_selected + baseline.baseline_jobs_selected);
    expect(sim.stats.requests).toBe(1 + 1 + 2 + counts.jobs_selected + baseline.baseline_jobs_selected);
  });

  it('finds literal patterns on every branch, in retried attempts and ANSI-coloured lines, and nothing outside the window', async () => {
    const patterns = [SIGNATURES.cudaIllegalAccess, SIGNATURES.connectionReset, SIGNATURES.kvFailed];
    const query: GroundTruthQuery = { maxBuilds: 120, branchRegex: '.*', step: 'test', patterns, regex: false };
    const res = await runCli(
      [
        '--json',
        '--no-cache',
        '--max-builds',
        '120',
        '--branch-regex',
        '.*',
        '--step',
        'TEST',
        ...patterns.flatMap((p) => ['--pattern', p]),
      ],
      env(),
    );
    expect(res.code).toBe(0);
    const matches = JSON.parse(res.stdout) as MatchRecord[];
    const expected = expectedMatches(sim.dataset, query);
    expectSameMatches(matches, expected);
    expect(new Set(matches.map((m) => m.pattern)).size).toBeGreaterThan(1);
    expect(matches.some((m) => m.retried)).toBe(true);
    const oldest = sim.dataset.builds[119]!.number;
    expect(matches.every((m) => m.build_number >= oldest)).toBe(true);
    // Block jobs ("Run …") never appear: only script jobs have logs.
    expect(matches.every((m) => !m.step_label.startsWith('Run '))).toBe(true);
  });

  it('prints the spec human report with counts that match the ground truth', async () => {
    const res = await runCli(['--no-cache'], env());
    expect(res.code).toBe(0);
    const expected = expectedMatches(sim.dataset, specQuery);
    const counts = expectedCounts(sim.dataset, specQuery);
    // The flakes lead (flakes.test.ts checks them), then the match list.
    expect(res.stdout).toMatch(/^Flakes \(by spread: distinct PRs, then builds\):\n- /);
    expect(res.stdout).toMatch(new RegExp(`\\n\\nFound ${expected.length} matching failures:\\n\\n- #\\d+ \\[`));
    const first = expected[0]!;
    expect(res.stdout).toContain(
      `- #${first.build_number} [${first.branch}${first.pull_request ? ` · PR #${first.pull_request}` : ''}] ${first.step_label} — ${first.web_url}\n  Pattern: ${first.pattern}\n  Snippet: `,
    );
    const scanned = counts.jobs_selected - counts.logs_missing;
    expect(res.stdout).toContain(`\nScanned 200 builds, ${scanned} jobs, ${expected.length} matches found.\n`);
    expect(res.stdout).toContain(`${counts.builds_matched_branch} builds passed the branch filter`);
    expect(res.stdout).not.toMatch(/\x1b/);
  });

  it('gives the same output whatever the concurrency', async () => {
    const one = await runCli(['--json', '--no-cache', '--concurrency', '1', '--branch-regex', '.*'], env());
    const many = await runCli(['--json', '--no-cache', '--concurrency', '16', '--branch-regex', '.*'], env());
    expect(one.code).toBe(0);
    expect(many.stdout).toBe(one.stdout);
  });

  it('reads a patterns file and an --env-file in the spec .env shape', async () => {
    const patternsFile = join(dir, 'patterns.txt');
    writeFileSync(patternsFile, `# known flakes\n${SIGNATURES.cudaIllegalAccess}\n\n`);
    const envFile = join(dir, '.env');
    writeFileSync(
      envFile,
      `export BK_TOKEN=${sim.token}\nexport BK_ORG=vllm\nexport BK_PIPELINE=ci\nexport BK_BRANCH_REGEX='.*'\nexport BK_STEP_SUBSTR='v1 Test others'\nexport BK_MAX_BUILDS=150\nexport BK_PATTERNS_FILE=${patternsFile}\nexport BK_API_URL=${sim.url}\n`,
    );
    const res = await runCli(['--json', '--no-cache', '--env-file', envFile]);
    expect(res.code).toBe(0);
    const expected = expectedMatches(sim.dataset, {
      maxBuilds: 150,
      branchRegex: '.*',
      step: 'v1 Test others',
      patterns: [SIGNATURES.cudaIllegalAccess],
      regex: false,
    });
    expectSameMatches(JSON.parse(res.stdout) as MatchRecord[], expected);
  });

  it('scans on, with one warning, when the cache directory cannot be written', async () => {
    const blocked = join(dir, 'not-a-dir');
    writeFileSync(blocked, 'a file where the cache should be');
    const cached = await runCli(['--json', '--cache-dir', blocked], env());
    const plain = await runCli(['--json', '--no-cache'], env());
    expect(cached.code).toBe(0);
    expect(cached.stdout).toBe(plain.stdout);
    expect(cached.stderr).toMatch(
      /^flake-checker: warning: the log cache in .*not-a-dir could not be written, so logs were not cached: ENOTDIR/,
    );
    expect(cached.stderr.split('\n').filter(Boolean)).toHaveLength(1);
  });

  it('a warm cache rerun downloads no log and reports the same', async () => {
    const cacheDir = join(dir, 'cache');
    const cold = await runCli(['--json', '--cache-dir', cacheDir, '--branch-regex', '.*'], env());
    const coldLogs = sim.stats.logRequests;
    sim.resetStats();
    const warm = await runCli(['--json', '--cache-dir', cacheDir, '--branch-regex', '.*'], env());
    expect(cold.code).toBe(0);
    expect(coldLogs).toBeGreaterThan(10);
    expect(warm.stdout).toBe(cold.stdout);
    // Logs of jobs still running are never cached, and missing logs (404) are asked again.
    const again = sim.dataset.builds
      .slice(0, 200)
      .flatMap((b) => b.jobs)
      .filter((j) => j.type === 'script' && j.started_at && (j.name ?? '').toLowerCase().includes('v1 test others'))
      .filter((j) => !j.finished_at || !sim.dataset.logExists(j.id)).length;
    expect(again).toBeGreaterThan(0);
    expect(sim.stats.logRequests).toBe(again);
  });
});

describe('exit codes and messages', () => {
  it("--format markdown prints the job summary's report on stdout, for a Buildkite annotation", async () => {
    const res = await runCli(['--format', 'markdown', '--no-cache'], env());
    expect(res.code).toBe(0);
    expect(res.stderr).toBe('');
    const expected = expectedMatches(sim.dataset, specQuery);
    expect(res.stdout).toMatch(/^## Flake check: `vllm\/ci`, step `v1 Test others`\n/);
    expect(res.stdout).toContain(
      `**${expected.length} matches** in ${new Set(expected.map((m) => m.build_number)).size} builds · `,
    );
    expect(res.stdout).toContain('<details><summary>Settings</summary>');
    expect(Buffer.byteLength(res.stdout)).toBeLessThan(1024 * 1024);
    const both = await runCli(['--format', 'markdown', '--json'], env());
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(
      /^flake-checker: option '--json' cannot be used with option '--format <format>' \(see --help\)\n$/,
    );
    const bad = await runCli(['--format', 'html'], env());
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(
      /^flake-checker: option '--format <format>' argument 'html' is invalid\. Allowed choices are text, markdown\. \(see --help\)\n$/,
    );
  });

  it('exit 2 for usage errors, naming the input and value', async () => {
    expect(await runCli(['--max-builds', 'abc'], env())).toMatchObject({
      code: 2,
      stdout: '',
      stderr: 'flake-checker: --max-builds (BK_MAX_BUILDS) must be a whole number from 1 to 5000, got "abc"\n',
    });
    expect(await runCli([], {})).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--token (BK_TOKEN) is required'),
    });
    expect(await runCli(['--bogus'], env())).toMatchObject({
      code: 2,
      stderr: expect.stringContaining("unknown option '--bogus'"),
    });
    // Patterns and patterns files: __tests__/reliability/hostile.test.ts.
  });

  it('exit 1 with a one-line reason when the scan cannot complete', async () => {
    const bad = await runCli([], { ...env(), BK_TOKEN: 'bkua_wrong' });
    expect(bad).toMatchObject({ code: 1, stdout: '' });
    expect(bad.stderr).toBe('flake-checker: error: Buildkite rejected the token (401): check --token (BK_TOKEN)\n');

    const noLogs = await runCli([], { ...env(), BK_TOKEN: sim.tokens.noLogScope });
    expect(noLogs.code).toBe(1);
    expect(noLogs.stderr).toMatch(/^flake-checker: error: the Buildkite token lacks the read_build_logs scope/);
    expect(noLogs.stderr).not.toContain(sim.tokens.noLogScope);

    const org = await runCli(['--org', 'nope'], env());
    expect(org).toMatchObject({
      code: 1,
      stderr: 'flake-checker: error: Buildkite organization "nope" was not found, or the token cannot see it (404)\n',
    });
    const pipeline = await runCli(['--pipeline', 'nope'], env());
    expect(pipeline).toMatchObject({
      code: 1,
      stderr: 'flake-checker: error: Buildkite pipeline "vllm/nope" was not found, or the token cannot see it (404)\n',
    });

    const refused = await runCli([], { ...env(), BK_API_URL: 'http://127.0.0.1:9' });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /^flake-checker: error: GET http:\/\/127\.0\.0\.1:9\/v2\/access-token failed: ECONNREFUSED 127\.0\.0\.1:9\n$/,
    );
  });

  it('warns about a pattern with nested quantifiers, and still scans', async () => {
    const res = await runCli(
      ['--json', '--no-cache', '--regex', '--pattern', '(get_num_new\\w+)+ 96', '--max-builds', '20'],
      env(),
    );
    expect(res.code).toBe(0);
    expect(res.stderr).toMatch(
      /^flake-checker: warning: pattern "\(get_num_new\\\\w\+\)\+ 96" repeats a group that itself repeats/,
    );
    expect(JSON.parse(res.stdout)).toBeInstanceOf(Array);
  });

  it('--help documents every option and exits 0', async () => {
    const res = await runCli(['--help']);
    expect(res.code).toBe(0);
    for (const flag of [
      '--token',
      '--org',
      '--pipeline',
      '--branch-regex',
      '--step',
      '--max-builds',
      '--pattern',
      '--patterns-file',
      '--regex',
      '--json',
      '--api-url',
      '--env-file',
      '--concurrency',
      '--job-states',
      '--cache-dir',
      '--no-cache',
      '--cache-max-mb',
      '--strict',
    ]) {
      expect(res.stdout).toContain(flag);
    }
  });
});
