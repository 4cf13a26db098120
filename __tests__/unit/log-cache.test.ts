import { randomBytes } from 'node:crypto';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CacheCorruptError, LogCache } from '../../src/cache/log-cache.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'flake-checker-cache-test-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Every file under the cache directory, relative paths. */
function files(): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

async function mustWrite(cache: LogCache, key: string) {
  const writer = await cache.writer(key);
  if (!writer) throw new Error(`cache not writable: ${cache.problem}`);
  return writer;
}

async function put(cache: LogCache, key: string, body: string | Buffer): Promise<void> {
  const writer = await mustWrite(cache, key);
  await writer.write(Buffer.from(body));
  await writer.commit();
}

async function get(cache: LogCache, key: string): Promise<string | null> {
  return (await getBytes(cache, key))?.toString('utf8') ?? null;
}

async function getBytes(cache: LogCache, key: string): Promise<Buffer | null> {
  const stream = await cache.read(key);
  if (!stream) return null;
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** Incompressible bytes, so sizes on disk are about the sizes written. */
const noise = (size: number) => randomBytes(size);

const entryPath = (key: string) => join(dir, 'v1', key.slice(0, 2), `${key}.log.gz`);

describe('LogCache', () => {
  it('round-trips a log, compressed, under a key derived from host, org, pipeline and job', async () => {
    const cache = new LogCache(dir, 1024 * 1024);
    const key = LogCache.key(['https://api.buildkite.com', 'vllm', 'ci', 'job-1']);
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(LogCache.key(['https://api.buildkite.com', 'vllm', 'ci', 'job-2'])).not.toBe(key);
    const text = 'a log line\r\n'.repeat(1000);
    await put(cache, key, text);
    expect(await get(cache, key)).toBe(text);
    expect(statSync(entryPath(key)).size).toBeLessThan(text.length / 10);
    expect(cache.stats).toMatchObject({ writes: 1, hits: 1 });
  });

  it('answers null for a key it does not hold', async () => {
    const cache = new LogCache(dir, 1024);
    expect(await cache.read(LogCache.key(['x']))).toBeNull();
  });

  it('writes atomically: nothing is visible before commit, and abort leaves nothing', async () => {
    const cache = new LogCache(dir, 1024 * 1024);
    const key = LogCache.key(['job']);
    const writer = await mustWrite(cache, key);
    await writer.write(Buffer.from('half a log'));
    expect(await cache.read(key)).toBeNull();
    expect(files().every((f) => f.endsWith('.tmp'))).toBe(true);
    await writer.commit();
    expect(await get(cache, key)).toBe('half a log');
    expect(files()).toEqual([`v1/${key.slice(0, 2)}/${key}.log.gz`]);

    const other = LogCache.key(['other']);
    const aborted = await mustWrite(cache, other);
    await aborted.write(Buffer.from('broken off'));
    await aborted.abort();
    expect(await cache.read(other)).toBeNull();
    expect(files()).toEqual([`v1/${key.slice(0, 2)}/${key}.log.gz`]);
  });

  it('detects a corrupt entry while reading, and remove() drops it so it is fetched again', async () => {
    const cache = new LogCache(dir, 1024 * 1024);
    const key = LogCache.key(['job']);
    await put(cache, key, 'the real log\n'.repeat(100));
    const gz = readFileSync(entryPath(key));
    gz[gz.length - 6]! ^= 0xff; // the CRC-32 in the gzip trailer
    writeFileSync(entryPath(key), gz);
    await expect(get(cache, key)).rejects.toBeInstanceOf(CacheCorruptError);

    writeFileSync(entryPath(key), 'not gzip at all');
    await expect(get(cache, key)).rejects.toBeInstanceOf(CacheCorruptError);

    writeFileSync(entryPath(key), gzipSync('truncated entry\n').subarray(0, 12));
    await expect(get(cache, key)).rejects.toBeInstanceOf(CacheCorruptError);

    await cache.remove(key);
    expect(await cache.read(key)).toBeNull();
    expect(cache.stats.corrupt).toBe(1);
  });

  it('evicts least recently used entries first, until the cache fits its bound', async () => {
    const sizes: Record<string, number> = {};
    const probe = new LogCache(dir, Number.MAX_SAFE_INTEGER);
    const keys = ['a', 'b', 'c', 'd'].map((k) => LogCache.key([k]));
    for (const key of keys) {
      await put(probe, key, noise(4000));
      sizes[key] = statSync(entryPath(key)).size;
    }
    // Used in the order c, a, d, b (oldest first): b was read last.
    const base = Date.now() / 1000 - 1000;
    [keys[2]!, keys[0]!, keys[3]!, keys[1]!].forEach((key, i) =>
      utimesSync(entryPath(key), base + i * 10, base + i * 10),
    );
    const cache = new LogCache(dir, sizes[keys[3]!]! + sizes[keys[1]!]!);
    await cache.evict();
    expect(cache.stats.evicted).toBe(2);
    for (const key of [keys[2]!, keys[0]!]) expect(await cache.read(key)).toBeNull();
    for (const key of [keys[3]!, keys[1]!]) expect(await cache.read(key)).not.toBeNull();
  });

  it('a read refreshes an entry, so a log in use survives the next eviction', async () => {
    const cache = new LogCache(dir, 6000);
    const [old, fresh] = [LogCache.key(['old']), LogCache.key(['fresh'])];
    const body = noise(4000);
    await put(cache, old, body);
    await put(cache, fresh, noise(4000));
    const base = Date.now() / 1000 - 1000;
    utimesSync(entryPath(old), base, base);
    utimesSync(entryPath(fresh), base + 10, base + 10);
    expect(await getBytes(cache, old)).toEqual(body); // now the most recently used
    await cache.evict();
    expect(await cache.read(old)).not.toBeNull();
    expect(await cache.read(fresh)).toBeNull();
  });

  it('keeps the size bound, and removes leftover temporary files of a killed run', async () => {
    const cache = new LogCache(dir, 20_000);
    for (let i = 0; i < 20; i++) await put(cache, LogCache.key([`job-${i}`]), noise(3000));
    const key = LogCache.key(['killed']);
    mkdirSync(join(dir, 'v1', key.slice(0, 2)), { recursive: true });
    const leftover = `${entryPath(key)}.0123456789ab.tmp`;
    const recent = `${entryPath(key)}.ba9876543210.tmp`;
    writeFileSync(leftover, 'never committed');
    writeFileSync(recent, 'another run, still writing');
    const twoHoursAgo = Date.now() / 1000 - 7200;
    utimesSync(leftover, twoHoursAgo, twoHoursAgo);
    await cache.evict();
    const entries = files().filter((f) => f.endsWith('.log.gz'));
    const total = entries.reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
    expect(total).toBeLessThanOrEqual(20_000);
    expect(entries.length).toBe(Math.floor(20_000 / statSync(join(dir, entries[0]!)).size));
    expect(files().filter((f) => f.endsWith('.tmp'))).toEqual([recent.slice(dir.length + 1)]);
  });

  it('deletes the entries of other format versions, and nothing else beside its own', async () => {
    const cache = new LogCache(dir, 1024 * 1024);
    const key = LogCache.key(['kept']);
    await put(cache, key, 'current format');
    mkdirSync(join(dir, 'v0', 'ab'), { recursive: true });
    writeFileSync(join(dir, 'v0', 'ab', 'old.log.gz'), gzipSync('old format'));
    writeFileSync(join(dir, 'notes.txt'), 'not the cache');
    await cache.evict();
    expect(files()).toEqual(['notes.txt', entryPath(key).slice(dir.length + 1)].sort());
    expect(await get(cache, key)).toBe('current format');
  });

  it('is best effort: a directory it cannot write is reported once and the scan goes on', async () => {
    const blocked = join(dir, 'a-file');
    writeFileSync(blocked, 'not a directory');
    const cache = new LogCache(blocked, 1024 * 1024);
    expect(await cache.writer(LogCache.key(['a']))).toBeNull();
    expect(cache.problem).toMatch(/ENOTDIR/);
    expect(await cache.writer(LogCache.key(['b']))).toBeNull();
    expect(await cache.read(LogCache.key(['a']))).toBeNull();
  });

  it('waits for the compressor on big logs without piling up listeners', async () => {
    const cache = new LogCache(dir, 64 * 1024 * 1024);
    const key = LogCache.key(['big']);
    const writer = await mustWrite(cache, key);
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    const chunk = Buffer.alloc(64 * 1024, 'log line\n');
    for (let i = 0; i < 100; i++) await writer.write(chunk);
    await writer.commit();
    await new Promise((resolve) => setImmediate(resolve));
    process.off('warning', onWarning);
    expect(warnings.map((w) => w.name)).not.toContain('MaxListenersExceededWarning');
    expect((await getBytes(cache, key))?.length).toBe(100 * 64 * 1024);
  });
});
