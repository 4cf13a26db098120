import { describe, expect, it } from 'vitest';
import {
  DEFAULT_PATTERNS,
  NO_RAW_SETTINGS,
  parseSettings,
  settingsWarnings,
  UsageError,
  type RawSettings,
} from '../../src/settings.ts';
import { parseEnvFile } from '../../src/cli/env-file.ts';

const files: Record<string, Buffer> = {
  'patterns.txt': Buffer.from('# flakes\n\nCUDA error: an illegal memory access\r\n  Connection reset by peer  \n'),
  'empty.txt': Buffer.from('# only a comment\n\n'),
  'binary.bin': Buffer.from([0x46, 0x00, 0x01]),
  'huge.txt': Buffer.alloc(2 * 1024 * 1024, 0x61),
};
const readFile = (path: string): Buffer => {
  const file = files[path];
  if (!file) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
  return file;
};
const parse = (raw: Partial<RawSettings>, surface: 'flag' | 'input' = 'flag') =>
  parseSettings({ ...NO_RAW_SETTINGS, token: 'bkua_x', ...raw }, readFile, surface);
const usage = (raw: Partial<RawSettings>, surface: 'flag' | 'input' = 'flag') => {
  try {
    parse(raw, surface);
  } catch (error: unknown) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error('expected a UsageError');
};

