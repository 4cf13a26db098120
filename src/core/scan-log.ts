// Scanning one log as its bytes arrive: split into lines, clean, decode, match. Pure and
// incremental: the caller pushes chunks (from the network or the cache) and never holds the
// whole log; memory is bounded by the chunk size plus MAX_LINE_BYTES.
//
// Speed (docs/benchmarks.md, "Scanning speed"): the work is done per block of complete lines,
// never per line, the way grep works:
// - lines are cut on bytes, so a block always ends on a character boundary;
// - a block of valid UTF-8 is cleaned as bytes in WebAssembly (strip-bytes.ts), which also
//   counts its line breaks; the line carried from the last chunk and the new one are copied
//   there one after the other, never joined first;
// - when every pattern has a needle (text each of its matches contains) and the clean bytes
//   hold none, nothing in the block can match: it is counted and dropped, never decoded;
// - otherwise it is decoded (all-ASCII as latin1, into a one-byte string, on which V8's regexes
//   run several times faster) and each pattern's block regex finds candidate lines, each
//   confirmed on its own. Line breaks stay in the text and are located only around a candidate.
// Invalid UTF-8 takes the text path: decoded first (bad sequences become U+FFFD), then cleaned
// by cleanLogText (clean-line.ts), whose output the WebAssembly cleaner reproduces byte for byte;
// so does a block holding what the module leaves to the text rules (a backspace: rare).
// A block always starts a line, except the pieces of a long line after the first, and the end
// of such a line: cleaning is told so, since a timestamp prefix counts only at a line start.

import { isAscii } from 'node:buffer';
import { cleanLogText } from './clean-line.ts';
import { blockNeedles, escapeRegExp, type CompiledPattern } from './patterns.ts';
import { makeSnippet } from './snippet.ts';
import { cleanLogBytes } from './strip-bytes.ts';

/**
 * Lines longer than this many bytes are matched in pieces of about this size, each overlapping
 * the previous one by PIECE_OVERLAP bytes, so memory stays bounded on a single line of
 * hundreds of MB. A match longer than the overlap that straddles a cut can be missed; a match
 * found in two pieces is counted once.
 */
export const MAX_LINE_BYTES = 256 * 1024;
export const PIECE_OVERLAP = 4 * 1024;

const LF = 10;
const CR = 13;
const EMPTY = Buffer.alloc(0);

/**
 * A block of lines cleaned, with its line breaks counted. `text` is null when the block holds
 * no pattern's needle, so nothing in it can match and it was not decoded; `length`, `first` and
 * `last` (a character's code, or a byte's where `text` is null: the same for `\r` and `\n`)
 * still tell how its lines end.
 */
interface Cleaned {
  readonly text: string | null;
  readonly breaks: number;
  readonly length: number;
  readonly first: number;
  readonly last: number;
}
const NOTHING: Cleaned = { text: '', breaks: 0, length: 0, first: -1, last: -1 };

function cleanedText(text: string, breaks: number): Cleaned {
  return { text, breaks, length: text.length, first: text.charCodeAt(0), last: text.charCodeAt(text.length - 1) };
}

/** Clean bytes left undecoded: nothing in them can match. */
function skipped(bytes: Buffer, breaks: number): Cleaned {
  return { text: null, breaks, length: bytes.length, first: bytes[0] ?? -1, last: bytes[bytes.length - 1] ?? -1 };
}

/**
 * Decodes bytes that end on a character boundary: an all-ASCII block as latin1, into a one-byte
 * string, on which V8's regexes run several times faster than on a two-byte one. Buffer's UTF-8
 * decoding replaces invalid sequences with U+FFFD exactly as TextDecoder does.
 */
function decode(bytes: Buffer): string {
  return bytes.toString(isAscii(bytes) ? 'latin1' : 'utf8');
}

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

/**
 * A reader of candidate lines beside the patterns (discovery's extractor): it names literal
 * needles, every line it cares about contains one, and it is handed each such line, in order,
 * once. Blocks holding none of its needles (nor any pattern's) are skipped like any other.
 */
export interface LineVisitor {
  readonly needles: readonly string[];
  visit(lineNumber: number, line: string): void;
}

