// The young generation stays small (src/heap.ts) in the bundled CLI on Node 20 and on the
// action's Node 24, unless the user sizes it through node's options. A scan that reads tens of
// MB over several concurrent streams makes V8 grow an unbounded young generation, so the test
// can tell.

import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keepYoungGenerationSmall } from '../../src/heap.ts';
import { startSimulator, type Simulator } from '../../src/simulator/index.ts';
import { NODE24, runCli } from '../support/cli.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const HOOK = join(ROOT, '__tests__/fixtures/heap-hook.mjs');
const MiB = 1024 * 1024;

let sim: Simulator;
let dir: string;

beforeAll(async () => {
  sim = await startSimulator({ seed: 3, builds: 30, bigLogs: { count: 8, bytes: 16 * MiB } });
  dir = mkdtempSync(join(tmpdir(), 'flake-checker-heap-'));
});
afterAll(async () => {
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Scans the simulator with the bundled CLI; returns the young generation's final size in bytes. */
async function youngGeneration(node: string, nodeOptions = ''): Promise<number> {
  const file = join(dir, `young-${Math.random().toString(36).slice(2)}`);
  const res = await runCli(
    ['--json', '--no-cache', '--branch-regex', '.*'],
    {
      BK_TOKEN: sim.token,
      BK_API_URL: sim.url,
      NODE_OPTIONS: `--import=${HOOK} ${nodeOptions}`,
      FLAKE_CHECKER_HEAP_FILE: file,
    },
    node,
  );
  expect(res.stderr).toBe(''); // V8 would complain here about a flag it does not know
  expect(res.code).toBe(0);
  expect(JSON.parse(res.stdout).length).toBeGreaterThan(0);
  return Number(readFileSync(file, 'utf8'));
}

describe('the young generation', () => {
  it.each([
    ['Node 20 (this process)', process.execPath],
    ['Node 24 (the action runtime)', NODE24],
  ])('stays at its initial size during a scan on %s', async (_name, node) => {
    if (!existsSync(node)) throw new Error(`${node} is missing: run npm run node24`);
    expect(await youngGeneration(node)).toBeLessThanOrEqual(4 * MiB);
  });

  it('grows as V8 decides when the user sizes it through NODE_OPTIONS', async () => {
    // The same scan: V8 left alone grows it at least twofold.
    expect(await youngGeneration(process.execPath, '--max-semi-space-size=16')).toBeGreaterThanOrEqual(8 * MiB);
  });

  it('is left alone when node was started with a semi-space flag', () => {
    expect(keepYoungGenerationSmall(['--max-semi-space-size=64'], '')).toBe(false);
    expect(keepYoungGenerationSmall([], '--semi-space-growth-factor=4')).toBe(false);
    expect(keepYoungGenerationSmall(['--min-semi-space-size=8'], '--enable-source-maps')).toBe(false);
    expect(keepYoungGenerationSmall([], '--max_semi_space_size=16')).toBe(false); // V8's own spelling
  });
});
