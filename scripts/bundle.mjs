// Builds the two shipped bundles with ncc: the action (dist/index.js) and the CLI (dist/cli/index.js).
// Types are checked by `npm run typecheck`; ncc only transpiles (--transpile-only).
// Both are ESM (package.json "type": "module"); ncc keeps that format.
import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync, rmSync } from 'node:fs';

const ncc = 'node_modules/@vercel/ncc/dist/ncc/cli.js';
const targets = [
  { entry: 'src/action/main.ts', out: 'dist' },
  { entry: 'src/cli/main.ts', out: 'dist/cli' },
];
rmSync('dist', { recursive: true, force: true });
for (const { entry, out } of targets) {
  execFileSync(process.execPath, [ncc, 'build', entry, '-o', out, '--minify', '--transpile-only', '--no-source-map-register', '--license', 'licenses.txt', '--quiet'], {
    stdio: 'inherit',
  });
}
// The CLI is a bin: give it a shebang and the execute bit.
const cli = 'dist/cli/index.js';
const text = readFileSync(cli, 'utf8');
if (!text.startsWith('#!')) writeFileSync(cli, `#!/usr/bin/env node\n${text}`);
chmodSync(cli, 0o755);
