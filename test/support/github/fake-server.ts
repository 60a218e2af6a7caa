// A local HTTP server that plays the GitHub REST API for the endpoints the reporter uses.
// It rejects (422, and records in `violations`) any request that does not match GitHub's
// published OpenAPI description, checks the Authorization header, can be scripted to fail,
// and records every request for assertions. Point the reporter at `url` (GITHUB_API_URL).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkRequest, matchOperation } from './contract.ts';

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
  /** Adds a comment as if `user` had written it. */
  addComment(issue: number, body: string, user: User): Comment;
  fail(failure: Failure): void;
  /** Requests as "METHOD /path", for compact assertions. */
  calls(): string[];
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
  options: { token?: string; identity?: Identity } = {},
): Promise<FakeGitHub> {
  const token = options.token ?? 'ghs_fake_token_for_tests';
  let nextId = 1000;
  const failures: Failure[] = [];
  const fake: Omit<FakeGitHub, 'url' | 'close'> = {
    token,
    identity: options.identity ?? { kind: 'installation', bot: actionsBot, graphql: true },
    requests: [],
    violations: [],
    comments: [],
    deployments: [],
    commitPulls: new Map(),
    addComment(issue, body, user) {
      const comment = { id: nextId++, issue, body, user };
      fake.comments.push(comment);
      return comment;
    },
    fail(failure) {
      failures.push(failure);
    },
    calls() {
      return fake.requests.map((r) => `${r.method} ${r.path}`);
    },
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

  function scripted(method: string, path: string): Failure | undefined {
    const failure = failures.find(
      (f) => f.times > 0 && (f.method ?? method) === method && (f.path ?? /./).test(path),
    );
    if (failure !== undefined) failure.times--;
    return failure;
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
    };
    fake.requests.push(recorded);
    const reply = (status: number, data: unknown, headers: Record<string, string> = {}) => {
      recorded.status = status;
      json(res, status, data, headers);
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
    const failure = scripted(method, url.pathname);
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
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
