// Listing builds the way a big pipeline needs: past Buildkite's refusal of deep page numbers,
// and with smaller pages when a page is too slow to arrive.

import { describe, expect, it } from 'vitest';
import { scan } from '../../src/pipeline/scan.ts';
import { expectedCounts, SIGNATURES } from '../../src/simulator/index.ts';
import { expectSameMatches, fast, FAST_RETRY, settingsFor, truth, useSimulators, type Query } from './support.ts';

const PATTERNS = [SIGNATURES.kvTokens, SIGNATURES.cudaIllegalAccess, SIGNATURES.connectionReset];
const simulator = useSimulators({ builds: 260, logLines: [20, 60] });

/** List requests that reached the builds list (scripted failures never do). */
const listUrls = (sim: { stats: { listRequests: number } }) => sim.stats.listRequests;

describe('listing builds', () => {
  it('goes on past the deep-page refusal with created_to, losing and repeating no build', async () => {
    // Pages past 2 answer 400 "Listing builds this deep is not supported".
    const sim = await simulator({ maxPage: 2 });
    const query: Query = {
      maxBuilds: 250,
      branchRegex: '.*',
      step: 'v1 Test others',
      patterns: PATTERNS,
      regex: false,
    };
    const report = await scan(settingsFor(sim, query), fast);
    expect(report.stats.builds_scanned).toBe(250);
    expect(report.stats.jobs_selected).toBe(expectedCounts(sim.dataset, query).jobs_selected);
    expectSameMatches(report.matches, truth(sim, query));
    // Pages 1 and 2, the refused page 3, then page 1 again below the oldest build seen.
    expect(listUrls(sim)).toBe(4);
    expect(sim.stats.byStatus[400]).toBe(1);
  });

  it('asks for half the page when a page stops arriving, and completes', async () => {
    const sim = await simulator();
    // The first two list requests get no answer until the client gives up.
    sim.failNext('list', 2, 'hang');
    const query: Query = {
      maxBuilds: 200,
      branchRegex: '.*',
      step: 'v1 Test others',
      patterns: PATTERNS,
      regex: false,
    };
    const report = await scan(settingsFor(sim, query), { http: { retry: FAST_RETRY, apiTimeoutMs: 300 } });
    expect(report.stats.builds_scanned).toBe(200);
    expectSameMatches(report.matches, truth(sim, query));
    // 100 a page (no answer), 50 (no answer), then 25 a page: 8 pages served.
    expect(sim.stats.scripted).toBe(2);
    expect(listUrls(sim)).toBe(8);
  });
});
