// Before a rollout changes anything: pods the first stage does not update that are not Ready
// would keep an OrderedReady controller from updating the canary. Say which and why, and refuse
// unless allow-unhealthy-start says to go on (a fix meant to heal them).
import { diagnosisLine } from '../../engine/diagnosis.ts';
import type { Observation } from '../../engine/observation.ts';
import { planPartitions } from '../../engine/plan.ts';
import { blocksController, unhealthyBelow, unhealthyStartMessage } from '../../engine/start-health.ts';
import type { RunScope } from '../run.ts';
import { diagnosePods } from '../stages/stuck.ts';

/** Throws (nothing changed yet) when pods below the first partition are not Ready, unless allowed. */
export async function checkStartHealth(
  scope: RunScope,
  observation: Observation,
  replicas: number,
): Promise<void> {
  const { deps, settings } = scope;
  const first = planPartitions(settings.steps, replicas)[0];
  if (first === undefined) return;
  const pods = unhealthyBelow(observation, first);
  if (pods.length === 0) return;
  const sts = observation.statefulSet;
  const ref = { namespace: sts.namespace, name: sts.name };
  const names = pods.map((p) => p.name);
  const diagnoses = (await diagnosePods(deps, ref, names, observation)) ?? [];
  const now = deps.clock.now();
  const message = unhealthyStartMessage(
    observation,
    pods,
    first,
    diagnoses.map((d) => diagnosisLine(d, now)),
  );
  if (!blocksController(observation)) {
    deps.log.warning(`${message}.`);
    return;
  }
  if (settings.allowUnhealthyStart) {
    deps.log.warning(`${message}. Going on, as allow-unhealthy-start is true.`);
    return;
  }
  throw new Error(
    `${message}. Nothing was changed. Fix them first, or set allow-unhealthy-start: true to roll out a change meant to heal them.`,
  );
}
