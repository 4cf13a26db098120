import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  applyBackspaces,
  cleanLines,
  cleanLogText,
  stripEscapes,
  stripTimestampPrefixes,
  toPrintable,
} from '../../src/core/clean-line.ts';
import { compilePatterns } from '../../src/core/patterns.ts';
import { LogScanner, MAX_LINE_BYTES, type PatternHit } from '../../src/core/scan-log.ts';
import { makeSnippet, SNIPPET_MAX } from '../../src/core/snippet.ts';
import { DEFAULT_PATTERNS } from '../../src/settings.ts';
import { Rng } from '../../src/simulator/prng.ts';

const fixture = readFileSync(new URL('../fixtures/vllm-v1-others-failed.log', import.meta.url));
const stampedFixture = readFileSync(new URL('../fixtures/timestamp-lines-agent.log', import.meta.url));

/** C0 controls but tab, DEL and C1: what no snippet may hold. */
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/;
const STAMP = '[2026-11-30T14:02:11Z] ';
const FAILED_LINE =
  'FAILED v1/kv_connector/unit/test_multi_connector.py::test_multi_shared_storage_connector_consistency - AssertionError';
const compile = (patterns: string[], regex: boolean) =>
  compilePatterns(patterns, regex, (p, why) => new Error(`${p}: ${why}`));

/** Scans `bytes` pushed in chunks of `size` bytes. */
function scan(bytes: Uint8Array, patterns: string[], regex: boolean, size = bytes.length || 1) {
  const scanner = new LogScanner(compile(patterns, regex));
  for (let i = 0; i < bytes.length; i += size) scanner.push(bytes.subarray(i, i + size));
  return scanner.end();
}

