// Colour for the terminal report: a few roles, each a function from text to text, so the
// renderer stays pure and the CLI decides whether the terminal gets colour at all.

import type { Verdict } from '../core/verdict.ts';

export interface Style {
  readonly verdict: (verdict: Verdict, text: string) => string;
  readonly pattern: (text: string) => string;
  readonly link: (text: string) => string;
  readonly dim: (text: string) => string;
}

export const PLAIN: Style = {
  verdict: (_verdict, text) => text,
  pattern: (text) => text,
  link: (text) => text,
  dim: (text) => text,
};

const sgr = (open: string, text: string): string => `\x1b[${open}m${text}\x1b[0m`;
const VERDICT_COLOURS: Record<Verdict, string> = { flaky: '33;1', 'broken-main': '31;1', single: '36', noise: '2' };

export const ANSI: Style = {
  verdict: (verdict, text) => sgr(VERDICT_COLOURS[verdict], text),
  pattern: (text) => sgr('1', text),
  link: (text) => sgr('4', text),
  dim: (text) => sgr('2', text),
};

/**
 * Whether a stream gets colour, as the ecosystem agrees: FORCE_COLOR (other than `0` or
 * `false`) forces it, a non-empty NO_COLOR turns it off, and otherwise a terminal that is not
 * `dumb` gets it.
 */
export function wantsColour(env: Readonly<Record<string, string | undefined>>, isTty: boolean): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined) return force !== '0' && force.toLowerCase() !== 'false';
  if (env.NO_COLOR) return false;
  return isTty && env.TERM !== 'dumb';
}
