// Cleaning UTF-8 log bytes in WebAssembly (escapes.wat says why and how). The scanner's fast
// path: on valid UTF-8 the result is the UTF-8 of cleanLogText(decoded text).

import { isUtf8 } from 'node:buffer';
import { ESCAPES_WASM } from './escapes-wasm.ts';

/** Larger inputs are left to the caller's string path, so the module's memory stays small. */
export const MAX_STRIP_BYTES = 4 * 1024 * 1024;

const PAGE = 64 * 1024;

// The few WebAssembly calls used here; the type libraries this project compiles against (ES
// and @types/node 20, no DOM) do not declare the WebAssembly globals.
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { readonly exports: Record<string, unknown> };
}
// WebAssembly is no new requirement: undici's HTTP parser (llhttp) is WebAssembly too, so a Node
// without it (`node --jitless`) could not download a log in the first place.
const { WebAssembly: wasm } = globalThis as unknown as { WebAssembly: WasmApi };

interface Escapes {
  readonly memory: WasmMemory;
  readonly clean: (src: number, n: number, dst: number, bol: number, thorough: number) => number;
  readonly flags: () => number;
  readonly lines: () => number;
}

let escapes: Escapes | null = null;

function instance(): Escapes {
  if (!escapes) {
    const { exports } = new wasm.Instance(new wasm.Module(Buffer.from(ESCAPES_WASM, 'base64')));
    escapes = {
      memory: exports.memory as WasmMemory,
      clean: exports.clean as Escapes['clean'],
      flags: exports.flags as Escapes['flags'],
      lines: exports.lines as Escapes['lines'],
    };
  }
  return escapes;
}

export interface StrippedBytes {
  /** A view into the module's memory: read it before the next call. */
  readonly bytes: Buffer;
  /** Line breaks in `bytes`: each `\n`, and each `\r` not followed by `\n` (one at the end counts). */
  readonly breaks: number;
  /**
   * The bytes held more than escape sequences to clean (controls, lines starting with `[`), so
   * the module's fast pass was no use: pass it as `thorough` for the next block of the same log.
   */
  readonly thorough: boolean;
}

/** Bits of the module's `flags`: the text rules must clean the block; the block needed the thorough pass. */
const FOR_TEXT_RULES = 3;
const THOROUGH = 4;

/**
 * The bytes cleaned as cleanLogText cleans their text (`atLineStart`: whether they start a line),
 * or null when the caller must clean the decoded text instead: they are not valid UTF-8 (which
 * decoding turns into U+FFFD first), longer than MAX_STRIP_BYTES, or hold what the module leaves
 * to the text rules (a backspace, which overstrikes within its line, or a line whose timestamp
 * prefix only cleaning would assemble). Given several parts, it cleans them as one: the scanner
 * passes a line's start and the rest of it so that they need not be joined first. `thorough`
 * only changes how fast: see StrippedBytes.thorough.
 */
export function cleanLogBytes(
  input: Uint8Array | readonly Uint8Array[],
  atLineStart = true,
  thorough = false,
): StrippedBytes | null {
  const parts = input instanceof Uint8Array ? [input] : input;
  let n = 0;
  for (const part of parts) n += part.length;
  if (n > MAX_STRIP_BYTES) return null;
  const { memory, clean, flags, lines } = instance();
  // Input at 0, output right after it: the two must not overlap.
  if (2 * n > memory.buffer.byteLength) memory.grow(Math.ceil((2 * n - memory.buffer.byteLength) / PAGE));
  const view = new Uint8Array(memory.buffer, 0, n);
  let at = 0;
  for (const part of parts) {
    view.set(part, at);
    at += part.length;
  }
  if (!isUtf8(view)) return null;
  const length = clean(0, n, n, atLineStart ? 1 : 0, thorough ? 1 : 0);
  const found = flags();
  if (found & FOR_TEXT_RULES) return null;
  return { bytes: Buffer.from(memory.buffer, n, length), breaks: lines(), thorough: (found & THOROUGH) !== 0 };
}
