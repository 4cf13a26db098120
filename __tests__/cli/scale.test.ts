// vllm/ci's scale through the bundled CLI: 200 vLLM-sized builds (about 266 jobs in a full build,
// 2.3-2.8 KB of JSON a job, list pages of about 50 MB) scanned in bounded memory with exactly the
// oracle's matches; a list page that times out is asked again smaller and the scan completes.
// The step selects few, small logs, so the list pages are most of what is read.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JsonArrayReader } from '../../src/buildkite/json-array.ts';
import type { MatchRecord } from '../../src/core/types.ts';
import { scan } from '../../src/pipeline/scan.ts';
import { NO_RAW_SETTINGS, parseSettings } from '../../src/settings.ts';
import { expectedMatches, startSimulator, type Simulator } from '../../src/simulator/index.ts';
import { runCli } from '../support/cli.ts';
import { DEFAULT_QUERY } from '../support/default-query.ts';
import { expectSameMatches } from '../support/matches.ts';

const RSS_HOOK = fileURLToPath(new URL('../../scripts/rss-hook.mjs', import.meta.url));
/** The bound a scan must stay under (docs/benchmarks.md, "Targets"). */
const RSS_BOUND = 160e6;
const QUERY = DEFAULT_QUERY;

let sim: Simulator;
let dir: string;

beforeAll(async () => {
  sim = await startSimulator({
    seed: 1,
    builds: 220,
    shape: 'vllm',
    rateLimit: { orgLimit: 100_000, userLimit: 100_000 },
  });
  dir = mkdtempSync(join(tmpdir(), 'flake-checker-scale-'));
});
afterAll(async () => {
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Scans the simulator with the bundled CLI (--json); the matches and the peak RSS in bytes. */
async function scanWithCli(): Promise<{ matches: MatchRecord[]; peak: number }> {
  const file = join(dir, `rss-${Math.random().toString(36).slice(2)}`);
  const res = await runCli(['--json', '--no-cache', '--max-builds', String(QUERY.maxBuilds)], {
    BK_TOKEN: sim.token,
    BK_API_URL: sim.url,
    NODE_OPTIONS: `--import=${RSS_HOOK}`,
    FLAKE_CHECKER_RSS_FILE: file,
  });
  expect(res.stderr).toBe('');
  expect(res.code).toBe(0);
  const [kib, method] = readFileSync(file, 'utf8').split(' ');
  expect(method).toBe('VmHWM');
  return { matches: JSON.parse(res.stdout) as MatchRecord[], peak: Number(kib) * 1024 };
}

describe('200 vLLM-sized builds', () => {
  it("are scanned with exactly the oracle's matches in under 160 MB", async () => {
    sim.resetStats();
    const { matches, peak } = await scanWithCli();
    expectSameMatches(matches, expectedMatches(sim.dataset, QUERY));
    expect(matches.length).toBeGreaterThan(10);
    // Two list pages of 100 builds, most of the bytes; then the logs.
    expect(sim.stats.listRequests).toBe(2);
    expect(sim.stats.bytesSent).toBeGreaterThan(80e6);
    expect(peak).toBeLessThan(RSS_BOUND);
  });

  it('are listed in smaller pages when a page times out at the gateway, still in under 160 MB', async () => {
    sim.resetStats();
    // 504: the page took longer than the gateway waits. 100 a page, then 50, then 25.
    sim.failNext('list', 2, 504);
    const { matches, peak } = await scanWithCli();
    expectSameMatches(matches, expectedMatches(sim.dataset, QUERY));
    expect(sim.stats.scripted).toBe(2);
    expect(sim.stats.listRequests).toBe(8);
    expect(peak).toBeLessThan(RSS_BOUND);
  });

  it('are listed in smaller pages when a page never answers and the client times out', async () => {
    // The CLI has no setting for its API timeout (30 s), so this one scans in process.
    sim.resetStats();
    sim.failNext('list', 2, 'hang');
    const settings = parseSettings(
      { ...NO_RAW_SETTINGS, token: sim.token, apiUrl: sim.url, maxBuilds: String(QUERY.maxBuilds) },
      () => Buffer.alloc(0),
    );
    const report = await scan(settings, {
      http: { retry: { retries: 4, rateLimitRetries: 4, baseDelayMs: 2, maxDelayMs: 8 }, apiTimeoutMs: 300 },
    });
    expect(report.stats.builds_scanned).toBe(QUERY.maxBuilds);
    expectSameMatches(report.matches, expectedMatches(sim.dataset, QUERY));
    expect(sim.stats.scripted).toBe(2);
    expect(sim.stats.listRequests).toBe(8);
  });
});

/** What a list page's strings may hold: quotes, backslashes, brackets, non-ASCII and the member's own name. */
const TRICKY = ['"jobs":[', 'a\\"b\\', '\\\\', ']}{[', 'é中🙂\n\t', '\\u0041', ',', '', 'jobs'];

/**
 * The text of a random list page: builds with `jobs` arrays of job-like objects, arrays or
 * scalars, `jobs` named inside nested objects too, null or missing jobs, and random spacing.
 */
function randomPage(rand: () => number): string {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)] as T;
  const gap = () => pick(['', '', ' ', '\n  ', '\t']);
  const text = () => JSON.stringify(pick(TRICKY));
  const scalar = () => pick([text(), String(Math.floor(rand() * 2000) - 1000), '1.5e3', 'true', 'false', 'null']);
  const job = (): string => {
    if (rand() < 0.15) return rand() < 0.5 ? scalar() : `[${scalar()},${gap()}{"jobs":[${scalar()}]}]`;
    const fields = [`"id":${gap()}"${Math.floor(rand() * 1e9)}"`, `"name":${text()}`, `"state":${scalar()}`];
    if (rand() < 0.3) fields.push(`"agent":{"meta_data":[${text()},${gap()}${text()}],"jobs":${text()}}`);
    return `{${gap()}${fields.join(`,${gap()}`)}${gap()}}`;
  };
  const jobs = () => `[${gap()}${Array.from({ length: Math.floor(rand() * 5) }, job).join(`,${gap()}`)}${gap()}]`;
  const build = (): string => {
    if (rand() < 0.15) return scalar();
    const fields = [`"number":${Math.floor(rand() * 30000)}`, `"message":${text()}`];
    if (rand() < 0.3) fields.push(`"pipeline":{"slug":"ci","jobs":${jobs()}}`);
    const member = rand();
    if (member < 0.75) fields.push(`"jobs"${gap()}:${gap()}${jobs()}`);
    else if (member < 0.85) fields.push('"jobs":null');
    if (rand() < 0.3) fields.push(`"state":${scalar()}`);
    return `{${gap()}${fields.join(`,${gap()}`)}${gap()}}`;
  };
  return `${gap()}[${gap()}${Array.from({ length: Math.floor(rand() * 6) }, build).join(`,${gap()}`)}${gap()}]${gap()}`;
}

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

