// A loopback HTTP server that answers like Buildkite's REST API v2 (shared/buildkite-api.md),
// serving a generated dataset, with switches for the misbehaviour a real client meets: latency,
// bandwidth, rate limits, 5xx from a proxy, connections cut or stalled mid-body, 429 bursts, gzip,
// redirects, scripted failures and hostile API data.

import { createHash, createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Writable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { generateDataset, type Dataset, type SimBuild } from './dataset.ts';
import { mixSeed, Rng } from './prng.ts';
import { FixedWindow, rateLimitHeaders, rateLimitMessage } from './rate-limit.ts';

export interface SimulatorOptions {
  /** Same seed, same dataset byte for byte (apart from the origin inside URLs). Default 1. */
  seed?: number;
  /** Default `vllm`. */
  org?: string;
  /** Default `ci`. */
  pipeline?: string;
  /** Builds in the pipeline, newest first. Default 300. */
  builds?: number;
  /** Script jobs per build (before retries and parallel fan-out). Default [6, 14]. */
  jobsPerBuild?: [number, number];
  /** Lines per ordinary log. Default [40, 400]. */
  logLines?: [number, number];
  /**
   * `count` script jobs (newest "V1 Test others" first) get logs of about `bytes`, streamed.
   * With `singleLine`, the filler between head and tail is one line without a break (a
   * minified bundle dumped to the log), with a planted signature in its middle.
   */
  bigLogs?: { count: number; bytes: number; singleLine?: boolean };
  /**
   * Mutates some builds and jobs the way a changing API or a proxy might: unknown build and job
   * states and job types, null names, `pull_request: {}` and `{id: null}`, mistyped and unknown
   * fields, builds without a `jobs` array (or with `jobs: null`). The ground truth sees the same.
   */
  hostile?: boolean;
  /** Delay before each response head: fixed, or uniform in [min, max]. */
  latencyMs?: number | [number, number];
  /** Bytes per second for each log body (0 or unset: unlimited). */
  bandwidth?: number;
  /** Defaults: 60000 ms, org 400 (vLLM's), user 10000 (generous; Buildkite's default is 50). */
  rateLimit?: { windowMs?: number; orgLimit?: number; userLimit?: number };
  faults?: Partial<Faults>;
  /** Gzip log bodies when the request accepts it. */
  gzip?: boolean;
  /** Answer text-log requests with 302 to a second loopback origin that serves the bytes. */
  redirectLogs?: boolean;
  /** Listen port (default 0: any free port). */
  port?: number;
  /** Pages beyond this answer 400 "Listing builds this deep..." (Buildkite's threshold is undocumented). Default 50. */
  maxPage?: number;
  /** Clock for the rate-limit windows, so tests need not sleep. Default Date.now. */
  now?: () => number;
}

export interface Faults {
  /** Fraction of requests answered 500/502/503 (the 502 an HTML page from a proxy). */
  error5xxRate: number;
  /** Fraction of log downloads whose connection is destroyed after part of the body. */
  cutRate: number;
  /**
   * Every N-th request (0 = off) starts a burst of `burstLength` 429s with reset 1. A burst
   * ends early when its second is over, so a client that waits for the reset it was told is
   * not refused again.
   */
  burst429: number;
  /** How many consecutive requests a 429 burst answers at most. Default 3. */
  burstLength: number;
  /** Fraction of requests delayed an extra `slowMs`. */
  slowRate: number;
  slowMs: number;
  /** Fraction of text-log requests answered with the JSON log shape (a misbehaving proxy). */
  jsonLogRate: number;
  /** Fraction of log bodies that stop sending for `stallMs` partway (the connection stays open). */
  stallRate: number;
  stallMs: number;
  /**
   * Fraction of jobs whose log always answers 503, chosen by job id, so every retry fails too.
   * `sim.brokenLog(jobId)` tells which.
   */
  failLogRate: number;
  /** 5xx JSON bodies echo the request's Authorization header, as a debugging proxy might. */
  echoAuth: boolean;
}

/** Request kinds `failNext` can target; `redirect` is the log host redirects lead to. */
export type RequestKind = 'token' | 'list' | 'log' | 'redirect' | 'any';

/**
 * How `failNext` answers: an HTTP status (502 as a proxy's HTML page, others as JSON),
 * `reset` (the connection is destroyed before any response) or `hang` (no response until the
 * client gives up).
 */
export type FailureMode = number | 'reset' | 'hang';

export interface SimulatorStats {
  readonly requests: number;
  readonly listRequests: number;
  readonly buildRequests: number;
  readonly jobsRequests: number;
  /** Log requests to the API (JSON, text and log.txt), redirected or not. */
  readonly logRequests: number;
  readonly tokenRequests: number;
  /** Requests to the redirect host. */
  readonly redirectRequests: number;
  readonly status429: number;
  readonly status5xx: number;
  readonly cuts: number;
  /** Log bodies that stalled (`stallRate`). */
  readonly stalls: number;
  /** Requests answered by `failNext`. */
  readonly scripted: number;
  /** Body bytes written (after gzip), both hosts. */
  readonly bytesSent: number;
  /** Requests that reached the redirect host carrying an Authorization header or a token anywhere. */
  readonly redirectAuthLeaks: number;
  readonly byStatus: Readonly<Record<number, number>>;
  readonly inFlight: number;
  readonly maxInFlight: number;
}

export interface Simulator {
  /** The API base (pass as --api-url). */
  readonly url: string;
  /** A token with read_builds and read_build_logs. */
  readonly token: string;
  /** Any other token answers 401. */
  readonly tokens: { readonly valid: string; readonly noLogScope: string; readonly noBuildScope: string };
  readonly dataset: Dataset;
  readonly stats: SimulatorStats;
  /** The redirect host's origin when `redirectLogs` is on. */
  readonly redirectUrl: string | null;
  setFaults(faults: Partial<Faults>): void;
  /**
   * Answers the next `times` requests of `kind` with `mode`, then behaves again; with `after`,
   * that many requests of the kind are answered normally first.
   */
  failNext(kind: RequestKind, times: number, mode: FailureMode, after?: number): void;
  /** True when `failLogRate` makes this job's log always fail. */
  brokenLog(jobId: string): boolean;
  resetStats(): void;
  close(): Promise<void>;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type MutableStats = Omit<Mutable<SimulatorStats>, 'byStatus'> & { byStatus: Record<number, number> };

const NO_FAULTS: Faults = {
  error5xxRate: 0, cutRate: 0, burst429: 0, burstLength: 3, slowRate: 0, slowMs: 0, jsonLogRate: 0,
  stallRate: 0, stallMs: 0, failLogRate: 0, echoAuth: false,
};

const MESSAGES = {
  unauthenticated: 'Authentication required. Please supply a valid API Access Token: https://buildkite.com/docs/apis/rest-api#authentication',
  noOrg: 'No organization found',
  noPipeline: 'No pipeline found',
  noBuild: 'No build found',
  /**
   * Buildkite answers a missing or expired log, and a job without a log (waiter, block, never
   * started), with 404. The only message documented for these is "No job found", so every log
   * 404 uses it; clients must treat any log 404 as "absent" whatever the message.
   */
  noJob: 'No job found',
  tooDeep: 'Listing builds this deep is not supported. Please narrow your query using filters such as branch or created_from.',
  notFound: 'Not Found',
};

/** Bodies of statuses answered on purpose (faults and `failNext`). */
const MESSAGES_BY_STATUS: Record<number, string> = {
  400: 'Bad Request', 401: MESSAGES.unauthenticated, 403: "Your access token doesn't have the read_builds scope",
  404: MESSAGES.notFound, 408: 'Request Timeout', 500: 'Internal Server Error', 503: 'Service Unavailable', 504: 'Gateway Timeout',
};

const PROXY_502 =
  '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n';

function emptyStats(): MutableStats {
  return {
    requests: 0, listRequests: 0, buildRequests: 0, jobsRequests: 0, logRequests: 0, tokenRequests: 0, redirectRequests: 0,
    status429: 0, status5xx: 0, cuts: 0, stalls: 0, scripted: 0, bytesSent: 0, redirectAuthLeaks: 0, byStatus: {}, inFlight: 0, maxInFlight: 0,
  };
}

function makeToken(seed: number, name: string): string {
  return `bkua_${createHash('sha256').update(`flake-checker-simulator:${seed}:${name}`).digest('hex').slice(0, 40)}`;
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Sleeps, waking early when the response goes away (a client that gave up). */
function sleepUnlessClosed(ms: number, res: ServerResponse): Promise<void> {
  if (res.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      res.off('close', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    res.on('close', done);
  });
}

/** Waits until a writable drains or the response goes away. */
function drained(out: Writable, res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      out.off('drain', done);
      res.off('close', done);
      resolve();
    };
    out.on('drain', done);
    res.on('close', done);
  });
}

