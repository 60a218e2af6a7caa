// A Kubernetes object as the ports carry it: a manifest object, a Job template.

/** A manifest object as parsed from YAML, with its origin for error messages. */
export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly [key: string]: unknown };
  readonly [key: string]: unknown;
}
