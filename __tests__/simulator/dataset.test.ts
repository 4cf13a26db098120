// The generated dataset: deterministic, realistic log bytes whose clean lines a simple reference
// cleaner recovers, and a ground truth that covers the cases the scanner's filters must handle.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  expectedCounts,
  expectedMatches,
  SIGNATURES,
  startSimulator,
  type Simulator,
} from '../../src/simulator/index.ts';
import { DEFAULT_QUERY } from '../support/default-query.ts';

/** The cleaner docs/buildkite-api.md describes, applied to a whole log at once. */
function referenceClean(bytes: Buffer): string[] {
  const text = new TextDecoder('utf-8')
    .decode(bytes)
    .replace(/\x1b_bk;[^\x07\x1b]*(\x07|\x1b\\)/g, '')
    .replace(/\x1b\[[0-?]*[ -/]*[@-~]/g, '')
    // OSC: a Buildkite link without content shows its URL; anything else shows nothing.
    .replace(/\x1b\]([^\x07\x1b]*)(?:\x07|\x1b\\)/g, (_, body: string) =>
      body.startsWith('1339;url=') ? body.slice(9) : '',
    )
    .replace(/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]/g, '');
  if (text === '') return [];
  const lines = text.split(/\r\n|\n|\r/);
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({ seed: 3 });
});
afterAll(() => sim.close());

const logJobs = (s: Simulator): string[] =>
  s.dataset.builds
    .flatMap((b) => b.jobs)
    .filter((j) => s.dataset.logExists(j.id))
    .map((j) => j.id);
const bytesOf = (s: Simulator, id: string): Buffer => Buffer.concat([...s.dataset.logChunks(id)]);

describe('determinism', () => {
  it('generates the same dataset and bytes from the same seed, another from another seed', async () => {
    const twin = await startSimulator({ seed: 3 });
    const other = await startSimulator({ seed: 4 });
    try {
      const json = (s: Simulator): string => JSON.stringify(s.dataset.builds).split(s.url).join('ORIGIN');
      expect(json(twin)).toBe(json(sim));
      expect(json(other)).not.toBe(json(sim));
      for (const id of logJobs(sim).filter((_, i) => i % 50 === 0))
        expect(bytesOf(twin, id).equals(bytesOf(sim, id))).toBe(true);
    } finally {
      await twin.close();
      await other.close();
    }
  });

  it('serves byte ranges consistent with the whole log', () => {
    const id = logJobs(sim).find((j) => sim.dataset.logSize(j) > 30_000) as string;
    const whole = bytesOf(sim, id);
    const part = Buffer.concat([...sim.dataset.logChunks(id, 1234, 70_000)]);
    expect(part.equals(whole.subarray(1234, 70_000))).toBe(true);
  });
});

