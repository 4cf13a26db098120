// `npm run bench`: runs the bundled CLI (dist/cli/index.js, as a child process, the way a user
// runs it) against the Buildkite simulator shaped like vllm/ci, and prints per scenario: wall
// time, requests, bytes sent, 429s, peak RSS and scan throughput; then the scanner alone
// against `grep -E` on the same text. Figures and the machine go to docs/benchmarks.md.
//
//   npm run bundle && npm run bench                 # every scenario (a few minutes on 2 cores)
//   npm run bench -- --only tight,memory            # some of them
//   npm run bench -- --cli path/to/index.js         # another build of the CLI
//
// Scenarios: default, concurrency8, sequential, cache, tight, baseline and cache-tight (real
// minutes under 50 requests a minute), memory, vllm (200 vLLM-sized builds against the same scan
// on small builds), growth (200, 1000 and 5000 vLLM-sized builds), scan.
// BENCH_EXTRA_NODE_OPTIONS is appended to the child's NODE_OPTIONS (e.g. --cpu-prof).
//
// Not part of `npm test`: it measures time, and no test may depend on the clock.

import { spawn, spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { LogScanner } from '../src/core/scan-log.ts';
import { isFinished, matchesBranch, selectJobs } from '../src/core/select.ts';
import { DEFAULT_PATTERNS, NO_RAW_SETTINGS, parseSettings } from '../src/settings.ts';
import { startSimulator, type Simulator, type SimulatorOptions } from '../src/simulator/index.ts';
import { toBuild } from '../src/buildkite/client.ts';

const { values: args } = parseArgs({
  options: {
    only: { type: 'string' },
    cli: { type: 'string', default: 'dist/cli/index.js' },
    'scan-mb': { type: 'string', default: '200' },
  },
});
const CLI = resolve(args.cli);
const RSS_HOOK = pathToFileURL(resolve('scripts/rss-hook.mjs')).href;
const only = args.only ? new Set(args.only.split(',')) : null;
const wanted = (name: string) => only === null || only.has(name);
const MB = 1e6;

if (!existsSync(CLI)) {
  console.error(`${CLI} does not exist: run \`npm run bundle\` first`);
  process.exit(2);
}

/** vllm/ci as docs/benchmarks.md describes it: ~1 MB logs, a few much larger, 100-150 ms, 10 MB/s. */
const VLLM: SimulatorOptions = {
  seed: 1,
  builds: 300,
  logLines: [5500, 8000],
  bigLogs: { count: 2, bytes: 16 * 1024 * 1024 },
  latencyMs: [100, 150],
  bandwidth: 10 * 1024 * 1024,
};

/** Buildkite's default limits: 50 requests a minute per user, 200 per organization. */
const BUILDKITE_DEFAULT = { windowMs: 60_000, userLimit: 50, orgLimit: 200 };
/** The same, time-compressed to 50 per 6 s. */
const TIGHT = { ...BUILDKITE_DEFAULT, windowMs: 6000 };

interface Run {
  readonly scenario: string;
  readonly wallMs: number;
  readonly requests: number;
  readonly logRequests: number;
  readonly listRequests: number;
  readonly tokenRequests: number;
  readonly bytesSent: number;
  /** Of bytesSent, the builds list pages'. */
  readonly listBytes: number;
  readonly status429: number;
  readonly peakRssKb: number;
  readonly scannedBytes: number;
  readonly exitCode: number | null;
  /** The report printed on stdout. */
  readonly report: string;
}

/**
 * The simulator renders an ordinary log at ~25 MB/s on the benchmark's own CPU, which real
 * Buildkite does not take from us; on 2 cores that would throttle the CLI being measured. So
 * the logs a scenario reads are rendered once before the clock starts and served from memory.
 */
function preRender(sim: Simulator, jobIds: readonly string[]): void {
  const dataset = sim.dataset;
  const memo = new Map<string, Buffer>();
  for (const id of jobIds) {
    if (!dataset.logExists(id) || dataset.logSize(id) > 64 * MB) continue; // big logs stream from fixed blocks
    memo.set(id, Buffer.concat([...dataset.logChunks(id)]));
  }
  const logSize = dataset.logSize.bind(dataset);
  const logChunks = dataset.logChunks.bind(dataset);
  dataset.logSize = (id) => memo.get(id)?.length ?? logSize(id);
  dataset.logChunks = function* (id, start = 0, end) {
    const bytes = memo.get(id);
    if (bytes) yield bytes.subarray(start, end ?? bytes.length);
    else yield* logChunks(id, start, end);
  };
}

/**
 * The jobs the CLI will select with these flags, by the CLI's own selection code, and the
 * baseline evidence it reads besides: attempts that did not pass in main builds outside the
 * branch filter.
 */
function selection(
  sim: Simulator,
  raw: { step?: string; jobStates?: string; maxBuilds?: number } = {},
): { ids: string[]; unfinished: number; missing: number; baseline: string[] } {
  const settings = parseSettings(
    {
      ...NO_RAW_SETTINGS,
      token: 'x',
      step: raw.step,
      jobStates: raw.jobStates,
      maxBuilds: raw.maxBuilds === undefined ? undefined : String(raw.maxBuilds),
    },
    () => Buffer.alloc(0),
  );
  const ids: string[] = [];
  const baseline: string[] = [];
  let unfinished = 0;
  let missing = 0;
  // By index: a dataset of thousands of vLLM-sized builds is made one build at a time.
  for (let i = 0; i < Math.min(settings.maxBuilds, sim.dataset.buildCount); i++) {
    const simBuild = sim.dataset.buildAt(i);
    // Through the client's own reading of the API's JSON, as the CLI sees a build.
    const build = toBuild(simBuild);
    if (!build) continue;
    if (!matchesBranch(build, settings.branchPattern)) {
      if (build.branch === 'main')
        for (const job of selectJobs(build, settings)) if (job.state !== 'passed') baseline.push(job.id);
      continue;
    }
    for (const job of selectJobs(build, settings)) {
      ids.push(job.id);
      if (!sim.dataset.logExists(job.id)) missing++;
      else if (!isFinished(job)) unfinished++;
    }
  }
  return { ids, unfinished, missing, baseline };
}

/** Requests the list pages the CLI will ask for (its query, newest `max` builds), so the simulator keeps them. */
async function warmPages(sim: Simulator, max: number): Promise<void> {
  const perPage = Math.min(100, max);
  for (let page = 1; page <= Math.ceil(max / perPage); page++) {
    const query = new URLSearchParams({ per_page: String(perPage), include_retried_jobs: 'true' });
    query.set('exclude_pipeline', 'true');
    if (page > 1) query.set('page', String(page));
    const url = `${sim.url}/v2/organizations/vllm/pipelines/ci/builds?${query}`;
    const res = await fetch(url, { headers: { Authorization: `Bearer ${sim.token}` } });
    await res.arrayBuffer();
  }
}

/** Attempts that have ended: a back-test over history, every log cacheable. */
const FINISHED_STATES = 'passed,failed,timed_out,canceled,broken';

function logBytes(sim: Simulator, ids: readonly string[]): number {
  return ids.reduce((sum, id) => sum + (sim.dataset.logExists(id) ? sim.dataset.logSize(id) : 0), 0);
}

async function runCli(
  scenario: string,
  sim: Simulator,
  cliArgs: readonly string[],
  scannedBytes: number,
): Promise<Run> {
  sim.resetStats();
  const rssFile = join(mkdtempSync(join(tmpdir(), 'flake-checker-rss-')), 'rss');
  const t0 = performance.now();
  const child = spawn(process.execPath, [CLI, '--api-url', sim.url, ...cliArgs], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? tmpdir(),
      BK_TOKEN: sim.token,
      NODE_OPTIONS: `--import=${RSS_HOOK} ${process.env.BENCH_EXTRA_NODE_OPTIONS ?? ''}`,
      FLAKE_CHECKER_RSS_FILE: rssFile,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exitCode = await new Promise<number | null>((done) => child.on('close', (code) => done(code)));
  const wallMs = performance.now() - t0;
  const [peakText, rssMethod] = existsSync(rssFile) ? readFileSync(rssFile, 'utf8').split(' ') : ['NaN', 'none'];
  const peakRssKb = Number(peakText);
  rssMethods.add(rssMethod ?? 'none');
  rmSync(join(rssFile, '..'), { recursive: true, force: true });
  if (exitCode !== 0) process.stderr.write(`${scenario}: exit ${exitCode}\n${stderr}\n`);
  const s = sim.stats;
  return {
    scenario,
    wallMs,
    requests: s.requests,
    logRequests: s.logRequests,
    listRequests: s.listRequests,
    tokenRequests: s.tokenRequests,
    bytesSent: s.bytesSent,
    listBytes: s.listBytes,
    status429: s.status429,
    peakRssKb,
    scannedBytes,
    exitCode,
    report: stdout,
  };
}

const runs: Run[] = [];
const notes: string[] = [];
let floorMs: number | undefined;
const rssMethods = new Set<string>();
const record = (run: Run) => {
  runs.push(run);
  console.log(
    `${run.scenario.padEnd(34)} ${(run.wallMs / 1000).toFixed(2).padStart(7)} s  ${String(run.requests).padStart(4)} req ` +
      `(${run.tokenRequests} token, ${run.listRequests} list, ${run.logRequests} log)  ` +
      `${(run.bytesSent / MB).toFixed(1).padStart(6)} MB sent (${(run.listBytes / MB).toFixed(1)} in list pages)  ` +
      `${run.status429} x 429  ${(run.peakRssKb / 1024).toFixed(0)} MiB RSS  ${(run.scannedBytes / MB / (run.wallMs / 1000)).toFixed(0)} log MB/s`,
  );
};

// 1-2. Default settings against --concurrency 1, generous limits (vLLM's org limit, user unbounded).
if (wanted('default') || wanted('concurrency8') || wanted('sequential') || wanted('cache')) {
  const sim = await startSimulator(VLLM);
  const { ids, unfinished, missing, baseline } = selection(sim);
  preRender(sim, [...ids, ...baseline]);
  const bytes = logBytes(sim, ids);
  console.log(
    `vllm/ci shape: ${ids.length} jobs selected from 200 builds, ${(bytes / MB).toFixed(1)} MB of logs; ` +
      `${unfinished} still running (never cached), ${missing} without a log (404); ` +
      `${baseline.length} attempts on main that did not pass read as baseline evidence`,
  );
  if (wanted('default')) record(await runCli('default (concurrency 16)', sim, ['--no-cache'], bytes));
  if (wanted('concurrency8')) record(await runCli('--concurrency 8', sim, ['--no-cache', '--concurrency', '8'], bytes));
  if (wanted('sequential')) record(await runCli('--concurrency 1', sim, ['--no-cache', '--concurrency', '1'], bytes));
  if (wanted('cache')) {
    const dir = mkdtempSync(join(tmpdir(), 'flake-checker-bench-cache-'));
    record(await runCli('cache cold', sim, ['--cache-dir', dir], bytes));
    record(await runCli('cache warm', sim, ['--cache-dir', dir], bytes));
    rmSync(dir, { recursive: true, force: true });
  }
  await sim.close();
}

// 4a. What baseline evidence costs, cold, under Buildkite's default per-user limit of 50 a minute
// in real time (two to three windows: a few minutes): the default scan against one without it.
// Each run has a simulator of its own, so that both start in a fresh window.
if (wanted('baseline')) {
  for (const [name, flags] of [
    ['baseline off, 50 / min, cold', ['--no-cache', '--baseline-branch', '']],
    ['baseline on (default), 50 / min, cold', ['--no-cache']],
  ] as const) {
    const sim = await startSimulator({ ...VLLM, rateLimit: BUILDKITE_DEFAULT });
    const { ids, baseline } = selection(sim);
    preRender(sim, [...ids, ...baseline]);
    record(await runCli(name, sim, flags, logBytes(sim, ids)));
    await sim.close();
  }
}

// 4b. The cache where it pays: under Buildkite's default per-user limit of 50 a minute, in real
// time (a cold run needs two windows, so this takes a minute), finished attempts only.
if (wanted('cache-tight')) {
  const sim = await startSimulator({ ...VLLM, rateLimit: BUILDKITE_DEFAULT });
  const { ids, missing, baseline } = selection(sim, { jobStates: FINISHED_STATES });
  console.log(`finished attempts: ${ids.length} jobs, ${missing} without a log (404 each run: absence is not cached)`);
  preRender(sim, [...ids, ...baseline]);
  const bytes = logBytes(sim, ids);
  const dir = mkdtempSync(join(tmpdir(), 'flake-checker-bench-cache-'));
  const flags = ['--cache-dir', dir, '--job-states', FINISHED_STATES];
  record(await runCli('cache cold, 50 / min, finished jobs', sim, flags, bytes));
  record(await runCli('cache warm, 50 / min, finished jobs', sim, flags, bytes));
  rmSync(dir, { recursive: true, force: true });
  await sim.close();
}

// 3. A tight user limit: Buildkite's default 50 a minute, time-compressed to 50 per 6 s.
if (wanted('tight')) {
  const step = 'V1 Test';
  for (const limited of [false, true]) {
    const sim = await startSimulator({ ...VLLM, rateLimit: limited ? TIGHT : undefined });
    const { ids } = selection(sim, { step });
    preRender(sim, ids);
    const run = await runCli(
      limited ? 'tight user limit (50 / 6 s)' : 'same selection, no limit',
      sim,
      ['--no-cache', '--step', step],
      logBytes(sim, ids),
    );
    record(run);
    await sim.close();
    if (!limited) {
      // The floor: R requests at L per window W cannot finish before the last window opens,
      // (ceil(R/L) - 1) * W after the first, and then need the time the last R_last requests
      // take unthrottled (estimated as their share of the unthrottled run).
      const r = run.requests;
      const windows = Math.ceil(r / TIGHT.userLimit);
      const last = r - (windows - 1) * TIGHT.userLimit;
      const floor = (windows - 1) * TIGHT.windowMs + (run.wallMs * last) / r;
      notes.push(
        `tight floor: R=${r}, L=${TIGHT.userLimit}, W=${TIGHT.windowMs} ms: (${windows} - 1) x ${TIGHT.windowMs} ms + ${last}/${r} x ${run.wallMs.toFixed(0)} ms = ${(floor / 1000).toFixed(2)} s`,
      );
      floorMs = floor;
    }
  }
}

// 4. Memory: one 400 MB log among the selection, served at full speed.
if (wanted('memory')) {
  const sim = await startSimulator({ ...VLLM, bigLogs: { count: 1, bytes: 400 * 1024 * 1024 }, bandwidth: 0 });
  const { ids } = selection(sim);
  preRender(sim, ids);
  const dir = mkdtempSync(join(tmpdir(), 'flake-checker-bench-cache-'));
  record(await runCli('400 MB log (no cache)', sim, ['--no-cache'], logBytes(sim, ids)));
  record(await runCli('400 MB log (cache cold)', sim, ['--cache-dir', dir], logBytes(sim, ids)));
  rmSync(dir, { recursive: true, force: true });
  await sim.close();
}

// 6. vLLM-sized builds (docs/buildkite-api.md, "Size of a real list page"): the default scan of
// 200 builds of up to ~266 jobs (list pages of about 50 MB), against the same scan of the same
// builds, jobs and logs without the padding (the default shape's small builds): what the list
// pages cost the CLI. Latency, bandwidth and logs as in the default scenario. Like the logs, the
// pages are rendered before the clock starts (the simulator makes a page at about 60 MB/s on the
// benchmark's own CPU, which real Buildkite does not take from us); once more without that.
if (wanted('vllm')) {
  for (const shape of ['default', 'vllm'] as const) {
    const sim = await startSimulator({ ...VLLM, shape, pageCache: 512 * MB });
    const { ids, baseline } = selection(sim);
    preRender(sim, [...ids, ...baseline]);
    await warmPages(sim, 200);
    const name = shape === 'vllm' ? 'vLLM-sized builds (200)' : 'same scan, small builds';
    record(await runCli(name, sim, ['--no-cache'], logBytes(sim, ids)));
    await sim.close();
  }
  const sim = await startSimulator({ ...VLLM, shape: 'vllm' });
  const { ids, baseline } = selection(sim);
  preRender(sim, [...ids, ...baseline]);
  record(await runCli('vLLM-sized, pages made as served', sim, ['--no-cache'], logBytes(sim, ids)));
  await sim.close();
}

// 7. Cost growth with the window: 200, 1000 and 5000 vLLM-sized builds of a 5000-build pipeline,
// default filters. Ordinary logs are small (40-400 lines), so that the listing shows and the
// simulator need not render gigabytes of logs on the benchmark's own CPU; latency and bandwidth
// as in the default scenario; rate limits unbounded (the floor under a limit follows from the
// requests). Also samples the simulator's own memory (this process) while it serves.
const growth: { builds: number; run: Run }[] = [];
if (wanted('growth')) {
  const t0 = performance.now();
  const sim = await startSimulator({
    ...VLLM,
    builds: 5000,
    shape: 'vllm',
    logLines: [40, 400],
    bigLogs: { count: 0, bytes: 0 },
    rateLimit: { orgLimit: 1e9, userLimit: 1e9 },
  });
  const planned = performance.now() - t0;
  const heapAfterPlan = process.memoryUsage().heapUsed;
  let simPeak = process.memoryUsage.rss();
  const sampler = setInterval(() => (simPeak = Math.max(simPeak, process.memoryUsage.rss())), 20);
  for (const builds of [200, 1000, 5000]) {
    const { ids } = selection(sim, { maxBuilds: builds });
    const flags = ['--no-cache', '--max-builds', String(builds)];
    const run = await runCli(`${builds} vLLM-sized builds`, sim, flags, logBytes(sim, ids));
    record(run);
    growth.push({ builds, run });
  }
  clearInterval(sampler);
  notes.push(
    `growth: the simulator planned 5000 vLLM-sized builds (${sim.dataset.jobCount} jobs) ` +
      `in ${(planned / 1000).toFixed(1)} s, ${(heapAfterPlan / MB).toFixed(0)} MB of heap after planning; ` +
      `the benchmark process (simulator and all) peaked at ${(simPeak / MB).toFixed(0)} MB RSS while serving`,
  );
  await sim.close();
}

// 5. The scanner alone against grep -E on the same realistic text (escapes, \r\n, pytest output).
if (wanted('scan')) {
  const dir = mkdtempSync(join(tmpdir(), 'flake-checker-bench-scan-'));
  const file = join(dir, 'corpus.log');
  const size = Number(args['scan-mb']) * MB;
  const sim = await startSimulator({ seed: 7, builds: 120, logLines: [2000, 8000] });
  const parts: Buffer[] = [];
  let partBytes = 0;
  for (const build of sim.dataset.builds) {
    for (const job of build.jobs) {
      if (partBytes > 40 * MB || !sim.dataset.logExists(job.id)) continue;
      const bytes = Buffer.concat([...sim.dataset.logChunks(job.id)]);
      parts.push(bytes);
      partBytes += bytes.length;
    }
  }
  await sim.close();
  const out = createWriteStream(file);
  for (let written = 0; written < size;) {
    for (const part of parts) {
      if (written >= size) break;
      if (!out.write(part)) await new Promise<void>((done) => out.once('drain', () => done()));
      written += part.length;
    }
  }
  await new Promise<void>((done) => out.end(() => done()));
  const bytes = statSync(file).size;
  const grepArgs = ['-E', '-c', ...DEFAULT_PATTERNS.flatMap((p) => ['-e', p]), file];
  const timeGrep = (env: NodeJS.ProcessEnv) => {
    spawnSync('grep', grepArgs, { env }); // warm the page cache
    const best = [0, 1, 2].map(() => {
      const t0 = performance.now();
      spawnSync('grep', grepArgs, { env });
      return performance.now() - t0;
    });
    return Math.min(...best);
  };
  const grepMs = timeGrep(process.env);
  const grepCMs = timeGrep({ ...process.env, LC_ALL: 'C' });
  // The spec's patterns all have needles, so blocks holding none are skipped undecoded; a
  // pattern without one (here a top-level alternation) makes every block decoded and matched.
  const timeScanner = async (patterns: readonly string[]) => {
    const settings = parseSettings({ ...NO_RAW_SETTINGS, token: 'x', patterns: [...patterns] }, () => Buffer.alloc(0));
    const times: number[] = [];
    for (let i = 0; i < 6; i++) {
      const t0 = performance.now();
      const scanner = new LogScanner(settings.compiled);
      for await (const chunk of createReadStream(file, { highWaterMark: 64 * 1024 })) scanner.push(chunk as Buffer);
      scanner.end();
      times.push(performance.now() - t0);
    }
    return times;
  };
  const rate = (ms: number) => (bytes / MB / (ms / 1000)).toFixed(0);
  const scanTimes = await timeScanner(DEFAULT_PATTERNS);
  const noNeedle = await timeScanner([...DEFAULT_PATTERNS, String.raw`[A-Z]\w+Error|Timeout`]);
  notes.push(
    `scan ${(bytes / MB).toFixed(0)} MB: LogScanner ${rate(Math.min(...scanTimes))} MB/s (best of 6; all: ${scanTimes.map(rate).join(', ')}), ` +
      `grep -E -c ${rate(grepMs)} MB/s (LANG=${process.env.LANG ?? ''}), ${rate(grepCMs)} MB/s (LC_ALL=C); ` +
      `with a fourth pattern that has no needle, every block decoded: ${rate(Math.min(...noNeedle))} MB/s (all: ${noNeedle.map(rate).join(', ')})`,
  );
  rmSync(dir, { recursive: true, force: true });
}

const find = (name: string) => runs.find((r) => r.scenario === name);
const ratio = (a?: Run, b?: Run) => (a && b ? (b.wallMs / a.wallMs).toFixed(1) : 'n/a');
// Log MB/s: the selected logs' bytes (from the simulator's dataset) over wall time, a
// throughput of the whole run; the scanner alone is the `scan` scenario.
console.log('\n| Scenario | Wall | Requests (token/list/log) | Bytes sent | 429s | Peak RSS | Log MB/s |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of runs) {
  console.log(
    `| ${r.scenario} | ${(r.wallMs / 1000).toFixed(2)} s | ${r.requests} (${r.tokenRequests}/${r.listRequests}/${r.logRequests}) | ` +
      `${(r.bytesSent / MB).toFixed(1)} MB | ${r.status429} | ${(r.peakRssKb / 1024).toFixed(0)} MiB | ${(r.scannedBytes / MB / (r.wallMs / 1000)).toFixed(0)} |`,
  );
}
console.log('');
const [byDefault, one] = [find('default (concurrency 16)'), find('--concurrency 1')];
console.log(`--concurrency 8 vs --concurrency 1: ${ratio(find('--concurrency 8'), one)}x`);
console.log(
  `default vs --concurrency 1: ${ratio(byDefault, one)}x${byDefault && one ? `, reports ${byDefault.report === one.report ? 'identical' : 'DIFFERENT'}` : ''}`,
);
console.log(
  `warm vs cold cache: ${ratio(find('cache warm'), find('cache cold'))}x; under 50 / min: ${ratio(find('cache warm, 50 / min, finished jobs'), find('cache cold, 50 / min, finished jobs'))}x`,
);
const [smallBuilds, vllmBuilds] = [find('same scan, small builds'), find('vLLM-sized builds (200)')];
if (smallBuilds && vllmBuilds) {
  console.log(
    `vLLM-sized vs small builds: ${(vllmBuilds.wallMs / smallBuilds.wallMs).toFixed(2)}x the wall time ` +
      '(target 1.5x), ' +
      `list pages ${(vllmBuilds.listBytes / MB).toFixed(1)} MB vs ${(smallBuilds.listBytes / MB).toFixed(1)} MB, ` +
      `reports ${vllmBuilds.report === smallBuilds.report ? 'identical' : 'different (build states differ)'}`,
  );
}
if (growth.length > 0) {
  // The floor under a per-minute limit L: R requests need ceil(R / L) - 1 full windows first.
  const floor = (r: number, limit: number) => `${((Math.ceil(r / limit) - 1) * 60).toFixed(0)} s`;
  console.log(
    '\n| Builds | Requests (list/log) | Wall | List pages | Bytes sent | Peak RSS | Floor at 400 / min | at 50 / min |',
  );
  console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const { builds, run: r } of growth) {
    console.log(
      `| ${builds} | ${r.requests} (${r.listRequests}/${r.logRequests}) | ${(r.wallMs / 1000).toFixed(2)} s ` +
        `| ${(r.listBytes / MB).toFixed(0)} MB | ${(r.bytesSent / MB).toFixed(0)} MB ` +
        `| ${(r.peakRssKb / 1024).toFixed(0)} MiB | ${floor(r.requests, 400)} | ${floor(r.requests, 50)} |`,
    );
  }
  console.log('');
}
const tight = find('tight user limit (50 / 6 s)');
if (tight && floorMs)
  console.log(
    `tight: ${(tight.wallMs / 1000).toFixed(2)} s against a floor of ${(floorMs / 1000).toFixed(2)} s (+${((tight.wallMs / floorMs - 1) * 100).toFixed(0)}%)`,
  );
for (const note of notes) console.log(note);
console.log(`peak RSS from: ${[...rssMethods].join(', ')} (scripts/rss-hook.mjs)`);
console.log(
  `\nmachine: ${cpus().length} x ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}`,
);
for (const r of runs) if (r.exitCode !== 0) process.exitCode = 1;
