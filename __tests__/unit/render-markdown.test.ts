import { describe, expect, it } from 'vitest';
import type { Flake } from '../../src/core/flakes.ts';
import type { MatchRecord, ScanReport, ScanStats } from '../../src/core/types.ts';
import { ZWSP } from '../../src/report/escape.ts';
import { renderReport, type ReportSettings } from '../../src/report/render-markdown.ts';

const settings: ReportSettings = {
  org: 'vllm',
  pipeline: 'ci',
  step: 'v1 Test others',
  branchRegex: '.*',
  maxBuilds: 60,
  patterns: [
    'FAILED .*::test_multi_shared_storage_connector_consistency\\b',
    'get_num_new_matched_tokens 96',
    'never matches',
  ],
  regex: true,
};

const stats: ScanStats = {
  builds_scanned: 60,
  builds_matched_branch: 41,
  jobs_selected: 44,
  jobs_scanned: 43,
  logs_missing: 1,
  logs_failed: 0,
  logs_from_cache: 0,
  bytes_scanned: 123_456,
  requests: 50,
  rate_limited: 0,
  window_start: '2026-07-30T09:00:00.000Z',
  window_end: '2026-08-01T12:30:00.000Z',
  baseline_builds: 12,
  baseline_jobs_selected: 3,
  baseline_jobs_scanned: 3,
  baseline_logs_failed: 0,
};

const flakes: Flake[] = [
  {
    pattern: settings.patterns[0]!,
    verdict: 'flaky',
    reason: 'seen in 2 PRs and on main 0 times; passed on retry 1 time',
    prs: ['20007', '20123'],
    builds: 2,
    jobs: 2,
    passed_on_retry: 1,
    main_builds: 0,
    first_seen: '2026-07-31T10:00:00Z',
    last_seen: '2026-08-01T10:00:00Z',
    first_build: 1195,
    last_build: 1201,
  },
  {
    pattern: settings.patterns[1]!,
    verdict: 'broken-main',
    reason: 'seen in 0 PRs and on main 2 times; passed on retry 0 times',
    prs: [],
    builds: 3,
    jobs: 3,
    passed_on_retry: 0,
    main_builds: 2,
    first_seen: '2026-07-30T10:00:00Z',
    last_seen: '2026-08-01T10:00:00Z',
    first_build: 1150,
    last_build: 1188,
  },
];

function match(overrides: Partial<MatchRecord>): MatchRecord {
  return {
    build_number: 1201,
    branch: 'tanyuqian:main',
    state: 'failed',
    step_label: ':nvidia: V1 Test others',
    pattern: settings.patterns[0]!,
    snippet:
      'FAILED tests/v1/kv_connector/test_multi.py::test_multi_shared_storage_connector_consistency - AssertionError',
    web_url: 'https://buildkite.com/vllm/ci/builds/1201',
    job_id: '0190aaaa-0000-4000-8000-000000000001',
    job_url: 'https://buildkite.com/vllm/ci/builds/1201#0190aaaa-0000-4000-8000-000000000001',
    job_state: 'failed',
    line: 812,
    count: 1,
    retried: true,
    pull_request: '20123',
    created_at: '2026-08-01T10:00:00Z',
    ...overrides,
  };
}

const hostile = match({
  build_number: 1188,
  branch: 'evil|branch`@octocat',
  step_label: 'V1 Test others [x](javascript:alert(1)) <b>',
  pattern: settings.patterns[1]!,
  snippet: 'get_num_new_matched_tokens 96 | @octocat ``` </code><script>alert(1)</script> #42 https://evil.example',
  web_url: 'https://buildkite.com/vllm/ci/builds/1188',
  job_url: 'javascript:alert(1)',
  retried: false,
  pull_request: null,
  count: 3,
});

