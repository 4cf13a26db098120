// Removing escape sequences from UTF-8 bytes, in WebAssembly (escapes.wat says why and how).
// The scanner's fast path: on valid UTF-8 the result is the UTF-8 of stripEscapes(decoded text).

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
  readonly clean: (src: number, n: number, dst: number) => number;
  readonly breaks: (at: number, n: number) => number;
}

let escapes: Escapes | null = null;

function instance(): Escapes {
  if (!escapes) {
    const { exports } = new wasm.Instance(new wasm.Module(Buffer.from(ESCAPES_WASM, 'base64')));
    escapes = { memory: exports.memory as WasmMemory, clean: exports.clean as Escapes['clean'], breaks: exports.breaks as Escapes['breaks'] };
  }
  return escapes;
}

export interface StrippedBytes {
  /** A view into the module's memory: read it before the next call. */
  readonly bytes: Buffer;
  /** Line breaks in `bytes`: each `\n`, and each `\r` not followed by `\n` (one at the end counts). */
  readonly breaks: number;
}

/** The bytes without their escape sequences, or null when the input is longer than MAX_STRIP_BYTES. */
export function stripEscapeBytes(input: Uint8Array): StrippedBytes | null {
  const n = input.length;
  if (n > MAX_STRIP_BYTES) return null;
  const { memory, clean, breaks } = instance();
  // Input at 0, output right after it: the two must not overlap.
  if (2 * n > memory.buffer.byteLength) memory.grow(Math.ceil((2 * n - memory.buffer.byteLength) / PAGE));
  new Uint8Array(memory.buffer, 0, n).set(input);
  const length = clean(0, n, n);
  return { bytes: Buffer.from(memory.buffer, n, length), breaks: breaks(n, length) };
}
