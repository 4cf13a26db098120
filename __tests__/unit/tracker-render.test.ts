// The tracker issue's body: the managed block round-trips its state, keeps what people write
// around it, reports a block it cannot read instead of failing, and stays under GitHub's limit.

import { describe, expect, it } from 'vitest';
import type { Flake } from '../../src/core/flakes.ts';
import { ISSUE_BODY_MAX_CHARS, parseBody, renderBody, trackerId, trackerMarker } from '../../src/tracker/render.ts';
import { mergeRun, type TrackerRun, type TrackerState } from '../../src/tracker/state.ts';

const id = trackerId({ org: 'vllm', pipeline: 'ci', step: 'V1 Test others' });
const url = (n: number) => `https://buildkite.com/vllm/ci/builds/${n}`;

function flakeOf(pattern: string, builds: readonly number[], fields: Partial<Flake> = {}): Flake {
  return {
    pattern,
    verdict: 'flaky',
    reason: 'seen in several PRs',
    prs: builds.map((n) => String(1000 + n)),
    builds: builds.length,
    jobs: builds.length,
    passed_on_retry: 0,
    main_builds: 0,
    first_seen: new Date(Date.UTC(2026, 6, 1) + Math.min(...builds) * 3_600_000).toISOString(),
    last_seen: new Date(Date.UTC(2026, 6, 1) + Math.max(...builds) * 3_600_000).toISOString(),
    first_build: Math.min(...builds),
    last_build: Math.max(...builds),
    ...fields,
  };
}

function runOf(runAt: string, hits: Record<string, readonly number[]>, resolveAfter = 1): TrackerRun {
  const entries = Object.entries(hits);
  return {
    flakes: entries.map(([pattern, builds]) => flakeOf(pattern, builds)),
    matches: entries.flatMap(([pattern, builds]) => builds.map((n) => ({ build_number: n, web_url: url(n), pattern }))),
    runAt,
    resolveAfter,
  };
}

/** One active flake, one resolved. */
const state: TrackerState = mergeRun(
  mergeRun(null, runOf('2026-07-10T00:00:00Z', { 'FAILED tests/test_x.py': [30, 100], 'Timed out': [40] })),
  runOf('2026-07-11T00:00:00Z', { 'FAILED tests/test_x.py': [120, 130] }),
);

describe('renderBody', () => {
  it('shows active and resolved flakes, with the state hidden in the block', () => {
    const { body, state: stored, notes } = renderBody(state, { id, resolveAfter: 1 });
    expect(stored).toEqual(state);
    expect(notes).toEqual([]);
    expect(body.startsWith(trackerMarker(id))).toBe(true);
    const latest = [130, 120, 100, 30].map((n) => `[${n}](${url(n)})`).join(' ');
    expect(body.replace(/<!-- flake-checker:tracker:state .* -->/, '<!-- state -->').split('\n')).toEqual([
      `<!-- flake-checker:tracker:begin ${id} (rewritten on every run: write above or below this block) -->`,
      '',
      '**1 active flake** · 1 resolved. ' +
        'A flake is resolved after 1 run without a match, and active again on its next one.',
      '',
      '## Active',
      '',
      '| Pattern | Verdict | Seen in | First – last seen | Active for | Latest builds |',
      '|---|---|---|---|---|---|',
      `| \`FAILED tests/test_x.py\` | **flaky** | 4 PRs · 4 builds | Jul 2 – Jul 6 | 4 days | ${latest} |`,
      '',
      '## Resolved',
      '',
      '| Pattern | Verdict | Seen in | First – last seen | Resolved |',
      '|---|---|---|---|---|',
      '| `Timed out` | **flaky** | 1 PR · 1 build | Jul 2 | Jul 11 · quiet for 1 run |',
      '',
      '<sub>PRs and builds: totals over every run. Passed on retry: in the latest run that matched.</sub>',
      '',
      '<!-- state -->',
      '',
      '<!-- flake-checker:tracker:end -->',
    ]);
  });

  it('says so when nothing is tracked yet', () => {
    const { body } = renderBody(mergeRun(null, runOf('r1', {})), { id, resolveAfter: 3 });
    expect(body).toContain('**0 active flakes** · 0 resolved');
    expect(body).toContain('No active flakes.');
    expect(body).toContain('None yet.');
  });

  it('keeps hostile pattern text inert: no early end of a comment, no mention, no broken row', () => {
    const hostile = 'x --> <img src=x> @octocat | --!> `tick` #12';
    const one = mergeRun(null, runOf('r1', { [hostile]: [5] }));
    const { body } = renderBody(one, { id, resolveAfter: 3 });
    const lines = body.split('\n');
    const stateLine = lines.find((line) => line.startsWith('<!-- flake-checker:tracker:state'))!;
    // The state's comment ends where it should and nowhere before; it opens no markup.
    expect(stateLine.match(/-->|--!>/g)).toEqual(['-->']);
    expect(stateLine.endsWith(' -->')).toBe(true);
    expect(stateLine.slice('<!--'.length, -'-->'.length)).not.toMatch(/[<>]/);
    // What is shown is a code span: no mention, no raw HTML outside it.
    const shown = lines.filter((line) => line !== stateLine).join('\n');
    expect(shown).not.toMatch(/@octocat/);
    const row = body.split('\n').find((line) => line.includes('tick'))!;
    expect(row.replace(/\\\|/g, '').split('|')).toHaveLength(8);
    expect(parseBody(body).state).toEqual(one);
  });

  it('is at most 65,536 characters: rows are cut with a note, the state is kept whole', () => {
    const builds = (i: number) => [100, 200, 300, 400, 500].map((k) => k + i);
    const key = (i: number) => `FAILED tests/test_${i}.py::${'x'.repeat(90)}`;
    const hits = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [key(i), builds(i)]));
    const big = mergeRun(null, runOf('r1', hits));
    const { body, state: stored, notes } = renderBody(big, { id, resolveAfter: 3 });
    expect(body.length).toBeLessThanOrEqual(ISSUE_BODY_MAX_CHARS);
    expect(stored).toEqual(big);
    expect(notes).toEqual([expect.stringMatching(/^\d+ active flakes not shown: .* The saved state keeps them\.$/)]);
    expect(body).toContain('> [!NOTE]');
    expect(parseBody(body).state).toEqual(big);
    // With room, every row is there.
    expect(renderBody(big, { id, resolveAfter: 3, maxChars: 200_000 }).notes).toEqual([]);
  });

  it('drops the flakes resolved longest ago from a state too big for a body, and says so', () => {
    let big: TrackerState | null = null;
    // 120 flakes resolved on days 1..120 (resolveAfter 1: the run after each), then 5 active.
    for (let day = 1; day <= 120; day++) {
      const runAt = new Date(Date.UTC(2026, 0, day)).toISOString();
      const key = `FAILED tests/test_${String(day).padStart(3, '0')}.py::${'y'.repeat(200)}`;
      big = mergeRun(big, runOf(runAt, { [key]: [day * 10] }));
    }
    const active = Object.fromEntries(['A', 'B', 'C', 'D', 'E'].map((k, i) => [k, [2000 + i]]));
    big = mergeRun(big, runOf('2026-06-01T00:00:00Z', active));
    const { body, state: stored, notes } = renderBody(big, { id, resolveAfter: 1, maxChars: ISSUE_BODY_MAX_CHARS / 2 });
    expect(body.length).toBeLessThanOrEqual(ISSUE_BODY_MAX_CHARS / 2);
    const kept = stored.flakes.filter((f) => f.status === 'resolved');
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(120);
    // The oldest went: what is kept is the latest resolved.
    const keptDays = kept.map((f) => Number(/test_(\d+)/.exec(f.key)![1])).sort((a, b) => a - b);
    expect(keptDays[keptDays.length - 1]).toBe(120);
    expect(keptDays).toEqual(Array.from({ length: keptDays.length }, (_, i) => 121 - keptDays.length + i));
    expect(stored.flakes.filter((f) => f.status === 'active').map((f) => f.key)).toEqual(['A', 'B', 'C', 'D', 'E']);
    expect(notes[0]).toMatch(/^The saved state was too big .*: \d+ resolved flakes \(resolved longest ago\) were/);
    expect(parseBody(body).state).toEqual(stored);
  });
});

