// Manifests: expand the globs of the `manifests` input, parse every file (multi-document
// YAML), validate every object and resolve its namespace, all before the cluster is touched.
import { glob, realpath, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import type { KubeObject } from '../ports/cluster.ts';
import { checkObject, checkStatefulSet, describe, identity, listItems, withNamespace } from './checks.ts';
import { ManifestError } from './error.ts';
import { readYamlDocuments } from './yaml.ts';

export { ManifestError } from './error.ts';
export { MAX_FILE_BYTES } from './yaml.ts';

/**
 * A manifest object and where it came from: `path#document`, the document number 1-based, and
 * `path#document.items[i]` for an item of a List.
 */
export interface SourcedObject {
  readonly object: KubeObject;
  readonly source: string;
}

export interface ManifestSet {
  /** apps/v1 StatefulSets, in file order: rolled out as canaries. */
  readonly statefulSets: readonly SourcedObject[];
  /** Everything else (ConfigMaps, Services, ...), in file order: server-side applied first. */
  readonly others: readonly SourcedObject[];
}

export interface LoadOptions {
  /** The namespace input: wins over the objects' own namespaces. */
  readonly namespaceOverride?: string | undefined;
  /** For objects without one: the kubeconfig context's namespace, else `default`. */
  readonly defaultNamespace: string;
  /** Relative patterns are resolved here (the workspace). */
  readonly cwd: string;
}

/**
 * Loads the manifests that `patterns` (paths or globs) name. Throws ManifestError when a
 * pattern matches no file, a file cannot be parsed, an object is invalid or repeated, or
 * there is no StatefulSet. Every namespaced object comes back with metadata.namespace set.
 */
export async function loadManifests(patterns: readonly string[], options: LoadOptions): Promise<ManifestSet> {
  if (patterns.length === 0)
    throw new ManifestError('No manifests given; list YAML files or globs, one per line');
  const files = await expand(patterns, options.cwd);
  const statefulSets: SourcedObject[] = [];
  const others: SourcedObject[] = [];
  const seen = new Map<string, string>();
  for (const file of files) {
    const documents = await readYamlDocuments(resolve(options.cwd, file), file);
    let objects = 0;
    const items = documents.flatMap((document, index) =>
      document === null || document === undefined ? [] : listItems(document, `${file}#${index + 1}`),
    );
    for (const { document, source } of items) {
      const object = withNamespace(
        checkObject(document, source),
        options.namespaceOverride,
        options.defaultNamespace,
      );
      const key = identity(object);
      const first = seen.get(key);
      if (first !== undefined) {
        throw new ManifestError(
          `${source} (${describe(object)}) repeats the object already defined at ${first}. ` +
            'Fix: remove one of them, or give them different names',
          source,
        );
      }
      seen.set(key, source);
      objects++;
      if (object.kind === 'StatefulSet') {
        checkStatefulSet(object, source);
        statefulSets.push({ object, source });
      } else {
        others.push({ object, source });
      }
    }
    if (objects === 0) {
      throw new ManifestError(
        `${file} contains no Kubernetes objects (it is empty or only comments, or an empty List); remove it from manifests`,
        file,
      );
    }
  }
  if (statefulSets.length === 0) {
    throw new ManifestError(
      `No StatefulSet in ${files.join(', ')}; this action rolls out StatefulSets (apps/v1). ` +
        'Add the StatefulSet manifest, or use kubectl apply for other objects',
    );
  }
  return { statefulSets, others };
}

/** Expands patterns in order, each one's matches sorted, files only, each file once. */
async function expand(patterns: readonly string[], cwd: string): Promise<string[]> {
  const files: string[] = [];
  for (const pattern of patterns) {
    const matches: string[] = [];
    for await (const match of glob(pattern, { cwd })) matches.push(match);
    matches.sort();
    let directories = 0;
    for (const match of matches) {
      const path = isAbsolute(match) ? match : resolve(cwd, match);
      const info = await stat(path);
      if (info.isDirectory()) directories++;
      else await refuseSymlinkOut(match, path, cwd);
      if (info.isDirectory()) continue;
      if (!files.includes(match)) files.push(match);
    }
    if (matches.length === 0) {
      throw new ManifestError(
        `manifests: ${JSON.stringify(pattern)} matches no file (relative to ${cwd}); check the path or glob`,
      );
    }
    if (directories === matches.length) {
      throw new ManifestError(
        `manifests: ${JSON.stringify(pattern)} matches only directories; name the files, e.g. ${pattern.replace(/\/$/, '')}/*.yaml`,
      );
    }
  }
  return files;
}

/** Whether `path` is `dir` or inside it. */
const inside = (path: string, dir: string): boolean => {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
};

/**
 * Refuses a file in the working directory that a symlink leads out of it: a pull request could
 * otherwise make a plan or rollout read (and publish) any file the runner can. A path named
 * outside the working directory is read as named.
 */
async function refuseSymlinkOut(match: string, path: string, cwd: string): Promise<void> {
  const root = await realpath(cwd);
  if (!inside(path, cwd) && !inside(path, root)) return;
  const real = await realpath(path);
  if (inside(real, root)) return;
  throw new ManifestError(
    `manifests: ${match} is a symlink to ${real}, outside the working directory ${cwd}; ` +
      'manifests are read only from the workspace. Fix: replace the symlink by the file itself, or name the file by its real path',
    match,
  );
}