describe('parseSettings', () => {
  it('applies the spec defaults, with the example patterns as regexes', () => {
    const s = parse({});
    expect(s).toMatchObject({
      org: 'vllm',
      pipeline: 'ci',
      branchRegex: '^pull/|^pr/',
      step: 'v1 Test others',
      maxBuilds: 200,
      regex: true,
      apiUrl: 'https://api.buildkite.com',
      concurrency: 16,
      jobStates: null,
      cacheDir: null,
      strict: false,
    });
    expect(s.patterns).toEqual(DEFAULT_PATTERNS);
    expect(s.compiled.map((p) => p.isRegex)).toEqual([true, true, true]);
  });

  it('reads a patterns file: blank and # lines ignored, CRLF and padding trimmed', () => {
    const s = parse({ patternsFile: 'patterns.txt', patterns: ['x.y'] });
    expect(s.patterns).toEqual(['x.y', 'CUDA error: an illegal memory access', 'Connection reset by peer']);
    expect(s.compiled[0]!.line.test('xzy')).toBe(false);
  });

  it('names the input, the value and what is allowed', () => {
    expect(usage({ token: '' })).toMatch(/^--token \(BK_TOKEN\) is required/);
    expect(usage({ token: '' }, 'input')).toMatch(/^buildkite-token \(BK_TOKEN\) is required/);
    expect(usage({ maxBuilds: 'abc' })).toBe(
      '--max-builds (BK_MAX_BUILDS) must be a whole number from 1 to 5000, got "abc"',
    );
    expect(usage({ maxBuilds: '0' }, 'input')).toBe(
      'max-builds (BK_MAX_BUILDS) must be a whole number from 1 to 5000, got "0"',
    );
    expect(usage({ maxBuilds: '1.5' })).toContain('got "1.5"');
    expect(usage({ concurrency: '100' })).toBe('--concurrency must be a whole number from 1 to 64, got "100"');
    expect(usage({ regex: 'yes' }, 'input')).toBe('regex must be true or false, got "yes"');
    expect(usage({ branchRegex: '(' })).toMatch(
      /^--branch-regex \(BK_BRANCH_REGEX\) is not a valid regular expression: "\(" \(/,
    );
    expect(usage({ patterns: ['(unclosed'], regex: 'true' })).toMatch(
      /^pattern "\(unclosed" is not a valid regular expression: /,
    );
    expect(usage({ patterns: [''] })).toBe('--pattern must not be empty');
    expect(usage({ org: 'vl lm' })).toContain('--org (BK_ORG) must be a Buildkite slug');
    expect(usage({ apiUrl: 'ftp://x' })).toBe('--api-url (BK_API_URL) must be an http(s) URL, got "ftp://x"');
    expect(usage({ jobStates: 'failed,bogus' })).toMatch(
      /^--job-states must be a comma-separated list of job states \(pending, .*\), got "failed,bogus"$/,
    );
  });

  it('refuses missing, empty, binary and huge patterns files', () => {
    expect(usage({ patternsFile: 'nope.txt' })).toBe(
      '--patterns-file (BK_PATTERNS_FILE) cannot be read: "nope.txt" (no such file)',
    );
    expect(usage({ patternsFile: 'empty.txt' })).toMatch(/has no patterns: "empty.txt"/);
    expect(usage({ patternsFile: 'binary.bin' })).toMatch(/is not a text file: "binary.bin" contains NUL bytes/);
    expect(usage({ patternsFile: 'huge.txt' })).toMatch(/is too large: "huge.txt" has 2097152 bytes, at most 1048576/);
  });

  it('literal patterns are escaped; --regex compiles them', () => {
    expect(parse({ patterns: ['a.c'] }).compiled[0]!.line.test('abc')).toBe(false);
    expect(parse({ patterns: ['a.c'], regex: 'true' }).compiled[0]!.line.test('abc')).toBe(true);
  });

  it('drops duplicate patterns, keeps the spaces of a step, refuses an api-url with /v2', () => {
    expect(parse({ patterns: ['a', 'b', 'a'] }).patterns).toEqual(['a', 'b']);
    expect(parse({ step: ' test ' }).step).toBe(' test ');
    expect(usage({ apiUrl: 'https://api.buildkite.com/v2' })).toBe(
      '--api-url (BK_API_URL) is the API\'s base URL, without /v2 (e.g. https://api.buildkite.com), got "https://api.buildkite.com/v2"',
    );
  });

  it('warns about plain http to another host and nested quantifiers, not about loopback', () => {
    expect(settingsWarnings(parse({ apiUrl: 'http://127.0.0.1:9000' }))).toEqual([]);
    expect(settingsWarnings(parse({ apiUrl: 'http://buildkite.internal' }))).toEqual([
      'api-url "http://buildkite.internal" is plain http: the Buildkite token will cross the network unencrypted',
    ]);
    expect(settingsWarnings(parse({ patterns: ['(a+)+'], regex: 'true' }))).toHaveLength(1);
  });

  it('normalises api-url and job states', () => {
    const s = parse({ apiUrl: 'http://127.0.0.1:8080/', jobStates: 'Failed, timed_out,failed' });
    expect(s.apiUrl).toBe('http://127.0.0.1:8080');
    expect(s.jobStates).toEqual(['failed', 'timed_out']);
  });
});

describe('parseEnvFile', () => {
  it('reads `export KEY=value` lines with quotes and comments', () => {
    const { vars, badLines } = parseEnvFile(
      `export BK_TOKEN=bkua_28a919e0f\nexport BK_BRANCH_REGEX='^pull/|^pr/'\n# c\nBK_STEP_SUBSTR="v1 Test others"\nBK_MAX_BUILDS=200 # comment\n`,
    );
    expect(Object.fromEntries(vars)).toEqual({
      BK_TOKEN: 'bkua_28a919e0f',
      BK_BRANCH_REGEX: '^pull/|^pr/',
      BK_STEP_SUBSTR: 'v1 Test others',
      BK_MAX_BUILDS: '200',
    });
    expect(badLines).toEqual([]);
  });

  it('names the lines it cannot read', () => {
    const { vars, badLines } = parseEnvFile('BK_ORG=vllm\r\nBK_TOKEN bkua_x\n\n  # fine\n1BAD=x\nexport\n');
    expect(Object.fromEntries(vars)).toEqual({ BK_ORG: 'vllm' });
    expect(badLines).toEqual([2, 5, 6]);
  });
});

describe('riskyPatternWarnings', () => {
  it('warns about nested quantifiers only', async () => {
    const { riskyPatternWarnings, compilePatterns } = await import('../../src/core/patterns.ts');
    const compile = (patterns: string[], regex = true) => compilePatterns(patterns, regex, (p) => new Error(p));
    expect(riskyPatternWarnings(compile(['(a+)+$', String.raw`(\w*\s?)*x`, '(x|y+){2,}']))).toHaveLength(3);
    expect(
      riskyPatternWarnings(compile([...DEFAULT_PATTERNS, 'a+b*', String.raw`\(a+\)+`, '(ab)+', '[(a+)]+'])),
    ).toEqual([]);
    expect(riskyPatternWarnings(compile(['(a+)+'], false))).toEqual([]);
  });
});
