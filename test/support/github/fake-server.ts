// A local HTTP server that plays the GitHub REST API for the endpoints the reporter uses.
// It rejects (422, and records in `violations`) any request that does not match GitHub's
// published OpenAPI description, checks the Authorization header, can be scripted to fail or
// to answer slowly, and records every request for assertions. Point the reporter at `url`
// (GITHUB_API_URL). The operations it plays are in fake-operations.ts, its data in fake-model.ts.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkRequest, matchOperation } from './contract.ts';
import { actionsBot, type Comment, type Deployment, type Identity, type User } from './fake-model.ts';
import { graphql, restOperations } from './fake-operations.ts';
import { type OpenWrite, peakOpen } from './open-writes.ts';

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
  const handlers = restOperations(fake, () => nextId++);

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
    if (matched === undefined) return reply(...graphql(fake, body));
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