describe('cleaning', () => {
  it('removes bk timestamps (also mid-word and ESC-backslash terminated), CSI, OSC', () => {
    expect(stripEscapes('\x1b_bk;t=1745322209921\x07ok \x1b[31mred\x1b[0m')).toBe('ok red');
    expect(stripEscapes('get_num_\x1b_bk;t=1\x07new')).toBe('get_num_new');
    expect(stripEscapes('\x1b_bk;dt=12\x1b\\a\x1b]0;title\x07b')).toBe('ab');
    expect(stripEscapes('\x1b[2K\x1b[1;32mx\x1b(By')).toBe('xy');
    expect(stripEscapes('cut \x1b_bk;t=174532')).toBe('cut ');
  });

  it('shows Buildkite links as their content, or their URL, with escaped semicolons', () => {
    expect(stripEscapes('see \x1b]1339;url=https://x.example/1;content=FAILED x\x07 now')).toBe('see FAILED x now');
    expect(stripEscapes('\x1b]1339;content=a\\;b\\\\c;url=https://x.example\x1b\\')).toBe('a;b\\c');
    expect(stripEscapes('\x1b]1339;url=artifact://a\\;b.xml\x07')).toBe('artifact://a;b.xml');
    // Keys in any case; an empty content gives way to the URL; the last of a key wins.
    expect(
      stripEscapes('\x1b]1339;URL=u;Content=\x07|\x1b]1339;url=u;content=\x07|\x1b]1339;content=x;content=y\x07'),
    ).toBe('u|u|y');
    expect(stripEscapes('\x1b]1339;x;=v;url\x07|\x1b]1339\x07|\x1b]13390;url=u\x07')).toBe('||');
    // A link cut by a line break or a stray ESC is no link: what D leaves of it stays, as before.
    expect(stripEscapes('\x1b]1339;url=u\nx')).toBe('1339;url=u\nx');
  });

  it('shows external images as their alt text and inline images and other OSC as nothing', () => {
    expect(stripEscapes('\x1b]1338;url=https://x.example/a.png;alt=Screenshot: test_x\x07')).toBe('Screenshot: test_x');
    expect(stripEscapes('[\x1b]1338;url=https://x.example/a.png\x07]')).toBe('[]');
    const inline = '\x1b]1337;File=name=YS5wbmc=;inline=1:AAAA\x07';
    expect(stripEscapes(`[${inline}|\x1b]8;;https://x\x1b\\t\x1b]8;;\x1b\\|\x1b]0;title\x07]`)).toBe('[|t|]');
  });

  it('removes an APC string whole when a stray ESC sits inside it', () => {
    expect(stripEscapes('a\x1b_bk;t=123\x1b_bk;t=456\x07b')).toBe('ab');
    expect(stripEscapes('a\x1b_bk;t=1;x=\x1b[0m\x1bZ\x1b\\b')).toBe('ab');
    // Without a terminator on its line it is not a string: the cut-marker rule applies, as before.
    expect(stripEscapes('cut \x1b_bk;t=174532 tail\nnext')).toBe('cut  tail\nnext');
    expect(stripEscapes('\x1b_bk;t=1\rx\x07')).toBe('\rx\x07');
  });

  it('removes control characters but tab, line breaks and backspace, and C1 controls', () => {
    expect(cleanLogText('a\x00b\x07c\x7fd\x0be\x0cf\x1fg\x9bh\u0085i\u0080j\u009fk\u00a0l\tm')).toBe(
      'abcdefghijk\u00a0l\tm',
    );
    expect(cleanLogText('a\x1b\x00[31mb')).toBe('a[31mb');
  });

  it.each([
    ['X\bY', 'Y'],
    ['_\bF_\bA_\bI_\bL', 'FAIL'], // underline, as `man` writes it
    ['N\bNA\bAM\bME\bE', 'NAME'], // bold
    ['12%\b\b\b13%', '13%'],
    ['abc\b\bX', 'aXc'],
    ['abc\b', 'abc'],
    ['\b\bx\ny\b\rz\b😀\b\b!', 'x\ny\r!'], // never past a line's start; a character is a code point
  ])('applies backspaces as a terminal does, within a line: %j is %j', (raw, shown) => {
    expect(applyBackspaces(raw)).toBe(shown);
  });

  it('overstrikes after removing controls, which take no column', () => {
    expect(cleanLogText('é\x00\bx')).toBe('x');
  });

  it('removes a timestamp-lines prefix at the start of a line only, after escapes there', () => {
    expect(stripTimestampPrefixes(`${STAMP}a\n[2026-11-30T14:02:11.123Z] b\r\n${STAMP}\rc`)).toBe('a\nb\r\n\rc');
    expect(stripTimestampPrefixes(`mid ${STAMP}x`)).toBe(`mid ${STAMP}x`);
    expect(stripTimestampPrefixes(`${STAMP}${STAMP}twice`)).toBe(`${STAMP}twice`);
    expect(stripTimestampPrefixes(`${STAMP}cut`, false)).toBe(`${STAMP}cut`);
    const almost = '[2026-11-30T14:02:11Z]x\n[2026-11-30 14:02:11Z] y\n[2026-11-30T14:02:11+00:00] z';
    expect(stripTimestampPrefixes(almost)).toBe(almost);
    expect(cleanLogText(`\x1b_bk;t=1\x07\x1b[32m${STAMP}x\n\x00[2026\x1b[0m-11-30T14:02:11Z] y`)).toBe('x\ny');
  });

  it('splits the fixture into its clean lines', () => {
    const lines = cleanLines(fixture.toString('utf8'));
    expect(lines).toHaveLength(18);
    expect(lines[0]).toBe('~~~ Running global environment hook');
    expect(lines.slice(3, 6)).toEqual(['Downloading   5%', 'Downloading  55%', 'Downloading 100%']);
    expect(lines[12]).toBe("E         At index 2 diff: 'get_num_new_matched_tokens 96' != 'build_connector_meta'");
    // An OSC 1339 link without `content`: shown as its URL, as Buildkite's web view shows it.
    expect(lines[13]).toBe('https://buildkite.com/vllm/ci/builds/2334see build');
    expect(lines.join('\n')).not.toMatch(/\x1b|bk;t=/);
  });

  it('toPrintable removes escapes, control and bidi characters and makes one line', () => {
    expect(toPrintable('a\x00b\x07c\td\x9be\x1b[31mf')).toBe('abc def');
    expect(toPrintable('label\n- #1 [main] forged\u202eevil')).toBe('label - #1 [main] forgedevil');
    expect(toPrintable('\x1b_bk;t=1745322209921\x07ok')).toBe('ok');
    expect(toPrintable('a\x07b\x00c\x7fd\x9be')).toBe('abcde');
    expect(toPrintable('a\u202eb\u2066c\u2069\ufeff')).toBe('abc');
    expect(toPrintable('one\ntwo\r\nthree\rfour\tfive')).toBe('one two three four five');
    expect(toPrintable('\x1b]1339;url=https://x.example;content=the\x07 link')).toBe('the link');
  });

  it('splits the timestamp-lines fixture into its clean lines', () => {
    const lines = cleanLines(stampedFixture.toString('utf8'));
    expect(lines).toEqual([
      '~~~ Running global environment hook',
      '$ /buildkite/hooks/environment',
      '~~~ Preparing working directory',
      'Receiving objects:   5% (16004/320071)',
      'Receiving objects: 100% (320071/320071), 312.45 MiB | 61.20 MiB/s, done.',
      '--- :pytest: v1 Test others',
      'Installing dependencies  done',
      'NAME',
      '       flake-checker - scan Buildkite logs',
      'collecting ... collected 412 items',
      FAILED_LINE,
      'Uploading artifact junit-report.xml',
      'see build ;log',
      'Screenshot of the failed connector test',
      '',
      '31mC1 controls dropped',
      'log line quoting [2026-11-30T14:02:15Z] mid-line stays',
      '^^^ +++',
      '🚨 Error: The command exited with status 1',
    ]);
  });
});

