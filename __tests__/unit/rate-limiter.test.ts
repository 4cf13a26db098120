import { describe, expect, it } from 'vitest';
import { RateLimiter, type Clock } from '../../src/buildkite/rate-limiter.ts';
import { nextLink } from '../../src/buildkite/client.ts';

/** A clock whose sleep advances virtual time: no real waiting. */
function virtualClock(): Clock & { slept: number[] } {
  let now = 1_000_000;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    random: () => 0,
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
  };
}
const headers = (h: Record<string, string>) => (name: string) => h[name] ?? null;

const window = (user: { limit: number; remaining: number; reset: number }) =>
  headers({
    'ratelimit-limit': '400',
    'ratelimit-remaining': '399',
    'ratelimit-reset': '60',
    'ratelimit-user-limit': String(user.limit),
    'ratelimit-user-remaining': String(user.remaining),
    'ratelimit-user-reset': String(user.reset),
  });

describe('RateLimiter', () => {
  it('spends the user window, then waits for its reset instead of meeting a 429', async () => {
    const clock = virtualClock();
    const limiter = new RateLimiter(clock);
    limiter.release(await limiter.acquire(), window({ limit: 3, remaining: 2, reset: 10 }));
    limiter.release(await limiter.acquire(), null);
    limiter.release(await limiter.acquire(), null);
    expect(clock.slept).toEqual([]);
    await limiter.acquire(); // the user window is spent: wait 10 s for its reset
    expect(clock.slept).toEqual([10_000]);
  });

  it('does not count requests in flight twice: a window is used to its limit', async () => {
    const clock = virtualClock();
    const limiter = new RateLimiter(clock);
    // Learn the window, with a 100 ms round trip.
    const first = await limiter.acquire();
    await clock.sleep(100);
    limiter.release(first, window({ limit: 50, remaining: 49, reset: 60 }));
    clock.slept.length = 0;
    // 16 in flight, all sent more than a round trip before the first answer: the server has
    // counted them all when it says 33 remain, so 33 more may go without waiting.
    const tickets = await Promise.all(Array.from({ length: 16 }, () => limiter.acquire()));
    await clock.sleep(150);
    limiter.release(tickets[0]!, window({ limit: 50, remaining: 33, reset: 60 }));
    for (let i = 0; i < 33; i++) await limiter.acquire();
    expect(clock.slept).toEqual([150]);
    await limiter.acquire();
    expect(clock.slept[1]).toBeGreaterThan(59_000);
  });

  it('ignores a late answer from the previous window', async () => {
    const clock = virtualClock();
    const limiter = new RateLimiter(clock);
    limiter.release(await limiter.acquire(), window({ limit: 2, remaining: 1, reset: 5 }));
    const old = await limiter.acquire(); // the last request of the window, answered late
    await limiter.acquire(); // waits 5 s: the window reopens
    expect(clock.slept).toEqual([5_000]);
    limiter.release(old, window({ limit: 2, remaining: 0, reset: 1 }));
    await limiter.acquire(); // still budget in the new window: no wait for the stale "0 left"
    expect(clock.slept).toEqual([5_000]);
  });

  it('after a 429 waits for the reset the exceeded scope names, whatever later answers say', async () => {
    const clock = virtualClock();
    const limiter = new RateLimiter(clock);
    const ticket = await limiter.acquire();
    expect(limiter.exhausted('user', 42)).toBe(42_000);
    limiter.release(ticket, window({ limit: 50, remaining: 10, reset: 59 }));
    await limiter.acquire();
    expect(clock.slept).toEqual([42_000]);
  });

  it('does not burst past the limit when a window reopens before any answer', async () => {
    const clock = virtualClock();
    const limiter = new RateLimiter(clock);
    limiter.release(await limiter.acquire(), window({ limit: 3, remaining: 0, reset: 5 }));
    const sent = await Promise.all([limiter.acquire(), limiter.acquire(), limiter.acquire()]); // after the 5 s reset
    expect(clock.slept).toHaveLength(1);
    let fourth = false;
    const waiting = limiter.acquire().then((t) => {
      fourth = true;
      return t;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(fourth).toBe(false); // the window's 3 are in flight and its reset is not known yet
    limiter.release(sent[0]!, window({ limit: 3, remaining: 0, reset: 4 }));
    await waiting; // the answer told the reset: the fourth waited for it
    expect(fourth).toBe(true);
    expect(clock.slept.at(-1)).toBeGreaterThanOrEqual(4_000);
  });

  it('does nothing without headers', async () => {
    const clock = virtualClock();
    const limiter = new RateLimiter(clock);
    for (let i = 0; i < 100; i++) limiter.release(await limiter.acquire(), headers({}));
    expect(clock.slept).toEqual([]);
  });
});

describe('nextLink', () => {
  it('finds rel="next" among prev/first/last', () => {
    const link =
      '<https://api.buildkite.com/v2/x?page=1>; rel="first", <https://api.buildkite.com/v2/x?page=3>; rel="next", <https://api.buildkite.com/v2/x?page=9>; rel="last"';
    expect(nextLink(link)).toBe('https://api.buildkite.com/v2/x?page=3');
    expect(nextLink('<https://a/x?page=1>; rel="prev"')).toBeNull();
    expect(nextLink(null)).toBeNull();
  });
});
