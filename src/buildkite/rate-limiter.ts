// Pacing requests by Buildkite's rate-limit headers so that 429s do not happen.
//
// Two fixed windows apply to every request: per organization (`RateLimit-*`) and per user of
// the token (`RateLimit-User-*`, 50/min by default: the real ceiling for one token). Every
// response says how many requests remain and in how many seconds the window resets. Buildkite
// sends no Retry-After (docs/buildkite-api.md, "Rate limits"), so we keep a local budget per window:
// spend it, then wait for the reset. That runs a scan at the floor (requests / limit windows)
// instead of bursting into 429s and backing off.

export type Scope = 'org' | 'user';

/** Reads a response header by lower-case name. */
export type HeaderLookup = (name: string) => string | null;

interface Window {
  limit: number;
  /** Requests we may still send in this window. */
  budget: number;
  /** When the window resets (ms since epoch); +Infinity once passed, until a response says. */
  resetAt: number;
  /** When we last saw this window open: answers to requests sent before it are stale. */
  openedAt: number;
  /** After a 429, nothing reopens the window before this time. */
  heldUntil: number;
}

/** One request's place in the pacing: returned by acquire(), handed back to release(). */
interface Ticket {
  readonly sentAt: number;
}

export interface Clock {
  now(): number;
  /** Resolves after `ms`, or at once when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  random(): number;
}

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
    }),
  random: () => Math.random(),
};

/** A wait for a window's reset: until when, for which window, and its limit per window. */
export interface RateLimitWait {
  readonly untilMs: number;
  readonly scope: Scope;
  readonly limit: number | null;
}

/** Jitter added to every wait for a reset, so many clients do not wake at the same instant. */
const JITTER_MS = 250;

export class RateLimiter {
  private readonly windows = new Map<Scope, Window>();
  /** Requests sent and not yet answered. */
  private readonly inFlight = new Set<Ticket>();
  /** The shortest round trip seen: about the network's share of every round trip. */
  private minRtt = Number.POSITIVE_INFINITY;

  /** The reset last reported to `onWait`, so concurrent waiters report one wait, not many. */
  private reportedUntil = 0;

  constructor(
    private readonly clock: Clock = realClock,
    /** Told when requests start waiting for a window to reset (once per wait). */
    private readonly onWait: (wait: RateLimitWait) => void = () => undefined,
  ) {}

  /** Reports a wait until `untilMs` unless one until then (or later) was reported already. */
  noteWait(untilMs: number, scope: Scope): void {
    if (untilMs <= this.reportedUntil) return;
    this.reportedUntil = untilMs;
    this.onWait({ untilMs, scope, limit: this.windows.get(scope)?.limit ?? null });
  }

  /**
   * Waits until every known window has budget, then takes one request from each. When
   * `signal` aborts, stops waiting and takes the request anyway: the caller checks the signal.
   */
  async acquire(signal?: AbortSignal): Promise<Ticket> {
    while (!signal?.aborted) {
      const now = this.clock.now();
      let waitUntil = 0;
      let waitScope: Scope = 'user';
      let unknownReset = false;
      for (const [scope, w] of this.windows) {
        if (now >= w.resetAt && now >= w.heldUntil) {
          // The window has reset: the server starts counting afresh.
          w.budget = w.limit - this.inFlight.size;
          w.resetAt = Number.POSITIVE_INFINITY;
          w.openedAt = now;
        }
        if (w.budget > 0) continue;
        if (Number.isFinite(w.resetAt)) {
          const until = Math.max(w.resetAt, w.heldUntil);
          if (until > waitUntil) [waitUntil, waitScope] = [until, scope];
        } else {
          unknownReset = true;
        }
      }
      if (waitUntil > 0) {
        this.noteWait(waitUntil, waitScope);
        await this.clock.sleep(waitUntil - now + this.clock.random() * JITTER_MS, signal);
      } else if (unknownReset && this.inFlight.size > 0) {
        // A reopened window spent before any answer told its reset: the next answer will.
        await this.nextRelease(signal);
      } else {
        break;
      }
    }
    for (const w of this.windows.values()) w.budget--;
    const ticket = { sentAt: this.clock.now() };
    this.inFlight.add(ticket);
    return ticket;
  }

