// The API's endpoints behind the gate, one handler each: the access token, the pipeline, the
// builds list (pages, filters, Link header), one build and its jobs (cursor pages); the two log
// endpoints go on to log-routes.ts. Checks run in Buildkite's order: scope (403), then
// organization, pipeline and build (404). A list page is filtered on the dataset's summaries and
// streamed build by build, so a page of 100 vLLM-sized builds (about 60 MB) is never one string.

import { createHash } from 'node:crypto';
import type { Dataset } from './dataset.ts';
import type { SimBuild } from './api-objects.ts';
import type { LogRoutes } from './log-routes.ts';
import { MESSAGES, missingScope } from './messages.ts';
import type { MutableStats, RequestKind } from './options.ts';
import { retrySources, servedBuild, servedJob, type ServeContext } from './served-objects.ts';
import type { ApiRequest, Transport } from './transport.ts';

export interface RoutesContext {
  readonly dataset: Dataset;
  readonly stats: MutableStats;
  readonly logs: LogRoutes;
  readonly transport: Transport;
  /** The API's origin, for the page links. */
  readonly origin: string;
  /** Serve builds whose jobs the hostile mutation removed as `jobs: null` or without the key. */
  readonly hostile: boolean;
  /** Pages beyond this answer 400. */
  readonly maxPage: number;
  /** Bytes of list pages kept to answer the same query again (SimulatorOptions.pageCache). */
  readonly pageCache: number;
}

/** The kind of an API request, for `failNext`. */
export function requestKind(url: URL): RequestKind {
  const seg = url.pathname.split('/').filter(Boolean);
  if (seg[1] === 'access-token') return 'token';
  if (seg.length === 5 && seg[3] === 'pipelines') return 'pipeline';
  if (seg.length === 6 && seg[5] === 'builds') return 'list';
  if (seg.length === 10 && seg[7] === 'jobs') return 'log';
  return 'any';
}

function intParam(value: string | null, fallback: number): number {
  const n = value === null ? NaN : Number.parseInt(value, 10);
  return Number.isFinite(n) ? n : fallback;
}

