// Writing responses on the wire, and the ways a wire goes wrong: every status counted, bodies
// streamed with backpressure at a bandwidth, gzipped when asked, stalled or cut partway; failures
// answered as a reset connection, a hang, or a proxy's HTML 502.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { createGzip } from 'node:zlib';
import { MESSAGES_BY_STATUS } from './messages.ts';
import type { FailureMode, MutableStats } from './options.ts';

/** Answers a JSON body, with the headers every API response carries (rate limits) added. */
export type Reply = (status: number, body: unknown, extra?: Record<string, string>) => void;

/** An API request that the gate let through, with what its endpoint answers with. */
export interface ApiRequest {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  /** The scopes of the request's token. */
  readonly scopes: readonly string[];
  /** The rate-limit headers every API answer carries. */
  readonly limits: Record<string, string>;
  readonly reply: Reply;
}

/** How one body goes wrong: cut (connection destroyed) at `cutAt` bytes, or silent for `stallMs` at `stallAt`. */
export interface BodyFaults {
  readonly cutAt: number | null;
  readonly stallAt: number | null;
  readonly stallMs: number;
}

const PROXY_502 =
  '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n' +
  '<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n';

/** Gzip when switched on and the request accepts it, on GET only. */
export function acceptsGzip(req: IncomingMessage, enabled: boolean): boolean {
  return enabled && req.method === 'GET' && /\bgzip\b/i.test(req.headers['accept-encoding'] ?? '');
}

/** Sleeps, waking early when the response goes away (a client that gave up). */
export function sleepUnlessClosed(ms: number, res: ServerResponse): Promise<void> {
  if (res.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      res.off('close', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    res.on('close', done);
  });
}

/** Waits until a writable drains or the response goes away. */
function drained(out: Writable, res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      out.off('drain', done);
      res.off('close', done);
      resolve();
    };
    out.on('drain', done);
    res.on('close', done);
  });
}

export class Transport {
  /** `bandwidth`: bytes per second for each streamed body (0: unlimited). */
  constructor(
    private readonly stats: MutableStats,
    private readonly bandwidth: number,
  ) {}

  writeHead(res: ServerResponse, status: number, headers: Record<string, string | number>): void {
    const s = this.stats;
    s.byStatus[status] = (s.byStatus[status] ?? 0) + 1;
    if (status === 429) s.status429++;
    if (status >= 500) s.status5xx++;
    res.writeHead(status, headers);
  }

  send(
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    body: string | Buffer,
    headers: Record<string, string>,
  ): void {
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    this.writeHead(res, status, { ...headers, 'Content-Length': bytes.length });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    this.stats.bytesSent += bytes.length;
    res.end(bytes);
  }

  json(
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string>,
  ): void {
    this.send(req, res, status, JSON.stringify(body), {
      'Content-Type': 'application/json; charset=utf-8',
      ...headers,
    });
  }

  /**
   * A 200 JSON array (a builds list page) streamed element by element (chunked, with backpressure), so a page of 100
   * vLLM-sized builds is never held as one string; stops when the client goes away. List pages
   * are sent at loopback speed: `bandwidth` paces log bodies only. With `kept`, the bytes written
   * are also pushed there.
   */
  async jsonArray(
    req: IncomingMessage,
    res: ServerResponse,
    items: Iterable<unknown>,
    headers: Record<string, string>,
    kept: Buffer[] | null = null,
  ): Promise<void> {
    this.writeHead(res, 200, { 'Content-Type': 'application/json; charset=utf-8', ...headers });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    let first = true;
    for (const item of items) {
      if (res.destroyed) return;
      const bytes = Buffer.from(`${first ? '[' : ','}${JSON.stringify(item)}`);
      first = false;
      this.stats.bytesSent += bytes.length;
      this.stats.listBytes += bytes.length;
      kept?.push(bytes);
      if (!res.write(bytes)) await drained(res, res);
    }
    if (res.destroyed) return;
    const close = Buffer.from(first ? '[]' : ']');
    this.stats.bytesSent += close.length;
    this.stats.listBytes += close.length;
    kept?.push(close);
    res.end(close);
  }