describe('log text', () => {
  it('yields, from cleanLines, what a reference cleaner makes of the served bytes', async () => {
    const small = await startSimulator({ seed: 5, builds: 50 });
    try {
      let odd = 0;
      for (const id of logJobs(small)) {
        const bytes = bytesOf(small, id);
        if (bytes.includes(Buffer.from([0xff, 0xfe]))) odd++;
        expect([...small.dataset.cleanLines(id)]).toEqual(referenceClean(bytes));
      }
      expect(odd).toBeGreaterThan(0);
    } finally {
      await small.close();
    }
  });

  it('holds the agent quirks: APC markers both ways, SGR, OSC, bare-CR progress bars, group headers', () => {
    const all = Buffer.concat(
      logJobs(sim)
        .slice(0, 60)
        .map((id) => bytesOf(sim, id)),
    ).toString('latin1');
    expect(all).toMatch(/^\x1b_bk;t=\d{13}\x07/);
    expect(all).toContain('\x1b\\');
    expect(all).toMatch(/\x1b_bk;dt=\d+\x07/);
    expect(all).toMatch(/\x1b\[31m/);
    expect(all).toMatch(/\x1b\]1339;url=/);
    expect(all).toContain('  5%\r 50%\r100%\r\n');
    for (const header of ['\x07--- ', '\x07~~~ ', '\x07+++ ', '\x07^^^ +++']) expect(all).toContain(header);
  });

  it('disguises some planted signatures so that only cleaned lines reveal them', () => {
    let disguised = 0;
    let planted = 0;
    for (const id of logJobs(sim)) {
      if (!sim.dataset.flakes(id).includes('kvConnector')) continue;
      planted++;
      const raw = bytesOf(sim, id).toString();
      const clean = [...sim.dataset.cleanLines(id)];
      expect(clean.some((l) => l.includes(SIGNATURES.kvFailed))).toBe(true);
      if (!raw.includes(SIGNATURES.kvFailed) || !raw.includes(SIGNATURES.kvIndexDiff)) disguised++;
    }
    expect(planted).toBeGreaterThan(3);
    expect(disguised).toBeGreaterThan(0);
  });

  it('generates big logs whose clean lines match the reference cleaner', async () => {
    const big = await startSimulator({ builds: 5, bigLogs: { count: 1, bytes: 3_000_000 } });
    try {
      const id = logJobs(big).find((j) => big.dataset.logSize(j) > 2_000_000) as string;
      const bytes = bytesOf(big, id);
      expect(bytes.length).toBe(big.dataset.logSize(id));
      expect(bytes.length).toBeGreaterThan(2_900_000);
      expect([...big.dataset.cleanLines(id)]).toEqual(referenceClean(bytes));
    } finally {
      await big.close();
    }
  });

  it('generates a single-line big log: one long line holding the signature, cleaned as the reference does', async () => {
    const big = await startSimulator({ builds: 5, bigLogs: { count: 1, bytes: 2_000_000, singleLine: true } });
    try {
      const id = logJobs(big).find((j) => big.dataset.logSize(j) > 1_500_000) as string;
      const bytes = bytesOf(big, id);
      expect(bytes.length).toBe(big.dataset.logSize(id));
      const lines = [...big.dataset.cleanLines(id)];
      expect(lines).toEqual(referenceClean(bytes));
      const long = lines.filter((l) => l.length > 1_000_000);
      expect(long).toHaveLength(1);
      expect(long[0]).toContain(SIGNATURES.connectionReset);
    } finally {
      await big.close();
    }
  });

  it('keeps hostile data consistent for the oracle: the same seed gives the same mutations', async () => {
    const a = await startSimulator({ builds: 40, hostile: true });
    const b = await startSimulator({ builds: 40, hostile: true });
    try {
      const shape = (s: typeof a) => JSON.stringify(s.dataset.builds).replaceAll(s.url, '');
      expect(shape(a)).toBe(shape(b));
      const states = new Set(a.dataset.builds.map((x) => x.state));
      expect(states.has('frobnicated')).toBe(true);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});

describe('ground truth', () => {
  const query = DEFAULT_QUERY;

  it('finds the kv-connector flake in PR builds through pull/<id>/head', () => {
    const matches = expectedMatches(sim.dataset, query);
    expect(matches.length).toBeGreaterThan(0);
    expect(matches.every((m) => m.pull_request !== null || /^pull\/|^pr\//.test(m.branch))).toBe(true);
    expect(matches.some((m) => m.branch.includes(':'))).toBe(true);
    for (const m of matches) {
      expect(m.line_text).toMatch(new RegExp(m.pattern));
      expect([...sim.dataset.cleanLines(m.job_id)][m.line - 1]).toBe(m.line_text);
      expect(m.step_label.toLowerCase()).toContain('v1 test others');
    }
    const numbers = matches.map((m) => m.build_number);
    expect([...numbers].sort((a, b) => b - a)).toEqual(numbers);
  });

  it('has planted signatures that each filter must exclude', () => {
    const all = expectedMatches(sim.dataset, { ...query, maxBuilds: 300, branchRegex: '.*' });
    const newest200 = new Set(sim.dataset.builds.slice(0, 200).map((b) => b.number));
    expect(all.some((m) => !newest200.has(m.build_number))).toBe(true);
    expect(all.some((m) => m.pull_request === null)).toBe(true);
    expect(all.some((m) => m.retried)).toBe(true);
    expect(all.length).toBeGreaterThan(expectedMatches(sim.dataset, query).length);
    // Planted in another step, which the step filter must leave out.
    const otherStep = sim.dataset.builds
      .flatMap((b) => b.jobs)
      .filter((j) => !/v1 test others/i.test(j.name ?? '') && sim.dataset.flakes(j.id).includes('kvConnector'));
    expect(otherStep.length).toBeGreaterThan(0);
  });

  it('counts builds, selected jobs and missing logs', () => {
    const counts = expectedCounts(sim.dataset, query);
    expect(counts.builds_scanned).toBe(200);
    expect(counts.builds_matched_branch).toBeGreaterThan(50);
    expect(counts.builds_matched_branch).toBeLessThan(200);
    expect(counts.jobs_selected).toBeGreaterThan(counts.logs_missing);
    const failedOnly = expectedCounts(sim.dataset, { ...query, jobStates: ['failed'] });
    expect(failedOnly.jobs_selected).toBeLessThan(counts.jobs_selected);
  });

  it('matches literal patterns by substring', () => {
    const literal = expectedMatches(sim.dataset, { ...query, patterns: [SIGNATURES.kvTokens], regex: false });
    const regex = expectedMatches(sim.dataset, { ...query, patterns: [SIGNATURES.kvTokens], regex: true });
    expect(literal.map((m) => [m.job_id, m.line, m.count])).toEqual(regex.map((m) => [m.job_id, m.line, m.count]));
    expect(literal.some((m) => m.count > 1)).toBe(true);
    // With regex metacharacters the two differ: `[Errno 104]` is a class to a regex.
    const reset = { ...query, patterns: [SIGNATURES.connectionReset] };
    expect(expectedMatches(sim.dataset, { ...reset, regex: false }).length).toBeGreaterThan(0);
    expect(expectedMatches(sim.dataset, { ...reset, regex: true })).toEqual([]);
  });
});