describe('LogScanner', () => {
  const expected = [
    {
      line: 15,
      count: 1,
      snippet:
        'FAILED v1/kv_connector/unit/test_multi_connector.py::test_multi_shared_storage_connector_consistency - AssertionError',
    },
    {
      line: 13,
      count: 1,
      snippet: "E         At index 2 diff: 'get_num_new_matched_tokens 96' != 'build_connector_meta'",
    },
    {
      line: 12,
      count: 2,
      snippet: "E       AssertionError: assert ['get_num_new_matched_tokens 96', 'build_connector_meta'] == [...]",
    },
  ];

  it('finds the spec patterns in an ANSI-coloured log with mid-word markers', () => {
    expect(scan(fixture, [...DEFAULT_PATTERNS], true)).toEqual(expected);
  });

  it('gives the same answer whatever the chunk size (byte by byte included)', () => {
    for (const size of [1, 2, 3, 7, 64, 1000])
      expect(scan(fixture, [...DEFAULT_PATTERNS], true, size)).toEqual(expected);
  });

  it('matches literal patterns literally', () => {
    const hits = scan(Buffer.from('a.c\r\nabc\r\n(x+\n'), ['a.c', '(x+', 'zzz'], false);
    expect(hits).toEqual([{ line: 1, count: 1, snippet: 'a.c' }, { line: 3, count: 1, snippet: '(x+' }, null]);
  });

  it('numbers lines across \\r\\n, \\n and bare \\r, including a \\r\\n split between chunks', () => {
    const bytes = Buffer.from('one\r\ntwo\rthree\nfour\r\nFAIL here\r\nFAIL again');
    for (const size of [1, 2, 4, 5, bytes.length]) {
      expect(scan(bytes, ['FAIL'], false, size)).toEqual([{ line: 5, count: 2, snippet: 'FAIL here' }]);
    }
  });

  it('does not count a match that spans lines, and anchors work per line', () => {
    expect(scan(Buffer.from('foo\nbar\n'), ['foo\\sbar'], true)).toEqual([null]);
    expect(scan(Buffer.from('x FAILED\nFAILED y\n'), ['^FAILED'], true)).toEqual([
      { line: 2, count: 1, snippet: 'FAILED y' },
    ]);
    expect(scan(Buffer.from('a\nb\n'), ['x*'], true)).toEqual([{ line: 1, count: 2, snippet: 'a' }]);
  });

  it('survives invalid UTF-8, NUL bytes and an empty log', () => {
    expect(scan(Buffer.from([0x66, 0xff, 0x00, 0x61, 0x0a, 0x68, 0x69]), ['a', 'hi'], false)).toEqual([
      { line: 1, count: 1, snippet: 'f\ufffda' },
      { line: 2, count: 1, snippet: 'hi' },
    ]);
    expect(scan(Buffer.alloc(0), ['a'], false)).toEqual([null]);
  });

  it('matches a line far longer than MAX_LINE_BYTES in bounded pieces, counted once', () => {
    const long = 'x'.repeat(MAX_LINE_BYTES * 3) + 'NEEDLE' + 'y'.repeat(MAX_LINE_BYTES) + 'NEEDLE';
    const bytes = Buffer.from(`first\n${long}\nNEEDLE last\n`);
    const [hit] = scan(bytes, ['NEEDLE'], false, 65536);
    expect(hit).toMatchObject({ line: 2, count: 2 });
    expect(hit!.snippet.length).toBeLessThanOrEqual(SNIPPET_MAX);
    expect(hit!.snippet).toContain('NEEDLE');
  });
  it('never splits a character when it cuts a long line into pieces', () => {
    // 3-byte characters: MAX_LINE_BYTES is not a multiple of 3, so a naive cut would split one.
    const long = '€'.repeat(MAX_LINE_BYTES) + 'NEEDLE' + '€'.repeat(10);
    for (const size of [65536, 4096 + 1]) {
      const [needle, broken] = scan(Buffer.from(`${long}\n`), ['€€NEEDLE€€', '\ufffd'], false, size);
      expect(needle).toMatchObject({ line: 1, count: 1 });
      expect(broken).toBeNull();
    }
  });

  it('drops a byte-order mark at the start only, as TextDecoder does', () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    expect(scan(Buffer.concat([bom, Buffer.from('^x\n')]), ['^\\^x'], true, 1)).toEqual([
      { line: 1, count: 1, snippet: '^x' },
    ]);
    expect(scan(Buffer.concat([Buffer.from('a\n'), bom, Buffer.from('b\n')]), ['\ufeffb'], false)).toEqual([
      { line: 2, count: 1, snippet: 'b' },
    ]);
  });

  it('counts each line of a \\r\\n log once, empty lines and empty matches included', () => {
    const bytes = Buffer.from('a\r\n\r\nb\rc\n\nd');
    for (const size of [1, 2, 3, bytes.length]) {
      expect(scan(bytes, ['x*'], true, size)).toEqual([{ line: 1, count: 6, snippet: 'a' }]);
      expect(scan(bytes, ['^$'], true, size)).toEqual([{ line: 2, count: 2, snippet: '' }]);
      expect(scan(bytes, ['^[bcd]$'], true, size)).toEqual([{ line: 3, count: 3, snippet: 'b' }]);
    }
  });

  it('agrees with cleaning the whole text at once, for any chunking (random logs)', () => {
    const tokens: (string | number[])[] = [
      'get_num_new_matched_tokens 96',
      'FAILED x.py::test_a',
      ' ',
      'word',
      '\r\n',
      '\n',
      '\r',
      '\x1b_bk;t=1745322209921\x07',
      '\x1b_bk;dt=12\x1b\\',
      '\x1b[31m',
      '\x1b[0m',
      '\x1b]1339;url=x\x07',
      '\x1b(B',
      'é',
      '█',
      '😀',
      [0xff],
      [0xe2, 0x82],
      [0x80],
      '\u0000',
      // Links and images whose text holds the patterns' needles, a cut marker, controls, backspaces
      // and timestamp prefixes, whole or in parts that only cleaning joins.
      '\x1b]1339;url=https://x.example/a;content=FAILED x.py::test_a\x07',
      '\x1b]1339;content=word\\;word;url=u\x1b\\',
      '\x1b]1339;url=get_num_new\x07',
      '\x1b]1338;url=i.png;alt=ed_tok\x07',
      '\x1b]1337;File=name=eA==:AAAA\x07',
      '\x1b_bk;t=12',
      '\x07',
      '\x7f',
      '\u0085',
      '\u009b',
      '\b',
      '_\b',
      'X\b',
      STAMP,
      '[2026-11-30T14:02:11.5Z] ',
      '[2026',
      '-11-30T14:02:11Z] ',
    ];
    // The first set has a pattern without a needle, so every block is decoded; in the second
    // every pattern has one, so blocks without a needle are skipped undecoded.
    const patternSets = [
      ['get_num_new_matched_tokens 96', '^FAILED .*::test_a$', 'é\\s*█', '\ufffd', '^$', '^\\[2026', '^word;word'],
      [
        'get_num_new_matched_tokens 96',
        '^FAILED .*::test_a$',
        'word\\s*word',
        'ed_tok',
        '(?<=word )word',
        'Z\\] wor',
        'word;word',
      ],
    ];
    const rng = new Rng(12345);
    const random = (n: number) => rng.int(0, n - 1);
    for (let round = 0; round < 400; round++) {
      const parts: Buffer[] = [];
      for (let i = random(60); i > 0; i--) {
        const token = tokens[random(tokens.length)]!;
        // Every other log has no backspace, so that whole blocks of it stay on the fast path.
        if (round % 2 === 0 && typeof token === 'string' && token.includes('\b')) continue;
        parts.push(typeof token === 'string' ? Buffer.from(token) : Buffer.from(token));
      }
      const bytes = Buffer.concat(parts);
      for (const patterns of patternSets) {
        const expected = reference(bytes, patterns);
        for (const size of [1, 1 + random(16), bytes.length || 1])
          expect(
            scan(bytes, patterns, true, size),
            `${JSON.stringify(bytes.toString('latin1'))} in pieces of ${size}`,
          ).toEqual(expected);
      }
    }
  });
});

