// Builds the two shipped bundles with ncc: the action (dist/index.js) and the CLI
// (dist/cli/index.js). Types are checked by `npm run typecheck`; ncc only transpiles
// (--transpile-only). Both bundles are ESM (package.json "type": "module").
// The build goes to a scratch folder and replaces dist/ only when both bundles succeed, so a
// failed build never leaves dist/ half-written.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';

const ncc = 'node_modules/@vercel/ncc/dist/ncc/cli.js';
const scratch = `.cache/dist-build-${process.pid}`;
const targets = [
  { entry: 'src/action/main.ts', out: scratch },
  { entry: 'src/cli/main.ts', out: `${scratch}/cli` },
];
rmSync(scratch, { recursive: true, force: true });
mkdirSync(scratch, { recursive: true });
try {
  for (const { entry, out } of targets) {
    execFileSync(
      process.execPath,
      [
        ncc,
        'build',
        entry,
        '-o',
        out,
        '--minify',
        '--transpile-only',
        '--no-source-map-register',
        '--license',
        'licenses.txt',
        '--quiet',
      ],
      {
        stdio: 'inherit',
      },
    );
  }
  // The CLI is a bin: give it a shebang and the execute bit.
  const cli = `${scratch}/cli/index.js`;
  const text = readFileSync(cli, 'utf8');
  if (!text.startsWith('#!')) writeFileSync(cli, `#!/usr/bin/env node\n${text}`);
  chmodSync(cli, 0o755);
  rmSync('dist', { recursive: true, force: true });
  renameSync(scratch, 'dist');
} catch (error) {
  rmSync(scratch, { recursive: true, force: true });
  throw error;
}
