// A local HTTP server that plays the GitHub REST API for the endpoints the reporter uses.
// It rejects (422, and records in `violations`) any request that does not match GitHub's
// published OpenAPI description, checks the Authorization header, can be scripted to fail or
// to answer slowly, and records every request for assertions. Point the reporter at `url`
// (GITHUB_API_URL).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkRequest, matchOperation } from './contract.ts';
import { type OpenWrite, peakOpen } from './open-writes.ts';

export interface User {
  readonly login: string;
  readonly id: number;
  readonly type: 'User' | 'Bot';
}

export interface Comment {
  readonly id: number;
  readonly issue: number;
  body: string;
  readonly user: User;
}

export interface Deployment {
  readonly id: number;
  readonly body: Record<string, unknown>;
  readonly statuses: Array<Record<string, unknown>>;
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly body: unknown;
  status: number;
  /** When it arrived, by the fake's clock (`startFakeGitHub`'s `now`; default: real time). */
  readonly at: number;
}

/** A scripted answer for the next `times` requests that match. */
export interface Failure {
  readonly method?: string;
  readonly path?: RegExp;
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly message?: string;
  times: number;
}

/**
 * Answers to the next `times` matching requests come `ms` late. What a request does is done
 * when it arrives, as on a GitHub that is slow to answer: a client that gives up waiting has
 * still written.
 */
export interface Delay {
  readonly method?: string;
  readonly path?: RegExp;
  readonly ms: number;
  times: number;
}

/** Who the token is: a user (personal access token) or an app installation (GITHUB_TOKEN). */
export type Identity =
  | { readonly kind: 'user'; readonly user: User }
  | { readonly kind: 'installation'; readonly bot: User; readonly graphql: boolean };

export const actionsBot: User = { login: 'github-actions[bot]', id: 41898282, type: 'Bot' };

export interface FakeGitHub {
  readonly url: string;
  readonly token: string;
  identity: Identity;
  readonly requests: RecordedRequest[];
  /** Requests that broke GitHub's contract; a test should assert this stays empty. */
  readonly violations: string[];
  readonly comments: Comment[];
  readonly deployments: Deployment[];
  /** Pull requests associated with a commit, by sha (GET /repos/{o}/{r}/commits/{sha}/pulls). */
  readonly commitPulls: Map<string, Array<Record<string, unknown>>>;
  /**
   * The commit graph for GET /repos/{o}/{r}/compare/{base}...{head}: each commit's parents,
   * first parent first, added oldest first (the order compare lists commits in).
   */
  readonly commitParents: Map<string, readonly string[]>;
  /** Repository roles by login (admin, maintain, write, triage, read, or a custom role); anyone else has none. */
  readonly roles: Map<string, string>;
  /** Custom repository roles by name, with the base role each inherits (GitHub's `permission` for it). */
  readonly customRoles: Map<string, 'read' | 'triage' | 'write' | 'maintain'>;
  /** Reactions created on comments: [comment id, content]. */
  readonly reactions: Array<[number, string]>;
  /** Adds a comment as if `user` had written it. */
  addComment(issue: number, body: string, user: User): Comment;
  fail(failure: Failure): void;
  delay(delay: Delay): void;
  /** Requests as "METHOD /path", for compact assertions. */
  calls(): string[];
  /**
   * The most writes (POST, PATCH, PUT, DELETE; not GraphQL) whose path matches `path` (default:
   * any) that were ever open at once, from their arrival until their answer ended.
   */
  peakConcurrentWrites(path?: RegExp): number;
  close(): Promise<void>;
}