const report: ScanReport = {
  flakes,
  missing: [],
  pullRequestMatches: [],
  discovered: [],
  clusters: [],
  baselineBranch: 'main',
  repository: 'https://github.com/vllm-project/vllm.git',
  matches: [
    match({}),
    match({ build_number: 1195, pull_request: '20007', web_url: 'https://buildkite.com/vllm/ci/builds/1195' }),
    hostile,
  ],
  stats,
  failures: [],
  warnings: [],
};

const options = { maxBytes: 1024 * 1024, fullReportHint: 'the `report-file` output' };

/** GFM splits a row on `|` that is not escaped as `\|`. */
function cellCount(row: string): number {
  return row.replace(/^\||\|$/g, '').split(/(?<!\\)\|/).length;
}

const empty = { ...report, flakes: [], matches: [] };

describe('renderReport', () => {
  it('renders counts, the flakes table ranked by spread, then each pattern with its evidence and matches', () => {
    // Zero-width spaces are made visible so a reviewer sees where mentions were broken.
    expect(renderReport(report, settings, options).replaceAll(ZWSP, '{ZWSP}')).toMatchInlineSnapshot(`
      "## Flake check: \`vllm/ci\`, step \`v1 Test others\`

      **3 matches** in 3 builds · 2 patterns matched: 1 flaky, 1 broken on main.

      Scanned the 60 most recent builds, created Jul 30 09:00 UTC to Aug 1 12:30 UTC (41 on branches matching \`.*\`): 44 jobs selected, 43 logs scanned (1 missing (expired or never written)). Also read as evidence: 3 failed logs of 12 builds on \`main\` outside the branch filter.

      | Pattern | Verdict | Spread | Seen |
      |---|---|---|---|
      | \`FAILED .*::test_multi_shared_storage_connector_consistency\\b\` | **flaky** | 2 PRs · 2 builds · 1 passed on retry | Jul 31 – Aug 1 |
      | \`get_num_new_matched_tokens 96\` | **broken on main** | 0 PRs · 3 builds · 2 on main | Jul 30 – Aug 1 |
      | \`never matches\` | no match | | |

      ### \`FAILED .*::test_multi_shared_storage_connector_consistency\\b\`

      **flaky**: seen in 2 PRs and on main 0 times\\; passed on retry 1 time · PRs [#20007](https://github.com/vllm-project/vllm/pull/20007), [#20123](https://github.com/vllm-project/vllm/pull/20123) · first seen Jul 31 (build 1195), last seen Aug 1 (build 1201)

      - [build 1201](https://buildkite.com/vllm/ci/builds/1201) · [\\:nvidia\\: V1 Test others](https://buildkite.com/vllm/ci/builds/1201#0190aaaa-0000-4000-8000-000000000001) · PR [#20123](https://github.com/vllm-project/vllm/pull/20123) · \`tanyuqian:main\` · failed, retried · line 812\\
        \`FAILED tests/v1/kv_connector/test_multi.py::test_multi_shared_storage_connector_consistency - AssertionError\`
      - [build 1195](https://buildkite.com/vllm/ci/builds/1195) · [\\:nvidia\\: V1 Test others](https://buildkite.com/vllm/ci/builds/1201#0190aaaa-0000-4000-8000-000000000001) · PR [#20007](https://github.com/vllm-project/vllm/pull/20007) · \`tanyuqian:main\` · failed, retried · line 812\\
        \`FAILED tests/v1/kv_connector/test_multi.py::test_multi_shared_storage_connector_consistency - AssertionError\`

      ### \`get_num_new_matched_tokens 96\`

      **broken on main**: seen in 0 PRs and on main 2 times\\; passed on retry 0 times · first seen Jul 30 (build 1150), last seen Aug 1 (build 1188)

      - [build 1188](https://buildkite.com/vllm/ci/builds/1188) · V1 Test others \\[x\\]\\(javascript\\:alert\\(1\\)\\) \\<b\\> · \`\`evil|branch\`@{ZWSP}octocat\`\` · failed · line 812 (3 lines)\\
        \`\`\`\`get_num_new_matched_tokens 96 | @{ZWSP}octocat \`\`\` </code><script>alert(1)</script> #{ZWSP}42 https:{ZWSP}//evil.example\`\`\`\`

      <details><summary>Settings</summary>

      | Setting | Value |
      |---|---|
      | Pipeline | \`vllm/ci\` |
      | Step contains | \`v1 Test others\` |
      | Branch regex | \`.*\` |
      | Builds examined | 60 |
      | Patterns | 3 (regular expressions) |

      </details>
      "
    `);
  });

  it('keeps the flakes table to four cells a row and hostile text inert', () => {
    const md = renderReport(report, settings, options);
    const rows = md.split('\n').filter((line) => line.startsWith('| `'));
    expect(rows).toHaveLength(3);
    for (const row of rows) expect(cellCount(row)).toBe(4);
    expect(md).not.toMatch(/@\w/);
    // Link destinations (build and job URLs with `#job-id`) are ours, not rendered text; PR links are real.
    expect(md.replace(/\]\([^)]*\)/g, ']').replace(/\[#\d+\]/g, '')).not.toMatch(/#\d/);
    expect(md).toContain('[#20123](https://github.com/vllm-project/vllm/pull/20123)');
    expect(md).not.toContain('](javascript');
    expect(md).not.toMatch(/https?:\/\/evil/);
  });

  it("links PR numbers to the fallback repository when the pipeline's is not on GitHub, and not at all without one", () => {
    const gitlab = { ...report, repository: 'https://gitlab.com/x/y.git' };
    expect(renderReport(gitlab, settings, { ...options, fallbackRepositoryUrl: 'https://github.com/o/r' })).toContain(
      '[#20123](https://github.com/o/r/pull/20123)',
    );
    const none = renderReport(gitlab, settings, options);
    expect(none).not.toContain('/pull/');
    expect(none).toContain(`\\#${ZWSP}20123`);
  });

  it('says so when nothing matched, and still lists the patterns searched', () => {
    const md = renderReport({ ...empty, failures: [] }, settings, options);
    expect(md).toContain('**No matches** for 3 patterns in the latest scan.');
    expect(md).toContain('| `never matches` | no match | | |');
    expect(md).not.toContain('- [build');
  });

  it('warns about logs that could not be fetched, grouped by reason', () => {
    const failure = {
      build_number: 1,
      job_id: 'j',
      step_label: 's',
      job_url: 'https://x.example',
      reason: 'HTTP 500 from GET …/log.txt',
    };
    const md = renderReport(
      { ...empty, failures: [failure, failure, { ...failure, reason: 'timed out <b>@x</b>' }] },
      settings,
      options,
    );
    expect(md).toContain('> [!WARNING]\n> 3 logs could not be fetched');
    expect(md).toContain('> - 2 × HTTP 500');
    expect(md).toContain('> - 1 × timed out \\<b\\>');
  });

  it('puts the prefix first and the footer last', () => {
    const md = renderReport(report, settings, { ...options, prefix: '<!-- marker -->', footer: '<sub>footer</sub>' });
    expect(md.startsWith('<!-- marker -->\n')).toBe(true);
    expect(md.trimEnd().endsWith('<sub>footer</sub>')).toBe(true);
  });

  it('cuts rows, never patterns: each keeps its heading and evidence, rows shared round robin', () => {
    // A noisy pattern with 2000 matches and a real flake with 3: the flake's rows survive.
    const noisy: MatchRecord[] = Array.from({ length: 2000 }, (_, i) =>
      match({ build_number: 5000 - i, snippet: `noise ${i} ${'é'.repeat(100)}`, pattern: settings.patterns[0]! }),
    );
    const real = [0, 1, 2].map((i) =>
      match({ build_number: 100 + i, pattern: settings.patterns[1]!, snippet: `real ${i}` }),
    );
    const cutReport = { ...report, matches: [...noisy, ...real] };
    for (const maxBytes of [20_000, 65_536 - 512]) {
      const md = renderReport(cutReport, settings, { ...options, maxBytes, footer: '<sub>footer</sub>' });
      expect(Buffer.byteLength(md)).toBeLessThanOrEqual(maxBytes);
      const shown = md.split('\n').filter((line) => line.startsWith('- [build')).length;
      expect(shown).toBeGreaterThan(10);
      for (const flake of flakes) expect(md).toContain(`### \`${flake.pattern}\``);
      for (const i of [0, 1, 2]) expect(md).toContain(`\`real ${i}\``);
      expect(md).toContain(
        `Cut to stay under GitHub's size limit: ${shown} of 2003 matches are shown. The complete list is in the \`report-file\` output.`,
      );
      expect(md.trimEnd().endsWith('<sub>footer</sub>')).toBe(true);
    }
  });

  it('does not add the note when everything fits', () => {
    expect(renderReport(report, settings, options)).not.toContain('Cut to stay under');
  });
});

describe('renderReport for a PR comment', () => {
  const forPr = (pr: string, r: ScanReport = report) =>
    renderReport(r, settings, { ...options, pullRequest: pr, prefix: '<!-- m -->' });

  it("leads with the patterns that hit this PR, in a PR author's words, then collapses the wider list", () => {
    const md = forPr('20123');
    const lead = md.slice(0, md.indexOf('<details><summary>Every pattern'));
    expect(lead).toContain('### This PR ([#20123](https://github.com/vllm-project/vllm/pull/20123))');
    expect(lead).toContain('**known flake**: seen in 1 other PR since Jul 31, passed on retry 1 time.');
    expect(lead).not.toContain('get_num_new_matched_tokens');
    expect(md.indexOf('<details><summary>Every pattern')).toBeLessThan(md.indexOf('| Pattern | Verdict |'));
    expect(md.indexOf('</details>')).toBeGreaterThan(md.indexOf('### `get_num_new_matched_tokens 96`'));
  });

  it("sorts this PR's patterns before the others in the wider list", () => {
    const only: ScanReport = { ...report, flakes: [flakes[1]!, { ...flakes[0]!, prs: ['77'] }] };
    const md = forPr('77', only);
    expect(md.indexOf('| `FAILED')).toBeLessThan(md.indexOf('| `get_num'));
  });

  it('says "only in this PR" and "fails on main too"', () => {
    const single: Flake = { ...flakes[0]!, verdict: 'single', prs: ['5'], passed_on_retry: 0 };
    const main: Flake = { ...flakes[1]!, prs: ['5', '6'] };
    const md = forPr('5', { ...report, matches: [], flakes: [single, main] });
    expect(md).toContain('**only in this PR**.');
    expect(md).toContain('**fails on main too** (2 builds); seen in 1 other PR.');
  });

  it('tells the PR about its own builds older than the window, with the evidence of the window', () => {
    const older = match({
      build_number: 900,
      pull_request: '31',
      pattern: settings.patterns[2]!,
      snippet: 'never matches here',
    });
    const seenElsewhere = match({
      build_number: 901,
      pull_request: '31',
      pattern: settings.patterns[0]!,
      snippet: 'kv',
    });
    const md = forPr('31', { ...report, pullRequestMatches: [older, seenElsewhere] });
    const lead = md.slice(0, md.indexOf('<details>'));
    expect(lead).toContain(
      '- `never matches`: **only in this PR** (in builds older than the scanned window). Here: [build 900]',
    );
    // A pattern the window also judged keeps that judgement, relative to this PR.
    expect(lead).toContain(
      '**known flake**: seen in 2 other PRs since Jul 31, passed on retry 1 time. Here: [build 901]',
    );
  });

  it('tells a PR without matches which patterns were searched', () => {
    const md = forPr('999');
    expect(md).toContain("No pattern hit this PR's builds in the scanned window. Searched for: ");
    expect(md).toContain('`never matches`.');
  });
});