/** The scanner's contract, written the slow way: decode everything, clean, split, test each line. */
function reference(bytes: Uint8Array, patterns: string[]): (PatternHit | null)[] {
  const lines = cleanLines(new TextDecoder().decode(bytes));
  return patterns.map((source) => {
    const re = new RegExp(source);
    let hit: PatternHit | null = null;
    lines.forEach((line, i) => {
      const m = re.exec(line);
      if (!m) return;
      hit = hit
        ? { ...hit, count: hit.count + 1 }
        : { line: i + 1, count: 1, snippet: makeSnippet(line, m.index, m.index + m[0].length) };
    });
    return hit;
  });
}

describe('makeSnippet', () => {
  it('trims short lines and windows long ones around the match', () => {
    expect(makeSnippet('   hello  ', 3, 8)).toBe('hello');
    const line = `${'a'.repeat(500)}MATCH${'b'.repeat(500)}`;
    const snippet = makeSnippet(line, 500, 505);
    expect(snippet.length).toBeLessThanOrEqual(SNIPPET_MAX);
    expect(snippet).toMatch(/^…a+MATCHb+…$/);
    expect(makeSnippet(`MATCH${'b'.repeat(500)}`, 0, 5)).toMatch(/^MATCHb+…$/);
    const longMatch = makeSnippet(`${'a'.repeat(100)}${'M'.repeat(300)}`, 100, 400);
    expect(longMatch).toMatch(/^…M+…$/);
    expect(longMatch.length).toBeLessThanOrEqual(SNIPPET_MAX);
  });
});

