// Job checks whose template is a Job of the manifests (`job: { manifest: NAME }`): the Job is
// taken out of what is applied (it is a template, not an object to create) and becomes the
// check's template, checked as an inline one is. A name no Job of the manifests has is an
// input error, before anything changes.
import { templateOf } from '../config/analysis/job.ts';
import { InputError } from '../config/input-error.ts';
import type { Settings } from '../config/settings.ts';
import type { AnalysisCheck } from '../engine/analysis.ts';
import type { ManifestSet } from '../manifests/load.ts';

export function withJobTemplates(
  settings: Settings,
  manifests: ManifestSet,
): { readonly settings: Settings; readonly manifests: ManifestSet } {
  const named = new Set(
    settings.analysis.flatMap((c) =>
      c.probe.kind === 'job' && c.probe.source !== 'inline' ? [c.probe.source] : [],
    ),
  );
  if (named.size === 0) return { settings, manifests };
  const isTemplate = (o: ManifestSet['others'][number]) =>
    o.object.kind === 'Job' && named.has(o.object.metadata.name);
  const analysis = settings.analysis.map((check): AnalysisCheck => {
    const probe = check.probe;
    if (probe.kind !== 'job' || probe.source === 'inline') return check;
    const found = manifests.others.find(
      (o) => o.object.kind === 'Job' && o.object.metadata.name === probe.source,
    );
    if (!found)
      throw new InputError(
        'analysis',
        `check "${check.name}": job.manifest names Job ${probe.source}, which the manifests do not hold; add it, or give job.template`,
      );
    const template = templateOf(
      found.object,
      `check "${check.name}": job.manifest ${probe.source} (${found.source})`,
      'analysis',
    );
    return Object.freeze({ ...check, probe: Object.freeze({ ...probe, template }) });
  });
  return {
    settings: Object.freeze({ ...settings, analysis: Object.freeze(analysis) }),
    manifests: { ...manifests, others: manifests.others.filter((o) => !isTemplate(o)) },
  };
}
