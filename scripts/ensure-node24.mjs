// Installs a Node 24 binary (the runtime action.yml declares) into .cache/node24 from the npm
// registry, once, so the end-to-end tests can run the bundled action the way a runner does.
// The project itself stays on the machine's Node (20.18+); this binary is used only by tests.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const NODE24_VERSION = '24.9.0';
const prefix = join(process.cwd(), '.cache', 'node24');
const pkg = `node-${process.platform}-${process.arch}`;
const bin = join(prefix, 'node_modules', pkg, 'bin', 'node');

function version() {
  try {
    return execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}

if (version() !== `v${NODE24_VERSION}`) {
  execFileSync(
    'npm',
    ['install', '--prefix', prefix, '--no-save', '--no-package-lock', '--ignore-scripts', `${pkg}@${NODE24_VERSION}`],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
}
const got = version();
if (got !== `v${NODE24_VERSION}`) {
  console.error(`ensure-node24: could not install ${pkg}@${NODE24_VERSION} into ${prefix}`);
  process.exit(1);
}
console.log(`node24: ${bin} (${got})`);
