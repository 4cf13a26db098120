// Buildkite's two REST rate-limit windows (docs/buildkite-api.md, "Rate limits"): one per
// organization and one per user of the token. Both are fixed windows that start at the first
// request of the window, every request counts (429s and log downloads included), and exceeding
// either answers 429. There is no Retry-After: clients must read the reset from the headers or
// the body.

export class FixedWindow {
  private start: number | null = null;
  private count = 0;

  constructor(
    readonly limit: number,
    private readonly windowMs: number,
  ) {}

  private roll(now: number): void {
    if (this.start === null || now >= this.start + this.windowMs) {
      this.start = now;
      this.count = 0;
    }
  }

  /** Counts one request; returns the count within the window. */
  hit(now: number): number {
    this.roll(now);
    return ++this.count;
  }

  current(now: number): number {
    if (this.start === null || now >= this.start + this.windowMs) return 0;
    return this.count;
  }

  exceeded(now: number): boolean {
    return this.current(now) > this.limit;
  }

  remaining(now: number): number {
    return Math.max(0, this.limit - this.current(now));
  }

  /** Whole seconds until the window resets (rounded up), as the headers report it. */
  resetSeconds(now: number): number {
    if (this.start === null || now >= this.start + this.windowMs) return Math.ceil(this.windowMs / 1000);
    return Math.max(1, Math.ceil((this.start + this.windowMs - now) / 1000));
  }
}

export type RateLimitScope = 'rest_org' | 'rest_user';

export function rateLimitMessage(reset: number): string {
  return `You have exceeded your API rate limit. Please wait ${reset} seconds before making more requests.`;
}

/** The headers Buildkite sends on every REST response. */
export function rateLimitHeaders(org: FixedWindow, user: FixedWindow, now: number): Record<string, string> {
  const headers: Record<string, string> = {
    'RateLimit-Scope': 'rest_org',
    'RateLimit-Limit': String(org.limit),
    'RateLimit-Remaining': String(org.remaining(now)),
    'RateLimit-Reset': String(org.resetSeconds(now)),
    'RateLimit-User-Limit': String(user.limit),
    'RateLimit-User-Remaining': String(user.remaining(now)),
    'RateLimit-User-Reset': String(user.resetSeconds(now)),
  };
  if (org.remaining(now) === 0) headers['RateLimit-Warning'] = rateLimitMessage(org.resetSeconds(now));
  if (user.remaining(now) === 0) headers['RateLimit-User-Warning'] = rateLimitMessage(user.resetSeconds(now));
  return headers;
}