describe('a list page read job by job', () => {
  const wrap = (value: unknown) => ({ wrapped: value });
  const read = (text: string, size: number): unknown[] => {
    const out: unknown[] = [];
    const reader = new JsonArrayReader((value) => out.push(value), { field: 'jobs', map: wrap });
    const bytes = Buffer.from(text);
    for (let i = 0; i < bytes.length; i += size) reader.push(bytes.subarray(i, i + size));
    expect(reader.end()).toBe(out.length);
    return out;
  };

  it("yields what JSON.parse yields, with each element of every build's `jobs` mapped, for any chunking", () => {
    for (let seed = 1; seed <= 500; seed++) {
      const text = randomPage(seeded(seed));
      const expected = (JSON.parse(text) as unknown[]).map((element) => {
        const fields = element as Record<string, unknown>;
        if (typeof element !== 'object' || element === null || !Array.isArray(fields.jobs)) return element;
        return { ...fields, jobs: (fields.jobs as unknown[]).map(wrap) };
      });
      for (const size of [1, 5, 64, 1 << 20]) {
        expect(JSON.stringify(read(text, size)), `seed ${seed}: ${text}`).toBe(JSON.stringify(expected));
      }
    }
  });

  it('keeps the last of a member named twice, as JSON.parse does, and splits only the top level', () => {
    expect(read('[{"jobs":[1],"jobs":null},{"jobs":null,"jobs":[2]}]', 3)).toEqual([
      { jobs: null },
      { jobs: [{ wrapped: 2 }] },
    ]);
    expect(read('[{"x":{"jobs":[1]}, "jobs" : [ 3 , {"a":[]} ] }]', 5)).toEqual([
      { x: { jobs: [1] }, jobs: [{ wrapped: 3 }, { wrapped: { a: [] } }] },
    ]);
    expect(() => read('[{"jobs":[1]', 4)).toThrow(/not closed/);
  });
});
