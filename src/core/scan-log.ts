// Scanning one log as its bytes arrive: decode, split into lines, clean, match. Pure and
// incremental: the caller pushes chunks (from the network or the cache) and never holds the
// whole log; memory is bounded by the chunk size plus MAX_LINE_CHARS.

import { stripEscapes } from './clean-line.ts';
import type { CompiledPattern } from './patterns.ts';
import { makeSnippet } from './snippet.ts';

/**
 * Lines longer than this many characters are matched in pieces of this size, each overlapping
 * the previous one by PIECE_OVERLAP characters, so memory stays bounded on a single line of
 * hundreds of MB. A match longer than the overlap that straddles a cut can be missed; a match
 * found in two pieces is counted once.
 */
export const MAX_LINE_CHARS = 256 * 1024;
export const PIECE_OVERLAP = 4 * 1024;

/** The first match of one pattern in one log, and how many lines matched. */
export interface PatternHit {
  /** 1-based number of the first matching line in the cleaned log. */
  readonly line: number;
  readonly snippet: string;
  readonly count: number;
}

interface HitState {
  line: number;
  snippet: string;
  count: number;
  /** The last line counted, so a line matched in two pieces counts once. */
  lastLine: number;
}

export class LogScanner {
  private readonly decoder = new TextDecoder('utf-8');
  private readonly hits: (HitState | null)[];
  /** Raw text of the line in progress (no terminator yet). */
  private carry = '';
  /** The previous chunk ended with `\r`: a `\n` opening the next one belongs to it. */
  private pendingCR = false;
  /** Lines completed so far. */
  private lines = 0;
  private bytes = 0;
  private ended = false;

  constructor(private readonly patterns: readonly CompiledPattern[]) {
    this.hits = patterns.map(() => null);
  }

  /** Bytes pushed so far. */
  get bytesScanned(): number {
    return this.bytes;
  }

  /** Lines completed so far. */
  get linesScanned(): number {
    return this.lines;
  }

  push(chunk: Uint8Array): void {
    if (this.ended) throw new Error('LogScanner: push after end');
    this.bytes += chunk.length;
    this.feed(this.decoder.decode(chunk, { stream: true }));
  }

  /** Ends the log: the last line (if it had no terminator) is scanned. Returns one entry per pattern. */
  end(): (PatternHit | null)[] {
    if (!this.ended) {
      this.ended = true;
      this.feed(this.decoder.decode());
      if (this.carry !== '') {
        this.scanBlock(this.carry, true);
        this.lines += 1;
        this.carry = '';
      }
    }
    return this.hits.map((h) => (h ? { line: h.line, snippet: h.snippet, count: h.count } : null));
  }

  private feed(text: string): void {
    if (text === '') return;
    if (this.pendingCR) {
      this.pendingCR = false;
      if (text.charCodeAt(0) === 10) text = text.slice(1);
    }
    const s = this.carry === '' ? text : this.carry + text;
    const cut = Math.max(s.lastIndexOf('\n'), s.lastIndexOf('\r'));
    if (cut < 0) {
      this.carry = s;
      this.cutLongLine();
      return;
    }
    // A `\r\n` ending the block belongs to the last line; a `\r` at the very end may be
    // followed by `\n` in the next chunk.
    let end = cut;
    if (s.charCodeAt(cut) === 10 && cut > 0 && s.charCodeAt(cut - 1) === 13) end = cut - 1;
    else if (s.charCodeAt(cut) === 13 && cut === s.length - 1) this.pendingCR = true;
    this.carry = s.slice(cut + 1);
    const block = s.slice(0, end);
    const newlines = this.scanBlock(block, false);
    this.lines += newlines + 1;
    this.cutLongLine();
  }

  /** Matches the line in progress in pieces while it is longer than MAX_LINE_CHARS. */
  private cutLongLine(): void {
    while (this.carry.length > MAX_LINE_CHARS) {
      this.scanBlock(this.carry.slice(0, MAX_LINE_CHARS), true);
      this.carry = this.carry.slice(MAX_LINE_CHARS - PIECE_OVERLAP);
    }
  }

  /**
   * Scans complete lines (or one piece of a long line when `single`); returns how many line
   * breaks the block held. The first line of the block is line `this.lines + 1`.
   */
  private scanBlock(raw: string, single: boolean): number {
    let block = stripEscapes(raw);
    // Pieces of a long line hold no terminators (the carry never does).
    if (!single && block.includes('\r')) block = block.replace(/\r\n?/g, '\n');
    const first = this.lines + 1;
    for (let i = 0; i < this.patterns.length; i++) this.matchPattern(i, block, first);
    let newlines = 0;
    for (let at = block.indexOf('\n'); at >= 0; at = block.indexOf('\n', at + 1)) newlines++;
    return newlines;
  }

  /**
   * Finds the lines of `block` that pattern `index` matches. The block-wide regex finds
   * candidates in one pass; each candidate's line is confirmed on its own, so a hit that
   * spans lines never counts, and the search resumes at the next line.
   */
  private matchPattern(index: number, block: string, first: number): void {
    const pattern = this.patterns[index]!;
    const re = pattern.block;
    re.lastIndex = 0;
    let countedTo = 0; // line breaks counted before position `countedTo`
    let lineNo = first;
    for (let m = re.exec(block); m !== null; m = re.exec(block)) {
      const start = m.index === 0 ? 0 : block.lastIndexOf('\n', m.index - 1) + 1;
      let end = block.indexOf('\n', m.index);
      if (end < 0) end = block.length;
      for (let at = block.indexOf('\n', countedTo); at >= 0 && at < start; at = block.indexOf('\n', at + 1)) {
        lineNo++;
        countedTo = at + 1;
      }
      const line = block.slice(start, end);
      const found = confirm(pattern, line);
      if (found) this.record(index, lineNo, line, found);
      if (end >= block.length) break;
      re.lastIndex = end + 1;
    }
  }

  private record(index: number, lineNo: number, line: string, found: readonly [number, number]): void {
    const hit = this.hits[index];
    if (!hit) {
      this.hits[index] = { line: lineNo, snippet: makeSnippet(line, found[0], found[1]), count: 1, lastLine: lineNo };
    } else if (hit.lastLine !== lineNo) {
      hit.count++;
      hit.lastLine = lineNo;
    }
  }
}

/** Confirms a candidate line; returns the match's [start, end) or null. */
function confirm(pattern: CompiledPattern, line: string): [number, number] | null {
  if (pattern.literal !== null) {
    const at = line.indexOf(pattern.literal);
    return at < 0 ? null : [at, at + pattern.literal.length];
  }
  const m = pattern.line.exec(line);
  return m ? [m.index, m.index + m[0].length] : null;
}
