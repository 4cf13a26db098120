// The text of a log response. Buildkite answers `.../log.txt` with plain text; a proxy (or an API
// that ignores `Accept`) may answer the JSON shape `{url, content, size, header_times}` of
// `.../log` instead (docs/buildkite-api.md, "Job logs"), and then `content` is the log.

import type { OpenBody } from './http.ts';

/** A log served as JSON is parsed only up to this size; a text log streams, whatever its size. */
export const JSON_LOG_MAX_BYTES = 64 * 1024 * 1024;

/** The log's bytes: the body itself, or the `content` of a JSON answer. */
export async function* logBytes(res: Pick<OpenBody, 'contentType' | 'body'>): AsyncIterable<Uint8Array> {
  if (!res.contentType.includes('json')) {
    yield* res.body;
    return;
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    size += chunk.length;
    if (size > JSON_LOG_MAX_BYTES)
      throw new Error(`the log came as JSON larger than ${JSON_LOG_MAX_BYTES} bytes; not scanned`);
    chunks.push(chunk);
  }
  let content: unknown;
  try {
    content = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { content?: unknown }).content;
  } catch {
    throw new Error('the log came as JSON that does not parse; not scanned');
  }
  if (typeof content !== 'string') throw new Error('the log came as JSON without a "content" string; not scanned');
  yield Buffer.from(content, 'utf8');
}
