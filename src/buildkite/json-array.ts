// Reading a JSON array as it streams, one element at a time. A page of 100 vLLM-sized builds is
// about 60 MB of JSON; read whole and parsed at once it costs several times that in memory.
// This finds where each top-level element starts and ends (tracking only strings, escapes and
// nesting, which is all JSON needs for that) and hands each element's text to JSON.parse, the
// native parser, so memory stays at one element and speed stays near JSON.parse's own.

/** Thrown when the text is not a JSON array; the caller reports the URL. */
export class JsonArrayError extends Error {
  override readonly name = 'JsonArrayError';
}

const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;

const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/**
 * Splits a streamed JSON array into its elements. Push bytes as they arrive; each complete
 * element is parsed and passed to `onElement`. `end()` checks that the array was closed.
 */
export class JsonArrayReader {
  /** Bytes of the element being read, kept until it is complete. */
  private pending: Buffer[] = [];
  private started = false;
  private closed = false;
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** Inside an element (depth counts its own brackets and braces from 1; scalars from 0). */
  private inElement = false;
  /** An element that is a scalar (number, true, false, null, or a string at depth 0). */
  private scalar = false;
  private count = 0;

  constructor(private readonly onElement: (value: unknown, index: number) => void) {}

  push(chunk: Uint8Array): void {
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let from = 0;
    for (let i = 0; i < bytes.length; i++) {
      const c = bytes[i]!;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === BACKSLASH) this.escaped = true;
        else if (c === QUOTE) {
          this.inString = false;
          if (this.scalar && this.depth === 0) {
            this.finish(bytes, from, i + 1);
            from = i + 1;
          }
        }
        continue;
      }
      if (!this.started) {
        if (isSpace(c)) continue;
        if (c !== OPEN_BRACKET) throw new JsonArrayError('the body is not a JSON array');
        this.started = true;
        from = i + 1;
        continue;
      }
      if (this.closed) {
        if (!isSpace(c)) throw new JsonArrayError('text after the end of the JSON array');
        continue;
      }
      if (!this.inElement) {
        if (isSpace(c) || c === COMMA) {
          from = i + 1;
          continue;
        }
        if (c === CLOSE_BRACKET) {
          this.closed = true;
          from = i + 1;
          continue;
        }
        this.inElement = true;
        from = i;
        if (c === OPEN_BRACE || c === OPEN_BRACKET) {
          this.scalar = false;
          this.depth = 1;
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
          from = i + 1;
          if (c === CLOSE_BRACKET) this.closed = true;
        }
        continue;
      }
      if (c === QUOTE) this.inString = true;
      else if (c === OPEN_BRACE || c === OPEN_BRACKET) this.depth++;
      else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        this.depth--;
        if (this.depth === 0) {
          this.finish(bytes, from, i + 1);
          from = i + 1;
        }
      }
    }
    if (this.inElement && from < bytes.length) this.pending.push(Buffer.from(bytes.subarray(from)));
  }

  /** Checks the array was complete; returns how many elements it had. */
  end(): number {
    if (this.inElement && this.scalar && !this.inString) throw new JsonArrayError('the JSON array is not closed');
    if (!this.started || !this.closed || this.inElement) throw new JsonArrayError('the JSON array is not closed');
    return this.count;
  }

  private finish(bytes: Buffer, from: number, to: number): void {
    const tail = bytes.subarray(from, to);
    const text = this.pending.length === 0 ? tail : Buffer.concat([...this.pending, tail]);
    this.pending = [];
    this.inElement = false;
    this.scalar = false;
    let value: unknown;
    try {
      value = JSON.parse(text.toString('utf8'));
    } catch (error: unknown) {
      throw new JsonArrayError(`element ${this.count} of the JSON array does not parse: ${error instanceof Error ? error.message : String(error)}`);
    }
    this.onElement(value, this.count++);
  }
}
