// Needles: the text every match of a pattern contains, which lets the scanner skip blocks.

import { describe, expect, it } from 'vitest';
import { blockNeedles, compilePatterns, requiredLiteral } from '../../src/core/patterns.ts';

const invalid = (pattern: string, reason: string) => new Error(`${pattern}: ${reason}`);

describe('requiredLiteral', () => {
  it.each([
    [
      String.raw`FAILED .*::test_multi_shared_storage_connector_consistency\b`,
      '::test_multi_shared_storage_connector_consistency',
    ],
    [String.raw`\d+ failed, \d+ passed`, ' failed, '],
    ['colou?r', 'colo'],
    ['abc*', 'ab'],
    ['ab+c', 'ab'],
    ['x*?yzw', 'yzw'],
    ['x{2}yz', 'yz'],
    ['a{,2}bcd', 'bcd'], // `{,2}` is not a quantifier: plain characters
    ['[]]abc', 'abc'], // `[]` is an empty class in JavaScript
    ['[a\\]b]+defg', 'defg'],
    [String.raw`\.\*lit`, '.*lit'],
    ['(?<=foo)barbaz', 'barbaz'],
    ['a(b|c)dd', 'dd'],
    ['^Error$', 'Error'],
  ])('%s needs %s', (source, needle) => {
    expect(requiredLiteral(source)).toBe(needle);
  });

  it.each([
    'ab|cd',
    String.raw`\x41bcd`,
    String.raw`\u0041bc`,
    String.raw`(a)\1`,
    String.raw`\cJ`,
    'a*',
    '.+',
    '(unclosed',
    '[unclosed',
  ])('gives up on %s', (source) => {
    const literal = requiredLiteral(source);
    expect(literal === null || literal.length < 2).toBe(true);
  });

  it('is contained in every match, over a corpus of lines and patterns', () => {
    const patterns = [
      String.raw`FAILED .*::test_\w+`,
      String.raw`err(or)?: \d+`,
      'a+b*c?d{1,2}e{0,3}fgh',
      String.raw`x\.y\+z`,
      '[^a]bcd(?:e|f)gh',
      '(?=abc)abcd',
      'ab{2}cd',
      'p😀?q',
    ];
    const lines = [
      'FAILED a.py::test_x',
      'error: 12',
      'err: 3',
      'abcddfgh',
      'aadfgh',
      'aabbcdeeefgh',
      'x.y+z',
      'zbcdegh',
      'abcd',
      'abbcd',
      'p\ud83dq',
      'p😀q',
      'pq',
    ];
    for (const source of patterns) {
      const literal = requiredLiteral(source);
      const re = new RegExp(source);
      for (const line of lines)
        if (re.test(line) && literal !== null) expect(line, `${source} on ${line}`).toContain(literal);
    }
  });

  it('gives compiled patterns a UTF-8 needle of three characters or more', () => {
    const [literal, regex, short] = compilePatterns(['é█ x', 'ab(c)', String.raw`wor\d`], true, invalid);
    expect(literal!.needle).toEqual(Buffer.from('é█ x'));
    expect(regex!.needle).toBeNull(); // "ab" is too short to be worth a search
    expect(short!.needle).toEqual(Buffer.from('wor'));
    expect(compilePatterns(['a|b'], false, invalid)[0]!.needle).toEqual(Buffer.from('a|b'));
    // A lone surrogate has no UTF-8: no needle, so the line is still tested as text.
    expect(compilePatterns(['ab\ud83d'], false, invalid)[0]!.needle).toBeNull();
  });
});

describe('blockNeedles', () => {
  it('keeps one needle per text, none that holds another, and none when a pattern lacks one', () => {
    const compiled = compilePatterns(['FAILED x', String.raw`AIL\w`, 'AIL', 'zzz'], true, invalid);
    expect(blockNeedles(compiled)?.map(String)).toEqual(['AIL', 'zzz']);
    expect(blockNeedles(compilePatterns(['FAILED', 'a|b'], true, invalid))).toBeNull();
  });
});
