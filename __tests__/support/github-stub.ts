// A small stand-in for the GitHub REST API, on loopback: the issue and issue-comment endpoints
// the action uses, with GitHub's pagination (Link header, per_page up to 100), its 403 for
// tokens that cannot write, its 422 for bodies over 65,536 characters, and `GET /user` as an
// installation token gets it (403) unless a test gives the token a login. Tests can script
// faults (5xx, dropped connections, primary and secondary rate limits, a write that happened
// but whose answer was lost) and hold requests back until several have arrived, to make two
// runs race.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StubComment {
  id: number;
  issue: number;
  body: string;
  user: string;
}

export interface StubIssue {
  number: number;
  title: string;
  body: string;
  user: string;
  labels: string[];
  state: 'open' | 'closed';
  state_reason: string | null;
  /** Listed like an issue but is a pull request (the issues list holds both). */
  pullRequest: boolean;
  created_at: string;
}

export interface StubRequest {
  readonly method: string;
  readonly path: string;
  readonly token: string | null;
}

/** Which requests a fault or a hold applies to: the method, and a test on the path. */
export interface StubRoute {
  readonly method?: string;
  readonly path?: RegExp;
}

export type StubFault =
  /** An error status (5xx) with GitHub's JSON body. */
  | { readonly kind: 'status'; readonly status: number }
  /** The connection is dropped before any answer. */
  | { readonly kind: 'network' }
  /** GitHub's secondary rate limit: 403, `retry-after`, the documented message. */
  | { readonly kind: 'secondary'; readonly retryAfter?: number }
  /** The primary rate limit: 403 (or 429) with `x-ratelimit-remaining: 0` and `x-ratelimit-reset`. */
  | { readonly kind: 'primary'; readonly status?: 403 | 429; readonly resetInSeconds?: number }
  /** The request is carried out, but its answer is lost: a 502 comes back instead. */
  | { readonly kind: 'lost' };

export interface GitHubStub {
  /** Base URL to put in GITHUB_API_URL. */
  readonly url: string;
  /** Comments by id order; tests may seed and inspect it. */
  readonly comments: StubComment[];
  /** Issues by number order; tests may seed and inspect it. */
  readonly issues: StubIssue[];
  readonly requests: StubRequest[];
  /** Adds a comment as someone else, e.g. to push ours to a later page. */
  seed(issue: number, body: string, user?: string): StubComment;
  /** Comments on one issue, oldest first. */
  on(issue: number): StubComment[];
  /** Adds an issue (by default open, by octocat, without labels). */
  seedIssue(fields: Partial<Omit<StubIssue, 'number' | 'created_at'>>): StubIssue;
  /** The next `times` requests on `route` answer with `fault` instead. */
  fault(route: StubRoute, fault: StubFault, times?: number): void;
  /**
   * The next `count` requests on `route` wait until all of them have arrived, then go on in
   * order: two runs that list issues this way both see the list before either creates one.
   */
  hold(route: StubRoute, count: number): void;
  close(): Promise<void>;
}

export const MAX_COMMENT_CHARS = 65_536;

export const SECONDARY_RATE_LIMIT_MESSAGE =
  'You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to ' +
  'GitHub Support for help, please include the request ID 0000:0000:0000000:0000000:00000000.';

/** How long a hold waits for the rest of its requests before letting those there go. */
const HOLD_TIMEOUT_MS = 5000;

interface Reply {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Record<string, string>;
}

/**
 * Starts the stub. `tokens` maps each accepted token to its permission; any other token gets
 * 401, and a `read` token gets GitHub's 403 on writes. `logins` gives tokens an account, as a
 * personal token has: `GET /user` answers it, and what the token writes is by that account
 * (otherwise by github-actions[bot]).
 */
