// Runs the Buildkite simulator from the command line until Ctrl-C, for demos and manual poking:
//   npx tsx scripts/simulator.ts --seed 1 --builds 300 --port 8787 --latency 20 --gzip
// Then: flake-checker --api-url <url> with BK_TOKEN=<token>.

import { parseArgs } from 'node:util';
import { startSimulator } from '../src/simulator/index.ts';

const USAGE = [
  'Usage: npx tsx scripts/simulator.ts [--seed N] [--builds N] [--port N] [--latency MS] [--bandwidth B/S]',
  '  [--big-logs N] [--big-log-mb MB] [--user-limit N] [--error-rate F] [--cut-rate F] [--gzip] [--redirect]',
].join('\n');

/** The flags, or on a usage error (unknown flag, stray argument, missing value) one line and exit 2. */
function readFlags() {
  try {
    return parseArgs({
      strict: true,
      options: {
        seed: { type: 'string', default: '1' },
        builds: { type: 'string', default: '300' },
        port: { type: 'string', default: '0' },
        latency: { type: 'string', default: '0' },
        bandwidth: { type: 'string', default: '0' },
        'big-logs': { type: 'string', default: '0' },
        'big-log-mb': { type: 'string', default: '200' },
        'user-limit': { type: 'string' },
        'error-rate': { type: 'string', default: '0' },
        'cut-rate': { type: 'string', default: '0' },
        gzip: { type: 'boolean', default: false },
        redirect: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }).values;
  } catch (error: unknown) {
    if (!(error instanceof TypeError) || !(error as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS_'))
      throw error;
    // The first sentence names the flag; the rest is Node's advice about positionals.
    console.error(`${error.message.split('. ')[0]}. Usage: npx tsx scripts/simulator.ts [flags]; --help lists them.`);
    process.exit(2);
  }
}

const values = readFlags();

if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

const number = (name: string, text: string | undefined): number => {
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0) {
    console.error(`--${name} must be a non-negative number, got "${text}"`);
    process.exit(2);
  }
  return n;
};

const sim = await startSimulator({
  seed: number('seed', values.seed),
  builds: number('builds', values.builds),
  port: number('port', values.port),
  latencyMs: number('latency', values.latency),
  bandwidth: number('bandwidth', values.bandwidth),
  bigLogs: {
    count: number('big-logs', values['big-logs']),
    bytes: number('big-log-mb', values['big-log-mb']) * 1024 * 1024,
  },
  rateLimit: values['user-limit'] === undefined ? undefined : { userLimit: number('user-limit', values['user-limit']) },
  faults: { error5xxRate: number('error-rate', values['error-rate']), cutRate: number('cut-rate', values['cut-rate']) },
  gzip: values.gzip,
  redirectLogs: values.redirect,
});

const { org, pipeline, builds } = sim.dataset;
console.log(`Buildkite simulator on ${sim.url} (org ${org}, pipeline ${pipeline}, ${builds.length} builds)`);
console.log(`BK_TOKEN=${sim.token}`);
console.log(`  without read_build_logs: ${sim.tokens.noLogScope}`);
console.log(`  without read_builds:     ${sim.tokens.noBuildScope}`);
console.log('Ctrl-C to stop.');

process.once('SIGINT', () => {
  const { requests, status429, status5xx, cuts, bytesSent } = sim.stats;
  console.log(`\n${requests} requests, ${status429} x 429, ${status5xx} x 5xx, ${cuts} cut, ${bytesSent} bytes sent`);
  void sim.close().then(() => process.exit(0));
});
