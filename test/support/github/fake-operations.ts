// The REST operations the fake GitHub plays (by operationId), and the one GraphQL query it
// answers, over the fake's recorded state.
import type { Comment, Deployment, Identity, User } from './fake-model.ts';

/** The fake's state the operations read and change. */
export interface FakeStore {
  readonly identity: Identity;
  readonly violations: string[];
  readonly comments: Comment[];
  readonly deployments: Deployment[];
  readonly commitPulls: Map<string, Array<Record<string, unknown>>>;
  readonly commitParents: Map<string, readonly string[]>;
  readonly roles: Map<string, string>;
  readonly customRoles: Map<string, 'read' | 'triage' | 'write' | 'maintain'>;
  readonly reactions: Array<[number, string]>;
  addComment(issue: number, body: string, user: User): Comment;
}

type Handler = (
  params: Readonly<Record<string, string>>,
  query: URLSearchParams,
  body: Record<string, unknown>,
) => [number, unknown];

/** Who the token acts as: the user, or the installation's bot. */
function authorOf(fake: FakeStore): User {
  return fake.identity.kind === 'user' ? fake.identity.user : fake.identity.bot;
}

/** The REST operations by operationId; `nextId` numbers what they create. */
export function restOperations(fake: FakeStore, nextId: () => number): Record<string, Handler> {
  const author = (): User => authorOf(fake);
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

  return {
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
        id: nextId(),
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
      const deployment = { id: nextId(), body: b, statuses: [] };
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
        { id: nextId(), state: b.state, deployment_url: `http://fake/deployments/${deployment.id}` },
      ];
    },
  };
}

// GraphQL is not part of the REST description; only the one query the reporter sends is accepted.
export function graphql(fake: FakeStore, body: string): [number, unknown] {
  const query = (JSON.parse(body || '{}') as { query?: unknown }).query;
  if (typeof query !== 'string' || query.replace(/\s+/g, ' ').trim() !== 'query { viewer { login } }') {
    fake.violations.push(`unexpected GraphQL query ${JSON.stringify(query)}`);
    return [422, { message: 'fake GitHub: unexpected GraphQL query' }];
  }
  if (fake.identity.kind === 'installation' && !fake.identity.graphql)
    return [502, { message: 'Bad Gateway' }];
  return [200, { data: { viewer: { login: authorOf(fake).login } } }];
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