export async function startGitHubStub(options: {
  readonly owner: string;
  readonly repo: string;
  readonly tokens: Readonly<Record<string, 'read' | 'write'>>;
  readonly logins?: Readonly<Record<string, string>>;
}): Promise<GitHubStub> {
  const comments: StubComment[] = [];
  const issues: StubIssue[] = [];
  const requests: StubRequest[] = [];
  const faults: { route: StubRoute; fault: StubFault; left: number }[] = [];
  const holds: { route: StubRoute; count: number; waiting: (() => void)[] }[] = [];
  let nextId = 1000;
  let nextIssue = 900;
  const prefix = `/repos/${options.owner}/${options.repo}/issues`;
  const pullsPrefix = `/repos/${options.owner}/${options.repo}/pulls`;
  const htmlRepo = `https://github.com/${options.owner}/${options.repo}`;
  let base = '';

  const server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => send(res, { status: 500, body: { message: String(error) } }));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', base);
    const method = req.method ?? '';
    const auth = req.headers.authorization ?? '';
    const token = /^(?:token|bearer) (.+)$/i.exec(auth)?.[1] ?? null;
    requests.push({ method, path: url.pathname + url.search, token });
    const body = await readBody(req);
    await waitForHold(method, url.pathname);

    const permission = token ? options.tokens[token] : undefined;
    if (!permission) {
      const docs = 'https://docs.github.com/rest';
      return send(res, { status: 401, body: { message: 'Bad credentials', documentation_url: docs } });
    }

    const fault = takeFault(method, url.pathname);
    if (fault?.kind === 'network') {
      req.socket.destroy();
      return;
    }
    if (fault && fault.kind !== 'lost') return send(res, faultReply(fault));
    const reply = route(method, url, body, permission, (token && options.logins?.[token]) || null);
    send(res, fault?.kind === 'lost' ? { status: 502, body: { message: 'Server Error' } } : reply);
  }

  function route(method: string, url: URL, body: string, permission: 'read' | 'write', login: string | null): Reply {
    const author = login ?? 'github-actions[bot]';
    if (url.pathname === '/user' && method === 'GET') {
      if (!login) return NOT_ACCESSIBLE;
      return { status: 200, body: { login, type: 'User' } };
    }
    const commentList = new RegExp(`^${prefix}/(\\d+)/comments$`).exec(url.pathname);
    const comment = new RegExp(`^${prefix}/comments/(\\d+)$`).exec(url.pathname);
    const issue = new RegExp(`^${prefix}/(\\d+)$`).exec(url.pathname);
    const issueList = url.pathname === prefix;
    const isWrite = method === 'POST' || method === 'PATCH';

    if (commentList && method === 'GET') {
      return paginate(url, comments.filter((c) => c.issue === Number(commentList[1])).map(commentJson));
    }
    if (issueList && method === 'GET') return paginate(url, listIssues(url.searchParams).map(issueJson));
    if (issue && method === 'GET') {
      const found = issues.find((i) => i.number === Number(issue[1]));
      return found ? { status: 200, body: issueJson(found) } : NOT_FOUND;
    }
    if (!isWrite || !(commentList || comment || issue || issueList)) return NOT_FOUND;
    if (permission !== 'write') return NOT_ACCESSIBLE;
    const fields = parseJson(body);
    if (fields === null) return { status: 400, body: { message: 'Problems parsing JSON' } };
    const text = fields.body;
    if (text !== undefined && typeof text !== 'string') return invalid('body');
    if (typeof text === 'string' && text.length > MAX_COMMENT_CHARS) {
      const resource = commentList || comment ? 'IssueComment' : 'Issue';
      const message = 'body is too long (maximum is 65536 characters)';
      const error = { resource, code: 'custom', field: 'body', message };
      return { status: 422, body: { message: 'Validation Failed', errors: [error] } };
    }

    if (commentList && method === 'POST') {
      if (text === undefined) return { status: 422, body: { message: 'Invalid request.\n\n"body" wasn\'t supplied.' } };
      const created = { id: nextId++, issue: Number(commentList[1]), body: text, user: author };
      comments.push(created);
      return { status: 201, body: commentJson(created) };
    }
    if (comment && method === 'PATCH') {
      if (text === undefined) return { status: 422, body: { message: 'Invalid request.\n\n"body" wasn\'t supplied.' } };
      const found = comments.find((c) => c.id === Number(comment[1]));
      if (!found) return NOT_FOUND;
      found.body = text;
      return { status: 200, body: commentJson(found) };
    }
    if (issueList && method === 'POST') {
      if (typeof fields.title !== 'string' || fields.title === '') return invalid('title');
      const labelName = (l: unknown) => (typeof l === 'string' ? l : String((l as { name?: unknown }).name));
      const labels = Array.isArray(fields.labels) ? fields.labels.map(labelName) : [];
      const created = addIssue({ title: fields.title, body: text ?? '', user: author, labels });
      return { status: 201, body: issueJson(created) };
    }
    if (issue && method === 'PATCH') {
      const found = issues.find((i) => i.number === Number(issue[1]));
      if (!found) return NOT_FOUND;
      if (typeof fields.title === 'string') found.title = fields.title;
      if (typeof text === 'string') found.body = text;
      if (fields.state === 'open' || fields.state === 'closed') {
        found.state = fields.state;
        const reason = typeof fields.state_reason === 'string' ? fields.state_reason : 'completed';
        found.state_reason = fields.state === 'closed' ? reason : 'reopened';
      }
      return { status: 200, body: issueJson(found) };
    }
    return NOT_FOUND;
  }

  /** GitHub's filters for the issues list: state, labels (all of them), creator; created order. */
  function listIssues(params: URLSearchParams): StubIssue[] {
    const state = params.get('state') ?? 'open';
    const labels = (params.get('labels') ?? '').split(',').filter(Boolean);
    const creator = params.get('creator');
    const found = issues.filter(
      (i) =>
        (state === 'all' || i.state === state) &&
        labels.every((l) => i.labels.includes(l)) &&
        (!creator || i.user === creator),
    );
    return params.get('direction') === 'asc' ? found : found.reverse();
  }

  function paginate(url: URL, all: readonly unknown[]): Reply {
    const perPage = Math.min(100, Number(url.searchParams.get('per_page') ?? 30) || 30);
    const page = Math.max(1, Number(url.searchParams.get('page') ?? 1) || 1);
    const last = Math.max(1, Math.ceil(all.length / perPage));
    const links: string[] = [];
    const pageUrl = (n: number) => {
      const u = new URL(url.href);
      u.searchParams.set('page', String(n));
      u.searchParams.set('per_page', String(perPage));
      return u.href;
    };
    if (page < last) links.push(`<${pageUrl(page + 1)}>; rel="next"`, `<${pageUrl(last)}>; rel="last"`);
    if (page > 1) links.push(`<${pageUrl(page - 1)}>; rel="prev"`, `<${pageUrl(1)}>; rel="first"`);
    const headers: Record<string, string> = links.length > 0 ? { link: links.join(', ') } : {};
    return { status: 200, body: all.slice((page - 1) * perPage, page * perPage), headers };
  }

  function addIssue(fields: Partial<Omit<StubIssue, 'number' | 'created_at'>>): StubIssue {
    const number = nextIssue++;
    const issue: StubIssue = {
      title: 'An issue',
      body: '',
      user: 'octocat',
      labels: [],
      state: 'open',
      state_reason: null,
      pullRequest: false,
      ...fields,
      number,
      // One second apart, in creation order, like GitHub's.
      created_at: new Date(Date.UTC(2026, 7, 1) + (number - 900) * 1000).toISOString().replace('.000Z', 'Z'),
    };
    issues.push(issue);
    return issue;
  }

  function matches(route: StubRoute, method: string, path: string): boolean {
    if (route.method !== undefined && route.method !== method) return false;
    return route.path === undefined || route.path.test(path);
  }

  function takeFault(method: string, path: string): StubFault | null {
    const hit = faults.find((f) => f.left > 0 && matches(f.route, method, path));
    if (!hit) return null;
    hit.left--;
    return hit.fault;
  }

  function waitForHold(method: string, path: string): Promise<void> {
    const hold = holds.find((h) => h.waiting.length < h.count && matches(h.route, method, path));
    if (!hold) return Promise.resolve();
    return new Promise<void>((resolve) => {
      hold.waiting.push(resolve);
      const release = () => {
        holds.splice(holds.indexOf(hold), 1);
        for (const go of hold.waiting) go();
      };
      if (hold.waiting.length === hold.count) release();
      else if (hold.waiting.length === 1) setTimeout(() => holds.includes(hold) && release(), HOLD_TIMEOUT_MS).unref();
    });
  }

  function commentJson(comment: StubComment): Record<string, unknown> {
    return {
      id: comment.id,
      body: comment.body,
      user: userJson(comment.user),
      html_url: `${htmlRepo}/issues/${comment.issue}#issuecomment-${comment.id}`,
      created_at: '2026-08-01T00:00:00Z',
      updated_at: '2026-08-01T00:00:00Z',
    };
  }

  function issueJson(issue: StubIssue): Record<string, unknown> {
    return {
      number: issue.number,
      title: issue.title,
      body: issue.body,
      user: userJson(issue.user),
      labels: issue.labels.map((name) => ({ name })),
      state: issue.state,
      state_reason: issue.state_reason,
      html_url: `${htmlRepo}/${issue.pullRequest ? 'pull' : 'issues'}/${issue.number}`,
      created_at: issue.created_at,
      ...(issue.pullRequest ? { pull_request: { url: `${base}${pullsPrefix}/${issue.number}` } } : {}),
    };
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: base,
    comments,
    issues,
    requests,
    seed(issue, body, user = 'octocat') {
      const comment = { id: nextId++, issue, body, user };
      comments.push(comment);
      return comment;
    },
    on: (issue) => comments.filter((c) => c.issue === issue),
    seedIssue: addIssue,
    fault(route, fault, times = 1) {
      faults.push({ route, fault, left: times });
    },
    hold(route, count) {
      holds.push({ route, count, waiting: [] });
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

const NOT_FOUND: Reply = { status: 404, body: { message: 'Not Found' } };
/** What GitHub answers an installation token that lacks the permission. */
const NOT_ACCESSIBLE: Reply = {
  status: 403,
  body: { message: 'Resource not accessible by integration', status: '403' },
};

function invalid(field: string): Reply {
  const error = { resource: 'Issue', code: 'missing_field', field };
  return { status: 422, body: { message: 'Validation Failed', errors: [error] } };
}

function faultReply(fault: Exclude<StubFault, { kind: 'network' } | { kind: 'lost' }>): Reply {
  const docs = 'https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api';
  switch (fault.kind) {
    case 'status':
      return { status: fault.status, body: { message: fault.status === 503 ? 'Service Unavailable' : 'Server Error' } };
    case 'secondary':
      return {
        status: 403,
        body: { message: SECONDARY_RATE_LIMIT_MESSAGE, documentation_url: docs },
        headers: { 'retry-after': String(fault.retryAfter ?? 1) },
      };
    case 'primary':
      return {
        status: fault.status ?? 403,
        body: { message: 'API rate limit exceeded for installation ID 1234.', documentation_url: docs },
        headers: {
          'x-ratelimit-limit': '5000',
          'x-ratelimit-remaining': '0',
          'x-ratelimit-used': '5000',
          'x-ratelimit-resource': 'core',
          'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + (fault.resetInSeconds ?? 1)),
        },
      };
  }
}

function userJson(login: string): Record<string, unknown> {
  return { login, type: login.endsWith('[bot]') ? 'Bot' : 'User' };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** The JSON object a write sent, or null when it is not one (GitHub answers 400). */
function parseJson(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  return null;
}

function send(res: ServerResponse, reply: Reply): void {
  res.writeHead(reply.status, { 'content-type': 'application/json; charset=utf-8', ...reply.headers });
  res.end(JSON.stringify(reply.body));
}
