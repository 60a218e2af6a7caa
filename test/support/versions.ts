// What differs between the Kubernetes releases the suite runs on (docs/kubernetes-versions.md),
// for assertions that must hold on each.

/**
 * How the API server refuses a change to a StatefulSet field that cannot change in place:
 * up to 1.36 `spec: Forbidden: updates to statefulset spec for fields other than ...`, from 1.37
 * the field by name, `spec.serviceName: Invalid value: "other": field is immutable`.
 */
export const forbiddenSpecChange =
  /spec: Forbidden: updates to statefulset spec for fields other than|spec\.[A-Za-z]+: Invalid value: .*field is immutable/;
