// A local cache of finished jobs' logs. A finished job's log never changes, so a rerun (or a
// new pattern tried over the same history) need not download it again. Entries are gzip files
// named by a hash of (API host, org, pipeline, job id); writes go to a temporary file renamed
// into place when complete, so a reader never sees half an entry; gzip's CRC catches a corrupt
// one. The size bound is kept by evicting the least recently used entries (mtime, refreshed on
// every hit).

import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, utimes } from 'node:fs/promises';
import { once } from 'node:events';
import { join } from 'node:path';
import { createGunzip, createGzip, constants, type Gzip } from 'node:zlib';

/** Bump when the entry format changes; old entries are then ignored, and evict() deletes them. */
const FORMAT = 'v1';
/** The folder of any format version, FORMAT's included. */
const FORMAT_FOLDER = /^v\d+$/;

export class CacheCorruptError extends Error {
  override readonly name = 'CacheCorruptError';
}

interface CacheStats {
  hits: number;
  writes: number;
  corrupt: number;
  evicted: number;
}

export class LogCache {
  readonly stats: CacheStats = { hits: 0, writes: 0, corrupt: 0, evicted: 0 };
  private readonly root: string;
  /** Shard folders known to exist, so a run creates each once, not once per log. */
  private readonly shards = new Set<string>();

  constructor(
    readonly dir: string,
    private readonly maxBytes: number,
  ) {
    this.root = join(dir, FORMAT);
  }

  static key(parts: readonly string[]): string {
    return createHash('sha256').update(parts.join('\0')).digest('hex');
  }

  private path(key: string): string {
    return join(this.root, key.slice(0, 2), `${key}.log.gz`);
  }

  /**
   * The cached log's bytes as a stream, or null when absent. Iterating throws
   * CacheCorruptError if the entry turns out to be damaged; the caller then removes it.
   */
  async read(key: string): Promise<AsyncIterable<Uint8Array> | null> {
    const path = this.path(key);
    try {
      const now = new Date();
      await utimes(path, now, now);
    } catch {
      return null;
    }
    this.stats.hits++;
    return readGzip(path);
  }

  async remove(key: string): Promise<void> {
    this.stats.corrupt++;
    await rm(this.path(key), { force: true });
  }

  /**
   * The first reason the cache could not be written (a read-only or misplaced directory, a
   * full disk). The cache is best effort: after a failure the scan goes on without writing,
   * and the caller reports this once.
   */
  get problem(): string | null {
    return this.writeProblem;
  }

  private writeProblem: string | null = null;

  /** Starts writing an entry (nothing is visible until commit()), or null once writing failed. */
  async writer(key: string): Promise<CacheWriter | null> {
    if (this.writeProblem !== null) return null;
    const final = this.path(key);
    const shard = join(this.root, key.slice(0, 2));
    if (!this.shards.has(shard)) {
      try {
        await mkdir(shard, { recursive: true });
      } catch (error: unknown) {
        this.noteProblem(error);
        return null;
      }
      this.shards.add(shard);
    }
    const temp = `${final}.${randomBytes(6).toString('hex')}.tmp`;
    return new CacheWriter(
      temp,
      final,
      () => this.stats.writes++,
      (error) => this.noteProblem(error),
    );
  }

  private noteProblem(error: unknown): void {
    this.writeProblem ??= error instanceof Error ? error.message : String(error);
  }

  /**
   * Deletes the entries of other format versions, then the least recently used entries until
   * the cache fits its bound.
   */
  async evict(): Promise<void> {
    const versions = await readdir(this.dir).catch(() => [] as string[]);
    for (const name of versions) {
      if (name !== FORMAT && FORMAT_FOLDER.test(name)) await rm(join(this.dir, name), { recursive: true, force: true });
    }
    const entries: { path: string; size: number; used: number }[] = [];
    let shards: string[];
    try {
      shards = await readdir(this.root);
    } catch {
      return;
    }
    for (const shard of shards) {
      let names: string[];
      try {
        names = await readdir(join(this.root, shard));
      } catch {
        continue;
      }
      for (const name of names) {
        const path = join(this.root, shard, name);
        try {
          const s = await stat(path);
          // Temporary files older than an hour are leftovers of a killed run.
          if (name.endsWith('.tmp')) {
            if (Date.now() - s.mtimeMs > 3_600_000) await rm(path, { force: true });
            continue;
          }
          entries.push({ path, size: s.size, used: s.mtimeMs });
        } catch {
          // Removed meanwhile by another run.
        }
      }
    }
    let total = entries.reduce((sum, e) => sum + e.size, 0);
    entries.sort((a, b) => a.used - b.used);
    for (const entry of entries) {
      if (total <= this.maxBytes) break;
      await rm(entry.path, { force: true });
      total -= entry.size;
      this.stats.evicted++;
    }
  }
}

class CacheWriter {
  private readonly gzip: Gzip;
  private readonly file: WriteStream;
  private failed: Error | null = null;

  constructor(
    private readonly temp: string,
    private readonly final: string,
    private readonly onCommit: () => void,
    private readonly onProblem: (error: unknown) => void,
  ) {
    this.gzip = createGzip({ level: constants.Z_BEST_SPEED });
    this.file = createWriteStream(temp);
    this.gzip.pipe(this.file);
    this.gzip.on('error', (error) => {
      this.failed ??= error;
    });
    // A file error also ends the compressor, so a write waiting for 'drain' wakes up.
    this.file.on('error', (error) => {
      this.failed ??= error;
      this.gzip.destroy(error);
    });
  }

  /** Adds bytes; waits when the compressor is behind, so memory stays bounded. Never throws. */
  async write(chunk: Uint8Array): Promise<void> {
    if (this.failed) return;
    if (!this.gzip.write(chunk)) {
      try {
        await once(this.gzip, 'drain');
      } catch {
        // `failed` holds the reason; commit() drops the entry.
      }
    }
  }

  /**
   * Makes the entry visible. Never throws: a failed write leaves no entry and is reported to
   * the cache once (the cache is best effort).
   */
  async commit(): Promise<void> {
    if (!this.failed) {
      this.gzip.end();
      await once(this.file, 'close').catch(() => undefined);
    }
    try {
      if (this.failed) throw this.failed;
      await rename(this.temp, this.final);
      this.onCommit();
    } catch (error: unknown) {
      this.onProblem(error);
      await rm(this.temp, { force: true }).catch(() => undefined);
    }
  }

  async abort(): Promise<void> {
    this.gzip.destroy();
    this.file.destroy();
    await rm(this.temp, { force: true }).catch(() => undefined);
  }
}

async function* readGzip(path: string): AsyncIterable<Uint8Array> {
  const gunzip = createGunzip();
  const file = createReadStream(path);
  file.on('error', (error) => gunzip.destroy(error));
  file.pipe(gunzip);
  try {
    for await (const chunk of gunzip) yield chunk as Uint8Array;
  } catch (error: unknown) {
    throw new CacheCorruptError(
      `cache entry ${path} is damaged: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  } finally {
    file.destroy();
    gunzip.destroy();
  }
}