function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startFakeGitHub(
  options: { token?: string; identity?: Identity; now?: () => number } = {},
): Promise<FakeGitHub> {
  const now = options.now ?? Date.now;
  const writes: OpenWrite[] = [];
  const token = options.token ?? 'ghs_fake_token_for_tests';
  let nextId = 1000;
  const failures: Failure[] = [];
  const delays: Delay[] = [];
  const fake: Omit<FakeGitHub, 'url' | 'close'> = {
    token,
    identity: options.identity ?? { kind: 'installation', bot: actionsBot, graphql: true },
    requests: [],
    violations: [],
    comments: [],
    deployments: [],
    commitPulls: new Map(),
    commitParents: new Map(),
    roles: new Map(),
    customRoles: new Map(),
    reactions: [],
    addComment(issue, body, user) {
      const comment = { id: nextId++, issue, body, user };
      fake.comments.push(comment);
      return comment;
    },
    fail(failure) {
      failures.push(failure);
    },
    delay(delay) {
      delays.push(delay);
    },
    calls() {
      return fake.requests.map((r) => `${r.method} ${r.path}`);
    },
    peakConcurrentWrites: (path = /./) => peakOpen(writes, path),
  };
  const author = (): User => (fake.identity.kind === 'user' ? fake.identity.user : fake.identity.bot);
  const commentJson = (c: Comment) => ({
    id: c.id,
    node_id: `IC_${c.id}`,
    url: `http://fake/repos/comments/${c.id}`,
    html_url: `http://fake/pull/${c.issue}#issuecomment-${c.id}`,
    issue_url: `http://fake/issues/${c.issue}`,
    body: c.body,
    user: { ...c.user, node_id: `U_${c.user.id}` },
    created_at: '2025-01-01T00:00:00Z',
    updated_at: '2025-01-01T00:00:00Z',
  });

  type Handler = (
    params: Readonly<Record<string, string>>,
    query: URLSearchParams,
    body: Record<string, unknown>,
  ) => [number, unknown];
  const handlers: Record<string, Handler> = {
    'users/get-authenticated': () =>
      fake.identity.kind === 'user'
        ? [200, { ...fake.identity.user }]
        : [403, { message: 'Resource not accessible by integration', status: '403' }],
    'repos/list-pull-requests-associated-with-commit': (p) => [
      200,
      fake.commitPulls.get(p.commit_sha ?? '') ?? [],
    ],
    'repos/compare-commits-with-basehead': (p, q) => compare(fake.commitParents, p.basehead ?? '', q),
    'issues/list-comments': (p, q) => {
      const perPage = Number(q.get('per_page') ?? 30);
      const page = Number(q.get('page') ?? 1);
      const all = fake.comments.filter((c) => c.issue === Number(p.issue_number));
      return [200, all.slice((page - 1) * perPage, page * perPage).map(commentJson)];
    },
    'issues/create-comment': (p, _q, b) => [
      201,
      commentJson(fake.addComment(Number(p.issue_number), String(b.body), author())),
    ],
    'issues/update-comment': (p, _q, b) => {
      const comment = fake.comments.find((c) => c.id === Number(p.comment_id));
      if (comment === undefined) return [404, { message: 'Not Found' }];
      if (comment.user.login !== author().login) {
        fake.violations.push(
          `PATCH of comment ${comment.id} written by ${comment.user.login}, not by the token's identity`,
        );
      }
      comment.body = String(b.body);
      return [200, commentJson(comment)];
    },
    'reactions/create-for-issue-comment': (p, _q, b) => {
      const comment = fake.comments.find((c) => c.id === Number(p.comment_id));
      if (comment === undefined) return [404, { message: 'Not Found' }];
      fake.reactions.push([comment.id, String(b.content)]);
      const reaction = {
        id: nextId++,
        node_id: `R_${nextId}`,
        user: { ...author(), node_id: `U_${author().id}` },
        content: b.content,
        created_at: '2025-01-01T00:00:00Z',
      };
      return [201, reaction];
    },
    'repos/get-collaborator-permission-level': (p) => {
      // GitHub's legacy `permission` folds maintain into write and triage into read, and a custom
      // role into its base; `role_name` is the role's own name.
      const role = fake.roles.get(p.username ?? '') ?? 'none';
      const base = fake.customRoles.get(role) ?? role;
      const legacy = base === 'maintain' ? 'write' : base === 'triage' ? 'read' : base;
      return [200, { permission: legacy, role_name: role, user: null }];
    },
    'repos/create-deployment': (_p, _q, b) => {
      const deployment = { id: nextId++, body: b, statuses: [] };
      fake.deployments.push(deployment);
      return [
        201,
        { id: deployment.id, sha: b.ref, ref: b.ref, environment: b.environment, task: b.task ?? 'deploy' },
      ];
    },
    'repos/create-deployment-status': (p, _q, b) => {
      const deployment = fake.deployments.find((d) => d.id === Number(p.deployment_id));
      if (deployment === undefined) return [404, { message: 'Not Found' }];
      deployment.statuses.push(b);
      return [
        201,
        { id: nextId++, state: b.state, deployment_url: `http://fake/deployments/${deployment.id}` },
      ];
    },
  };

  // GraphQL is not part of the REST description; only the one query the reporter sends is accepted.
  function graphql(body: string): [number, unknown] {
    const query = (JSON.parse(body || '{}') as { query?: unknown }).query;
    if (typeof query !== 'string' || query.replace(/\s+/g, ' ').trim() !== 'query { viewer { login } }') {
      fake.violations.push(`unexpected GraphQL query ${JSON.stringify(query)}`);
      return [422, { message: 'fake GitHub: unexpected GraphQL query' }];
    }
    if (fake.identity.kind === 'installation' && !fake.identity.graphql)
      return [502, { message: 'Bad Gateway' }];
    return [200, { data: { viewer: { login: author().login } } }];
  }

  function scripted<T extends Failure | Delay>(list: T[], method: string, path: string): T | undefined {
    const found = list.find(
      (f) => f.times > 0 && (f.method ?? method) === method && (f.path ?? /./).test(path),
    );
    if (found !== undefined) found.times--;
    return found;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = req.method ?? 'GET';
    const body = await readBody(req);
    const recorded: RecordedRequest = {
      method,
      path: url.pathname,
      query: url.search,
      body: body === '' ? undefined : JSON.parse(body),
      status: 0,
      at: now(),
    };
    fake.requests.push(recorded);
    if (method !== 'GET' && url.pathname !== '/graphql') {
      const write = { path: url.pathname, from: performance.now(), to: Number.POSITIVE_INFINITY };
      writes.push(write);
      res.on('close', () => {
        write.to = performance.now();
      });
    }
    const late = scripted(delays, method, url.pathname);
    const reply = (status: number, data: unknown, headers: Record<string, string> = {}) => {
      recorded.status = status;
      if (late === undefined) return json(res, status, data, headers);
      const timer = setTimeout(() => json(res, status, data, headers), late.ms);
      res.on('close', () => clearTimeout(timer));
    };
    if (req.headers.authorization !== `token ${token}` && req.headers.authorization !== `Bearer ${token}`) {
      return reply(401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' });
    }
    const matched =
      method === 'POST' && url.pathname === '/graphql' ? undefined : matchOperation(method, url.pathname);
    if (matched === undefined && url.pathname !== '/graphql') {
      fake.violations.push(`${method} ${url.pathname} is not an operation of GitHub's REST API`);
      return reply(404, {
        message: `fake GitHub: ${method} ${url.pathname} is not in GitHub's OpenAPI description`,
      });
    }
    const problems =
      matched === undefined ? [] : checkRequest(matched, url.searchParams, body, req.headers['content-type']);
    if (problems.length > 0) {
      fake.violations.push(`${method} ${url.pathname}: ${problems.join('; ')}`);
      return reply(422, {
        message: `fake GitHub: request does not match the OpenAPI description: ${problems.join('; ')}`,
      });
    }
    const failure = scripted(failures, method, url.pathname);
    if (failure !== undefined)
      return reply(
        failure.status,
        { message: failure.message ?? 'scripted failure' },
        { ...failure.headers },
      );
    if (matched === undefined) return reply(...graphql(body));
    const handler = handlers[matched.operation.operationId];
    if (handler === undefined)
      return reply(501, { message: `fake GitHub: ${matched.operation.operationId} not played` });
    const [status, data] = handler(
      matched.params,
      url.searchParams,
      (body === '' ? {} : JSON.parse(body)) as Record<string, unknown>,
    );
    reply(status, data);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      fake.violations.push(`fake server error: ${String(error)}`);
      if (!res.headersSent) json(res, 500, { message: String(error) });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  // Slow answers must not hold the test's teardown.
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  const { port } = server.address() as AddressInfo;
  return {
    ...fake,
    get identity() {
      return fake.identity;
    },
    set identity(value: Identity) {
      fake.identity = value;
    },
    url: `http://127.0.0.1:${port}`,
    close,
  };
}

/** Every ancestor of `sha` (itself included) in `parents`. */
function ancestors(parents: ReadonlyMap<string, readonly string[]>, sha: string): Set<string> {
  const seen = new Set<string>();
  const todo = [sha];
  for (let next = todo.pop(); next !== undefined; next = todo.pop()) {
    if (seen.has(next)) continue;
    seen.add(next);
    todo.push(...(parents.get(next) ?? []));
  }
  return seen;
}

/** GET .../compare/{base}...{head}: the commits reachable from head and not from base, oldest first. */
function compare(
  parents: ReadonlyMap<string, readonly string[]>,
  basehead: string,
  query: URLSearchParams,
): [number, unknown] {
  const [base = '', head = ''] = basehead.split('...');
  if (!parents.has(base) || !parents.has(head)) return [404, { message: 'Not Found' }];
  const behind = ancestors(parents, base);
  const ahead = ancestors(parents, head);
  const commits = [...parents.keys()].filter((sha) => ahead.has(sha) && !behind.has(sha));
  const perPage = Number(query.get('per_page') ?? 250);
  const page = Number(query.get('page') ?? 1);
  const commitJson = (sha: string) => ({
    sha,
    parents: (parents.get(sha) ?? []).map((p) => ({ sha: p })),
  });
  return [
    200,
    {
      status: commits.length > 0 ? 'ahead' : 'identical',
      ahead_by: commits.length,
      behind_by: 0,
      total_commits: commits.length,
      commits: commits.slice((page - 1) * perPage, page * perPage).map(commitJson),
    },
  ];
}
