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
}

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
        throw invalid(source, error instanceof Error ? error.message.replace(/^Invalid regular expression: /, '') : String(error));
      }
      return Object.freeze({ source, isRegex, line, block, literal: isRegex ? null : source });
    }),
  );
}

/**
 * A group that repeats something repeatable, such as `(a+)+`, `(\w*\s?)*` or `(x|y+){2,}`:
 * the shape behind catastrophic backtracking. A heuristic (it reads the source, it does not
 * analyse the automaton), used to warn before a scan rather than to refuse a pattern.
 */
const NESTED_QUANTIFIER = /\((?:[^()[\\]|\\.|\[(?:[^\]\\]|\\.)*\])*(?:[+*]|\{\d+,\d*\})(?:[^()[\\]|\\.|\[(?:[^\]\\]|\\.)*\])*\)(?:[+*]|\{\d+,\d*\})/;

/** Warnings for regex patterns whose shape risks catastrophic backtracking on long lines. */
export function riskyPatternWarnings(patterns: readonly CompiledPattern[]): string[] {
  return patterns
    .filter((p) => p.isRegex && NESTED_QUANTIFIER.test(p.source))
    .map((p) => `pattern ${JSON.stringify(p.source)} repeats a group that itself repeats (a nested quantifier); on a long line it can backtrack for minutes. Prefer literal text or a pattern without nested quantifiers.`);
}
