import { describe, expect, it } from 'vitest';
import { matchesOutput } from '../../src/action/outputs.ts';
import type { MatchRecord, ScanReport } from '../../src/core/types.ts';

const record = (i: number): MatchRecord => ({
  build_number: i,
  branch: 'b',
  state: 'failed',
  step_label: 's',
  pattern: 'p',
  snippet: 'x'.repeat(100),
  web_url: '',
  job_id: `j${i}`,
  job_url: '',
  job_state: 'failed',
  line: 1,
  count: 1,
  retried: false,
  pull_request: null,
  created_at: '',
});

describe('the matches output', () => {
  it('holds every record while they fit, else the first whole records that fit', () => {
    const report = {
      matches: Array.from({ length: 100 }, (_, i) => record(i)),
      discovered: [],
    } as unknown as ScanReport;
    const all = matchesOutput(report);
    expect(all.shown).toBe(100);
    expect(JSON.parse(all.json)).toEqual(report.matches);
    const cut = matchesOutput(report, 5000);
    expect(Buffer.byteLength(cut.json)).toBeLessThanOrEqual(5000);
    expect(cut.shown).toBeGreaterThan(10);
    expect(cut.shown).toBeLessThan(100);
    expect(JSON.parse(cut.json)).toEqual(report.matches.slice(0, cut.shown));
    // Discovered records follow the pattern matches, as in the CLI's --json.
    const found = { ...record(100), signature: 's', kind: 'infra', test_id: null, exception: null };
    const both = matchesOutput({ ...report, discovered: [found] } as unknown as ScanReport);
    expect(JSON.parse(both.json)).toEqual([...report.matches, found]);
  });
});
