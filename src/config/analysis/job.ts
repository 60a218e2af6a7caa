// A `job:` check (and the Job form of hooks and switchovers): a batch/v1 Job created from a
// template each round, passing when it completes. The template is checked whole here: its kind,
// that it runs something, and every `{{placeholder}}` in its strings.
import { CORE_SCHEMA, load } from 'js-yaml';
import type { JobProbe } from '../../engine/analysis.ts';
import { JOB_VARIABLES } from '../../engine/templates.ts';
import { InputError } from '../input-error.ts';
import { type At, durationOf, INPUT, isMapping, type Mapping, template, unknownKeys } from './fields.ts';

const JOB_KEYS = ['template', 'manifest', 'timeout'];
const EXAMPLE =
  'e.g. job: { template: { apiVersion: batch/v1, kind: Job, spec: { template: { spec: { restartPolicy: Never, containers: [{ name: smoke, image: ..., args: ["{{pod}}"] }] } } } } }';

export function parseJob(
  value: unknown,
  at: At,
  input = INPUT,
  variables: readonly string[] = JOB_VARIABLES,
): JobProbe {
  if (!isMapping(value)) throw new InputError(input, `${at('job')} must be a mapping, ${EXAMPLE}`);
  unknownKeys(value, JOB_KEYS, at('job'), input);
  const timeoutMs = durationOf(value.timeout, '5m', at('job.timeout'), 1000, input);
  if (value.manifest !== undefined) {
    // A Job of the manifests, by name: found (and kept from the apply) once they are loaded.
    if (
      value.template !== undefined ||
      typeof value.manifest !== 'string' ||
      !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(value.manifest)
    )
      throw new InputError(
        input,
        `${at('job.manifest')} must be the name of a Job in the manifests, instead of template`,
      );
    return Object.freeze({ kind: 'job', template: {}, source: value.manifest, timeoutMs });
  }
  const job = templateOf(value.template, at('job.template'), input, variables);
  return Object.freeze({
    kind: 'job',
    template: job,
    source: 'inline',
    timeoutMs,
  });
}

/** The Job: a mapping, or YAML text of one; a batch/v1 Job whose pod runs at least one container. */
export function templateOf(
  value: unknown,
  where: string,
  input: string,
  variables: readonly string[] = JOB_VARIABLES,
): Mapping {
  let job = value;
  if (typeof value === 'string') {
    try {
      job = load(value, { schema: CORE_SCHEMA });
    } catch (error) {
      throw new InputError(input, `${where} is not valid YAML (${(error as Error).message.split('\n')[0]})`);
    }
  }
  if (!isMapping(job)) throw new InputError(input, `${where} is missing or not a Job, ${EXAMPLE}`);
  if (job.kind !== 'Job' || job.apiVersion !== 'batch/v1')
    throw new InputError(input, `${where} must be a batch/v1 Job (apiVersion: batch/v1, kind: Job)`);
  const spec = isMapping(job.spec) ? job.spec : undefined;
  const pod = isMapping(spec?.template) && isMapping(spec.template.spec) ? spec.template.spec : undefined;
  if (!pod || !Array.isArray(pod.containers) || pod.containers.length === 0)
    throw new InputError(
      input,
      `${where} has no spec.template.spec.containers; a Job runs at least one container`,
    );
  if (pod.restartPolicy !== 'Never' && pod.restartPolicy !== 'OnFailure')
    throw new InputError(
      input,
      `${where}: spec.template.spec.restartPolicy must be Never or OnFailure (a Job's pod cannot restart Always)`,
    );
  forEachString(job, (text) => template(text, variables, where, input));
  return Object.freeze(structuredClone(job));
}

/** Calls `visit` with every string value of `value`, at any depth. */
function forEachString(value: unknown, visit: (text: string) => void): void {
  if (typeof value === 'string') visit(value);
  else if (Array.isArray(value)) for (const item of value) forEachString(item, visit);
  else if (isMapping(value)) for (const item of Object.values(value)) forEachString(item, visit);
}