  /**
   * Answers a failure: a status (502 as a proxy's HTML page, others through `reply`), a reset
   * connection or a hang. With `echoAuth`, 5xx bodies echo the request's Authorization header.
   */
  async fail(
    req: IncomingMessage,
    res: ServerResponse,
    mode: FailureMode,
    reply: Reply,
    echoAuth: boolean,
  ): Promise<void> {
    if (mode === 'reset') {
      req.socket.destroy();
      return;
    }
    if (mode === 'hang') {
      // No response until the client gives up (or a minute passes).
      await sleepUnlessClosed(60_000, res);
      if (!res.destroyed) res.destroy();
      return;
    }
    // A proxy in front of the API answers 502 with its own HTML page and none of the API's headers.
    if (mode === 502) return this.send(req, res, 502, PROXY_502, { 'Content-Type': 'text/html' });
    const message = MESSAGES_BY_STATUS[mode] ?? 'Error';
    const echo = echoAuth && mode >= 500 ? ` (request had Authorization: ${req.headers.authorization ?? 'none'})` : '';
    return reply(mode, { message: `${message}${echo}` });
  }

  /**
   * Writes chunks with backpressure, at `bandwidth` bytes/s, cutting the connection at `cutAt`
   * and pausing for `stallMs` at `stallAt` (a cut wins over a stall).
   */
  async pump(res: ServerResponse, chunks: Iterable<Buffer>, gzip: boolean, faults: BodyFaults): Promise<void> {
    const { cutAt, stallAt } = faults;
    const bandwidth = this.bandwidth;
    const piece = bandwidth > 0 ? Math.min(65_536, Math.max(1024, Math.floor(bandwidth / 20))) : 65_536;
    const zip = gzip ? createGzip() : null;
    if (zip) {
      zip.on('data', (c: Buffer) => (this.stats.bytesSent += c.length));
      zip.pipe(res);
    }
    const out: Writable = zip ?? res;
    let t0 = Date.now();
    let sent = 0;
    let stallPending = stallAt !== null && (cutAt === null || stallAt < cutAt);
    try {
      for (const chunk of chunks) {
        for (let off = 0; off < chunk.length; off += piece) {
          if (res.destroyed) return;
          let part = chunk.subarray(off, off + piece);
          if (stallPending && sent + part.length >= (stallAt as number)) {
            stallPending = false;
            const before = part.subarray(0, (stallAt as number) - sent);
            await new Promise<void>((resolve) => out.write(before, () => resolve()));
            if (zip) await new Promise<void>((resolve) => zip.flush(() => resolve()));
            if (!zip) this.stats.bytesSent += before.length;
            sent += before.length;
            part = part.subarray(before.length);
            this.stats.stalls++;
            const pausedAt = Date.now();
            await sleepUnlessClosed(faults.stallMs, res);
            if (res.destroyed) return;
            t0 += Date.now() - pausedAt;
          }
          const cut = cutAt !== null && sent + part.length >= cutAt;
          if (cut) part = part.subarray(0, cutAt - sent);
          if (!zip) this.stats.bytesSent += part.length;
          sent += part.length;
          if (cut) {
            await new Promise<void>((resolve) => out.write(part, () => resolve()));
            if (zip) await new Promise<void>((resolve) => zip.flush(() => resolve()));
            await sleep(5);
            this.stats.cuts++;
            res.destroy();
            return;
          }
          if (!out.write(part)) await drained(out, res);
          if (bandwidth > 0) {
            const wait = t0 + (sent / bandwidth) * 1000 - Date.now();
            if (wait > 0) await sleep(wait);
          }
        }
      }
      out.end();
    } finally {
      if (zip && res.destroyed) zip.destroy();
    }
  }
}
