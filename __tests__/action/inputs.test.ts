import { describe, expect, it } from 'vitest';
import { readInputs, type Environment } from '../../src/action/inputs.ts';
import { resolvePullRequest } from '../../src/action/pull-request.ts';
import { DEFAULTS, parseSettings, SETTING_NAMES, UsageError } from '../../src/settings.ts';

/** The INPUT_* variable a runner sets for an input. */
const inputVar = (name: string) => `INPUT_${name.toUpperCase()}`;

function read(env: Environment) {
  const secrets: string[] = [];
  const inputs = readInputs(env, (s) => secrets.push(s));
  return { inputs, secrets };
}

const noFile = (): Buffer => {
  throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
};

describe('readInputs', () => {
  const withEnv = Object.entries(SETTING_NAMES).filter(([, names]) => names.env !== undefined);

  it.each(withEnv)('%s: input, else its BK_* variable, else nothing', (key, names) => {
    const field = key as keyof typeof SETTING_NAMES;
    expect(read({ [inputVar(names.input)]: 'from-input', [names.env!]: 'from-env' }).inputs.raw[field]).toBe(
      'from-input',
    );
    expect(read({ [inputVar(names.input)]: '', [names.env!]: 'from-env' }).inputs.raw[field]).toBe('from-env');
    expect(read({ [inputVar(names.input)]: '  ', [names.env!]: '' }).inputs.raw[field]).toBeUndefined();
  });

  it('falls back to the built-in defaults when neither is set', () => {
    const settings = parseSettings(read({ BK_TOKEN: 'bk-token' }).inputs.raw, noFile, 'input');
    expect(settings).toMatchObject({
      org: DEFAULTS.org,
      pipeline: DEFAULTS.pipeline,
      branchRegex: DEFAULTS.branchRegex,
      step: DEFAULTS.step,
      maxBuilds: DEFAULTS.maxBuilds,
      apiUrl: DEFAULTS.apiUrl,
      concurrency: DEFAULTS.concurrency,
      cacheDir: null,
      strict: false,
    });
  });

  it('registers both tokens as secrets the moment they are read', () => {
    expect(read({ BK_TOKEN: 'bk-from-env', 'INPUT_GITHUB-TOKEN': 'ghs_x' }).secrets).toEqual(['bk-from-env', 'ghs_x']);
    expect(read({ [inputVar('buildkite-token')]: 'bk-from-input' }).secrets).toEqual(['bk-from-input']);
    // Even when a later input is invalid.
    const secrets: string[] = [];
    expect(() => readInputs({ BK_TOKEN: 'bk-secret', INPUT_COMMENT: 'loud' }, (s) => secrets.push(s))).toThrow(
      UsageError,
    );
    expect(secrets).toEqual(['bk-secret']);
  });

  it('reads patterns one per line, dropping blank lines', () => {
    const { inputs } = read({ INPUT_PATTERNS: '  FAILED a\n\n  get_num 96  \r\nthird\n' });
    expect(inputs.raw.patterns).toEqual(['FAILED a', 'get_num 96', 'third']);
  });

  it('reads the action-only inputs with their defaults', () => {
    expect(read({}).inputs).toMatchObject({ comment: 'on-match', prNumber: null, failOnMatch: false, githubToken: '' });
    const { inputs } = read({ INPUT_COMMENT: 'Always', 'INPUT_PR-NUMBER': '#42', 'INPUT_FAIL-ON-MATCH': 'TRUE' });
    expect(inputs).toMatchObject({ comment: 'always', prNumber: 42, failOnMatch: true });
  });

  it.each([
    [{ INPUT_COMMENT: 'sometimes' }, 'comment must be one of off, on-match, always, got "sometimes"'],
    [{ 'INPUT_PR-NUMBER': 'abc' }, 'pr-number must be a pull request number (a whole number from 1), got "abc"'],
    [{ 'INPUT_PR-NUMBER': '0' }, 'pr-number must be a pull request number (a whole number from 1), got "0"'],
    [{ 'INPUT_FAIL-ON-MATCH': 'yes' }, 'fail-on-match must be true or false, got "yes"'],
  ])('refuses %j', (env, message) => {
    expect(() => read(env)).toThrow(new UsageError(message));
  });

  it('names the input and its variable when parseSettings refuses a value', () => {
    const parse = (env: Environment) => () =>
      parseSettings(read({ BK_TOKEN: 't', ...env }).inputs.raw, noFile, 'input');
    expect(parse({ 'INPUT_MAX-BUILDS': 'abc' })).toThrow(
      'max-builds (BK_MAX_BUILDS) must be a whole number from 1 to 5000, got "abc"',
    );
    expect(parse({ BK_MAX_BUILDS: '0' })).toThrow(
      'max-builds (BK_MAX_BUILDS) must be a whole number from 1 to 5000, got "0"',
    );
    expect(parse({ INPUT_REGEX: 'maybe' })).toThrow('regex must be true or false, got "maybe"');
    expect(parse({ INPUT_CONCURRENCY: '1000' })).toThrow('concurrency must be a whole number from 1 to 64, got "1000"');
  });
});

describe('resolvePullRequest', () => {
  const payload = { pull_request: { number: 17 } };

  it('uses the PR of pull_request and pull_request_target events', () => {
    expect(resolvePullRequest('pull_request', payload, null)).toBe(17);
    expect(resolvePullRequest('pull_request_target', payload, null)).toBe(17);
  });

  it('prefers pr-number, for any event', () => {
    expect(resolvePullRequest('pull_request', payload, 5)).toBe(5);
    expect(resolvePullRequest('schedule', {}, 5)).toBe(5);
    expect(resolvePullRequest('workflow_dispatch', { inputs: {} }, 5)).toBe(5);
  });

  it('finds none for schedule, workflow_dispatch and odd payloads', () => {
    expect(resolvePullRequest('schedule', { schedule: '0 * * * *' }, null)).toBeNull();
    expect(resolvePullRequest('workflow_dispatch', payload, null)).toBeNull();
    expect(resolvePullRequest('pull_request', {}, null)).toBeNull();
    expect(resolvePullRequest('pull_request', { pull_request: { number: '17' } }, null)).toBeNull();
    expect(resolvePullRequest(undefined, payload, null)).toBeNull();
  });
});
