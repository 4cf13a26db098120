// Big logs, streamed and never held whole: the head and tail of an ordinary log (log-text.ts)
// around fixed-size filler blocks. The tail holds the flakes, so a scan must read to the end.
// Fixed-width lines make the size known up front and any byte range reachable without
// generating what precedes it. With `singleLine`, the filler is one line without a break.

import { mixSeed } from './prng.ts';
import { SIGNATURES } from './signatures.ts';
import { ESC, fmtClock, renderParts, type LogSpec, type RenderedLog } from './log-text.ts';

const LINE_BYTES = 128;
const LINES_PER_BLOCK = 512;
const BLOCK_BYTES = LINE_BYTES * LINES_PER_BLOCK;

const GREEN_INFO = `${ESC}[32mINFO${ESC}[0m`;

/** Line i of every block: same shape, digits differ. Offsets of the digit fields per line. */
interface BlockTemplate {
  readonly bytes: Buffer;
  /** Per line: offsets of ms, clock, source line, step, throughput. */
  readonly fields: Int32Array;
}

let template: BlockTemplate | null = null;

function blockTemplate(): BlockTemplate {
  if (template) return template;
  const fields = new Int32Array(LINES_PER_BLOCK * 5);
  let raw = '';
  for (let i = 0; i < LINES_PER_BLOCK; i++) {
    const at = i * LINE_BYTES;
    const level = i % 8 === 0 ? GREEN_INFO : 'INFO';
    const head = `${ESC}_bk;t=`;
    const lead = `${head}0000000000000\x07${level} `;
    fields[i * 5] = at + head.length;
    fields[i * 5 + 1] = at + lead.length;
    const withClock = `${lead}00-00 00:00:00 [loggers.py:`;
    fields[i * 5 + 2] = at + withClock.length;
    const withLine = `${withClock}000] step `;
    fields[i * 5 + 3] = at + withLine.length;
    const withStep = `${withLine}000000000 throughput `;
    fields[i * 5 + 4] = at + withStep.length;
    const line = `${withStep}00000.0 tok/s`;
    raw += `${line}${' '.repeat(LINE_BYTES - 2 - line.length)}\r\n`;
  }
  template = { bytes: Buffer.from(raw, 'latin1'), fields };
  return template;
}

/** Writes `n` as `width` decimal digits ending at `off + width` (zero-padded). */
function writeDigits(buf: Buffer, off: number, n: number, width: number): void {
  for (let k = width - 1; k >= 0; k--) {
    buf[off + k] = 48 + (n % 10);
    n = Math.floor(n / 10);
  }
}

/** One filler block: the template with this block's digits written in (plain byte writes: fast). */
function renderBlock(spec: LogSpec, headEndMs: number, block: number): Buffer {
  const { bytes, fields } = blockTemplate();
  const buf = Buffer.from(bytes);
  const base = headEndMs + block * LINES_PER_BLOCK * 7;
  const clock = Buffer.from(fmtClock(base), 'latin1');
  let h = mixSeed(spec.seed, block);
  for (let i = 0; i < LINES_PER_BLOCK; i++) {
    h = (Math.imul(h, 1664525) + 1013904223) >>> 0;
    const f = i * 5;
    writeDigits(buf, fields[f] as number, base + i * 7, 13);
    const c = fields[f + 1] as number;
    for (let k = 0; k < clock.length; k++) buf[c + k] = clock[k] as number;
    writeDigits(buf, fields[f + 2] as number, 100 + (h % 900), 3);
    writeDigits(buf, fields[f + 3] as number, block * LINES_PER_BLOCK + i, 9);
    const t = h % 1_000_000;
    writeDigits(buf, fields[f + 4] as number, Math.floor(t / 10), 5);
    writeDigits(buf, (fields[f + 4] as number) + 6, t % 10, 1);
  }
  return buf;
}

/** A big log's byte layout: the parts streamed in order. */
export interface BigLogLayout {
  readonly size: number;
  readonly head: RenderedLog;
  readonly tail: RenderedLog;
  readonly blocks: number;
  readonly headEndMs: number;
}

