// What the fake GitHub holds: its users, comments and deployments, and who the token is.

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

/** Who the token is: a user (personal access token) or an app installation (GITHUB_TOKEN). */
export type Identity =
  | { readonly kind: 'user'; readonly user: User }
  | { readonly kind: 'installation'; readonly bot: User; readonly graphql: boolean };

export const actionsBot: User = { login: 'github-actions[bot]', id: 41898282, type: 'Bot' };
