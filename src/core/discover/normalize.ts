// Masking what varies between runs of the same failure, so that it groups across builds, and
// building, from the same pieces, the regex that matches every variant.
//
// A text is cut into literal pieces and masked pieces. The signature shows a masked piece as its
// placeholder (`<n>`); the pattern holds the rule's bounded class instead (`\d+`) and the literal
// pieces escaped. Rules apply in the order of NORMALIZATION_RULES, each to the original text,
// and a later rule never touches text an earlier one masked: a UUID is one `<uuid>`, not five
// hex and number pieces.

import { escapeRegExp } from '../patterns.ts';

/** One masking rule, as data: docs are generated from these, tests run every example. */
export interface NormalizationRule {
  readonly name: string;
  readonly description: string;
  /** A message as a log shows it... */
  readonly before: string;
  /** ...and as its signature shows it (every rule applied, not only this one). */
  readonly after: string;
  /** What stands in the signature for the text the rule masks. */
  readonly placeholder: string;
  /** Regex source matching any text the rule masks: what a pattern holds in its place. */
  readonly pattern: string;
  /** Whether it also folds the parametrize ids of test ids (numbers and durations do not). */
  readonly inTestIds: boolean;
}

interface MaskRule extends NormalizationRule {
  /** Finds what to mask (flag `g`). */
  readonly find: RegExp;
}