export class LogScanner {
  private readonly hits: (HitState | null)[];
  /** Bytes of the line in progress (no terminator yet). */
  private carry: Buffer = EMPTY;
  /** The last block ended with `\r`: a `\n` opening the next one belongs to it. */
  private pendingCR = false;
  /** Pieces of the line in progress were matched already (it is longer than MAX_LINE_BYTES). */
  private inLongLine = false;
  /** Nothing decoded yet: a byte-order mark at the very start is dropped, as TextDecoder does. */
  private atStart = true;
  /** The last block needed the cleaner's thorough pass, as every block of a timestamp-lines log does. */
  private thorough = false;
  /** Lines completed so far. */
  private lines = 0;
  private bytes = 0;
  private ended = false;

  /** Every pattern's needle, or null when some pattern has none (then every block is decoded). */
  private readonly needles: readonly Buffer[] | null;

  /** Finds the visitor's candidate lines in a block (flags `gm`), or null without a visitor. */
  private readonly candidates: RegExp | null;

  constructor(
    private readonly patterns: readonly CompiledPattern[],
    private readonly visitor: LineVisitor | null = null,
  ) {
    this.hits = patterns.map(() => null);
    const needles = blockNeedles(patterns);
    // With no pattern at all, only the visitor's needles decide; with patterns, both must have them.
    this.needles = visitor
      ? patterns.length === 0 || needles
        ? [...(needles ?? []), ...visitor.needles.map((n) => Buffer.from(n, 'utf8'))]
        : null
      : needles;
    this.candidates = visitor ? new RegExp(visitor.needles.map(escapeRegExp).join('|'), 'gm') : null;
  }

  /** Bytes pushed so far. */
  get bytesScanned(): number {
    return this.bytes;
  }

  push(chunk: Uint8Array): void {
    if (this.ended) throw new Error('LogScanner: push after end');
    this.bytes += chunk.length;
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    // Cut after the last `\n`: no escape sequence or cleaning rule spans a line break, so
    // cleaning the block alone gives what cleaning the whole log would. A run of progress-bar
    // redraws may hold no `\n` for megabytes; then cut after the last bare `\r`.
    let cut = bytes.lastIndexOf(LF);
    if (cut < 0) cut = bytes.lastIndexOf(CR);
    if (cut < 0) {
      if (bytes.length === 0) return;
      this.carry = this.carry.length === 0 ? Buffer.from(bytes) : Buffer.concat([this.carry, bytes]);
      this.cutLongLine();
      return;
    }
    const head = bytes.subarray(0, cut + 1);
    // Not joined: the cleaner copies both parts where it works anyway.
    const block = this.carry.length === 0 ? [head] : [this.carry, head];
    // Copied: the caller may reuse its buffer once push returns, and a view would pin it.
    this.carry = Buffer.from(bytes.subarray(cut + 1));
    this.scanLines(this.clean(block, !this.inLongLine));
    this.cutLongLine();
  }

  /** Ends the log: the last line (if it had no terminator) is scanned. Returns one entry per pattern. */
  end(): (PatternHit | null)[] {
    if (!this.ended) {
      this.ended = true;
      const rest = this.carry.length > 0 ? this.clean([this.carry], !this.inLongLine) : NOTHING;
      this.carry = EMPTY;
      this.scanLines(rest, true);
    }
    return this.hits.map((h) => (h ? { line: h.line, snippet: h.snippet, count: h.count } : null));
  }

  /**
   * Cleans and decodes bytes (given in parts, which together end on a character boundary);
   * `atLineStart`: whether they start a line. Valid UTF-8 (nearly every log) is cleaned as bytes in
   * WebAssembly, then decoded unless it holds no needle. Invalid UTF-8, or a block the module
   * leaves to the text rules, is decoded first, bad sequences becoming U+FFFD, then cleaned as
   * text. A byte-order mark at the very start is dropped, as TextDecoder does.
   */
  private clean(parts: readonly Buffer[], atLineStart: boolean): Cleaned {
    let block = parts;
    if (this.atStart) {
      this.atStart = false;
      const bytes = Buffer.concat(block);
      block = [bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes];
    }
    const clean = cleanLogBytes(block, atLineStart, this.thorough);
    if (clean) {
      const { bytes: out, breaks } = clean;
      this.thorough = clean.thorough;
      // The UTF-8 of a text holds the UTF-8 of each piece of it, so without a needle no
      // pattern can match in this block: it is only counted, like grep skipping ahead.
      if (this.needles && !this.needles.some((needle) => out.indexOf(needle) >= 0)) return skipped(out, breaks);
      return cleanedText(decode(out), breaks);
    }
    const text = cleanLogText(decode(block.length === 1 ? block[0]! : Buffer.concat(block)), atLineStart);
    return cleanedText(text, countBreaks(text));
  }

