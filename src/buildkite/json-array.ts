// Reading a JSON array as it streams, one element at a time. A page of 100 vLLM-sized builds is
// about 60 MB of JSON; read whole and parsed at once it costs several times that in memory.
// This finds where each top-level element starts and ends (tracking only strings, escapes and
// nesting, which is all JSON needs for that) and hands each element's text to JSON.parse, the
// native parser, so memory stays at one element and speed stays near JSON.parse's own.
//
// One element can still be large: a vLLM build of 266 jobs is about 600 KB. Parsed whole, its
// objects outlive the young generation's collections while the parse runs and end up in the old
// one as garbage, a page's worth (over 100 MB) between two full collections. So one array member
// of each element (a build's `jobs`) can be split too: each of its elements is parsed alone and
// mapped at once (to the few fields kept), and dies young.

/** Thrown when the text is not a JSON array; the caller reports the URL. */
export class JsonArrayError extends Error {
  override readonly name = 'JsonArrayError';
}

/** An array member of each element that is read element by element too. */
export interface SplitMember {
  /** The member's name (as written in the JSON, without escapes). */
  readonly field: string;
  /** Each of its elements, parsed; the result takes the element's place. */
  readonly map: (value: unknown) => unknown;
}

const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;

/** Keys longer than this are not compared with the split member's name. */
const KEY_MAX = 64;

const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/**
 * The content of an array whose `[` has been read: splits it into elements, parses each and
 * passes it on, and reports where the array closes. With `split`, the named member of each
 * object element is read by an ArrayContent of its own.
 */
class ArrayContent {
  /** Bytes of the element being read, kept until it is complete. */
  private pending: Buffer[] = [];
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** Inside an element (depth counts its own brackets and braces from 1; scalars from 0). */
  inElement = false;
  /** An element that is a scalar (number, true, false, null, or a string at depth 0). */
  private scalar = false;
  /** Reading the members of an object element (only with `split`). */
  private members = false;
  private expectKey = false;
  /** The raw bytes of the key being read, or null. */
  private key: number[] | null = null;
  private keyIsField = false;
  /** After `"<field>":`, until the value starts. */
  private afterFieldColon = false;
  /** The split member's array being read, and what its elements became. */
  private inner: ArrayContent | null = null;
  private collected: unknown[] | null = null;
  private count = 0;

  constructor(
    private readonly onElement: (value: unknown, index: number) => void,
    private readonly split: SplitMember | null,
  ) {}