const RULES: readonly MaskRule[] = [
  {
    name: 'uuid',
    description: 'UUIDs: request, trace and run ids.',
    before: 'KeyError: Request 5b0c2f8e-41d7-4a3b-9e6f-0d2c7a1b8e94 not found',
    after: 'KeyError: Request <uuid> not found',
    placeholder: '<uuid>',
    pattern: '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}',
    inTestIds: true,
    find: /\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b/g,
  },
  {
    name: 'temporary-path',
    description:
      "pytest's per-run directories (`/tmp/pytest-of-<user>/pytest-<n>/<test dir>`) and " +
      '`tempfile` names (`/tmp/tmp` and random characters); what follows inside them is kept.',
    before: "FileNotFoundError: No such file: '/tmp/pytest-of-root/pytest-12/test_save_pretrained0/config.json'",
    after: "FileNotFoundError: No such file: '<tmp>/config.json'",
    placeholder: '<tmp>',
    pattern: String.raw`\/tmp\/(?:pytest-of-[\w.-]+\/pytest-\d+(?:\/\w+)?|tmp\w+)`,
    inTestIds: true,
    find: /\/tmp\/(?:pytest-of-[\w.-]+\/pytest-\d+(?:\/\w+)?|tmp[a-z0-9_]{6,})/g,
  },
  {
    name: 'address',
    description: 'Memory addresses in object reprs (`0x` and hex digits).',
    before: 'RuntimeError: <vllm.v1.engine.core.EngineCoreProc object at 0x7f2c4a1e9b50> is dead',
    after: 'RuntimeError: <vllm.v1.engine.core.EngineCoreProc object at <addr>> is dead',
    placeholder: '<addr>',
    pattern: '0x[0-9a-fA-F]+',
    inTestIds: true,
    find: /\b0x[0-9a-fA-F]+\b/g,
  },
  {
    name: 'hex-id',
    description:
      'Runs of 8 or more lowercase hex characters holding a digit and a letter: commit and ' +
      'image digests, request ids, hashes.',
    before: 'ValueError: Request cmpl-9e1f0c2ab37d4d5e8f6a1b2c3d4e5f60-0 already exists',
    after: 'ValueError: Request cmpl-<hex>-<n> already exists',
    placeholder: '<hex>',
    pattern: '[0-9a-f]{8,}',
    inTestIds: true,
    find: /\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{8,}\b/g,
  },
  {
    name: 'timestamp',
    description: 'Times of day, with an optional ISO date before and fraction and zone after.',
    before: 'TimeoutError: no heartbeat from EngineCore since 2026-03-04T05:06:07.891Z',
    after: 'TimeoutError: no heartbeat from EngineCore since <time>',
    placeholder: '<time>',
    pattern: String.raw`(?:\d{4}-\d\d-\d\d[T ])?\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?`,
    inTestIds: true,
    find: /(?:\b\d{4}-\d\d-\d\d[T ]|(?<![\w:.]))\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?(?![\w:])/g,
  },
  {
    name: 'port',
    description:
      'Ports after `localhost:`, an IPv4 address and colon, `]:` (IPv6) or `port=`: each ' +
      'test server binds a free one.',
    before: 'httpx.ConnectError: [Errno 111] Connection refused: http://localhost:41327/v1/completions',
    after: 'httpx.ConnectError: [Errno <n>] Connection refused: http://localhost:<port>/v1/completions',
    placeholder: '<port>',
    pattern: String.raw`\d+`,
    inTestIds: true,
    find: /(?<=(?:\blocalhost|\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}|\]):)\d{1,5}\b|(?<=\bport[=: ] ?)\d{1,5}\b/g,
  },
  {
    name: 'duration',
    description:
      'A number with a unit of time (`60s`, `1.5s`, `250ms`, `600012 milliseconds`); they ' +
      'fold together whatever their digits, so `>300.0s` and `>900.0s` group.',
    before: 'TimeoutError: no output from the server in 60s (waited 61.3s)',
    after: 'TimeoutError: no output from the server in <duration> (waited <duration>)',
    placeholder: '<duration>',
    pattern: String.raw`\d+(?:\.\d+)?(?:ms|s|sec|min| ?(?:milliseconds|seconds|second|minutes|minute|hours|hour))`,
    inTestIds: false,
    find: /(?<![\w.])\d+(?:\.\d+)?(?:ms|s|sec|min| ?(?:milliseconds|seconds|second|minutes|minute|hours|hour))\b/g,
  },
  {
    name: 'number',
    description:
      'Any other run of digits (counts, sizes, pids, line numbers, errno). Kept: digits ' +
      'attached to a word (`v1`, `fp8`, `EngineCore_0`) and digits inside a quoted name without spaces ' +
      "(`'facebook/opt-125m'`, `'layers.12.mlp'`), which name things rather than count them.",
    before: "ValueError: The model's max seq len (32768) is larger than the KV cache (16384) of 'Qwen/Qwen3-0.6B'",
    after: "ValueError: The model's max seq len (<n>) is larger than the KV cache (<n>) of 'Qwen/Qwen3-0.6B'",
    placeholder: '<n>',
    pattern: String.raw`\d+`,
    inTestIds: false,
    find: /(?<!\w)\d+/g,
  },
];

export const NORMALIZATION_RULES: readonly NormalizationRule[] = Object.freeze(
  RULES.map(({ find: _find, ...rule }) => Object.freeze(rule)),
);

/**
 * Masked messages are cut at this many characters of signature text (a placeholder is never
 * split), so a long message keys on its start and its pattern matches by prefix. Cutting the
 * masked text, not the raw one, keeps the cut in one place whatever the volatile parts' lengths.
 */
export const MAX_MESSAGE = 200;

/** Only this much of a raw text is masked; what follows it cannot reach the signature anyway. */
const MAX_RAW = 2000;