  /**
   * Records a response's rate-limit headers (call once per acquire, whatever the outcome).
   * The server's `Remaining` counts every request that reached it before this answer left.
   * Subtracting all our requests still in flight would count most of them twice and leave a
   * window under-used by up to the concurrency; only those sent within the last network
   * round trip (the shortest seen) can still be on their way, so only they are subtracted.
   */
  release(ticket: Ticket, headers: HeaderLookup | null): void {
    this.inFlight.delete(ticket);
    this.wake();
    if (!headers) return;
    const now = this.clock.now();
    this.minRtt = Math.min(this.minRtt, now - ticket.sentAt);
    let uncounted = 0;
    for (const other of this.inFlight) if (other.sentAt > now - this.minRtt) uncounted++;
    this.update('org', headers, 'ratelimit-', ticket, uncounted);
    this.update('user', headers, 'ratelimit-user-', ticket, uncounted);
  }

  /**
   * After a 429: the exceeded window is empty until its reset. Returns how long to wait, from
   * the header of that scope, else the body's `reset`, else a minute.
   */
  exhausted(scope: Scope, resetSeconds: number | null): number {
    const now = this.clock.now();
    const waitMs = (resetSeconds ?? 60) * 1000;
    const w = this.windows.get(scope) ?? { limit: 1, budget: 0, resetAt: 0, openedAt: 0, heldUntil: 0 };
    w.budget = 0;
    w.resetAt = now + waitMs;
    w.heldUntil = now + waitMs;
    this.windows.set(scope, w);
    return waitMs + this.clock.random() * JITTER_MS;
  }

  private waiters: (() => void)[] = [];

  private nextRelease(signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        signal?.removeEventListener('abort', done);
        resolve();
      };
      this.waiters.push(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  /** Lets acquire() calls waiting for an answer look again (after the headers are read). */
  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    queueMicrotask(() => {
      for (const resolve of waiters) resolve();
    });
  }

  private update(scope: Scope, headers: HeaderLookup, prefix: string, ticket: Ticket, uncounted: number): void {
    const limit = numberHeader(headers, `${prefix}limit`);
    const remaining = numberHeader(headers, `${prefix}remaining`);
    const reset = numberHeader(headers, `${prefix}reset`);
    if (limit === null || remaining === null || reset === null) return;
    const now = this.clock.now();
    const resetAt = now + reset * 1000;
    const budget = remaining - uncounted;
    const w = this.windows.get(scope);
    if (!w) {
      this.windows.set(scope, { limit, budget, resetAt, openedAt: 0, heldUntil: 0 });
      return;
    }
    // An answer to a request sent before the window reopened describes the old window, and
    // shows that request counted there, not in the budget the reopening set aside for it.
    if (ticket.sentAt < w.openedAt) {
      w.budget++;
      return;
    }
    w.limit = limit;
    if (now < w.heldUntil) {
      w.budget = Math.min(w.budget, budget);
    } else if (!Number.isFinite(w.resetAt) || resetAt > w.resetAt + 1000) {
      // The first answer in a window we reopened, or (Reset being whole seconds) a reset more
      // than a second later than the one we hold: the server has opened a new window.
      w.budget = budget;
      w.resetAt = resetAt;
    } else {
      w.budget = Math.min(w.budget, budget);
      w.resetAt = Math.min(w.resetAt, resetAt);
    }
  }
}

function numberHeader(headers: HeaderLookup, name: string): number | null {
  const value = headers(name);
  if (value === null || value.trim() === '') return null;
  const n = Number(value);
  return Number.isFinite(n) && n >= 0 ? n : null;
}