function intParam(value: string | null, fallback: number): number {
  const n = value === null ? NaN : Number.parseInt(value, 10);
  return Number.isFinite(n) ? n : fallback;
}

function wildcard(pattern: string): RegExp {
  return new RegExp(`^${pattern.split('*').map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}

/** `bytes=a-b`, `bytes=a-`, `bytes=-n`; null when absent, 'invalid' when unsatisfiable. */
function parseRange(header: string | undefined, size: number): { start: number; end: number } | null | 'invalid' {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return 'invalid';
  let start: number;
  let end: number;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0 || size === 0) return 'invalid';
    start = Math.max(0, size - n);
    end = size;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size : Math.min(size, Number(m[2]) + 1);
    if (start >= size || end <= start) return 'invalid';
  }
  return { start, end };
}

class SimulatorServer implements Simulator {
  url = '';
  redirectUrl: string | null = null;
  readonly token: string;
  readonly tokens: { valid: string; noLogScope: string; noBuildScope: string };
  dataset!: Dataset;
  stats: MutableStats = emptyStats();
  private faults: Faults;
  private readonly api: Server;
  private readonly redirect: Server | null;
  private readonly orgWindow: FixedWindow;
  private readonly userWindow: FixedWindow;
  private readonly scopes: Map<string, readonly string[]>;
  private readonly faultRng: Rng;
  private readonly now: () => number;
  private readonly signingKey: string;
  private burstCount = 0;
  private burstLeft = 0;
  private burstEndsAt = 0;
  private scripted: { kind: RequestKind; skip: number; left: number; mode: FailureMode }[] = [];

  constructor(private readonly options: SimulatorOptions) {
    const seed = options.seed ?? 1;
    this.faults = { ...NO_FAULTS, ...options.faults };
    this.tokens = { valid: makeToken(seed, 'valid'), noLogScope: makeToken(seed, 'no-log-scope'), noBuildScope: makeToken(seed, 'no-build-scope') };
    this.token = this.tokens.valid;
    this.scopes = new Map([
      [this.tokens.valid, ['read_builds', 'read_build_logs', 'read_pipelines']],
      [this.tokens.noLogScope, ['read_builds', 'read_pipelines']],
      [this.tokens.noBuildScope, ['read_build_logs']],
    ]);
    const windowMs = options.rateLimit?.windowMs ?? 60_000;
    this.orgWindow = new FixedWindow(options.rateLimit?.orgLimit ?? 400, windowMs);
    // One user owns all three tokens, so they share the user window, as they would at Buildkite.
    this.userWindow = new FixedWindow(options.rateLimit?.userLimit ?? 10_000, windowMs);
    this.faultRng = new Rng(mixSeed(seed, 99));
    this.now = options.now ?? Date.now;
    this.signingKey = makeToken(seed, 'signing-key');
    this.api = createServer((req, res) => this.track(req, res, () => this.handleApi(req, res)));
    this.redirect = options.redirectLogs ? createServer((req, res) => this.track(req, res, () => this.handleRedirect(req, res))) : null;
    for (const server of [this.api, this.redirect]) if (server) server.keepAliveTimeout = 30_000;
  }

  async start(): Promise<void> {
    const port = await listen(this.api, this.options.port ?? 0);
    this.url = `http://127.0.0.1:${port}`;
    if (this.redirect) this.redirectUrl = `http://127.0.0.1:${await listen(this.redirect, 0)}`;
    const o = this.options;
    this.dataset = generateDataset({
      seed: o.seed ?? 1, org: o.org ?? 'vllm', pipeline: o.pipeline ?? 'ci', builds: o.builds ?? 300,
      jobsPerBuild: o.jobsPerBuild ?? [6, 14], logLines: o.logLines ?? [40, 400], bigLogs: o.bigLogs ?? { count: 0, bytes: 0 },
      hostile: o.hostile === true, apiUrl: this.url,
    });
  }

  setFaults(faults: Partial<Faults>): void {
    this.faults = { ...this.faults, ...faults };
    if (this.faults.burst429 === 0) this.burstLeft = 0;
  }

  failNext(kind: RequestKind, times: number, mode: FailureMode, after = 0): void {
    if (times > 0) this.scripted.push({ kind, skip: after, left: times, mode });
  }

  brokenLog(jobId: string): boolean {
    const rate = this.faults.failLogRate;
    if (rate <= 0) return false;
    // A hash of the job id: the same jobs fail on every request, whatever the request order.
    const h = createHash('sha256').update(`${this.options.seed ?? 1}:${jobId}`).digest().readUInt32BE(0);
    return h / 0x1_0000_0000 < rate;
  }

  resetStats(): void {
    const inFlight = this.stats.inFlight;
    Object.assign(this.stats, emptyStats(), { inFlight, maxInFlight: inFlight });
  }

  async close(): Promise<void> {
    for (const server of [this.api, this.redirect]) {
      if (!server) continue;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  private track(req: IncomingMessage, res: ServerResponse, handle: () => Promise<void>): void {
    this.stats.inFlight++;
    this.stats.maxInFlight = Math.max(this.stats.maxInFlight, this.stats.inFlight);
    res.once('close', () => this.stats.inFlight--);
    handle().catch((error: unknown) => {
      // A bug in the simulator, not a simulated fault: say so loudly.
      if (res.headersSent) return void res.destroy(error instanceof Error ? error : undefined);
      this.writeHead(res, 500, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ message: `simulator error: ${error instanceof Error ? error.message : String(error)}` }));
      req.resume();
    });
  }

  private writeHead(res: ServerResponse, status: number, headers: Record<string, string | number>): void {
    const s = this.stats;
    s.byStatus[status] = (s.byStatus[status] ?? 0) + 1;
    if (status === 429) s.status429++;
    if (status >= 500) s.status5xx++;
    res.writeHead(status, headers);
  }

  private send(req: IncomingMessage, res: ServerResponse, status: number, body: string, headers: Record<string, string>): void {
    const bytes = Buffer.from(body);
    this.writeHead(res, status, { ...headers, 'Content-Length': bytes.length });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    this.stats.bytesSent += bytes.length;
    res.end(bytes);
  }

  private json(req: IncomingMessage, res: ServerResponse, status: number, body: unknown, headers: Record<string, string>): void {
    this.send(req, res, status, JSON.stringify(body), { 'Content-Type': 'application/json; charset=utf-8', ...headers });
  }

  private async delay(): Promise<void> {
    const { latencyMs } = this.options;
    let ms = Array.isArray(latencyMs) ? latencyMs[0] + this.faultRng.next() * (latencyMs[1] - latencyMs[0]) : (latencyMs ?? 0);
    if (this.faults.slowRate > 0 && this.faultRng.chance(this.faults.slowRate)) ms += this.faults.slowMs;
    if (ms > 0) await sleep(ms);
  }

  private async handleApi(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.stats.requests++;
    const url = new URL(req.url ?? '/', this.url);
    const now = this.now();
    // Bearer only: Buildkite accepts no basic auth and no ?access_token=.
    const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
    const scopes = token === undefined ? undefined : this.scopes.get(token);
    if (scopes) {
      this.orgWindow.hit(now);
      this.userWindow.hit(now);
    }
    const limits = rateLimitHeaders(this.orgWindow, this.userWindow, now);
    await this.delay();
    const reply = (status: number, body: unknown, extra: Record<string, string> = {}): void => this.json(req, res, status, body, { ...limits, ...extra });
    if (!scopes) return reply(401, { message: MESSAGES.unauthenticated });

    for (const [scope, window] of [['rest_user', this.userWindow], ['rest_org', this.orgWindow]] as const) {
      if (!window.exceeded(now)) continue;
      const reset = window.resetSeconds(now);
      return reply(429, { message: rateLimitMessage(reset), scope, limit: window.limit, current: window.current(now), reset });
    }
    if (this.faults.burst429 > 0 && ++this.burstCount % this.faults.burst429 === 0) {
      this.burstLeft = this.faults.burstLength;
      this.burstEndsAt = now + 1000;
    }
    if (this.burstLeft > 0 && now >= this.burstEndsAt) this.burstLeft = 0;
    if (this.burstLeft > 0) {
      this.burstLeft--;
      const limit = this.userWindow.limit;
      const burstHeaders = { 'RateLimit-User-Remaining': '0', 'RateLimit-User-Reset': '1', 'RateLimit-User-Warning': rateLimitMessage(1) };
      return reply(429, { message: rateLimitMessage(1), scope: 'rest_user', limit, current: limit + this.faults.burstLength - this.burstLeft, reset: 1 }, burstHeaders);
    }
    const scripted = this.takeScripted(this.kindOf(url));
    if (scripted !== null) {
      this.stats.scripted++;
      return this.fail(req, res, scripted, reply);
    }
    if (this.faults.error5xxRate > 0 && this.faultRng.chance(this.faults.error5xxRate)) {
      return this.fail(req, res, this.faultRng.pick([500, 502, 503]), reply);
    }
    await this.route(req, res, url, scopes, limits, reply);
  }

  /** The kind of an API request, for `failNext`. */
  private kindOf(url: URL): RequestKind {
    const seg = url.pathname.split('/').filter(Boolean);
    if (seg[1] === 'access-token') return 'token';
    if (seg.length === 6 && seg[5] === 'builds') return 'list';
    if (seg.length === 10 && seg[7] === 'jobs') return 'log';
    return 'any';
  }

  private takeScripted(kind: RequestKind): FailureMode | null {
    const entry = this.scripted.find((e) => e.left > 0 && (e.kind === kind || (e.kind === 'any' && kind !== 'redirect')));
    if (!entry) return null;
    if (entry.skip > 0) {
      entry.skip--;
      return null;
    }
    entry.left--;
    this.scripted = this.scripted.filter((e) => e.left > 0);
    return entry.mode;
  }

  /** Answers a failure: a status (502 as a proxy's HTML page), a reset connection or a hang. */
  private async fail(req: IncomingMessage, res: ServerResponse, mode: FailureMode, reply: (status: number, body: unknown) => void): Promise<void> {
    if (mode === 'reset') {
      req.socket.destroy();
      return;
    }
    if (mode === 'hang') {
      // No response until the client gives up (or a minute passes).
      await sleepUnlessClosed(60_000, res);
      if (!res.destroyed) res.destroy();
      return;
    }
    // A proxy in front of the API answers 502 with its own HTML page and none of the API's headers.
    if (mode === 502) return this.send(req, res, 502, PROXY_502, { 'Content-Type': 'text/html' });
    const message = MESSAGES_BY_STATUS[mode] ?? 'Error';
    const echo = this.faults.echoAuth && mode >= 500 ? ` (request had Authorization: ${req.headers.authorization ?? 'none'})` : '';
    return reply(mode, { message: `${message}${echo}` });
  }

  private async route(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    scopes: readonly string[],
    limits: Record<string, string>,
    reply: (status: number, body: unknown, extra?: Record<string, string>) => void,
  ): Promise<void> {
    const seg = url.pathname.split('/').filter(Boolean);
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(404, { message: MESSAGES.notFound });
    if (seg.length === 2 && seg[0] === 'v2' && seg[1] === 'access-token') {
      this.stats.tokenRequests++;
      return reply(200, {
        uuid: createHash('md5').update(scopes.join()).digest('hex').replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5'),
        scopes, description: 'flake-checker simulator token', created_at: '2026-01-05T10:00:00.000Z',
        user: { name: 'Simulated User', email: 'sim@example.com' },
      });
    }
    const isPipelinePath = seg[0] === 'v2' && seg[1] === 'organizations' && seg[3] === 'pipelines' && seg[5] === 'builds';
    const isLog = isPipelinePath && seg.length === 10 && seg[7] === 'jobs' && (seg[9] === 'log' || seg[9] === 'log.txt');
    const isBuilds = isPipelinePath && (seg.length === 6 || seg.length === 7 || (seg.length === 8 && seg[7] === 'jobs'));
    if (!isLog && !isBuilds) return reply(404, { message: MESSAGES.notFound });
    const needed = isLog ? 'read_build_logs' : 'read_builds';
    if (!scopes.includes(needed)) return reply(403, { message: `Your access token doesn't have the ${needed} scope` });
    if (seg[2] !== this.dataset.org) return reply(404, { message: MESSAGES.noOrg });
    if (seg[4] !== this.dataset.pipeline) return reply(404, { message: MESSAGES.noPipeline });
    if (seg.length === 6) return this.listBuilds(url, reply);
    const build = /^\d+$/.test(seg[6] as string) ? this.dataset.findBuild(Number(seg[6])) : undefined;
    if (seg.length === 7) this.stats.buildRequests++;
    if (seg.length === 8) this.stats.jobsRequests++;
    if (isLog) this.stats.logRequests++;
    if (!build) return reply(404, { message: MESSAGES.noBuild });
    if (seg.length === 7) return reply(200, this.viewBuild(build, /^(true|1)$/.test(url.searchParams.get('include_retried_jobs') ?? '')));
    if (seg.length === 8) return this.listJobs(url, build, reply);
    return this.serveLog(req, res, build, seg[8] as string, seg[9] === 'log.txt', limits, reply);
  }

  /** Retried attempts are hidden unless include_retried_jobs=true (the list and one-build endpoints). */
  private viewBuild(build: SimBuild, includeRetried: boolean): SimBuild {
    const view = includeRetried ? build : { ...build, jobs: build.jobs.filter((j) => !j.retried) };
    if (this.options.hostile && build.jobs.length === 0) {
      // Hostile data: a build whose jobs are absent, as `jobs: null` or no key at all.
      const rest: Record<string, unknown> = { ...view };
      if (build.number % 2 === 0) rest.jobs = null;
      else delete rest.jobs;
      return rest as unknown as SimBuild;
    }
    return view;
  }

  private listBuilds(url: URL, reply: (status: number, body: unknown, extra?: Record<string, string>) => void): void {
    this.stats.listRequests++;
    const params = url.searchParams;
    const perPage = Math.min(100, Math.max(1, intParam(params.get('per_page'), 30)));
    const page = Math.max(1, intParam(params.get('page'), 1));
    if (page > (this.options.maxPage ?? 50)) return reply(400, { message: MESSAGES.tooDeep });
    const branches = [...params.getAll('branch'), ...params.getAll('branch[]')].map(wildcard);
    const states = [...params.getAll('state'), ...params.getAll('state[]')];
    const createdFrom = params.get('created_from');
    const createdTo = params.get('created_to');
    const includeRetried = /^(true|1)$/.test(params.get('include_retried_jobs') ?? '');
    const selected = this.dataset.builds.filter(
      (b) =>
        (branches.length === 0 || branches.some((re) => re.test(b.branch))) &&
        (states.length === 0 || states.includes(b.state)) &&
        (!createdFrom || Date.parse(b.created_at) >= Date.parse(createdFrom)) &&
        (!createdTo || Date.parse(b.created_at) < Date.parse(createdTo)),
    );
    const lastPage = Math.max(1, Math.ceil(selected.length / perPage));
    const pageUrl = (n: number): string => {
      const next = new URL(url.pathname, this.url);
      for (const [k, v] of params) if (k !== 'page') next.searchParams.append(k, v);
      next.searchParams.set('page', String(n));
      return next.toString();
    };
    // Formatted as Buildkite and GitHub do: `<url>; rel="next", <url>; rel="last"`.
    const links: string[] = [];
    if (page > 1) links.push(`<${pageUrl(Math.min(page - 1, lastPage))}>; rel="prev"`);
    if (page < lastPage) links.push(`<${pageUrl(page + 1)}>; rel="next"`);
    if (page > 1) links.push(`<${pageUrl(1)}>; rel="first"`);
    if (page < lastPage) links.push(`<${pageUrl(lastPage)}>; rel="last"`);
    const body = selected.slice((page - 1) * perPage, page * perPage).map((b) => this.viewBuild(b, includeRetried));
    reply(200, body, links.length > 0 ? { Link: links.join(', ') } : {});
  }

  /** The June-2026 jobs endpoint: `{items, links:{self,next}}`, cursor pages, retried jobs shown by default. */
  private listJobs(url: URL, build: SimBuild, reply: (status: number, body: unknown) => void): void {
    const params = url.searchParams;
    const perPage = Math.min(100, Math.max(1, intParam(params.get('per_page'), 30)));
    const includeRetried = !/^(false|0)$/.test(params.get('include_retried_jobs') ?? '');
    const states = [...params.getAll('state'), ...params.getAll('state[]')];
    const stepKeys = [...params.getAll('step_key'), ...params.getAll('step_key[]')];
    const cursor = params.get('cursor');
    const offset = cursor ? intParam(Buffer.from(cursor, 'base64url').toString(), 0) : 0;
    const jobs = build.jobs.filter(
      (j) => (includeRetried || !j.retried) && (states.length === 0 || states.includes(j.state ?? '')) && (stepKeys.length === 0 || stepKeys.includes(j.step_key ?? '')),
    );
    let next: string | null = null;
    if (offset + perPage < jobs.length) {
      const nextUrl = new URL(url.toString());
      nextUrl.searchParams.set('cursor', Buffer.from(String(offset + perPage)).toString('base64url'));
      next = nextUrl.toString();
    }
    reply(200, { items: jobs.slice(offset, offset + perPage), links: { self: url.toString(), next } });
  }

  private async serveLog(
    req: IncomingMessage,
    res: ServerResponse,
    build: SimBuild,
    jobId: string,
    isTxt: boolean,
    limits: Record<string, string>,
    reply: (status: number, body: unknown) => void,
  ): Promise<void> {
    const found = this.dataset.findJob(jobId);
    if (!found || found.build !== build || !this.dataset.logExists(jobId)) return reply(404, { message: MESSAGES.noJob });
    if (this.brokenLog(jobId)) return this.fail(req, res, 503, reply);
    // `/log` answers JSON unless asked for text; `log.txt` is always text.
    let text = isTxt || /text\/plain/i.test(req.headers.accept ?? '');
    if (text && this.faults.jsonLogRate > 0 && this.faultRng.chance(this.faults.jsonLogRate)) text = false;
    if (!text) return this.serveJsonLog(req, res, found.job.log_url ?? '', jobId, limits);
    if (this.redirect) {
      const expires = String(Math.floor(this.now() / 1000) + 600);
      const location = `${this.redirectUrl}/logs/${jobId}.txt?Expires=${expires}&Signature=${this.sign(jobId, expires)}`;
      return this.send(req, res, 302, '', { ...limits, Location: location });
    }
    return this.serveText(req, res, jobId, limits);
  }

  private sign(jobId: string, expires: string): string {
    return createHmac('sha256', this.signingKey).update(`${jobId}:${expires}`).digest('hex');
  }

  /** The redirect host stands for object storage: presigned URLs, its own origin and errors. */
  private async handleRedirect(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.stats.redirectRequests++;
    const seen = `${req.url ?? ''}\n${JSON.stringify(req.headers)}`;
    if (req.headers.authorization !== undefined || Object.values(this.tokens).some((t) => seen.includes(t))) this.stats.redirectAuthLeaks++;
    await this.delay();
    const url = new URL(req.url ?? '/', this.redirectUrl ?? 'http://127.0.0.1');
    const m = /^\/logs\/([^/]+)\.txt$/.exec(url.pathname);
    const xml = (status: number, code: string): void =>
      this.send(req, res, status, `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code></Error>`, { 'Content-Type': 'application/xml' });
    const scripted = this.takeScripted('redirect');
    if (scripted !== null) {
      this.stats.scripted++;
      if (typeof scripted === 'number') return xml(scripted, scripted === 403 ? 'AccessDenied' : scripted === 404 ? 'NoSuchKey' : 'InternalError');
      return this.fail(req, res, scripted, () => undefined);
    }
    if (!m || !this.dataset.logExists(m[1] as string)) return xml(404, 'NoSuchKey');
    const expires = url.searchParams.get('Expires') ?? '';
    if (url.searchParams.get('Signature') !== this.sign(m[1] as string, expires)) return xml(403, 'AccessDenied');
    return this.serveText(req, res, m[1] as string, {});
  }

  private acceptsGzip(req: IncomingMessage): boolean {
    return this.options.gzip === true && req.method === 'GET' && /\bgzip\b/i.test(req.headers['accept-encoding'] ?? '');
  }

  /** Where in a body of `length` bytes a fault that strikes with probability `rate` happens, if it does. */
  private faultPoint(rate: number, length: number): number | null {
    if (length < 2 || rate <= 0 || !this.faultRng.chance(rate)) return null;
    return Math.max(1, Math.floor(length * (0.1 + 0.8 * this.faultRng.next())));
  }

  private async serveText(req: IncomingMessage, res: ServerResponse, jobId: string, base: Record<string, string>): Promise<void> {
    const size = this.dataset.logSize(jobId);
    const range = parseRange(req.headers.range, size);
    if (range === 'invalid') return this.send(req, res, 416, '', { ...base, 'Content-Range': `bytes */${size}` });
    const { start, end } = range ?? { start: 0, end: size };
    const gzip = range === null && this.acceptsGzip(req);
    const headers: Record<string, string | number> = { ...base, 'Content-Type': 'text/plain; charset=utf-8', 'Accept-Ranges': 'bytes' };
    if (gzip) Object.assign(headers, { 'Content-Encoding': 'gzip', Vary: 'Accept-Encoding' });
    // Never gzipped on HEAD, so HEAD always reports the identity length a client sizes a log by.
    else headers['Content-Length'] = end - start;
    if (range) headers['Content-Range'] = `bytes ${start}-${end - 1}/${size}`;
    this.writeHead(res, range ? 206 : 200, headers);
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    await this.pump(res, this.dataset.logChunks(jobId, start, end), gzip, this.faultPoint(this.faults.cutRate, end - start), this.faultPoint(this.faults.stallRate, end - start));
  }

  private async serveJsonLog(req: IncomingMessage, res: ServerResponse, logUrl: string, jobId: string, base: Record<string, string>): Promise<void> {
    const gzip = this.acceptsGzip(req);
    const headers: Record<string, string> = { ...base, 'Content-Type': 'application/json; charset=utf-8' };
    if (gzip) Object.assign(headers, { 'Content-Encoding': 'gzip', Vary: 'Accept-Encoding' });
    this.writeHead(res, 200, headers);
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const size = this.dataset.logSize(jobId);
    const dataset = this.dataset;
    // Streamed so a big log never sits in memory as one string.
    function* body(): Generator<Buffer> {
      yield Buffer.from(`{"url":${JSON.stringify(logUrl)},"content":"`);
      const decoder = new TextDecoder('utf-8');
      for (const chunk of dataset.logChunks(jobId)) yield Buffer.from(JSON.stringify(decoder.decode(chunk, { stream: true })).slice(1, -1));
      yield Buffer.from(`${JSON.stringify(decoder.decode()).slice(1, -1)}","size":${size},"header_times":${JSON.stringify(dataset.headerTimes(jobId))}}`);
    }
    await this.pump(res, body(), gzip, this.faultPoint(this.faults.cutRate, size), this.faultPoint(this.faults.stallRate, size));
  }

  /**
   * Writes chunks with backpressure, at `bandwidth` bytes/s, cutting the connection at `cutAt`
   * and pausing for `stallMs` at `stallAt` (a cut wins over a stall).
   */
  private async pump(res: ServerResponse, chunks: Iterable<Buffer>, gzip: boolean, cutAt: number | null, stallAt: number | null = null): Promise<void> {
    const bandwidth = this.options.bandwidth ?? 0;
    const piece = bandwidth > 0 ? Math.min(65_536, Math.max(1024, Math.floor(bandwidth / 20))) : 65_536;
    const zip = gzip ? createGzip() : null;
    if (zip) {
      zip.on('data', (c: Buffer) => (this.stats.bytesSent += c.length));
      zip.pipe(res);
    }
    const out: Writable = zip ?? res;
    let t0 = Date.now();
    let sent = 0;
    let stallPending = stallAt !== null && (cutAt === null || stallAt < cutAt);
    try {
      for (const chunk of chunks) {
        for (let off = 0; off < chunk.length; off += piece) {
          if (res.destroyed) return;
          let part = chunk.subarray(off, off + piece);
          if (stallPending && sent + part.length >= (stallAt as number)) {
            stallPending = false;
            const before = part.subarray(0, (stallAt as number) - sent);
            await new Promise<void>((resolve) => out.write(before, () => resolve()));
            if (zip) await new Promise<void>((resolve) => zip.flush(() => resolve()));
            if (!zip) this.stats.bytesSent += before.length;
            sent += before.length;
            part = part.subarray(before.length);
            this.stats.stalls++;
            const pausedAt = Date.now();
            await sleepUnlessClosed(this.faults.stallMs, res);
            if (res.destroyed) return;
            t0 += Date.now() - pausedAt;
          }
          const cut = cutAt !== null && sent + part.length >= cutAt;
          if (cut) part = part.subarray(0, (cutAt as number) - sent);
          if (!zip) this.stats.bytesSent += part.length;
          sent += part.length;
          if (cut) {
            await new Promise<void>((resolve) => out.write(part, () => resolve()));
            if (zip) await new Promise<void>((resolve) => zip.flush(() => resolve()));
            await sleep(5);
            this.stats.cuts++;
            res.destroy();
            return;
          }
          if (!out.write(part)) await drained(out, res);
          if (bandwidth > 0) {
            const wait = t0 + (sent / bandwidth) * 1000 - Date.now();
            if (wait > 0) await sleep(wait);
          }
        }
      }
      out.end();
    } finally {
      if (zip && res.destroyed) zip.destroy();
    }
  }
}

/** Starts the simulator on 127.0.0.1 (port 0 unless `port` is given). */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const sim = new SimulatorServer(options);
  await sim.start();
  return sim;
}
