// Runs the bundled CLI (dist/cli/index.js) as a user would, in a child process.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../dist/cli/index.js', import.meta.url));

/** The Node 24 binary `npm run node24` installs (scripts/ensure-node24.mjs): the action's runtime. */
export const NODE24 = fileURLToPath(
  new URL(`../../.cache/node24/node_modules/node-${process.platform}-${process.arch}/bin/node`, import.meta.url),
);

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI with exactly `env` (plus PATH), so the developer's BK_* never leak in. */
export function runCli(
  args: readonly string[],
  env: Record<string, string> = {},
  node = process.execPath,
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(node, [CLI, ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', FLAKE_CHECKER_RETRY_BASE_MS: '2', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
