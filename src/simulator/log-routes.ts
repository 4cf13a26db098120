// The job log endpoints and the host their redirects lead to: `…/log` (JSON unless asked for
// text), `…/log.txt` (text, with HEAD and Range), and with `redirectLogs` a 302 to a presigned
// URL on a second origin that stands for object storage. Also the faults that strike one log:
// always broken (`failLogRate`), the JSON shape from a misbehaving proxy, a body cut or stalled.

import { createHmac } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dataset } from './dataset.ts';
import type { Gate } from './gate.ts';
import type { SimBuild } from './api-objects.ts';
import { MESSAGES } from './messages.ts';
import type { MutableStats } from './options.ts';
import { acceptsGzip, type ApiRequest, type Transport } from './transport.ts';

export interface LogRoutesContext {
  readonly dataset: Dataset;
  readonly gate: Gate;
  readonly transport: Transport;
  readonly stats: MutableStats;
  /** Gzip log bodies when the request accepts it. */
  readonly gzip: boolean;
  /** The redirect host's origin when `redirectLogs` is on; null serves text logs directly. */
  readonly redirectUrl: string | null;
  /** Signs the redirect host's URLs. */
  readonly signingKey: string;
  readonly now: () => number;
}

/** `bytes=a-b`, `bytes=a-`, `bytes=-n`; null when absent, 'invalid' when unsatisfiable. */
function parseRange(header: string | undefined, size: number): { start: number; end: number } | null | 'invalid' {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return 'invalid';
  let start: number;
  let end: number;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0 || size === 0) return 'invalid';
    start = Math.max(0, size - n);
    end = size;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size : Math.min(size, Number(m[2]) + 1);
    if (start >= size || end <= start) return 'invalid';
  }
  return { start, end };
}

export class LogRoutes {
  constructor(private readonly ctx: LogRoutesContext) {}

  /** `GET|HEAD …/builds/{n}/jobs/{id}/log` and `…/log.txt` on the API host. */
  async serveLog(r: ApiRequest, build: SimBuild, jobId: string, isTxt: boolean): Promise<void> {
    const { req, res, limits, reply } = r;
    const { dataset, gate, transport } = this.ctx;
    const found = dataset.findJob(jobId);
    if (!found || found.build.number !== build.number || !dataset.logExists(jobId)) {
      return reply(404, { message: MESSAGES.noJob });
    }
    if (gate.brokenLog(jobId)) return transport.fail(req, res, 503, reply, gate.faults.echoAuth);
    // `/log` answers JSON unless asked for text; `log.txt` is always text.
    let text = isTxt || /text\/plain/i.test(req.headers.accept ?? '');
    if (text && gate.answersJsonLog()) text = false;
    if (!text) return this.serveJsonLog(req, res, found.job.log_url ?? '', jobId, limits);
    if (this.ctx.redirectUrl !== null) {
      const expires = String(Math.floor(this.ctx.now() / 1000) + 600);
      const signature = this.sign(jobId, expires);
      const location = `${this.ctx.redirectUrl}/logs/${jobId}.txt?Expires=${expires}&Signature=${signature}`;
      return transport.send(req, res, 302, '', { ...limits, Location: location });
    }
    return this.serveText(req, res, jobId, limits);
  }

  /** The redirect host stands for object storage: presigned URLs, its own origin and errors. */
  async handleRedirect(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { dataset, gate, transport, stats } = this.ctx;
    stats.redirectRequests++;
    const seen = `${req.url ?? ''}\n${JSON.stringify(req.headers)}`;
    const tokens = Object.values(gate.tokens);
    if (req.headers.authorization !== undefined || tokens.some((t) => seen.includes(t))) stats.redirectAuthLeaks++;
    await gate.delay();
    const url = new URL(req.url ?? '/', this.ctx.redirectUrl ?? 'http://127.0.0.1');
    const m = /^\/logs\/([^/]+)\.txt$/.exec(url.pathname);
    const xml = (status: number, code: string): void => {
      const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code></Error>`;
      transport.send(req, res, status, body, { 'Content-Type': 'application/xml' });
    };
    const scripted = gate.takeScripted('redirect');
    if (typeof scripted === 'number') {
      return xml(scripted, scripted === 403 ? 'AccessDenied' : scripted === 404 ? 'NoSuchKey' : 'InternalError');
    }
    // A reset or a hang never replies.
    if (scripted !== null) return transport.fail(req, res, scripted, () => undefined, false);
    if (!m || !dataset.logExists(m[1] as string)) return xml(404, 'NoSuchKey');
    const expires = url.searchParams.get('Expires') ?? '';
    if (url.searchParams.get('Signature') !== this.sign(m[1] as string, expires)) return xml(403, 'AccessDenied');
    return this.serveText(req, res, m[1] as string, {});
  }

  private sign(jobId: string, expires: string): string {
    return createHmac('sha256', this.ctx.signingKey).update(`${jobId}:${expires}`).digest('hex');
  }

  private async serveText(
    req: IncomingMessage,
    res: ServerResponse,
    jobId: string,
    base: Record<string, string>,
  ): Promise<void> {
    const { dataset, gate, transport } = this.ctx;
    const size = dataset.logSize(jobId);
    const range = parseRange(req.headers.range, size);
    if (range === 'invalid') return transport.send(req, res, 416, '', { ...base, 'Content-Range': `bytes */${size}` });
    const { start, end } = range ?? { start: 0, end: size };
    const gzip = range === null && acceptsGzip(req, this.ctx.gzip);
    const headers: Record<string, string | number> = {
      ...base,
      'Content-Type': 'text/plain; charset=utf-8',
      'Accept-Ranges': 'bytes',
    };
    if (gzip) Object.assign(headers, { 'Content-Encoding': 'gzip', Vary: 'Accept-Encoding' });
    // Never gzipped on HEAD, so HEAD always reports the identity length a client sizes a log by.
    else headers['Content-Length'] = end - start;
    if (range) headers['Content-Range'] = `bytes ${start}-${end - 1}/${size}`;
    transport.writeHead(res, range ? 206 : 200, headers);
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    await transport.pump(res, dataset.logChunks(jobId, start, end), gzip, gate.bodyFaults(end - start));
  }

  private async serveJsonLog(
    req: IncomingMessage,
    res: ServerResponse,
    logUrl: string,
    jobId: string,
    base: Record<string, string>,
  ): Promise<void> {
    const { dataset, gate, transport } = this.ctx;
    const gzip = acceptsGzip(req, this.ctx.gzip);
    const headers: Record<string, string> = { ...base, 'Content-Type': 'application/json; charset=utf-8' };
    if (gzip) Object.assign(headers, { 'Content-Encoding': 'gzip', Vary: 'Accept-Encoding' });
    transport.writeHead(res, 200, headers);
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const size = dataset.logSize(jobId);
    // Streamed so a big log never sits in memory as one string.
    function* body(): Generator<Buffer> {
      yield Buffer.from(`{"url":${JSON.stringify(logUrl)},"content":"`);
      const decoder = new TextDecoder('utf-8');
      for (const chunk of dataset.logChunks(jobId))
        yield Buffer.from(JSON.stringify(decoder.decode(chunk, { stream: true })).slice(1, -1));
      const rest = JSON.stringify(decoder.decode()).slice(1, -1);
      yield Buffer.from(`${rest}","size":${size},"header_times":${JSON.stringify(dataset.headerTimes(jobId))}}`);
    }
    await transport.pump(res, body(), gzip, gate.bodyFaults(size));
  }
}
