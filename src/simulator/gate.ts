// What a request meets before any endpoint sees it, in the order Buildkite and a proxy in front
// of it apply them: the bearer token (401), the two rate-limit windows (429), then the faults
// switched on (429 bursts, `failNext` scripts, 5xx). Also the dice for latency and for the faults
// of log bodies, all from one seeded stream, so that a seed's faults fall the same way each run.

import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { MESSAGES } from './messages.ts';
import {
  NO_FAULTS,
  type FailureMode,
  type Faults,
  type MutableStats,
  type RequestKind,
  type SimulatorOptions,
} from './options.ts';
import { mixSeed, Rng } from './prng.ts';
import { FixedWindow, rateLimitHeaders, rateLimitMessage } from './rate-limit.ts';
import type { BodyFaults } from './transport.ts';

/** A Buildkite-shaped token derived from the seed, so that a seed's tokens are the same every run. */
export function makeToken(seed: number, name: string): string {
  return `bkua_${createHash('sha256').update(`flake-checker-simulator:${seed}:${name}`).digest('hex').slice(0, 40)}`;
}

export interface Tokens {
  readonly valid: string;
  readonly noLogScope: string;
  readonly noBuildScope: string;
}

/** A request as the gate let it in: its token's scopes (none: unauthenticated) and its rate-limit headers. */
export interface Entry {
  readonly scopes: readonly string[] | undefined;
  /** The `RateLimit-*` headers every API answer carries, counted with this request. */
  readonly limits: Record<string, string>;
  readonly now: number;
}

/**
 * What the gate decides: let the request through to its endpoint with its token's scopes, answer
 * it with a JSON body (401, 429), or fail it (`failNext`, 5xx faults).
 */
export type Verdict =
  | { readonly kind: 'pass'; readonly scopes: readonly string[] }
  | {
      readonly kind: 'answer';
      readonly status: number;
      readonly body: unknown;
      readonly headers?: Record<string, string>;
    }
  | { readonly kind: 'fail'; readonly mode: FailureMode };

interface Script {
  readonly kind: RequestKind;
  skip: number;
  left: number;
  readonly mode: FailureMode;
}

export class Gate {
  readonly tokens: Tokens;
  private current: Faults;
  private readonly scopes: Map<string, readonly string[]>;
  private readonly orgWindow: FixedWindow;
  private readonly userWindow: FixedWindow;
  private readonly rng: Rng;
  private readonly now: () => number;
  private burstCount = 0;
  private burstLeft = 0;
  private burstEndsAt = 0;
  private scripts: Script[] = [];

  constructor(
    private readonly options: SimulatorOptions,
    private readonly stats: MutableStats,
  ) {
    const seed = options.seed ?? 1;
    this.current = { ...NO_FAULTS, ...options.faults };
    this.tokens = {
      valid: makeToken(seed, 'valid'),
      noLogScope: makeToken(seed, 'no-log-scope'),
      noBuildScope: makeToken(seed, 'no-build-scope'),
    };
    this.scopes = new Map([
      [this.tokens.valid, ['read_builds', 'read_build_logs', 'read_pipelines']],
      [this.tokens.noLogScope, ['read_builds', 'read_pipelines']],
      [this.tokens.noBuildScope, ['read_build_logs']],
    ]);
    const windowMs = options.rateLimit?.windowMs ?? 60_000;
    this.orgWindow = new FixedWindow(options.rateLimit?.orgLimit ?? 400, windowMs);
    // One user owns all three tokens, so they share the user window, as they would at Buildkite.
    this.userWindow = new FixedWindow(options.rateLimit?.userLimit ?? 10_000, windowMs);
    this.rng = new Rng(mixSeed(seed, 99));
    this.now = options.now ?? Date.now;
  }

  get faults(): Readonly<Faults> {
    return this.current;
  }

  setFaults(faults: Partial<Faults>): void {
    this.current = { ...this.current, ...faults };
    if (this.current.burst429 === 0) this.burstLeft = 0;
  }

  failNext(kind: RequestKind, times: number, mode: FailureMode, after = 0): void {
    if (times > 0) this.scripts.push({ kind, skip: after, left: times, mode });
  }

  /** The scripted failure for this request, if one is due; counted in `stats.scripted`. */
  takeScripted(kind: RequestKind): FailureMode | null {
    const entry = this.scripts.find(
      (e) => e.left > 0 && (e.kind === kind || (e.kind === 'any' && kind !== 'redirect')),
    );
    if (!entry) return null;
    if (entry.skip > 0) {
      entry.skip--;
      return null;
    }
    entry.left--;
    this.scripts = this.scripts.filter((e) => e.left > 0);
    this.stats.scripted++;
    return entry.mode;
  }