function wildcard(pattern: string): RegExp {
  return new RegExp(
    `^${pattern
      .split('*')
      .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
}

/** `include_retried_jobs=true` (or 1) on the builds list and one-build endpoints; they hide retries by default. */
function includesRetried(params: URLSearchParams): boolean {
  return /^(true|1)$/.test(params.get('include_retried_jobs') ?? '');
}

/** `exclude_pipeline=true` (or 1) leaves the pipeline object out of each build. */
function excludesPipeline(params: URLSearchParams): boolean {
  return /^(true|1)$/.test(params.get('exclude_pipeline') ?? '');
}

/** A parameter given as `name` or `name[]`, all values. */
function listParam(params: URLSearchParams, name: string): string[] {
  return [...params.getAll(name), ...params.getAll(`${name}[]`)];
}

export class ApiRoutes {
  private readonly serve: ServeContext;
  /** Served list pages by query, while they fit in `pageCache` bytes. */
  private readonly pages = new Map<string, Buffer>();
  private pageBytes = 0;

  constructor(private readonly ctx: RoutesContext) {
    const { dataset } = ctx;
    this.serve = { apiUrl: ctx.origin, org: dataset.org, seed: dataset.seed, pipeline: dataset.pipelineObject };
  }

  async route(r: ApiRequest): Promise<void> {
    const { req, url, scopes, reply } = r;
    const { dataset, stats } = this.ctx;
    const seg = url.pathname.split('/').filter(Boolean);
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(404, { message: MESSAGES.notFound });
    if (seg.length === 2 && seg[0] === 'v2' && seg[1] === 'access-token') return this.accessToken(r);
    const inOrg = seg[0] === 'v2' && seg[1] === 'organizations' && seg[3] === 'pipelines';
    const isPipeline = inOrg && seg.length === 5;
    const inBuilds = inOrg && seg[5] === 'builds';
    const isLog = inBuilds && seg.length === 10 && seg[7] === 'jobs' && (seg[9] === 'log' || seg[9] === 'log.txt');
    const isBuilds = inBuilds && (seg.length === 6 || seg.length === 7 || (seg.length === 8 && seg[7] === 'jobs'));
    if (!isPipeline && !isLog && !isBuilds) return reply(404, { message: MESSAGES.notFound });
    const needed = isPipeline ? 'read_pipelines' : isLog ? 'read_build_logs' : 'read_builds';
    if (!scopes.includes(needed)) return reply(403, { message: missingScope(needed) });
    if (seg[2] !== dataset.org) return reply(404, { message: MESSAGES.noOrg });
    if (seg[4] !== dataset.pipeline) return reply(404, { message: MESSAGES.noPipeline });
    if (isPipeline) {
      stats.pipelineRequests++;
      return reply(200, dataset.pipelineObject);
    }
    if (seg.length === 6) return this.listBuilds(r);
    const build = /^\d+$/.test(seg[6] as string) ? dataset.findBuild(Number(seg[6])) : undefined;
    if (seg.length === 7) stats.buildRequests++;
    if (seg.length === 8) stats.jobsRequests++;
    if (isLog) stats.logRequests++;
    if (!build) return reply(404, { message: MESSAGES.noBuild });
    if (seg.length === 7) return reply(200, this.viewBuild(build, url.searchParams));
    if (seg.length === 8) return this.listJobs(r, build);
    return this.ctx.logs.serveLog(r, build, seg[8] as string, seg[9] === 'log.txt');
  }

  /** Needs no scope: a client learns here which scopes its token has. */
  private accessToken({ scopes, reply }: ApiRequest): void {
    this.ctx.stats.tokenRequests++;
    const uuid = createHash('md5')
      .update(scopes.join())
      .digest('hex')
      .replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5');
    reply(200, {
      uuid,
      scopes,
      description: 'flake-checker simulator token',
      created_at: '2026-01-05T10:00:00.000Z',
      user: { name: 'Simulated User', email: 'sim@example.com' },
    });
  }

  /** Retried attempts hidden unless include_retried_jobs=true; the pipeline unless exclude_pipeline=true. */
  private viewBuild(build: SimBuild, params: URLSearchParams): unknown {
    return servedBuild(this.serve, build, {
      includeRetried: includesRetried(params),
      pipeline: excludesPipeline(params) ? null : this.ctx.dataset.pipelineObject,
      hostile: this.ctx.hostile,
    });
  }

  private async listBuilds({ req, res, url, limits, reply }: ApiRequest): Promise<void> {
    this.ctx.stats.listRequests++;
    const { dataset, transport } = this.ctx;
    const params = url.searchParams;
    const perPage = Math.min(100, Math.max(1, intParam(params.get('per_page'), 30)));
    const page = Math.max(1, intParam(params.get('page'), 1));
    if (page > this.ctx.maxPage) return reply(400, { message: MESSAGES.tooDeep });
    const branches = listParam(params, 'branch').map(wildcard);
    const states = listParam(params, 'state');
    const createdFrom = params.get('created_from');
    const createdTo = params.get('created_to');
    const from = createdFrom ? Date.parse(createdFrom) : null;
    const to = createdTo ? Date.parse(createdTo) : null;
    // Filtered on the summaries: only the builds of the page are made.
    const selected: number[] = [];
    for (let i = 0; i < dataset.buildCount; i++) {
      const b = dataset.summary(i);
      if (
        (branches.length === 0 || branches.some((re) => re.test(b.branch))) &&
        (states.length === 0 || states.includes(b.state)) &&
        (from === null || b.createdMs >= from) &&
        (to === null || b.createdMs < to)
      )
        selected.push(i);
    }
    const lastPage = Math.max(1, Math.ceil(selected.length / perPage));
    const pageUrl = (n: number): string => {
      const next = new URL(url.pathname, this.ctx.origin);
      for (const [k, v] of params) if (k !== 'page') next.searchParams.append(k, v);
      next.searchParams.set('page', String(n));
      return next.toString();
    };
    // Formatted as Buildkite and GitHub do: `<url>; rel="next", <url>; rel="last"`.
    const links: string[] = [];
    if (page > 1) links.push(`<${pageUrl(Math.min(page - 1, lastPage))}>; rel="prev"`);
    if (page < lastPage) links.push(`<${pageUrl(page + 1)}>; rel="next"`);
    if (page > 1) links.push(`<${pageUrl(1)}>; rel="first"`);
    if (page < lastPage) links.push(`<${pageUrl(lastPage)}>; rel="last"`);
    const headers = { ...limits, ...(links.length > 0 ? { Link: links.join(', ') } : {}) };
    const key = [...params]
      .map(([k, v]) => `${k}=${v}`)
      .sort()
      .join('&');
    const cached = this.pages.get(key);
    if (cached) {
      this.ctx.stats.listBytes += cached.length;
      return transport.send(req, res, 200, cached, { 'Content-Type': 'application/json; charset=utf-8', ...headers });
    }
    const onPage = selected.slice((page - 1) * perPage, page * perPage);
    const builds = (function* (routes: ApiRoutes): Generator<unknown> {
      for (const i of onPage) yield routes.viewBuild(dataset.buildAt(i), params);
    })(this);
    const kept: Buffer[] | null = req.method === 'GET' && this.pageBytes < this.ctx.pageCache ? [] : null;
    await transport.jsonArray(req, res, builds, headers, kept);
    const size = kept?.reduce((sum, b) => sum + b.length, 0) ?? 0;
    if (kept && !res.destroyed && this.pageBytes + size <= this.ctx.pageCache) {
      this.pages.set(key, Buffer.concat(kept));
      this.pageBytes += size;
    }
  }

  /** The June-2026 jobs endpoint: `{items, links:{self,next}}`, cursor pages, retried jobs shown by default. */
  private listJobs({ url, reply }: ApiRequest, build: SimBuild): void {
    const params = url.searchParams;
    const perPage = Math.min(100, Math.max(1, intParam(params.get('per_page'), 30)));
    const includeRetried = !/^(false|0)$/.test(params.get('include_retried_jobs') ?? '');
    const states = listParam(params, 'state');
    const stepKeys = listParam(params, 'step_key');
    const cursor = params.get('cursor');
    const offset = cursor ? intParam(Buffer.from(cursor, 'base64url').toString(), 0) : 0;
    const jobs = build.jobs.filter(
      (j) =>
        (includeRetried || !j.retried) &&
        (states.length === 0 || states.includes(j.state ?? '')) &&
        (stepKeys.length === 0 || stepKeys.includes(j.step_key ?? '')),
    );
    let next: string | null = null;
    if (offset + perPage < jobs.length) {
      const nextUrl = new URL(url.toString());
      nextUrl.searchParams.set('cursor', Buffer.from(String(offset + perPage)).toString('base64url'));
      next = nextUrl.toString();
    }
    const previous = retrySources(build);
    const items = jobs
      .slice(offset, offset + perPage)
      .map((j) => servedJob(this.serve, build, j, previous.get(j.id) ?? null));
    reply(200, { items, links: { self: url.toString(), next } });
  }
}