/** A quoted name: no whitespace and at least one letter. Its digits are kept (rule `number`). */
const QUOTED_NAME = /'(?=[^'\s]*[A-Za-z])[^'\s]{1,200}'|"(?=[^"\s]*[A-Za-z])[^"\s]{1,200}"/g;

/** A text masked: what the signature shows, and a regex source matching every variant. */
export interface Masked {
  readonly text: string;
  readonly pattern: string;
  /** False when MAX_MESSAGE cut it: the pattern then matches by prefix. */
  readonly complete: boolean;
}

interface Span {
  readonly start: number;
  readonly end: number;
  readonly rule: MaskRule;
}

/** Masks a message (an exception line, a pytest message) with every rule, cut at MAX_MESSAGE. */
export function maskMessage(raw: string): Masked {
  const text = raw.slice(0, MAX_RAW);
  return render(text, findSpans(text, 0, RULES), MAX_MESSAGE, raw.length <= MAX_RAW);
}

/**
 * Folds a test id: inside its parametrize id (from the first `[`), the rules marked
 * `inTestIds` mask temporary paths, addresses, ids, times and ports; the file, the function and
 * every other character stay as they are: `[opt-125m-True-8]` and `[opt-125m-True-16]` are
 * different cases, not variants of one. Never cut.
 */
export function foldTestId(raw: string): Masked {
  const open = raw.indexOf('[');
  return render(raw, open < 0 ? [] : findSpans(raw, open, TEST_ID_RULES), Infinity, true);
}

const TEST_ID_RULES = RULES.filter((r) => r.inTestIds);

/** The spans the rules mask in `text` from `from` on, in order; earlier rules win overlaps. */
function findSpans(text: string, from: number, rules: readonly MaskRule[]): Span[] {
  const spans: Span[] = [];
  let quoted: { start: number; end: number }[] | null = null;
  for (const rule of rules) {
    rule.find.lastIndex = from;
    for (let m = rule.find.exec(text); m !== null; m = rule.find.exec(text)) {
      const start = m.index;
      const end = start + m[0].length;
      if (end === start) {
        rule.find.lastIndex++;
        continue;
      }
      if (spans.some((s) => start < s.end && s.start < end)) continue;
      if (rule.name === 'number') {
        quoted ??= [...text.matchAll(QUOTED_NAME)].map((q) => ({ start: q.index, end: q.index + q[0].length }));
        if (quoted.some((q) => q.start < start && end < q.end)) continue;
      }
      spans.push({ start, end, rule });
    }
  }
  return spans.sort((a, b) => a.start - b.start);
}

/** Placeholders that a literal `<` could be mistaken for: written `<<name>` when literal. */
const PLACEHOLDER_AHEAD = new RegExp(`<(?=(?:${RULES.map((r) => r.placeholder.slice(1, -1)).join('|')})>)`, 'g');

function render(text: string, spans: readonly Span[], limit: number, whole: boolean): Masked {
  let out = '';
  let pattern = '';
  let at = 0;
  let complete = whole;
  const literal = (piece: string): boolean => {
    const escaped = piece.replace(PLACEHOLDER_AHEAD, '<<');
    if (out.length + escaped.length > limit) {
      // Cut where the budget ends; an escape `<<` counts for two characters.
      let cut = piece.slice(0, Math.max(0, limit - out.length));
      while (cut.replace(PLACEHOLDER_AHEAD, '<<').length > limit - out.length) cut = cut.slice(0, -1);
      if (/[\ud800-\udbff]$/.test(cut)) cut = cut.slice(0, -1); // never half a character
      out += cut.replace(PLACEHOLDER_AHEAD, '<<');
      pattern += literalPattern(cut);
      return false;
    }
    out += escaped;
    pattern += literalPattern(piece);
    return true;
  };
  for (const span of spans) {
    if (!literal(text.slice(at, span.start)) || out.length + span.rule.placeholder.length > limit) {
      return { text: out, pattern, complete: false };
    }
    out += span.rule.placeholder;
    pattern += span.rule.pattern;
    at = span.end;
  }
  if (!literal(text.slice(at))) complete = false;
  return { text: out, pattern, complete };
}

/**
 * Literal text as regex source: special characters escaped, whitespace other than a space
 * written as `\s` (a patterns file trims its lines, and a tab is invisible in one).
 */
export function literalPattern(text: string): string {
  return escapeRegExp(text).replace(/(?! )\s/g, String.raw`\s`);
}