  brokenLog(jobId: string): boolean {
    const rate = this.current.failLogRate;
    if (rate <= 0) return false;
    // A hash of the job id: the same jobs fail on every request, whatever the request order.
    const h = createHash('sha256')
      .update(`${this.options.seed ?? 1}:${jobId}`)
      .digest()
      .readUInt32BE(0);
    return h / 0x1_0000_0000 < rate;
  }

  /** Counts an API request against its token's windows (every request counts, 429s included). */
  enter(req: IncomingMessage): Entry {
    const now = this.now();
    // Bearer only: Buildkite accepts no basic auth and no ?access_token=.
    const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
    const scopes = token === undefined ? undefined : this.scopes.get(token);
    if (scopes) {
      this.orgWindow.hit(now);
      this.userWindow.hit(now);
    }
    return { scopes, limits: rateLimitHeaders(this.orgWindow, this.userWindow, now), now };
  }

  /** Waits before a response head: the configured latency, plus `slowMs` for a `slowRate` share. */
  async delay(): Promise<void> {
    const { latencyMs } = this.options;
    let ms = Array.isArray(latencyMs)
      ? latencyMs[0] + this.rng.next() * (latencyMs[1] - latencyMs[0])
      : (latencyMs ?? 0);
    if (this.current.slowRate > 0 && this.rng.chance(this.current.slowRate)) ms += this.current.slowMs;
    if (ms > 0) await sleep(ms);
  }

  /** After the delay: whether the request reaches its endpoint, and if not, how it is answered. */
  check(entry: Entry, kind: RequestKind): Verdict {
    const { scopes, now } = entry;
    if (!scopes) return { kind: 'answer', status: 401, body: { message: MESSAGES.unauthenticated } };
    return this.overLimit(now) ?? this.inBurst(now) ?? this.injectedFailure(kind) ?? { kind: 'pass', scopes };
  }

  /** A 429 from whichever window is exceeded, the user's first. */
  private overLimit(now: number): Verdict | null {
    for (const [scope, window] of [
      ['rest_user', this.userWindow],
      ['rest_org', this.orgWindow],
    ] as const) {
      if (!window.exceeded(now)) continue;
      const reset = window.resetSeconds(now);
      const body = {
        message: rateLimitMessage(reset),
        scope,
        limit: window.limit,
        current: window.current(now),
        reset,
      };
      return { kind: 'answer', status: 429, body };
    }
    return null;
  }

  /** A 429 of a `burst429` burst: every N-th request starts one, which ends early when its second is over. */
  private inBurst(now: number): Verdict | null {
    const faults = this.current;
    if (faults.burst429 > 0 && ++this.burstCount % faults.burst429 === 0) {
      this.burstLeft = faults.burstLength;
      this.burstEndsAt = now + 1000;
    }
    if (this.burstLeft > 0 && now >= this.burstEndsAt) this.burstLeft = 0;
    if (this.burstLeft === 0) return null;
    this.burstLeft--;
    const limit = this.userWindow.limit;
    const current = limit + faults.burstLength - this.burstLeft;
    const headers = {
      'RateLimit-User-Remaining': '0',
      'RateLimit-User-Reset': '1',
      'RateLimit-User-Warning': rateLimitMessage(1),
    };
    const body = { message: rateLimitMessage(1), scope: 'rest_user', limit, current, reset: 1 };
    return { kind: 'answer', status: 429, body, headers };
  }

  /** A `failNext` script due for this kind, else a 5xx by `error5xxRate`. */
  private injectedFailure(kind: RequestKind): Verdict | null {
    const scripted = this.takeScripted(kind);
    if (scripted !== null) return { kind: 'fail', mode: scripted };
    const rate = this.current.error5xxRate;
    if (rate > 0 && this.rng.chance(rate)) return { kind: 'fail', mode: this.rng.pick([500, 502, 503]) };
    return null;
  }

  /** Whether a text-log request is answered with the JSON shape instead (`jsonLogRate`). */
  answersJsonLog(): boolean {
    return this.current.jsonLogRate > 0 && this.rng.chance(this.current.jsonLogRate);
  }

  /** Where a body of `length` bytes is cut and where it stalls, each by its rate. */
  bodyFaults(length: number): BodyFaults {
    const cutAt = this.faultPoint(this.current.cutRate, length);
    const stallAt = this.faultPoint(this.current.stallRate, length);
    return { cutAt, stallAt, stallMs: this.current.stallMs };
  }

  /** Where in a body of `length` bytes a fault that strikes with probability `rate` happens, if it does. */
  private faultPoint(rate: number, length: number): number | null {
    if (length < 2 || rate <= 0 || !this.rng.chance(rate)) return null;
    return Math.max(1, Math.floor(length * (0.1 + 0.8 * this.rng.next())));
  }
}
