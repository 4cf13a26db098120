// The discovery fixtures (__tests__/fixtures/discover-*.log, described in the README there):
// clean text, one log line a line, as the scanner hands lines to the extractor.

import { readFileSync } from 'node:fs';
import { FailureExtractor, type Failure } from '../../../src/core/discover/extract.ts';

export const FIXTURES = [
  'discover-summary-a.log',
  'discover-summary-b.log',
  'discover-engine-wrapper.log',
  'discover-script-traceback.log',
  'discover-killed.log',
  'discover-infra-a.log',
  'discover-infra-b.log',
  'discover-near-misses.log',
] as const;

export type FixtureName = (typeof FIXTURES)[number];

export function fixtureLines(name: FixtureName): string[] {
  const lines = readFileSync(new URL(`../../fixtures/${name}`, import.meta.url), 'utf8').split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/** The failures of a sequence of lines numbered from 1; `keep` chooses which are pushed. */
export function extract(lines: readonly string[], keep: (line: string) => boolean = () => true): Failure[] {
  const extractor = new FailureExtractor();
  lines.forEach((line, i) => {
    if (keep(line)) extractor.push(i + 1, line);
  });
  return extractor.end();
}