describe('parseBody', () => {
  it('reads back the state and what people wrote around the block, verbatim', () => {
    const outside = { before: 'Owner: @team-ci\r\n\r\nSee the runbook.\n\n', after: '\n\n---\nNotes *kept*.' };
    const { body } = renderBody(state, { id, resolveAfter: 1, outside });
    expect(parseBody(body)).toEqual({ state, problem: null, outside });
    // Rendering again from what was read gives the same body: no edit without a change.
    const again = parseBody(body);
    expect(renderBody(again.state!, { id, resolveAfter: 1, outside: again.outside }).body).toBe(body);
  });

  it('takes a body without a block for text to keep', () => {
    const outside = { before: 'Just words', after: '' };
    expect(parseBody('Just words')).toEqual({ state: null, problem: null, outside });
  });

  it('reports a block it cannot read instead of failing', () => {
    const { body } = renderBody(state, { id, resolveAfter: 1, outside: { before: 'mine\n', after: '\nalso mine' } });
    const cases: [string, string, RegExp][] = [
      ['hand-edited JSON', body.replace('"builds_seen":4', '"builds_seen":four'), /^the saved state is not valid JSON/],
      [
        'a field out of range',
        body.replace('"quiet_runs":0', '"quiet_runs":-3'),
        /^the saved state cannot be used: flakes\[0\]\.quiet_runs/,
      ],
      ['a newer version', body.replace('{"version":1', '{"version":7'), /version 7/],
      ['no state', body.replace(/<!-- flake-checker:tracker:state .* -->/, ''), /state is missing/],
    ];
    for (const [what, edited, problem] of cases) {
      const parsed = parseBody(edited);
      expect(parsed.state, what).toBeNull();
      expect(parsed.problem, what).toMatch(problem);
      expect(parsed.outside, what).toEqual({ before: 'mine\n', after: '\nalso mine' });
    }
    const cut = parseBody(body.slice(0, body.indexOf('<!-- flake-checker:tracker:end')));
    expect(cut).toMatchObject({ state: null, problem: 'the end marker of the tracker block is missing' });
    expect(cut.outside).toEqual({ before: 'mine\n', after: '' });
  });

  it('shows the problem once in the rebuilt body', () => {
    const problem = 'the saved state is not valid JSON (Unexpected token @x)';
    const { body } = renderBody(state, { id, resolveAfter: 1, problem });
    expect(body).toContain(
      '> [!WARNING]\n> the saved state is not valid JSON \\(Unexpected token \\@\u200bx\\): ' +
        'the tracker starts again from this run.',
    );
  });
});

describe('trackerId', () => {
  it('is org, pipeline and a hash of the step, its case ignored', () => {
    expect(id).toMatch(/^vllm\/ci\/[0-9a-f]{12}$/);
    expect(trackerId({ org: 'vllm', pipeline: 'ci', step: 'v1 test OTHERS' })).toBe(id);
    expect(trackerId({ org: 'vllm', pipeline: 'ci', step: 'V1 Test' })).not.toBe(id);
    expect(trackerId({ org: 'vllm', pipeline: 'ci', step: 'x --> <b>' })).toMatch(/^vllm\/ci\/[0-9a-f]{12}$/);
  });
});