  /** Matches the line in progress in pieces while it is longer than MAX_LINE_BYTES. */
  private cutLongLine(): void {
    if (this.carry.length <= MAX_LINE_BYTES) return;
    // The carry may start with progress-bar redraws (bare `\r`) left from the previous chunk.
    const cr = this.carry.lastIndexOf(CR);
    if (cr >= 0) {
      const block = this.carry.subarray(0, cr + 1);
      this.carry = Buffer.from(this.carry.subarray(cr + 1));
      this.scanLines(this.clean([block], !this.inLongLine));
    }
    while (this.carry.length > MAX_LINE_BYTES) {
      const cut = safeCut(this.carry, MAX_LINE_BYTES);
      const { text: piece } = this.clean([this.carry.subarray(0, cut)], !this.inLongLine);
      if (piece) this.matchAll(piece, { cutStart: this.inLongLine, cutEnd: true });
      this.inLongLine = true;
      this.carry = Buffer.from(this.carry.subarray(safeCut(this.carry, cut - PIECE_OVERLAP)));
    }
  }

  /**
   * Scans cleaned lines, the first being line `lines + 1`. The text ends with a line break,
   * except at the end of the log, where what follows the last break is a line unless it
   * cleaned to nothing.
   */
  private scanLines(cleaned: Cleaned, atEnd = false): void {
    let { text, breaks, length } = cleaned;
    const { first, last } = cleaned;
    // The `\n` of a `\r\n` whose `\r` ended the previous block (perhaps with escapes between).
    if (this.pendingCR && first === LF) {
      text = text === null ? null : text.slice(1);
      breaks--;
      length--;
    }
    const longLine = this.inLongLine;
    this.pendingCR = false;
    this.inLongLine = false;
    if (length === 0) {
      if (atEnd && longLine) this.lines += 1;
      return;
    }
    // The first line continues a long line matched in pieces: its start is a cut, not the line's.
    const edges = { cutStart: longLine, cutEnd: false };
    if (last !== LF && last !== CR) {
      // Only at the end: the last line has no terminator.
      if (text !== null) this.matchAll(text, edges);
      this.lines += breaks + 1;
      return;
    }
    this.pendingCR = last === CR;
    if (text !== null) {
      const n = text.length;
      this.matchAll(text.slice(0, last === LF && text.charCodeAt(n - 2) === CR ? n - 2 : n - 1), edges);
    }
    this.lines += breaks;
  }

  /** Runs every pattern over a block of lines (or a piece of a long line), then the visitor. */
  private matchAll(block: string, edges: Edges): void {
    const first = this.lines + 1;
    for (let i = 0; i < this.patterns.length; i++) this.matchPattern(i, block, first, edges);
    if (this.candidates) this.visitLines(block, first, edges);
  }

  /**
   * Hands the visitor each line of `block` holding one of its needles, once and in order. A
   * line longer than MAX_LINE_BYTES is handed over by its first piece only: the pieces after
   * a cut (`cutStart`) continue a line it has seen.
   */
  private visitLines(block: string, first: number, edges: Edges): void {
    const re = this.candidates!;
    re.lastIndex = 0;
    let m = re.exec(block);
    if (m === null) return;
    const lines = new LineCursor(block, first);
    for (;;) {
      lines.seek(m.index);
      if (!(edges.cutStart && lines.start === 0))
        this.visitor!.visit(lines.number, block.slice(lines.start, lines.end));
      const next = lines.next();
      if (next > block.length) return;
      re.lastIndex = next;
      m = re.exec(block);
      if (m === null) return;
    }
  }

