// `npm run demo`: starts the Buildkite simulator on loopback and runs the bundled CLI against
// it over HTTP with the spec's defaults, printing the report a user would see.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSimulator } from '../src/simulator/index.ts';

const sim = await startSimulator({ seed: 1, builds: 300, latencyMs: [5, 20] });
const cacheDir = mkdtempSync(join(tmpdir(), 'flake-checker-demo-'));
const args = ['dist/cli/index.js', '--cache-dir', cacheDir, ...process.argv.slice(2)];
process.stderr.write(
  `Buildkite simulator: ${sim.url} (organization vllm, pipeline ci, ${sim.dataset.builds.length} builds)\n` +
    `$ BK_API_URL=${sim.url} BK_TOKEN=*** flake-checker ${args.slice(1).join(' ')}\n\n`,
);
const child = spawn(process.execPath, args, {
  stdio: 'inherit',
  // Only PATH and HOME from the shell: a developer's own BK_* must not change the demo.
  env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir(), BK_TOKEN: sim.token, BK_API_URL: sim.url },
});
const code: number = await new Promise((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
await sim.close();
rmSync(cacheDir, { recursive: true, force: true });
process.exitCode = code;
