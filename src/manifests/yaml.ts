// Reading one manifest file into YAML documents, with guards for hostile input: size,
// binary content, encoding, nesting depth and alias expansion ("billion laughs").
import { readFile, stat } from 'node:fs/promises';
import { CORE_SCHEMA, loadAll, mergeTag, YAMLException } from 'js-yaml';
import { ManifestError } from './error.ts';

/** Larger files are refused: real manifests are far smaller, and parsing is in memory. */
export const MAX_FILE_BYTES = 5 * 1024 * 1024;
/** Deepest nesting of mappings and sequences (CRD schemas are the deepest real manifests, ~30). */
const MAX_DEPTH = 100;
/** Aliases (`*name`) per document. */
const MAX_ALIASES = 1000;
/**
 * Nodes per file once aliases are expanded. js-yaml shares aliased values instead of
 * copying them, so a bomb parses quickly but explodes when serialised for the API server;
 * counting the expanded nodes catches it before that.
 */
const MAX_EXPANDED_NODES = 1_000_000;

// CORE_SCHEMA is YAML 1.2 with no custom types (no !!js/function and the like); merge keys
// (`<<: *defaults`) are added because kubectl accepts them, and are capped by js-yaml.
const SCHEMA = CORE_SCHEMA.withTags(mergeTag);

/** Reads `path` (shown as `shown` in errors) and returns its YAML documents, empty ones as null. */
export async function readYamlDocuments(path: string, shown: string): Promise<unknown[]> {
  const info = await stat(path);
  if (!info.isFile())
    throw new ManifestError(`${shown} is not a regular file; list YAML files or globs`, shown);
  if (info.size > MAX_FILE_BYTES) {
    throw new ManifestError(
      `${shown} is ${grouped(info.size)} bytes; manifest files are limited to 5 MiB (${grouped(MAX_FILE_BYTES)} bytes). ` +
        'Split it into several files, or check that the glob does not match something else',
      shown,
    );
  }
  const text = decode(await readFile(path), shown);
  let documents: unknown[];
  try {
    documents = loadAll(text, {
      schema: SCHEMA,
      filename: shown,
      maxDepth: MAX_DEPTH,
      maxAliases: MAX_ALIASES,
    });
  } catch (error) {
    if (error instanceof YAMLException) throw yamlError(error, shown);
    throw error;
  }
  // Without aliases a document cannot have more nodes than characters, so a large plain
  // file never trips the limit; only aliases can push the count past it.
  const budget = { nodes: 0, limit: Math.max(MAX_EXPANDED_NODES, text.length) };
  for (const [index, document] of documents.entries()) {
    measure(document, 0, new Set(), budget, `${shown}#${index + 1}`);
  }
  return documents;
}

function decode(bytes: Buffer, shown: string): string {
  if (bytes.includes(0)) {
    throw new ManifestError(
      `${shown} contains NUL bytes: it is binary or UTF-16, not YAML. Save it as UTF-8 text, or fix the glob`,
      shown,
    );
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ManifestError(`${shown} is not valid UTF-8 text; save it as UTF-8`, shown);
  }
}

function yamlError(error: YAMLException, shown: string): ManifestError {
  // The reason and position only: js-yaml's snippet would copy file content (perhaps a
  // Secret's data) into the log.
  const at = error.mark ? ` at line ${error.mark.line + 1}, column ${error.mark.column + 1}` : '';
  if (/maxDepth/.test(error.reason)) {
    return new ManifestError(
      `${shown} nests deeper than ${MAX_DEPTH} levels${at}; no Kubernetes object needs that. Check the file`,
      shown,
    );
  }
  if (/maxAliases|maxTotalMergeKeys/.test(error.reason)) {
    return new ManifestError(
      `${shown} uses too many YAML aliases or merge keys${at} (${error.reason}); ` +
        'write the repeated parts out, or generate the manifest with a template tool',
      shown,
    );
  }
  return new ManifestError(`${shown} is not valid YAML${at}: ${error.reason}. Fix the syntax`, shown);
}

/** Walks a parsed document as the API server would see it, aliases expanded. */
function measure(
  value: unknown,
  depth: number,
  ancestors: Set<object>,
  budget: { nodes: number; limit: number },
  where: string,
) {
  budget.nodes++;
  if (budget.nodes > budget.limit) {
    throw new ManifestError(
      `${where} expands to more than ${budget.limit.toLocaleString('en')} nodes through YAML aliases ` +
        '(an alias bomb?); write the repeated parts out instead of aliasing them',
      where,
    );
  }
  if (value === null || typeof value !== 'object') return;
  if (depth > MAX_DEPTH) {
    throw new ManifestError(
      `${where} nests deeper than ${MAX_DEPTH} levels once aliases are expanded`,
      where,
    );
  }
  if (ancestors.has(value)) {
    throw new ManifestError(
      `${where} contains a recursive YAML alias (a value that contains itself); remove it`,
      where,
    );
  }
  ancestors.add(value);
  const children = Array.isArray(value)
    ? value
    : value instanceof Map
      ? [...value.values()]
      : Object.values(value);
  for (const child of children) measure(child, depth + 1, ancestors, budget, where);
  ancestors.delete(value);
}

function grouped(count: number): string {
  return count.toLocaleString('en');
}
