// Discover mode through the bundled CLI against the simulator: the planted pytest failure is
// found as its own signature in exactly the jobs that print it, every record says what it is,
// and the emitted patterns, fed back with --regex --patterns-file, match the same jobs.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DiscoveredRecord } from '../../src/core/discovered.ts';
import type { MatchRecord } from '../../src/core/types.ts';
import type { FullReport } from '../../src/report/render-json.ts';
import { expectedMatches, SIGNATURES, startSimulator, type Simulator } from '../../src/simulator/index.ts';
import { runCli } from '../support/cli.ts';

let sim: Simulator;
let dir: string;
const env = () => ({ BK_TOKEN: sim.token, BK_API_URL: sim.url });
const scope = ['--no-cache', '--branch-regex', '.*', '--max-builds', '120'];

beforeAll(async () => {
  sim = await startSimulator({ seed: 7, builds: 150, rateLimit: { orgLimit: 100_000, userLimit: 100_000 } });
  dir = mkdtempSync(join(tmpdir(), 'flake-checker-discover-'));
});
afterAll(async () => {
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});

const jobsOf = (records: readonly MatchRecord[], pattern: string) =>
  [...new Set(records.filter((r) => r.pattern === pattern).map((r) => r.job_id))].sort();

describe('--discover', () => {
  it('finds the planted failure in exactly the jobs that print it, and round-trips its pattern', async () => {
    const report = join(dir, 'report.json');
    const emitted = join(dir, 'patterns.txt');
    const res = await runCli(
      [...scope, '--discover', '--json', '--report-file', report, '--emit-patterns', emitted],
      env(),
    );
    expect(res.code).toBe(0);
    expect(res.stderr).toMatch(
      /^flake-checker: wrote \d+ patterns to .*patterns\.txt \(use them with --regex --patterns-file\)\n$/,
    );
    const records = JSON.parse(res.stdout) as DiscoveredRecord[];
    // No --pattern: discovery only, every record a discovered one.
    expect(records.length).toBeGreaterThan(0);
    for (const r of records)
      expect(r).toMatchObject({
        signature: expect.any(String),
        kind: expect.stringMatching(/^(pytest-failed|pytest-error|exception|infra)$/),
      });

    const kv = records.filter((r) => r.test_id?.endsWith('::test_multi_shared_storage_connector_consistency'));
    expect(kv.length).toBeGreaterThan(0);
    expect(new Set(kv.map((r) => r.signature)).size).toBe(1);
    expect(kv[0]).toMatchObject({ kind: 'pytest-failed', exception: 'AssertionError' });
    // The oracle: the jobs whose clean lines carry the planted summary line.
    const planted = expectedMatches(sim.dataset, {
      maxBuilds: 120,
      branchRegex: '.*',
      step: 'v1 Test others',
      patterns: [SIGNATURES.kvFailed],
      regex: false,
    });
    expect(planted.length).toBeGreaterThan(0);
    expect(jobsOf(kv, kv[0]!.pattern)).toEqual(planted.map((m) => m.job_id).sort());

    const full = JSON.parse(readFileSync(report, 'utf8')) as FullReport;
    expect(full.discovered).toHaveLength(records.length);
    const cluster = full.clusters.find((c) => c.signature === kv[0]!.signature)!;
    expect(cluster).toMatchObject({
      kind: 'pytest-failed',
      pattern: kv[0]!.pattern,
      builds: new Set(kv.map((r) => r.build_number)).size,
    });
    expect(full.flakes).toEqual([]);

    // Fed back as patterns, the regexes match the jobs discovery found them in.
    const text = readFileSync(emitted, 'utf8');
    expect(text).toMatch(
      /^# pytest-failed .*test_multi_shared_storage_connector_consistency AssertionError — \d+ PRs?, \d+ builds?\n\^/m,
    );
    const again = await runCli([...scope, '--json', '--regex', '--patterns-file', emitted], env());
    expect(again.code).toBe(0);
    const matched = JSON.parse(again.stdout) as MatchRecord[];
    for (const c of full.clusters.filter((c) => c.kind.startsWith('pytest'))) {
      expect(jobsOf(matched, c.pattern), c.signature).toEqual(jobsOf(records, c.pattern));
    }
  });

  it('reports both kinds with --pattern, and shows clusters, not occurrences, in the text report', async () => {
    const res = await runCli([...scope, '--discover', '--pattern', SIGNATURES.kvTokens], env());
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^Flakes \(by spread: distinct PRs, then builds\):\n- /);
    expect(res.stdout).toMatch(/\nDiscovered failure signatures \(\d+ records, by spread\):\n- \w/);
    expect(res.stdout).toMatch(
      /\n {2}e\.g\. #\d+ .+, line \d+: FAILED .*test_multi_shared_storage_connector_consistency/,
    );
    expect(await runCli(['--emit-patterns', join(dir, 'x')], env())).toMatchObject({
      code: 2,
      stderr: 'flake-checker: --emit-patterns needs --discover: it writes the signatures discovery finds\n',
    });
  });
});
