// Loads the kubeconfig the action talks to the cluster with, and lists every credential in it
// so main.ts can register each one as a secret before anything could log it.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';

export interface LoadedKubeConfig {
  readonly kubeConfig: KubeConfig;
  readonly contextName: string;
  /** The context's namespace, else `default`. */
  readonly defaultNamespace: string;
  /** Tokens, passwords, client keys and certificates (raw and decoded), for masking. */
  readonly secrets: string[];
}

const serviceAccountToken = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/**
 * `content` given (and not blank): parsed in memory, never written to disk. Otherwise the same
 * order as kubectl and client-node's loadFromDefault: KUBECONFIG (every file in it, merged),
 * then ~/.kube/config, then the in-cluster service account. Nothing found is an error rather
 * than client-node's silent fallback to http://localhost:8080.
 */
export function loadKubeConfig(options: { content?: string; context?: string }): LoadedKubeConfig {
  const kubeConfig = new KubeConfig();
  const source = loadInto(kubeConfig, options.content);
  if (options.context) {
    if (!kubeConfig.getContextObject(options.context)) {
      throw new Error(
        `Context "${options.context}" is not in the kubeconfig (${source}). Available contexts: ` +
          `${listContexts(kubeConfig)}. Set the \`context\` input to one of them.`,
      );
    }
    kubeConfig.setCurrentContext(options.context);
  }
  const contextName = kubeConfig.getCurrentContext();
  const context = kubeConfig.getContextObject(contextName);
  if (!context) {
    throw new Error(
      `The kubeconfig (${source}) has no current context${contextName ? ` ("${contextName}" is not defined)` : ''}. ` +
        `Available contexts: ${listContexts(kubeConfig)}. Set the \`context\` input.`,
    );
  }
  if (!kubeConfig.getCurrentCluster()) {
    throw new Error(
      `Context "${contextName}" in the kubeconfig (${source}) names a cluster that is not defined.`,
    );
  }
  return {
    kubeConfig,
    contextName,
    defaultNamespace: context.namespace || 'default',
    secrets: kubeConfigSecrets(kubeConfig),
  };
}

function listContexts(kubeConfig: KubeConfig): string {
  const names = kubeConfig.getContexts().map((c) => c.name);
  return names.length > 0 ? names.join(', ') : '(none)';
}

/** Loads into `kubeConfig` and returns a description of where from, for messages. */
function loadInto(kubeConfig: KubeConfig, content: string | undefined): string {
  if (content !== undefined && content.trim() !== '') {
    parseContent(kubeConfig, content);
    return 'the `kubeconfig` input';
  }
  if (process.env.KUBECONFIG) {
    kubeConfig.loadFromDefault();
    return `KUBECONFIG=${process.env.KUBECONFIG}`;
  }
  const home = join(homedir(), '.kube', 'config');
  if (existsSync(home)) {
    kubeConfig.loadFromFile(home);
    return home;
  }
  if (existsSync(serviceAccountToken)) {
    kubeConfig.loadFromCluster();
    return 'the in-cluster service account';
  }
  throw new Error(
    'No kubeconfig found: the `kubeconfig` input is empty, KUBECONFIG is not set, ~/.kube/config does not ' +
      'exist and this is not running in a pod. Pass the kubeconfig content as the `kubeconfig` input ' +
      '(from a secret) or run a step that sets up the cluster context first.',
  );
}

function parseContent(kubeConfig: KubeConfig, content: string): void {
  try {
    kubeConfig.loadFromString(content);
  } catch (error) {
    // js-yaml's message quotes the offending lines, which may hold a token: keep only where.
    const mark = (error as { mark?: { line?: number; column?: number } }).mark;
    const where =
      mark?.line !== undefined ? ` at line ${mark.line + 1}, column ${(mark.column ?? 0) + 1}` : '';
    const reason = (error as { reason?: unknown }).reason;
    const message = error instanceof Error ? error.message : '';
    // client-node's own checks ("users[0].name is missing") name a field, never a value.
    const fieldProblem = /^(clusters|users|contexts)\[\d+\][\w.-]* is missing$/.test(message)
      ? message
      : undefined;
    const what =
      typeof reason === 'string' ? reason : (fieldProblem ?? (mark ? 'invalid YAML' : 'not a YAML mapping'));
    throw new Error(
      `The \`kubeconfig\` input is not a valid kubeconfig (${what}${where}). Pass the whole file ` +
        '(e.g. `kubectl config view --raw --minify`) as the secret.',
    );
  }
  if (kubeConfig.getContexts().length === 0 || kubeConfig.getClusters().length === 0) {
    throw new Error(
      'The `kubeconfig` input has no contexts or no clusters. Pass the whole file ' +
        '(e.g. `kubectl config view --raw --minify`) as the secret.',
    );
  }
}

/** Every credential in the kubeconfig, plus the lines of decoded PEM data (masks work per line). */
function kubeConfigSecrets(kubeConfig: KubeConfig): string[] {
  const found = new Set<string>();
  const add = (value: unknown): void => {
    if (typeof value === 'string' && value.trim().length >= 4) found.add(value.trim());
  };
  for (const user of kubeConfig.getUsers()) {
    add(user.token);
    add(user.password);
    for (const data of [user.keyData, user.certData]) {
      add(data);
      if (data) for (const line of decodedPemLines(data)) add(line);
    }
    const providerConfig: unknown = user.authProvider?.config;
    if (providerConfig && typeof providerConfig === 'object') {
      for (const [key, value] of Object.entries(providerConfig)) {
        if (/token|secret|password|key/i.test(key)) add(value);
      }
    }
    const env: unknown = user.exec?.env;
    if (Array.isArray(env)) for (const entry of env) add((entry as { value?: unknown }).value);
  }
  return [...found];
}

function decodedPemLines(base64: string): string[] {
  const text = Buffer.from(base64, 'base64').toString('utf8');
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('-----'));
}

/**
 * The kubeconfig narrowed to one of its contexts (input `clusters`): its own KubeConfig, so each
 * context gets its own Cluster and Lock. A context that is not in the kubeconfig is named, with
 * the ones that are, before anything changes anywhere.
 */
export function contextKubeConfig(
  base: KubeConfig,
  context: string,
): { readonly kubeConfig: KubeConfig; readonly defaultNamespace: string } {
  const found = base.getContextObject(context);
  if (!found) {
    throw new Error(
      `Input clusters: context "${context}" is not in the kubeconfig. Available contexts: ` +
        `${listContexts(base)}. List contexts of the kubeconfig (kubectl config get-contexts), or add this one to it.`,
    );
  }
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: base.getClusters(),
    users: base.getUsers(),
    contexts: base.getContexts(),
    currentContext: context,
  });
  if (!kubeConfig.getCurrentCluster())
    throw new Error(`Input clusters: context "${context}" names a cluster that is not in the kubeconfig.`);
  return { kubeConfig, defaultNamespace: found.namespace || 'default' };
}