  /** Reads bytes[start, end); returns the index of the closing `]`, or -1 while the array is open. */
  feed(bytes: Buffer, start: number, end: number): number {
    // Where the current element's bytes not yet kept begin; -1 while the split member is read.
    let from = this.inElement && this.inner === null ? start : -1;
    for (let i = start; i < end; i++) {
      if (this.inner) {
        const close = this.inner.feed(bytes, i, end);
        if (close < 0) return -1;
        // Kept from the split member's `]` on: the element reads `"<field>":[]` here.
        this.inner = null;
        i = close;
        from = close;
      }
      if (this.inString && !this.escaped && this.key === null) {
        // Most of a page is inside strings: find their end natively rather than byte by byte.
        const end_ = this.stringEnd(bytes, i, end);
        if (end_ < 0) break;
        i = end_;
      }
      const c = bytes[i]!;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === BACKSLASH) this.escaped = true;
        else if (c === QUOTE) {
          this.inString = false;
          if (this.key) this.endKey();
          if (this.scalar && this.depth === 0) {
            this.finish(bytes, from, i + 1);
            from = -1;
          }
          continue;
        }
        if (this.key && this.key.length <= KEY_MAX) this.key.push(c);
        continue;
      }
      if (!this.inElement) {
        if (isSpace(c) || c === COMMA) continue;
        if (c === CLOSE_BRACKET) return i;
        this.inElement = true;
        from = i;
        if (c === OPEN_BRACE || c === OPEN_BRACKET) {
          this.scalar = false;
          this.depth = 1;
          this.members = c === OPEN_BRACE && this.split !== null;
          this.expectKey = this.members;
        } else {
          this.scalar = true;
          this.depth = 0;
          if (c === QUOTE) this.inString = true;
        }
        continue;
      }
      if (this.scalar) {
        // A number or literal ends at the next separator.
        if (c === COMMA || c === CLOSE_BRACKET || isSpace(c)) {
          this.finish(bytes, from, i);
          from = -1;
          if (c === CLOSE_BRACKET) return i;
        }
        continue;
      }
      if (this.members && this.depth === 1 && !isSpace(c)) {
        const valueStarts = this.afterFieldColon && c !== COLON;
        if (c === QUOTE && this.expectKey) {
          this.key = [];
          this.expectKey = false;
        } else if (c === COLON) {
          this.afterFieldColon = this.keyIsField;
        } else if (c === COMMA) {
          this.expectKey = true;
        }
        if (valueStarts) {
          this.afterFieldColon = false;
          if (c === OPEN_BRACKET) {
            // The split member: the element keeps its `[`, and its elements are read apart.
            this.pending.push(Buffer.from(bytes.subarray(from, i + 1)));
            from = -1;
            this.depth++;
            const collected: unknown[] = [];
            const map = (this.split as SplitMember).map;
            this.collected = collected;
            this.inner = new ArrayContent((value) => collected.push(map(value)), null);
            continue;
          }
        }
      }
      if (c === QUOTE) this.inString = true;
      else if (c === OPEN_BRACE || c === OPEN_BRACKET) this.depth++;
      else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        this.depth--;
        if (this.depth === 0) {
          this.finish(bytes, from, i + 1);
          from = -1;
        }
      }
    }
    if (this.inElement && from >= 0 && from < end) this.pending.push(Buffer.from(bytes.subarray(from, end)));
    return -1;
  }

  /**
   * The index of the quote that ends the string being read, searching from `from` (the first byte
   * inside it, or one after an escape): a quote after an odd run of backslashes is escaped. -1
   * when the string goes on past `end`, with `escaped` set when the bytes end in an open escape.
   */
  private stringEnd(bytes: Buffer, from: number, end: number): number {
    let at = from;
    for (;;) {
      const quote = bytes.indexOf(QUOTE, at);
      const stop = quote < 0 || quote >= end ? end : quote;
      let k = stop - 1;
      while (k >= from && bytes[k] === BACKSLASH) k--;
      const odd = (stop - 1 - k) % 2 === 1;
      if (stop === end) {
        this.escaped = odd;
        return -1;
      }
      if (!odd) return quote;
      at = quote + 1;
    }
  }

  private endKey(): void {
    const key = this.key as number[];
    this.key = null;
    const field = (this.split as SplitMember).field;
    this.keyIsField = key.length === field.length && key.every((b, k) => b === field.charCodeAt(k));
  }

  private finish(bytes: Buffer, from: number, to: number): void {
    const tail = bytes.subarray(from, to);
    const text = this.pending.length === 0 ? tail : Buffer.concat([...this.pending, tail]);
    this.pending = [];
    this.inElement = false;
    this.scalar = false;
    const collected = this.collected;
    this.members = false;
    this.expectKey = false;
    this.keyIsField = false;
    this.afterFieldColon = false;
    this.collected = null;
    let value: unknown;
    try {
      value = JSON.parse(text.toString('utf8'));
    } catch (error: unknown) {
      throw new JsonArrayError(
        `element ${this.count} of the JSON array does not parse: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    // A member named twice: JSON.parse keeps the last, an array only if it was split last.
    if (collected && typeof value === 'object' && value !== null) {
      const fields = value as Record<string, unknown>;
      const field = (this.split as SplitMember).field;
      if (Array.isArray(fields[field])) fields[field] = collected;
    }
    this.onElement(value, this.count++);
  }

  /** Elements read so far. */
  get elements(): number {
    return this.count;
  }

  /** True while a string, an element or the split member is unfinished. */
  get open(): boolean {
    return this.inElement || this.inString || this.inner !== null;
  }
}

/**
 * Splits a streamed JSON array into its elements. Push bytes as they arrive; each complete
 * element is parsed and passed to `onElement`. `end()` checks that the array was closed. With
 * `split`, the named array member of each object element is read element by element, each
 * mapped as it is parsed, and `onElement` sees the element with the mapped array in its place.
 */
export class JsonArrayReader {
  private started = false;
  private closed = false;
  private readonly content: ArrayContent;

  constructor(onElement: (value: unknown, index: number) => void, split: SplitMember | null = null) {
    this.content = new ArrayContent(onElement, split);
  }

  push(chunk: Uint8Array): void {
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let i = 0;
    while (i < bytes.length) {
      const c = bytes[i]!;
      if (!this.started) {
        if (!isSpace(c)) {
          if (c !== OPEN_BRACKET) throw new JsonArrayError('the body is not a JSON array');
          this.started = true;
        }
        i++;
        continue;
      }
      if (this.closed) {
        if (!isSpace(c)) throw new JsonArrayError('text after the end of the JSON array');
        i++;
        continue;
      }
      const close = this.content.feed(bytes, i, bytes.length);
      if (close < 0) return;
      this.closed = true;
      i = close + 1;
    }
  }

  /** Checks the array was complete; returns how many elements it had. */
  end(): number {
    if (!this.started || !this.closed || this.content.open) throw new JsonArrayError('the JSON array is not closed');
    return this.content.elements;
  }
}
