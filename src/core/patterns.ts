// Compiling the user's patterns once, before any log is read.

export interface CompiledPattern {
  /** The pattern as the user gave it; this is what match records report. */
  readonly source: string;
  readonly isRegex: boolean;
  /** Tests one cleaned line (no line terminators). */
  readonly line: RegExp;
  /**
   * Finds candidate hits in a block of many lines joined by `\n` (flags `gm`): the fast path
   * that lets a block without a hit be skipped in one regex pass, as grep does. A hit is only a
   * candidate; the line it falls on is confirmed with `line`. Null for patterns with lookaround,
   * which would see the neighbouring lines through the block: those test every line alone.
   */
  readonly block: RegExp | null;
  /** For literal patterns: the text itself, matched with `includes` when confirming. */
  readonly literal: string | null;
  /**
   * UTF-8 of text that every match contains (the literal itself, or a run of plain characters
   * read from the regex), at least MIN_NEEDLE characters; null when none is certain. A block of
   * clean bytes holding no pattern's needle cannot match: the scanner skips decoding it.
   */
  readonly needle: Buffer | null;
}

/** Shorter needles would be found in nearly every block and only cost a search. */
export const MIN_NEEDLE = 3;

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/** `(?=`, `(?!`, `(?<=`, `(?<!`: assertions that look past the match, maybe past the line. */
const LOOKAROUND = /\(\?(?:[=!]|<[=!])/;

/**
 * Compiles patterns. `invalid` builds the error thrown for a pattern that does not compile, so
 * the caller decides its type and wording.
 */
export function compilePatterns(
  patterns: readonly string[],
  isRegex: boolean,
  invalid: (pattern: string, reason: string) => Error,
): readonly CompiledPattern[] {
  return Object.freeze(
    patterns.map((source) => {
      const body = isRegex ? source : escapeRegExp(source);
      let line: RegExp;
      let block: RegExp | null;
      try {
        line = new RegExp(body);
        block = isRegex && LOOKAROUND.test(source) ? null : new RegExp(body, 'gm');
      } catch (error: unknown) {
        throw invalid(
          source,
          error instanceof Error ? error.message.replace(/^Invalid regular expression: /, '') : String(error),
        );
      }
      const required = isRegex ? requiredLiteral(source) : source;
      // A lone surrogate cannot be encoded (it would become U+FFFD), so it gives no needle.
      const needle =
        required !== null && required.length >= MIN_NEEDLE && !LONE_SURROGATE.test(required)
          ? Buffer.from(required, 'utf8')
          : null;
      return Object.freeze({ source, isRegex, line, block, literal: isRegex ? null : source, needle });
    }),
  );
}

/**
 * The needles a scanner searches a block for, or null when some pattern has none (then no block
 * can be skipped). A needle that holds another is found only where that one is, so it is
 * dropped, as are repeats.
 */
export function blockNeedles(patterns: readonly CompiledPattern[]): readonly Buffer[] | null {
  const needles = patterns.map((p) => p.needle);
  if (!needles.every((n) => n !== null)) return null;
  return needles.filter((n, i) => !needles.some((m, j) => j !== i && n.includes(m) && (!m.equals(n) || j < i)));
}

/** A quantifier `{n}`, `{n,}` or `{n,m}` (anything else starting with `{` is a literal brace). */
const BRACES = /^\{(\d+)(?:,\d*)?\}/;

/**
 * The longest run of plain characters that every match of the regex contains, or null when none
 * is certain. Conservative: only characters outside groups and classes count; a top-level `|`,
 * or an escape whose length this does not parse (`\x`, `\u`, `\c`, `\p`, `\k`, digits), gives
 * null; a character made optional by `?`, `*` or `{0,...}` is dropped.
 */
export function requiredLiteral(source: string): string | null {
  let best = '';
  let run = '';
  const flush = () => {
    if (run.length > best.length) best = run;
    run = '';
  };
  /** Skips a quantifier at `i` (and its lazy `?`); returns [next index, minimum count] or null. */
  const quantifier = (i: number): [number, number] | null => {
    const c = source[i];
    let next: number;
    let min: number;
    if (c === '*' || c === '?') [next, min] = [i + 1, 0];
    else if (c === '+') [next, min] = [i + 1, 1];
    else {
      const m = c === '{' ? BRACES.exec(source.slice(i)) : null;
      if (!m) return null;
      [next, min] = [i + m[0].length, Number(m[1])];
    }
    return [source[next] === '?' ? next + 1 : next, min];
  };
  for (let i = 0; i < source.length;) {
    const c = source[i]!;
    let atom: string | null = null; // a plain character, or null for anything else
    let end: number;
    if (c === '\\') {
      const d = source[i + 1];
      if (d === undefined || /[xucpPk0-9]/.test(d)) return null;
      atom = /[\\^$.*+?()[\]{}|/-]/.test(d) ? d : null;
      end = i + 2;
    } else if (c === '(' || c === '[') {
      end = skipGroupOrClass(source, i);
      if (end < 0) return null;
    } else if (c === '|') {
      return null;
    } else if ('.^$)]{}*+?'.includes(c) || (c >= '\ud800' && c <= '\udfff')) {
      // Not plain text; half of a character outside the BMP, to which alone a quantifier may apply.
      end = i + 1;
    } else {
      atom = c;
      end = i + 1;
    }
    const q = quantifier(end);
    if (atom !== null && (q === null || q[1] >= 1)) run += atom;
    // After a quantified atom, more copies or other text may follow: the run ends there.
    if (atom === null || q !== null) flush();
    i = q ? q[0] : end;
  }
  flush();
  return best === '' ? null : best;
}

/** The index after the group or class opening at `start`, or -1 when it does not close. */
function skipGroupOrClass(source: string, start: number): number {
  let depth = 0;
  for (let i = start; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') {
      i++;
    } else if (c === '[') {
      // A class ends at the first unescaped `]`; brackets inside it are plain characters.
      for (i++; i < source.length && source[i] !== ']'; i++) if (source[i] === '\\') i++;
      if (i >= source.length) return -1;
      if (depth === 0) return i + 1;
    } else if (c === '(') {
      depth++;
    } else if (c === ')') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

/**
 * A group that repeats something repeatable, such as `(a+)+`, `(\w*\s?)*` or `(x|y+){2,}`:
 * the shape behind catastrophic backtracking. A heuristic (it reads the source, it does not
 * analyse the automaton), used to warn before a scan rather than to refuse a pattern.
 */
const NESTED_QUANTIFIER =
  /\((?:[^()[\\]|\\.|\[(?:[^\]\\]|\\.)*\])*(?:[+*]|\{\d+,\d*\})(?:[^()[\\]|\\.|\[(?:[^\]\\]|\\.)*\])*\)(?:[+*]|\{\d+,\d*\})/;

/** Warnings for regex patterns whose shape risks catastrophic backtracking on long lines. */
export function riskyPatternWarnings(patterns: readonly CompiledPattern[]): string[] {
  return patterns
    .filter((p) => p.isRegex && NESTED_QUANTIFIER.test(p.source))
    .map(
      (p) =>
        `pattern ${JSON.stringify(p.source)} repeats a group that itself repeats (a nested quantifier); on a long line it can backtrack for minutes. Prefer literal text or a pattern without nested quantifiers.`,
    );
}
