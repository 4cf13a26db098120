// A small stand-in for the GitHub REST API, on loopback: just the issue-comment endpoints the
// action uses, with GitHub's pagination (Link header, per_page up to 100), its 403 for tokens
// that cannot write, and its 422 for bodies over 65,536 characters.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StubComment {
  id: number;
  issue: number;
  body: string;
  user: string;
}

export interface StubRequest {
  readonly method: string;
  readonly path: string;
  readonly token: string | null;
}

export interface GitHubStub {
  /** Base URL to put in GITHUB_API_URL. */
  readonly url: string;
  /** Comments by id order; tests may seed and inspect it. */
  readonly comments: StubComment[];
  readonly requests: StubRequest[];
  /** Adds a comment as someone else, e.g. to push ours to a later page. */
  seed(issue: number, body: string, user?: string): StubComment;
  /** Comments on one issue, oldest first. */
  on(issue: number): StubComment[];
  close(): Promise<void>;
}

export const MAX_COMMENT_CHARS = 65_536;

/**
 * Starts the stub. `tokens` maps each accepted token to its permission; any other token gets
 * 401, and a `read` token gets GitHub's 403 on writes.
 */
export async function startGitHubStub(options: {
  readonly owner: string;
  readonly repo: string;
  readonly tokens: Readonly<Record<string, 'read' | 'write'>>;
}): Promise<GitHubStub> {
  const comments: StubComment[] = [];
  const requests: StubRequest[] = [];
  let nextId = 1000;
  const prefix = `/repos/${options.owner}/${options.repo}/issues`;
  let base = '';

  const server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => send(res, 500, { message: String(error) }));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', base);
    const auth = req.headers.authorization ?? '';
    const token = /^(?:token|bearer) (.+)$/i.exec(auth)?.[1] ?? null;
    requests.push({ method: req.method ?? '', path: url.pathname + url.search, token });
    const body = await readBody(req);

    const permission = token ? options.tokens[token] : undefined;
    if (!permission) return send(res, 401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' });

    const list = new RegExp(`^${prefix}/(\\d+)/comments$`).exec(url.pathname);
    const one = new RegExp(`^${prefix}/comments/(\\d+)$`).exec(url.pathname);

    if (list && req.method === 'GET') {
      const issue = Number(list[1]);
      const perPage = Math.min(100, Number(url.searchParams.get('per_page') ?? 30) || 30);
      const page = Math.max(1, Number(url.searchParams.get('page') ?? 1) || 1);
      const all = comments.filter((c) => c.issue === issue);
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
      return send(res, 200, all.slice((page - 1) * perPage, page * perPage).map(toJson), headers);
    }

    if ((list && req.method === 'POST') || (one && req.method === 'PATCH')) {
      if (permission !== 'write') {
        return send(res, 403, { message: 'Resource not accessible by integration', status: '403' });
      }
      const text = parseBody(body);
      if (text === null) return send(res, 422, { message: 'Invalid request.\n\n"body" wasn\'t supplied.' });
      if (text.length > MAX_COMMENT_CHARS) {
        return send(res, 422, { message: 'Validation Failed', errors: [{ resource: 'IssueComment', code: 'custom', field: 'body', message: 'body is too long (maximum is 65536 characters)' }] });
      }
      if (list) {
        const comment = { id: nextId++, issue: Number(list[1]), body: text, user: 'github-actions[bot]' };
        comments.push(comment);
        return send(res, 201, toJson(comment));
      }
      const comment = comments.find((c) => c.id === Number(one?.[1]));
      if (!comment) return send(res, 404, { message: 'Not Found' });
      comment.body = text;
      return send(res, 200, toJson(comment));
    }

    return send(res, 404, { message: 'Not Found' });
  }

  function toJson(comment: StubComment): Record<string, unknown> {
    return {
      id: comment.id,
      body: comment.body,
      user: { login: comment.user, type: comment.user.endsWith('[bot]') ? 'Bot' : 'User' },
      html_url: `https://github.com/${options.owner}/${options.repo}/issues/${comment.issue}#issuecomment-${comment.id}`,
      created_at: '2026-08-01T00:00:00Z',
      updated_at: '2026-08-01T00:00:00Z',
    };
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: base,
    comments,
    requests,
    seed(issue, body, user = 'octocat') {
      const comment = { id: nextId++, issue, body, user };
      comments.push(comment);
      return comment;
    },
    on: (issue) => comments.filter((c) => c.issue === issue),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseBody(text: string): string | null {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && 'body' in value && typeof value.body === 'string') return value.body;
  } catch {
    // fall through: GitHub answers 422 to a body it cannot parse
  }
  return null;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}
