// action.yml, the settings code and README.md must describe the same inputs and outputs.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULTS, SETTING_NAMES } from '../../src/settings.ts';
import { parseSimpleYaml, readActionMetadata } from './action-yml.ts';

const action = readActionMetadata('action.yml');
const ACTION_ONLY_INPUTS = [
  'github-token',
  'comment',
  'pr-number',
  'fail-on-match',
  'tracker',
  'tracker-title',
  'tracker-label',
];
const OUTPUTS = [
  'matches',
  'match-count',
  'builds-scanned',
  'jobs-scanned',
  'report-file',
  'flakes',
  'flaky-count',
  'tracker-issue',
];

/** The rows of the markdown table whose header row starts with `| {first} |`, split into cells. */
function tableRows(markdown: string, first: string): string[][] {
  const lines = markdown.split('\n');
  const start = lines.findIndex((line) => line.startsWith(`| ${first} |`));
  expect(start, `README.md has a table headed "${first}"`).toBeGreaterThanOrEqual(0);
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(
      line
        .replace(/^\||\|$/g, '')
        .split(/(?<!\\)\|/)
        .map((cell) => cell.trim().replace(/\\\|/g, '|')),
    );
  }
  return rows;
}

/** `name` from a cell holding exactly one code span. */
function code(cell: string): string {
  const m = /^`([^`]+)`$/.exec(cell);
  expect(m, `expected a single code span, got ${JSON.stringify(cell)}`).not.toBeNull();
  return m![1]!;
}

describe('action.yml', () => {
  it('runs the bundle on Node 24 and has a name, description and branding', () => {
    expect(action.runs).toEqual({ using: 'node24', main: 'dist/index.js' });
    expect(action.name).not.toBe('');
    expect(action.description.length).toBeGreaterThan(20);
    expect(Object.keys(action.branding).sort()).toEqual(['color', 'icon']);
  });

  it('declares every setting input plus the action-only ones', () => {
    const settingInputs = Object.values(SETTING_NAMES).map((names) => names.input);
    expect([...action.inputs.keys()].sort()).toEqual([...settingInputs, ...ACTION_ONLY_INPUTS].sort());
  });

  it('gives inputs with a BK_* fallback no default, and names the variable', () => {
    for (const names of Object.values(SETTING_NAMES)) {
      const input = action.inputs.get(names.input)!;
      if (names.env) {
        expect(input.default, names.input).toBeNull();
        expect(input.description, names.input).toContain(`Falls back to ${names.env}`);
      } else {
        expect(input.description, names.input).not.toMatch(/BK_/);
      }
      expect(input.required, names.input).toBe(false);
    }
  });

  it('defaults the action-only inputs as the issue asks', () => {
    expect(action.inputs.get('github-token')!.default).toBe('${{ github.token }}');
    expect(action.inputs.get('comment')!.default).toBe('on-match');
    expect(action.inputs.get('fail-on-match')!.default).toBe('false');
    expect(action.inputs.get('regex')!.default).toBe('false');
    expect(action.inputs.get('pr-number')!.default).toBeNull();
  });

  it('declares the outputs the action sets', () => {
    expect([...action.outputs.keys()]).toEqual(OUTPUTS);
    const main = readFileSync('src/action/outputs.ts', 'utf8');
    const set = [...main.matchAll(/setOutput\('([a-z-]+)'/g)].map((m) => m[1]);
    expect(set).toEqual(OUTPUTS);
  });
});

describe('README.md', () => {
  const docs = readFileSync('README.md', 'utf8');

  it('lists exactly the inputs of action.yml, in the same order, with their fallbacks and defaults', () => {
    const rows = tableRows(docs, 'Input');
    expect(rows.map((row) => code(row[0]!))).toEqual([...action.inputs.keys()]);
    for (const [name, env, fallback] of rows) {
      const input = code(name!);
      const key = Object.keys(SETTING_NAMES).find(
        (k) => SETTING_NAMES[k as keyof typeof SETTING_NAMES].input === input,
      );
      const names = key ? SETTING_NAMES[key as keyof typeof SETTING_NAMES] : undefined;
      if (key && key in DEFAULTS)
        expect(code(fallback!), `${input} default`).toBe(String(DEFAULTS[key as keyof typeof DEFAULTS]));
      expect(env === '' ? undefined : code(env!), `${input} fallback`).toBe(names?.env);
      const declared = action.inputs.get(input)!.default;
      if (declared !== null) expect(code(fallback!), `${input} default`).toBe(declared);
    }
  });

  it('lists exactly the outputs of action.yml, in the same order', () => {
    expect(tableRows(docs, 'Output').map((row) => code(row[0]!))).toEqual([...action.outputs.keys()]);
  });

  it('shows a workflow for schedule, pull_request and workflow_dispatch', () => {
    // GitHub workflows only: the README also shows a Buildkite pipeline step, which has no `jobs:`.
    const workflows = [...docs.matchAll(/```yaml\n([\s\S]*?)```/g)]
      .map((m) => describeWorkflow(m[1]!))
      .filter((w) => /^jobs:/m.test(w.text));
    expect(workflows.map((w) => w.trigger)).toEqual(['schedule', 'pull_request', 'workflow_dispatch']);
    for (const w of workflows) expect(w.text).toContain('buildkite-token: ${{ secrets.BUILDKITE_TOKEN }}');
    expect(workflows[0]!.text).toContain('actions/cache');
    expect(workflows[1]!.text).toContain('pull-requests: write');
  });
});

describe('parseSimpleYaml', () => {
  it('reads nested maps, quoted and folded scalars', () => {
    expect(
      parseSimpleYaml("a: x\nb:\n  c: 'it''s'\n  d: \"q\"\n  e: >-\n    one\n    two\nf: ${{ github.token }}\n"),
    ).toEqual({
      a: 'x',
      b: { c: "it's", d: 'q', e: 'one two' },
      f: '${{ github.token }}',
    });
  });

  it('refuses what it does not understand', () => {
    expect(() => parseSimpleYaml('- item\n')).toThrow('cannot read');
    expect(() => parseSimpleYaml('a: 1\na: 2\n')).toThrow('duplicate');
  });
});

/** The trigger of a workflow example (its first key under `on:`) and its text. */
function describeWorkflow(text: string): { trigger: string; text: string } {
  const trigger = /^on:\n\s+([a-z_]+):/m.exec(text)?.[1] ?? '';
  return { trigger, text };
}
