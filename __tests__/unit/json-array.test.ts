import { describe, expect, it } from 'vitest';
import { JsonArrayError, JsonArrayReader } from '../../src/buildkite/json-array.ts';

/** Feeds `text` to a reader in chunks of `size` bytes; returns the elements. */
function read(text: string, size: number): unknown[] {
  const out: unknown[] = [];
  const reader = new JsonArrayReader((value) => out.push(value));
  const bytes = Buffer.from(text);
  for (let i = 0; i < bytes.length; i += size) reader.push(bytes.subarray(i, i + size));
  expect(reader.end()).toBe(out.length);
  return out;
}

/** A random JSON value with strings that hold quotes, escapes, brackets and non-ASCII. */
function randomValue(rand: () => number, depth = 0): unknown {
  const r = rand();
  if (depth > 3 || r < 0.3) {
    const pick = Math.floor(rand() * 6);
    const strings = ['a"b', 'x\\\\y', '[{]}', 'é中🙂', '\\u0041\n\t', ',', ''];
    return [
      Math.floor(rand() * 1e6) - 5e5,
      rand() * 10,
      true,
      false,
      null,
      strings[Math.floor(rand() * strings.length)],
    ][pick];
  }
  if (r < 0.6) return Array.from({ length: Math.floor(rand() * 4) }, () => randomValue(rand, depth + 1));
  return Object.fromEntries(
    Array.from({ length: Math.floor(rand() * 4) }, (_, i) => [`k${i}"]`, randomValue(rand, depth + 1)]),
  );
}

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

describe('JsonArrayReader', () => {
  it('yields what JSON.parse yields, element by element, for any chunking', () => {
    const rand = seeded(7);
    for (let n = 0; n < 300; n++) {
      const value = Array.from({ length: Math.floor(rand() * 6) }, () => randomValue(rand));
      const text = rand() < 0.5 ? JSON.stringify(value) : JSON.stringify(value, null, 2);
      for (const size of [1, 2, 3, 7, 64, 100_000]) expect(read(text, size)).toEqual(value);
    }
  });

  it('reads scalars, an empty array and surrounding whitespace', () => {
    expect(read(' [ 1 , -2.5e3,true,null,"a\\"]" ] \n', 1)).toEqual([1, -2500, true, null, 'a"]']);
    expect(read('[]', 1)).toEqual([]);
  });

  it('refuses what is not a complete JSON array', () => {
    for (const text of ['{"a":1}', '[1, 2', '[{"a":1}', '[1] x', '[{"a":}]', '']) {
      expect(() => read(text, 3), text).toThrow(JsonArrayError);
    }
  });
});
