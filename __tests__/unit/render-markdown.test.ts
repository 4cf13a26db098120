import { describe, expect, it } from 'vitest';
import type { MatchRecord, ScanReport, ScanStats } from '../../src/core/types.ts';
import { ZWSP } from '../../src/report/escape.ts';
import { renderReport, type ReportSettings } from '../../src/report/render-markdown.ts';

const settings: ReportSettings = {
  org: 'vllm',
  pipeline: 'ci',
  step: 'v1 Test others',
  branchRegex: '.*',
  maxBuilds: 60,
  patterns: ['FAILED .*::test_multi_shared_storage_connector_consistency\\b', 'get_num_new_matched_tokens 96', 'never matches'],
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
};

function match(overrides: Partial<MatchRecord>): MatchRecord {
  return {
    build_number: 1201,
    branch: 'tanyuqian:main',
    state: 'failed',
    step_label: ':nvidia: V1 Test others',
    pattern: settings.patterns[0]!,
    snippet: 'FAILED tests/v1/kv_connector/test_multi.py::test_multi_shared_storage_connector_consistency - AssertionError',
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
  matches: [match({}), match({ build_number: 1195, pull_request: '20007', web_url: 'https://buildkite.com/vllm/ci/builds/1195' }), hostile],
  stats,
  failures: [],
  warnings: [],
};

const options = { maxBytes: 1024 * 1024, fullReportHint: 'the `report-file` output' };

/** GFM splits a row on `|` that is not escaped as `\|`. */
function cellCount(row: string): number {
  return row.replace(/^\||\|$/g, '').split(/(?<!\\)\|/).length;
}

describe('renderReport', () => {
  it('renders counts, then matches grouped by pattern', () => {
    // Zero-width spaces are made visible so a reviewer sees where mentions were broken.
    expect(renderReport(report, settings, options).replaceAll(ZWSP, '{ZWSP}')).toMatchInlineSnapshot(`
      "## Flake check: \`vllm/ci\`, step \`v1 Test others\`

      **3 matches** in 3 builds.

      Scanned the 60 most recent builds (41 on branches matching \`.*\`): 44 jobs selected, 43 logs scanned (1 missing (expired or never written)).

      | Pattern | Matches | Builds | PRs | Retried attempts | Verdict |
      |---|--:|--:|--:|--:|---|
      | \`FAILED .*::test_multi_shared_storage_connector_consistency\\b\` | 2 | 2 | 2 | 2 | likely flaky |
      | \`get_num_new_matched_tokens 96\` | 1 | 1 | 0 | 0 |  |
      | \`never matches\` | 0 | 0 | 0 | 0 |  |

      ### \`FAILED .*::test_multi_shared_storage_connector_consistency\\b\`

      2 matches · in 2 builds · PRs \\#{ZWSP}20123\\, \\#{ZWSP}20007 · **likely flaky**

      | Build | Job | Branch / PR | Job state | Line | Snippet |
      |--:|---|---|---|--:|---|
      | [1201](https://buildkite.com/vllm/ci/builds/1201) | [\\:nvidia\\: V1 Test others](https://buildkite.com/vllm/ci/builds/1201#0190aaaa-0000-4000-8000-000000000001) | \`tanyuqian:main\` · PR \\#{ZWSP}20123 | failed · retried | 812 | \`FAILED tests/v1/kv_connector/test_multi.py::test_multi_shared_storage_connector_consistency - AssertionError\` |
      | [1195](https://buildkite.com/vllm/ci/builds/1195) | [\\:nvidia\\: V1 Test others](https://buildkite.com/vllm/ci/builds/1201#0190aaaa-0000-4000-8000-000000000001) | \`tanyuqian:main\` · PR \\#{ZWSP}20007 | failed · retried | 812 | \`FAILED tests/v1/kv_connector/test_multi.py::test_multi_shared_storage_connector_consistency - AssertionError\` |

      ### \`get_num_new_matched_tokens 96\`

      1 match · in 1 build

      | Build | Job | Branch / PR | Job state | Line | Snippet |
      |--:|---|---|---|--:|---|
      | [1188](https://buildkite.com/vllm/ci/builds/1188) | V1 Test others \\[x\\]\\(javascript\\:alert\\(1\\)\\) \\<b\\> | \`\`evil\\|branch\`@{ZWSP}octocat\`\` | failed | 812 (3 lines) | \`\`\`\`get_num_new_matched_tokens 96 \\| @{ZWSP}octocat \`\`\` </code><script>alert(1)</script> #{ZWSP}42 https:{ZWSP}//evil.example\`\`\`\` |

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

  it('keeps every table row to its columns and hostile text inert', () => {
    const md = renderReport(report, settings, options);
    for (const row of md.split('\n').filter((line) => line.startsWith('| ['))) expect(cellCount(row)).toBe(6);
    expect(md).not.toMatch(/@\w/);
    // Link destinations (build and job URLs with `#job-id`) are ours, not rendered text.
    expect(md.replace(/\]\([^)]*\)/g, ']')).not.toMatch(/#\d/);
    expect(md).not.toContain('](javascript');
    expect(md).not.toMatch(/https?:\/\/evil/);
  });

  it('says so when nothing matched', () => {
    const md = renderReport({ matches: [], stats, failures: [], warnings: [] }, settings, options);
    expect(md).toContain('**No matches** for 3 patterns in the latest scan.');
    expect(md).not.toContain('| Build |');
  });

  it('warns about logs that could not be fetched, grouped by reason', () => {
    const failure = { build_number: 1, job_id: 'j', step_label: 's', job_url: 'https://x.example', reason: 'HTTP 500 from GET …/log.txt' };
    const md = renderReport({ matches: [], stats, failures: [failure, failure, { ...failure, reason: 'timed out <b>@x</b>' }], warnings: [] }, settings, options);
    expect(md).toContain('> [!WARNING]\n> 3 logs could not be fetched');
    expect(md).toContain('> - 2 × HTTP 500');
    expect(md).toContain('> - 1 × timed out \\<b\\>');
  });

  it('puts the prefix first and the footer last', () => {
    const md = renderReport(report, settings, { ...options, prefix: '<!-- marker -->', footer: '<sub>footer</sub>' });
    expect(md.startsWith('<!-- marker -->\n')).toBe(true);
    expect(md.trimEnd().endsWith('<sub>footer</sub>')).toBe(true);
  });

  it('cuts to the byte limit with a note naming the full report', () => {
    const many: MatchRecord[] = Array.from({ length: 2000 }, (_, i) =>
      match({ build_number: 5000 - i, snippet: `FAILED test_${i} ${'é'.repeat(100)}`, pattern: settings.patterns[i % 2]! }),
    );
    for (const maxBytes of [20_000, 65_536 - 512]) {
      const md = renderReport({ matches: many, stats, failures: [], warnings: [] }, settings, { ...options, maxBytes, footer: '<sub>footer</sub>' });
      expect(Buffer.byteLength(md)).toBeLessThanOrEqual(maxBytes);
      const shown = md.split('\n').filter((line) => line.startsWith('| [')).length;
      expect(shown).toBeGreaterThan(10);
      expect(md).toContain(`Cut to stay under GitHub's size limit: ${shown} of 2000 matches are shown. The complete list is in the \`report-file\` output.`);
      expect(md.trimEnd().endsWith('<sub>footer</sub>')).toBe(true);
    }
  });

  it('does not add the note when everything fits', () => {
    expect(renderReport(report, settings, options)).not.toContain('Cut to stay under');
  });
});