  /**
   * Finds the lines of `block` that pattern `index` matches. The block-wide regex finds
   * candidates in one pass; each candidate's line is confirmed on its own, so a hit that
   * spans lines never counts, and the search resumes at the next line.
   */
  private matchPattern(index: number, block: string, first: number, edges: Edges): void {
    const pattern = this.patterns[index]!;
    const re = pattern.block;
    let m: RegExpExecArray | null = null;
    if (re) {
      re.lastIndex = 0;
      m = re.exec(block);
      if (m === null) return;
    }
    const lines = new LineCursor(block, first);
    // Without a block regex (lookaround), every line is a candidate.
    for (let at = m ? m.index : 0; ;) {
      lines.seek(at);
      const line = block.slice(lines.start, lines.end);
      const found = confirm(pattern, line);
      // A match touching a cut in a long line may owe itself to the cut (`^`, `$`, `\b`); the
      // overlapping neighbour piece sees the same text with its context and decides.
      const atCut =
        found !== null &&
        ((edges.cutStart && lines.start === 0 && found[0] === 0) ||
          (edges.cutEnd && lines.end === block.length && found[1] === line.length));
      if (found && !atCut) this.record(index, lines.number, line, found);
      const next = lines.next();
      if (next > block.length) break;
      if (re) {
        re.lastIndex = next;
        m = re.exec(block);
        if (m === null) break;
        at = m.index;
      } else {
        at = next;
      }
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

/**
 * Walks the lines of a block forwards (candidates come in order), so finding the line of every
 * candidate costs one pass over the block in all, whatever mix of `\r\n`, `\n` and `\r` it has.
 */
class LineCursor {
  /** The current line is [start, end); `end` is its terminator or the block's end. */
  start = 0;
  end = 0;
  number: number;
  private nextLF: number;
  private nextCR: number;

  constructor(
    private readonly text: string,
    first: number,
  ) {
    this.number = first;
    this.nextLF = indexOrEnd(text, '\n', 0);
    this.nextCR = indexOrEnd(text, '\r', 0);
    this.end = Math.min(this.nextLF, this.nextCR);
  }

  /** Moves to the line holding position `at` (a position on a terminator belongs to its line). */
  seek(at: number): void {
    while (this.end < at && this.end < this.text.length) {
      const start = this.next();
      if (start > at) break; // `at` is the `\n` of a `\r\n`: it starts no line of its own
      this.advanceTo(start);
    }
  }

  /** Where the line after the current one starts. */
  next(): number {
    const { text, end } = this;
    return text.charCodeAt(end) === CR && text.charCodeAt(end + 1) === LF ? end + 2 : end + 1;
  }

  private advanceTo(start: number): void {
    this.start = start;
    this.number++;
    if (this.nextLF < start) this.nextLF = indexOrEnd(this.text, '\n', start);
    if (this.nextCR < start) this.nextCR = indexOrEnd(this.text, '\r', start);
    this.end = Math.min(this.nextLF, this.nextCR);
  }
}

function indexOrEnd(text: string, search: string, from: number): number {
  const at = text.indexOf(search, from);
  return at < 0 ? text.length : at;
}

const BARE_CR = /\r(?!\n)/g;

/** Line breaks in a block: each `\n`, and each `\r` not followed by `\n` (progress bars: rare). */
function countBreaks(block: string): number {
  let n = 0;
  for (let at = block.indexOf('\n'); at >= 0; at = block.indexOf('\n', at + 1)) n++;
  BARE_CR.lastIndex = 0;
  while (BARE_CR.test(block)) n++;
  return n;
}

/** Where a long line is cut into pieces. */
interface Edges {
  /** The block starts at a cut inside a line, not at the line's start. */
  readonly cutStart: boolean;
  /** The block ends at a cut inside a line, not at the line's end. */
  readonly cutEnd: boolean;
}

/**
 * A cut at or just before `at` that splits neither a UTF-8 character nor an escape sequence:
 * when an ESC stands in the 256 bytes before it, the cut moves to that ESC, so a timestamp
 * marker is never split into text that cleaning would keep.
 */
function safeCut(bytes: Buffer, at: number): number {
  const cut = charBoundary(bytes, at);
  if (cut <= 0) return cut;
  const esc = bytes.lastIndexOf(0x1b, cut - 1);
  return esc >= 0 && esc > cut - 256 ? esc : cut;
}

/**
 * The nearest position at or before `at` where a UTF-8 character starts, so a cut never splits
 * one: decoding both sides apart then gives what decoding them together gives.
 */
function charBoundary(bytes: Buffer, at: number): number {
  for (let i = at; i > at - 4 && i > 0; i--) {
    const b = bytes[i - 1]!;
    if (b < 0x80) return at;
    if (b >= 0xc0) {
      const length = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
      return i - 1 + length > at ? i - 1 : at;
    }
  }
  return at;
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
