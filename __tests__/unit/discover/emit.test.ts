// Writing discovered signatures as a patterns file that reads back unchanged.

import { describe, expect, it } from 'vitest';
import { renderPatternsFile } from '../../../src/core/discover/emit.ts';

const read = (text: string): string[] =>
  text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));

describe('renderPatternsFile', () => {
  it('writes a comment with the signature and its spread above each pattern', () => {
    expect(
      renderPatternsFile([
        {
          signature: 'pytest-failed tests/v1/test_x.py::test_y AssertionError',
          pattern: String.raw`^FAILED tests\/v1\/test_x\.py::test_y - `,
          prs: 3,
          builds: 5,
        },
        { signature: 'infra Killed', pattern: String.raw`^Killed\s*$`, prs: 1, builds: 1 },
      ]),
    ).toBe(
      [
        '# pytest-failed tests/v1/test_x.py::test_y AssertionError — 3 PRs, 5 builds',
        // The trailing space would be trimmed away when the file is read: written as an escape.
        String.raw`^FAILED tests\/v1\/test_x\.py::test_y -\u0020`,
        '',
        '# infra Killed — 1 PR, 1 build',
        String.raw`^Killed\s*$`,
        '',
      ].join('\n'),
    );
  });

  it('escapes line breaks and controls in a signature', () => {
    const file = renderPatternsFile([
      { signature: 'exception ValueError: a\nb\r\u2028c\u0007', pattern: 'abc', prs: 0, builds: 2 },
    ]);
    const comment = '# exception ValueError: a\\nb\\r\\u2028c\\u0007 — 0 PRs, 2 builds';
    expect(file.split('\n')).toEqual([comment, 'abc', '']);
  });

  it.each([
    ['a leading #', '# not a comment', String.raw`[#] not a comment`],
    ['leading and trailing whitespace', ' \tword ', String.raw`\u0020\u0009word\u0020`],
    ['an escaped trailing space', String.raw`word\ `, String.raw`word\u0020`],
    ['a line break', 'a\nb', String.raw`a\u000ab`],
    ['an escaped line break after an escaped backslash', 'a\\\\\\\nb', String.raw`a\\\u000ab`],
  ])('rewrites %s so the line reads back to an equivalent regex', (_what, pattern, line) => {
    const file = renderPatternsFile([{ signature: 's', pattern, prs: 1, builds: 1 }]);
    expect(read(file)).toEqual([line]);
    for (const text of ['# not a comment', ' \tword ', 'word ', 'a\nb', 'a\\\nb', 'other']) {
      expect(new RegExp(line).test(text), text).toBe(new RegExp(pattern).test(text));
    }
  });

  it('writes a shared pattern once, under every signature that has it', () => {
    const file = renderPatternsFile([
      { signature: 'one', pattern: '^x', prs: 2, builds: 2 },
      { signature: 'two', pattern: '^x', prs: 1, builds: 1 },
    ]);
    expect(file).toBe('# one — 2 PRs, 2 builds\n# two — 1 PR, 1 build\n^x\n');
  });

  it('refuses an empty pattern and one that does not compile', () => {
    expect(() => renderPatternsFile([{ signature: 's', pattern: '', prs: 1, builds: 1 }])).toThrow(/empty pattern/);
    expect(() => renderPatternsFile([{ signature: 's', pattern: '(', prs: 1, builds: 1 }])).toThrow(/does not compile/);
  });
});
