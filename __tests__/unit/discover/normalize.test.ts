// Masking what varies between runs: every documented rule on its example, variants that must
// fall together, texts that must stay apart, and the regex built alongside.

import { describe, expect, it } from 'vitest';
import { foldTestId, maskMessage, MAX_MESSAGE, NORMALIZATION_RULES } from '../../../src/core/discover/normalize.ts';

const matches = (pattern: string, text: string): boolean => new RegExp(`^${pattern}$`).test(text);

describe('NORMALIZATION_RULES', () => {
  it.each(NORMALIZATION_RULES.map((r) => [r.name, r] as const))(
    '%s: before becomes after, and its pattern matches before',
    (_name, rule) => {
      const masked = maskMessage(rule.before);
      expect(masked.text).toBe(rule.after);
      expect(masked.text).toContain(rule.placeholder);
      expect(matches(masked.pattern, rule.before)).toBe(true);
    },
  );

  it('lists each placeholder once, every pattern free of lookaround', () => {
    expect(new Set(NORMALIZATION_RULES.map((r) => r.placeholder)).size).toBe(NORMALIZATION_RULES.length);
    for (const rule of NORMALIZATION_RULES) expect(rule.pattern).not.toMatch(/\(\?<?[=!]/);
  });
});

describe('maskMessage', () => {
  it.each([
    [
      'the same OOM with other sizes',
      'CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has 79.19 GiB of which 1.23 GiB is free.',
      'CUDA out of memory. Tried to allocate 512.00 GiB. GPU 3 has 79.19 GiB of which 310.44 GiB is free.',
    ],
    [
      'the same repr at another address',
      '<vllm.v1.worker.gpu_worker.Worker object at 0x7f3a2b1c9d40> has no attribute model_runner',
      '<vllm.v1.worker.gpu_worker.Worker object at 0x55d0e4a01f20> has no attribute model_runner',
    ],
    [
      "another run's temporary directories",
      "No such file: '/tmp/pytest-of-root/pytest-12/test_save0/model/config.json' (copied from /tmp/tmpab12cd34)",
      "No such file: '/tmp/pytest-of-buildkite/pytest-3/test_save0/model/config.json' (copied from /tmp/tmp9x8w7v6u)",
    ],
    [
      'another port, time, request id and duration',
      'request cmpl-9e1f0c2ab37d4d5e8f6a1b2c3d4e5f60-0 to localhost:41327 timed out after 60s at 05:06:07.123',
      'request cmpl-03aa81fe77c24b6d9d1e55f0c2b3a4d1-12 to localhost:8000 timed out after 1.5s at 23:59:01.000',
    ],
    [
      'another UUID and pid',
      'worker pid=1234 lost lease 5b0c2f8e-41d7-4a3b-9e6f-0d2c7a1b8e94',
      'worker pid=98 lost lease 0b9c7d2e-5f61-4a8e-b3c0-7e2d9f14a6b8',
    ],
  ])('folds %s together', (_what, a, b) => {
    const x = maskMessage(a);
    const y = maskMessage(b);
    expect(y.text).toBe(x.text);
    expect(y.pattern).toBe(x.pattern);
    expect(matches(x.pattern, b)).toBe(true);
  });

  it.each([
    ['another word', 'KeyError: missing lm_head', 'KeyError: missing embed_tokens'],
    ['a number attached to a word', 'no kernel for fp8 on sm90', 'no kernel for fp16 on sm90'],
    ['another quoted name', "model 'facebook/opt-125m' not found", "model 'facebook/opt-350m' not found"],
    ['another repo path', 'failed in vllm/v1/engine/core.py', 'failed in vllm/v0/engine/core.py'],
  ])('keeps texts apart that differ in %s', (_what, a, b) => {
    expect(maskMessage(a).text).not.toBe(maskMessage(b).text);
    expect(matches(maskMessage(a).pattern, b)).toBe(false);
  });

  it(`cuts at ${MAX_MESSAGE} characters of masked text, in the same place whatever the volatile lengths`, () => {
    const tail = ' and then a long explanation of what to do about it'.repeat(6);
    const a = maskMessage(`request 5 of 9 failed${tail}`);
    const b = maskMessage(`request 51234 of 98765 failed${tail}`);
    expect(a.complete).toBe(false);
    expect(a.text).toHaveLength(MAX_MESSAGE);
    expect(b.text).toBe(a.text);
    expect(new RegExp(`^${a.pattern}`).test(`request 51234 of 98765 failed${tail}`)).toBe(true);
  });

  it('never cuts a placeholder', () => {
    const masked = maskMessage(`${'x'.repeat(MAX_MESSAGE - 2)} 12345`);
    expect(masked.text).toBe(`${'x'.repeat(MAX_MESSAGE - 2)} `);
    expect(masked.complete).toBe(false);
  });

  it('writes a literal placeholder-like text so it cannot pass for a mask', () => {
    const literal = maskMessage('usage: repeat <n> times');
    const masked = maskMessage('usage: repeat 5 times');
    expect(literal.text).toBe('usage: repeat <<n> times');
    expect(masked.text).toBe('usage: repeat <n> times');
    expect(matches(literal.pattern, 'usage: repeat <n> times')).toBe(true);
    expect(matches(literal.pattern, 'usage: repeat 5 times')).toBe(false);
  });

  it('escapes regex syntax and writes tabs as \\s', () => {
    const masked = maskMessage('shape [4, 2048] != (4, 4096)?\tsee *.json | $HOME');
    expect(matches(masked.pattern, 'shape [4, 2048] != (4, 4096)?\tsee *.json | $HOME')).toBe(true);
    expect(masked.pattern).not.toContain('\t');
  });
});

describe('foldTestId', () => {
  it('folds only volatile parts of the parametrize id', () => {
    expect(foldTestId('tests/test_server.py::test_health[127.0.0.1:38211-/tmp/tmpq8x2k1vz-0x7f00aa12]').text).toBe(
      'tests/test_server.py::test_health[127.0.0.1:<port>-<tmp>-<addr>]',
    );
    expect(foldTestId('v1/test_x.py::test_x[facebook/opt-125m-True-8]').text).toBe(
      'v1/test_x.py::test_x[facebook/opt-125m-True-8]',
    );
    expect(foldTestId('v1/test_y.py::test_y[prompt0-0.5]').text).toBe('v1/test_y.py::test_y[prompt0-0.5]');
  });

  it('leaves the file and function alone, digits and all', () => {
    expect(foldTestId('tests/v1/e2e/test_spec_decode_0x1.py::test_0x1').text).toBe(
      'tests/v1/e2e/test_spec_decode_0x1.py::test_0x1',
    );
  });

  it('matches every variant with its pattern', () => {
    const folded = foldTestId('tests/test_server.py::test_health[localhost:38211]');
    expect(matches(folded.pattern, 'tests/test_server.py::test_health[localhost:8000]')).toBe(true);
    expect(matches(folded.pattern, 'tests/test_server.py::test_health[remotehost:8000]')).toBe(false);
  });
});
