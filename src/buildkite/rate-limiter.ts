// Pacing requests by Buildkite's rate-limit headers so that 429s do not happen.
//
// Two fixed windows apply to every request: per organization (`RateLimit-*`) and per user of
// the token (`RateLimit-User-*`, 50/min by default: the real ceiling for one token). Every
// response says how many requests remain and in how many seconds the window resets. Buildkite
// sends no Retry-After (shared/buildkite-api.md), so we keep a local budget per window:
// spend it, then wait for the reset. That runs a scan at the floor (requests / limit windows)
// instead of bursting into 429s and backing off.

export type Scope = 'org' | 'user';

/** Reads a response header by lower-case name. */
export type HeaderLookup = (name: string) => string | null;

interface Window {
  limit: number;
  /** Requests we may still send in this window, our own in-flight ones already deducted. */
  budget: number;
  /** When the window resets (ms since epoch). */
  resetAt: number;
}

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
  random(): number;
}

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: () => Math.random(),
};

/** Jitter added to every wait for a reset, so many clients do not wake at the same instant. */
const JITTER_MS = 250;

export class RateLimiter {
  private readonly windows = new Map<Scope, Window>();
  private inFlight = 0;

  constructor(private readonly clock: Clock = realClock) {}

  /** Waits until every known window has budget, then takes one request from each. */
  async acquire(): Promise<void> {
    for (;;) {
      const now = this.clock.now();
      let waitUntil = 0;
      for (const w of this.windows.values()) {
        if (now >= w.resetAt) {
          // A new window: the server starts counting afresh.
          w.budget = w.limit - this.inFlight;
          w.resetAt = Number.POSITIVE_INFINITY;
        }
        if (w.budget <= 0 && Number.isFinite(w.resetAt)) waitUntil = Math.max(waitUntil, w.resetAt);
      }
      if (waitUntil === 0) break;
      await this.clock.sleep(waitUntil - now + this.clock.random() * JITTER_MS);
    }
    for (const w of this.windows.values()) w.budget--;
    this.inFlight++;
  }

  /** Records a response's rate-limit headers (call once per acquire, whatever the outcome). */
  release(headers: HeaderLookup | null): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    if (!headers) return;
    this.update('org', headers, 'ratelimit-');
    this.update('user', headers, 'ratelimit-user-');
  }

  /**
   * After a 429: the exceeded window is empty until its reset. Returns how long to wait, from
   * the header of that scope, else the body's `reset`, else a minute.
   */
  exhausted(scope: Scope, resetSeconds: number | null): number {
    const waitMs = (resetSeconds ?? 60) * 1000;
    const w = this.windows.get(scope) ?? { limit: 1, budget: 0, resetAt: 0 };
    w.budget = 0;
    w.resetAt = this.clock.now() + waitMs;
    this.windows.set(scope, w);
    return waitMs + this.clock.random() * JITTER_MS;
  }

  private update(scope: Scope, headers: HeaderLookup, prefix: string): void {
    const limit = numberHeader(headers, `${prefix}limit`);
    const remaining = numberHeader(headers, `${prefix}remaining`);
    const reset = numberHeader(headers, `${prefix}reset`);
    if (limit === null || remaining === null || reset === null) return;
    const resetAt = this.clock.now() + reset * 1000;
    const w = this.windows.get(scope);
    // `Reset` is whole seconds: a reset more than a second later than the one we hold means
    // the server opened a new window since.
    if (!w || !Number.isFinite(w.resetAt) || resetAt > w.resetAt + 1000) {
      this.windows.set(scope, { limit, budget: remaining - this.inFlight, resetAt });
    } else {
      w.limit = limit;
      w.budget = Math.min(w.budget, remaining - this.inFlight);
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
