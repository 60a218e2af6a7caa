// The StatefulSet and its pods as the watches last saw them, and the observation the runner gets
// from it.
import type { Observation, PodObservation } from '../../../engine/observation.ts';
import type { StatefulSetRef } from '../../../ports/cluster.ts';
import { isOwnedBy, toPodObservation, toStatefulSetObservation } from '../translate.ts';
import type { RawPod, RawStatefulSet } from '../types.ts';

/** The StatefulSet and its pods as the watches last saw them. */
export interface View {
  statefulSet: RawStatefulSet | undefined;
  /** Keeps a pod the StatefulSet owns, translated; forgets one it does not (any more). */
  keep(raw: RawPod): void;
  forget(podName: string): void;
  forgetAll(): void;
  observation(): Observation | undefined;
}

export function createView(ref: StatefulSetRef): View {
  // Pods are kept translated: each pod event costs one translation, not one per pod per
  // event, and the raw objects (managedFields and all) are not retained.
  const pods = new Map<string, PodObservation>();
  const view: View = {
    statefulSet: undefined,
    keep(raw) {
      const name = raw.metadata?.name ?? '';
      const uid = view.statefulSet?.metadata?.uid;
      const translated =
        uid !== undefined && isOwnedBy(raw, uid) ? toPodObservation(raw, ref.name) : undefined;
      if (translated) pods.set(name, translated);
      else pods.delete(name);
    },
    forget: (podName) => pods.delete(podName),
    forgetAll: () => pods.clear(),
    observation() {
      if (!view.statefulSet) return undefined;
      const statefulSet = toStatefulSetObservation(view.statefulSet);
      // Indexed here, not when kept: the start ordinal is the StatefulSet's as seen now.
      const start = statefulSet.ordinalsStart;
      const observed = [...pods.values()]
        .map((p) => (p.index === p.ordinal - start ? p : { ...p, index: p.ordinal - start }))
        .sort((a, b) => a.ordinal - b.ordinal);
      return { statefulSet, pods: observed };
    },
  };
  return view;
}
