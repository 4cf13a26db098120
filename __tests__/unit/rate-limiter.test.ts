import { describe, expect, it } from 'vitest';
import { RateLimiter, type Clock } from '../../src/buildkite/rate-limiter.ts';
import { nextLink } from '../../src/buildkite/client.ts';

/** A clock whose sleep advances virtual time: no real waiting. */
function virtualClock(): Clock & { slept: number[] } {
  let now = 1_000_000;
  const slept: number[] = [];
  return { slept, now: () => now, random: () => 0, sleep: async (ms) => { slept.push(ms); now += ms; } };
}
const headers = (h: Record<string, string>) => (name: string) => h[name] ?? null;

describe('RateLimiter', () => {
  it('spends the user window, then waits for its reset instead of meeting a 429', async () => {
    const clock = virtualClock();
    const limiter = new RateLimiter(clock);
    await limiter.acquire();
    limiter.release(headers({ 'ratelimit-limit': '400', 'ratelimit-remaining': '399', 'ratelimit-reset': '60', 'ratelimit-user-limit': '3', 'ratelimit-user-remaining': '2', 'ratelimit-user-reset': '10' }));
    await limiter.acquire();
    limiter.release(null);
    await limiter.acquire();
    limiter.release(null);
    expect(clock.slept).toEqual([]);
    await limiter.acquire(); // the user window is spent: wait 10 s for its reset
    expect(clock.slept).toEqual([10_000]);
  });

  it('after a 429 waits for the reset the exceeded scope names', async () => {
    const clock = virtualClock();
    const limiter = new RateLimiter(clock);
    const wait = limiter.exhausted('user', 42);
    expect(wait).toBe(42_000);
    await limiter.acquire();
    expect(clock.slept).toEqual([42_000]);
  });

  it('does nothing without headers', async () => {
    const clock = virtualClock();
    const limiter = new RateLimiter(clock);
    for (let i = 0; i < 100; i++) {
      await limiter.acquire();
      limiter.release(headers({}));
    }
    expect(clock.slept).toEqual([]);
  });
});

describe('nextLink', () => {
  it('finds rel="next" among prev/first/last', () => {
    const link = '<https://api.buildkite.com/v2/x?page=1>; rel="first", <https://api.buildkite.com/v2/x?page=3>; rel="next", <https://api.buildkite.com/v2/x?page=9>; rel="last"';
    expect(nextLink(link)).toBe('https://api.buildkite.com/v2/x?page=3');
    expect(nextLink('<https://a/x?page=1>; rel="prev"')).toBeNull();
    expect(nextLink(null)).toBeNull();
  });
});
