// The plan's part about the primary: where it is now, and the switchovers (or the pause) the
// rollout's stages will make, from the live pods.
import { primaryFinder } from '../../config/primary.ts';
import type { Settings } from '../../config/settings.ts';
import type { Observation } from '../../engine/observation.ts';
import type { StatefulSetPlan } from '../../engine/plan-report.ts';
import { plannedSwitchovers } from '../../engine/primary.ts';
import { matches } from '../../engine/selector.ts';

/**
 * Where the primary is now and what the stages will do about it. Found by its selector in the
 * live pods; a primary found by exec is only found at run time (the plan runs no command).
 */
export function primaryPlan(
  settings: Settings,
  observation: Observation,
  partitions: readonly number[],
): Pick<StatefulSetPlan, 'primary'> {
  const primary = settings.primary;
  if (!primary) return {};
  const finder = primaryFinder(primary);
  const selector = primary.selector;
  if (selector === undefined)
    return { primary: { finder, pod: undefined, moves: ['found by exec when the rollout runs'] } };
  const found = observation.pods.filter((p) => matches(selector, p.labels ?? {}));
  const pod = found.length === 1 ? found[0]?.name : undefined;
  if (pod === undefined)
    return {
      primary: {
        finder,
        pod,
        moves: [
          `${found.length === 0 ? 'no pod' : `${found.length} pods`} labelled ${selector} now: the rollout would fail to find one primary`,
        ],
      },
    };
  const moves = plannedSwitchovers({
    pods: observation.pods,
    primary: pod,
    partitions,
    canSwitch: primary.switchover !== undefined,
  });
  return { primary: { finder, pod, moves } };
}