describe('LogScanner on text that stays text', () => {
  const patterns = [
    '^FAILED',
    'junit-report\\.xml',
    'see build ;log',
    'Screenshot of',
    '^NAME$',
    'flake-checker - scan',
    '^collecting',
    '^C1',
    'mid-line',
  ];

  it('matches link and alt text, overstruck text and lines behind a timestamp prefix, whatever the chunking', () => {
    const expected = [
      { line: 11, count: 1, snippet: FAILED_LINE },
      { line: 12, count: 1, snippet: 'Uploading artifact junit-report.xml' },
      { line: 13, count: 1, snippet: 'see build ;log' },
      { line: 14, count: 1, snippet: 'Screenshot of the failed connector test' },
      { line: 8, count: 1, snippet: 'NAME' },
      { line: 9, count: 1, snippet: 'flake-checker - scan Buildkite logs' },
      { line: 10, count: 1, snippet: 'collecting ... collected 412 items' },
      null,
      { line: 17, count: 1, snippet: 'log line quoting [2026-11-30T14:02:15Z] mid-line stays' },
    ];
    expect(reference(stampedFixture, patterns)).toEqual(expected);
    for (const size of [1, 2, 3, 7, 16, 64, 1000, stampedFixture.length]) {
      expect(scan(stampedFixture, patterns, true, size), `in pieces of ${size}`).toEqual(expected);
    }
  });

  it('gives the same hits on a timestamp-lines agent as on one writing _bk;t= markers', () => {
    const text = fixture.toString('latin1');
    // The same log from the other fleet: a prefix instead of each line's first marker.
    const stamped = Buffer.from(text.replace(/(^|\n)\x1b_bk;t=\d+\x07/g, `$1${STAMP}`), 'latin1');
    expect(stamped.toString('latin1')).not.toContain('\n\x1b_bk;');
    const anchored = ['^FAILED .*consistency', '^E {7}AssertionError', '^~~~ Running', '^\\+\\+\\+ '];
    for (const size of [1, 5, 64, stamped.length]) {
      expect(scan(stamped, anchored, true, size)).toEqual(scan(fixture, anchored, true, size));
      const spec = [...DEFAULT_PATTERNS];
      expect(scan(stamped, spec, true, size)).toEqual(scan(fixture, spec, true, size));
    }
  });

  it('puts no control character in any snippet, JSON included', () => {
    const lines = [
      'a\x00b FAIL\x07 one\x7f\r\n',
      'FAIL\u009b31m two\u0085\n',
      'FA\bFAIL\x1b_x\x1b[0m\x1b\\ three\x07\n',
      '\x1b]1339;url=u;content=FAIL\x01 four\x07\n',
    ];
    const bytes = Buffer.from(lines.join(''));
    const hits = scan(bytes, ['FAIL', 'one', 'two', 'three', 'four', 'b FAIL'], false, 3);
    expect(hits.map((h) => h?.line)).toEqual([1, 1, 2, 3, 4, 1]);
    for (const hit of hits) {
      expect(hit!.snippet).not.toMatch(CONTROL);
      expect(JSON.stringify(hit)).not.toMatch(/\\u00[01]|\\b|\\u007f|\\u008|\\u009/);
    }
    expect(hits[0]!.snippet).toBe('ab FAIL one');
    expect(hits[4]!.snippet).toBe('FAIL four');
  });
});

