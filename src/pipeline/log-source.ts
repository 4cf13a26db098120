// Where a job's log comes from: the local cache when it holds the log, else Buildkite. Both
// hand the log's bytes to a consumer (the scanner today; any later reader of logs tomorrow),
// which may be started again from the first byte when a download breaks and is retried.

import type { BuildkiteClient, LogConsumer } from '../buildkite/client.ts';
import { CacheCorruptError, LogCache } from '../cache/log-cache.ts';
import type { BuildkiteBuild, BuildkiteJob } from '../core/build.ts';
import { isFinished } from '../core/select.ts';

export interface LogRead<T> {
  readonly value: T;
  /** The bytes came from the local cache. */
  readonly cached: boolean;
}

export interface LogSource {
  /** Reads the log through `consume`; null when Buildkite has no log (404). */
  read<T>(build: BuildkiteBuild, job: BuildkiteJob, consume: LogConsumer<T>): Promise<LogRead<T> | null>;
}

/** Logs straight from Buildkite, with the client's retries. */
export function buildkiteLogSource(client: BuildkiteClient): LogSource {
  return {
    async read(build, job, consume) {
      const value = await client.readLog(build.number, job, consume);
      return value === null ? null : { value, cached: false };
    },
  };
}

/**
 * The cache in front of another source. A hit is read from disk (a damaged entry is removed and
 * the log read from `inner`); a finished job's log read from `inner` is written to the cache as
 * it streams, and kept only when the read completes. A running job's log would be cached
 * half-written, so it is not.
 */
export function cachedLogSource(cache: LogCache, inner: LogSource, keyOf: (job: BuildkiteJob) => string): LogSource {
  return {
    async read(build, job, consume) {
      const key = keyOf(job);
      const cached = await cache.read(key);
      if (cached) {
        try {
          return { value: await consume(cached), cached: true };
        } catch (error: unknown) {
          if (!(error instanceof CacheCorruptError)) throw error;
          await cache.remove(key);
        }
      }
      if (!isFinished(job)) return inner.read(build, job, consume);
      return inner.read(build, job, async (chunks) => {
        const writer = await cache.writer(key);
        if (!writer) return consume(chunks);
        try {
          const value = await consume(teeTo(chunks, writer));
          await writer.commit();
          return value;
        } catch (error: unknown) {
          await writer.abort();
          throw error;
        }
      });
    },
  };
}

/** The chunks, each written to `writer` before it is passed on. */
async function* teeTo(chunks: AsyncIterable<Uint8Array>, writer: { write(chunk: Uint8Array): Promise<void> }) {
  for await (const chunk of chunks) {
    await writer.write(chunk);
    yield chunk;
  }
}