export function layoutBigLog(spec: LogSpec): BigLogLayout {
  const { head, tail } = renderParts(spec);
  const headEndMs = spec.startMs + 60_000;
  const blocks = Math.max(0, Math.floor((spec.bigBytes - head.bytes.length - tail.bytes.length) / BLOCK_BYTES));
  return { size: head.bytes.length + blocks * BLOCK_BYTES + tail.bytes.length, head, tail, blocks, headEndMs };
}

/**
 * Planted once in the middle of a single-line filler, so a scanner that cuts a long line into
 * pieces must still find what sits inside it.
 */
export const LONG_LINE_SIGNATURE = SIGNATURES.connectionReset;

let longTemplate: Buffer | null = null;

/** One block of a long line: minified-bundle-like ASCII, no line break, no escape. */
function longLineTemplate(): Buffer {
  if (longTemplate) return longTemplate;
  let text = '';
  for (let i = 0; text.length < BLOCK_BYTES; i++) text += `{"k":${i % 997},"v":"${(i * 7919).toString(36)}"},`;
  longTemplate = Buffer.from(text.slice(0, BLOCK_BYTES), 'latin1');
  return longTemplate;
}

/** Block `b` of a single-line filler: a marker opens it, the signature sits mid-way, CRLF ends it. */
function renderLongLineBlock(layout: BigLogLayout, b: number): Buffer {
  const buf = Buffer.from(longLineTemplate());
  if (b === 0) buf.write(`${ESC}_bk;t=${layout.headEndMs}\x07`, 0, 'latin1');
  if (b === Math.floor(layout.blocks / 2)) buf.write(LONG_LINE_SIGNATURE, 1000, 'latin1');
  if (b === layout.blocks - 1) buf.write('\r\n', BLOCK_BYTES - 2, 'latin1');
  return buf;
}

function renderFiller(spec: LogSpec, layout: BigLogLayout, b: number): Buffer {
  return spec.singleLine ? renderLongLineBlock(layout, b) : renderBlock(spec, layout.headEndMs, b);
}

/** The bytes of [start, end) of a big log, in chunks of at most one block. */
export function* bigLogChunks(spec: LogSpec, layout: BigLogLayout, start: number, end: number): Generator<Buffer> {
  const headLen = layout.head.bytes.length;
  const bodyEnd = headLen + layout.blocks * BLOCK_BYTES;
  if (start < headLen) yield layout.head.bytes.subarray(start, Math.min(end, headLen));
  const first = Math.max(0, Math.floor((start - headLen) / BLOCK_BYTES));
  for (let b = first; b < layout.blocks; b++) {
    const from = headLen + b * BLOCK_BYTES;
    if (from >= end) return;
    const bytes = renderFiller(spec, layout, b);
    yield bytes.subarray(Math.max(0, start - from), Math.min(BLOCK_BYTES, end - from));
  }
  if (end > bodyEnd) yield layout.tail.bytes.subarray(Math.max(0, start - bodyEnd), end - bodyEnd);
}

export function* bigLogCleanLines(spec: LogSpec, layout: BigLogLayout): Generator<string> {
  yield* layout.head.clean;
  if (spec.singleLine && layout.blocks > 0) {
    // The one long line, built whole: only the oracle asks for it (hundreds of MB as a string).
    const parts: string[] = [];
    for (let b = 0; b < layout.blocks; b++) {
      let text = renderLongLineBlock(layout, b).toString('latin1');
      if (b === 0) text = text.replace(/^\x1b_bk;t=\d+\x07/, '');
      if (b === layout.blocks - 1) text = text.slice(0, -2);
      parts.push(text);
    }
    yield parts.join('');
    yield* layout.tail.clean;
    return;
  }
  const { fields } = blockTemplate();
  for (let b = 0; b < layout.blocks; b++) {
    const bytes = renderBlock(spec, layout.headEndMs, b);
    for (let i = 0; i < LINES_PER_BLOCK; i++) {
      // Clean text: the level word without its colour, then the line up to its `\r\n`.
      yield `INFO ${bytes.toString('latin1', fields[i * 5 + 1] as number, (i + 1) * LINE_BYTES - 2)}`;
    }
  }
  yield* layout.tail.clean;
}