describe('LogScanner edge cases found in review', () => {
  it('tests lookaround patterns line by line, blind to the neighbouring lines', () => {
    const bytes = Buffer.from('x\nError: boom\nfix\nnot an Error\n');
    expect(scan(bytes, ['(?<!\\s)Error', 'fix(?!\\s)'], true)).toEqual([
      { line: 2, count: 1, snippet: 'Error: boom' },
      { line: 3, count: 1, snippet: 'fix' },
    ]);
  });

  it('does not let the cuts of a long line act as line starts or ends, whatever the chunking', () => {
    const long = 'XYZ' + 'a'.repeat(MAX_LINE_BYTES * 3) + 'Q';
    const bytes = Buffer.from(`${long}\nXYZ end Q\n`);
    const patterns = ['^XYZ', 'Q$', '^a', 'a$'];
    const expected = [{ line: 1, count: 2 }, { line: 1, count: 2 }, null, null];
    for (const size of [65536, 1 << 20, bytes.length]) {
      const hits = scan(bytes, patterns, true, size);
      expect(
        hits.map((h) => (h ? { line: h.line, count: h.count } : null)),
        `chunks of ${size}`,
      ).toEqual(expected);
    }
  });

  it('never splits a timestamp marker at a cut in a long line', () => {
    const marker = '\x1b_bk;t=1745322209921\x07';
    const line = Array.from({ length: 40_000 }, (_, i) => `${marker}w${i % 10}`).join('');
    const hits = scan(Buffer.from(`${line}\n`), ['322209921', '\x07'], false, 65536);
    expect(hits).toEqual([null, null]);
  });
});
