// Shared by the reliability tests: settings for an in-process scan against a simulator, fast
// retries, and the comparison with the simulator's ground truth.

import { afterEach } from 'vitest';
import type { RetryPolicy } from '../../src/buildkite/http.ts';
import { NO_RAW_SETTINGS, parseSettings, type RawSettings, type Settings } from '../../src/settings.ts';
import {
  expectedMatches,
  startSimulator,
  type ExpectedMatch,
  type GroundTruthQuery,
  type Simulator,
  type SimulatorOptions,
} from '../../src/simulator/index.ts';

/** Retries as the product does them, with millisecond delays and a wider budget so that
 * fault rates of 20-30 % cannot exhaust it by chance. */
export const FAST_RETRY: RetryPolicy = { retries: 8, rateLimitRetries: 8, baseDelayMs: 2, maxDelayMs: 32 };

/** Scan options with FAST_RETRY. */
export const fast = { http: { retry: FAST_RETRY } } as const;

/**
 * A factory of small simulators with generous rate limits (unless a test sets its own), each
 * closed after the test that started it. Call once at the top of a test file.
 */
export function useSimulators(defaults: SimulatorOptions): (options?: SimulatorOptions) => Promise<Simulator> {
  const sims: Simulator[] = [];
  afterEach(async () => {
    await Promise.all(sims.splice(0).map((s) => s.close()));
  });
  return async (options = {}) => {
    const sim = await startSimulator({
      seed: 7,
      rateLimit: { orgLimit: 100_000, userLimit: 100_000 },
      ...defaults,
      ...options,
    });
    sims.push(sim);
    return sim;
  };
}

export interface Query {
  readonly maxBuilds: number;
  readonly branchRegex: string;
  readonly step: string;
  readonly patterns: readonly string[];
  readonly regex: boolean;
}

/** Settings for `scan()` against `sim`, with the same query the oracle is asked. */
export function settingsFor(sim: Simulator, query: Query, extra: Partial<RawSettings> = {}): Settings {
  return parseSettings(
    {
      ...NO_RAW_SETTINGS,
      token: sim.token,
      apiUrl: sim.url,
      maxBuilds: String(query.maxBuilds),
      branchRegex: query.branchRegex,
      step: query.step,
      patterns: query.patterns,
      regex: query.regex ? 'true' : 'false',
      ...extra,
    },
    () => {
      throw new Error('no patterns file in these tests');
    },
  );
}

export function truth(sim: Simulator, query: Query): ExpectedMatch[] {
  const q: GroundTruthQuery = { ...query };
  return expectedMatches(sim.dataset, q);
}

export { expectSameMatches } from '../support/matches.ts';
