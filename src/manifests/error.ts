// The one error type of manifest loading and validation.

/**
 * A manifest that cannot be rolled out, found before anything touches the cluster. The
 * message names the file (and document, 1-based: `k8s/app.yaml#2`), the object when known
 * (`StatefulSet prod/web`) and the fix.
 */
export class ManifestError extends Error {
  override readonly name = 'ManifestError';
  /** `path` or `path#document` (1-based) of the offending input; undefined when it is no single file. */
  readonly source: string | undefined;
  constructor(message: string, source?: string) {
    super(message);
    this.source = source;
  }
}
