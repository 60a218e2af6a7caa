// Kubernetes name rules (k8s.io/apimachinery/pkg/util/validation), so a bad name is
// refused with a clear message before the API server sees it. Each check returns the
// problem in words, or undefined when the name is valid.

const LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_LABEL = new RegExp(`^${LABEL}$`);
const DNS1123_SUBDOMAIN = new RegExp(`^${LABEL}(\\.${LABEL})*$`);

/** A DNS-1123 label (namespaces, most names that become hostnames): at most 63 characters. */
export function dns1123LabelProblem(name: string): string | undefined {
  if (name.length === 0) return 'is empty';
  if (name.length > 63) return `is ${name.length} characters long; the limit is 63`;
  if (!DNS1123_LABEL.test(name)) {
    return 'must be lowercase letters, digits and "-", starting and ending with a letter or digit';
  }
  return undefined;
}

/** A DNS-1123 subdomain (most object names, StatefulSets included): at most 253 characters. */
export function dns1123SubdomainProblem(name: string): string | undefined {
  if (name.length === 0) return 'is empty';
  if (name.length > 253) return `is ${name.length} characters long; the limit is 253`;
  if (!DNS1123_SUBDOMAIN.test(name)) {
    return 'must be lowercase letters, digits, "-" and ".", starting and ending with a letter or digit';
  }
  return undefined;
}

/** A path segment name (RBAC objects such as `system:aggregate-to-view`). */
export function pathSegmentProblem(name: string): string | undefined {
  if (name.length === 0) return 'is empty';
  if (name === '.' || name === '..') return 'may not be "." or ".."';
  if (/[/%]/.test(name)) return 'may not contain "/" or "%"';
  return undefined;
}

/** Quotes a user-supplied value for an error message, cut short and with control characters escaped. */
export function quote(value: string, max = 80): string {
  const cut = value.length > max ? `${value.slice(0, max)}…` : value;
  return JSON.stringify(cut);
}
