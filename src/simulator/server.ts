// A loopback HTTP server that answers like Buildkite's REST API v2 (docs/buildkite-api.md),
// serving a generated dataset, with switches for the misbehaviour a real client meets. This file
// puts the parts together: each API request passes the gate (gate.ts), then its endpoint answers
// (routes.ts, log-routes.ts) through the transport (transport.ts); a second server stands for the
// object storage that log redirects lead to.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateDataset, type Dataset } from './dataset.ts';
import { Gate, makeToken, type Tokens } from './gate.ts';
import { LogRoutes } from './log-routes.ts';
import {
  emptyStats,
  type FailureMode,
  type Faults,
  type MutableStats,
  type RequestKind,
  type SimulatorOptions,
  type SimulatorStats,
} from './options.ts';
import { ApiRoutes, requestKind } from './routes.ts';
import { Transport, type Reply } from './transport.ts';

export interface Simulator {
  /** The API base (pass as --api-url). */
  readonly url: string;
  /** A token with read_builds, read_build_logs and read_pipelines. */
  readonly token: string;
  /** Any other token answers 401. */
  readonly tokens: Tokens;
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

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

class SimulatorServer implements Simulator {
  url = '';
  redirectUrl: string | null = null;
  readonly token: string;
  readonly tokens: Tokens;
  dataset!: Dataset;
  readonly stats: MutableStats = emptyStats();
  private readonly gate: Gate;
  private readonly transport: Transport;
  private readonly api: Server;
  private readonly redirect: Server | null;
  // Made once the origins, and so the dataset's URLs, are known.
  private routes!: ApiRoutes;
  private logs!: LogRoutes;

  constructor(private readonly options: SimulatorOptions) {
    this.gate = new Gate(options, this.stats);
    this.tokens = this.gate.tokens;
    this.token = this.tokens.valid;
    this.transport = new Transport(this.stats, options.bandwidth ?? 0);
    this.api = createServer((req, res) => this.track(req, res, () => this.handleApi(req, res)));
    this.redirect = options.redirectLogs
      ? createServer((req, res) => this.track(req, res, () => this.logs.handleRedirect(req, res)))
      : null;
    for (const server of [this.api, this.redirect]) if (server) server.keepAliveTimeout = 30_000;
  }

  async start(): Promise<void> {
    const port = await listen(this.api, this.options.port ?? 0);
    this.url = `http://127.0.0.1:${port}`;
    if (this.redirect) this.redirectUrl = `http://127.0.0.1:${await listen(this.redirect, 0)}`;
    const o = this.options;
    const seed = o.seed ?? 1;
    this.dataset = generateDataset({
      seed,
      org: o.org ?? 'vllm',
      pipeline: o.pipeline ?? 'ci',
      defaultBranch: o.defaultBranch ?? 'main',
      builds: o.builds ?? 300,
      jobsPerBuild: o.jobsPerBuild ?? [6, 14],
      shape: o.shape ?? 'default',
      logLines: o.logLines ?? [40, 400],
      bigLogs: o.bigLogs ?? { count: 0, bytes: 0 },
      hostile: o.hostile === true,
      apiUrl: this.url,
    });
    const { dataset, gate, transport, stats } = this;
    this.logs = new LogRoutes({
      dataset,
      gate,
      transport,
      stats,
      gzip: o.gzip === true,
      redirectUrl: this.redirectUrl,
      signingKey: makeToken(seed, 'signing-key'),
      now: o.now ?? Date.now,
    });
    this.routes = new ApiRoutes({
      dataset,
      stats,
      logs: this.logs,
      transport,
      origin: this.url,
      hostile: o.hostile === true,
      maxPage: o.maxPage ?? 50,
      pageCache: o.pageCache ?? 0,
    });
  }

  setFaults(faults: Partial<Faults>): void {
    this.gate.setFaults(faults);
  }

  failNext(kind: RequestKind, times: number, mode: FailureMode, after = 0): void {
    this.gate.failNext(kind, times, mode, after);
  }

  brokenLog(jobId: string): boolean {
    return this.gate.brokenLog(jobId);
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
      this.transport.writeHead(res, 500, { 'Content-Type': 'application/json' });
      res.end(
        JSON.stringify({ message: `simulator error: ${error instanceof Error ? error.message : String(error)}` }),
      );
      req.resume();
    });
  }

  private async handleApi(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.stats.requests++;
    const url = new URL(req.url ?? '/', this.url);
    const entry = this.gate.enter(req);
    await this.gate.delay();
    const reply: Reply = (status, body, extra = {}) =>
      this.transport.json(req, res, status, body, { ...entry.limits, ...extra });
    const verdict = this.gate.check(entry, requestKind(url));
    switch (verdict.kind) {
      case 'pass':
        return this.routes.route({ req, res, url, scopes: verdict.scopes, limits: entry.limits, reply });
      case 'answer':
        return reply(verdict.status, verdict.body, verdict.headers);
      case 'fail':
        return this.transport.fail(req, res, verdict.mode, reply, this.gate.faults.echoAuth);
    }
  }
}

/** Starts the simulator on 127.0.0.1 (port 0 unless `port` is given). */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const sim = new SimulatorServer(options);
  await sim.start();
  return sim;
}
