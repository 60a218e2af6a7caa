// What the engine sees of the cluster: plain data translated from Kubernetes objects
// by src/adapters/kubernetes. Times are milliseconds since the epoch.

export interface ContainerObservation {
  readonly name: string;
  readonly image: string;
  readonly ready: boolean;
  readonly restartCount: number;
  /** `state.waiting.reason`, e.g. CrashLoopBackOff. */
  readonly waitingReason: string | undefined;
  readonly waitingMessage: string | undefined;
  /** `lastState.terminated`: why the previous instance ended. */
  readonly lastTerminationReason: string | undefined;
  readonly lastTerminationMessage: string | undefined;
}

export interface PodObservation {
  readonly name: string;
  /** The number in the pod's name, as users see it (`db-14` -> 14). */
  readonly ordinal: number;
  /**
   * `ordinal - spec.ordinals.start`: what the controller compares with the partition (a pod is
   * updated when its index >= partition). Equal to the ordinal unless the StatefulSet sets
   * `spec.ordinals.start`. Compute with it; name pods to users by their ordinal.
   */
  readonly index: number;
  readonly uid: string;
  /** The `controller-revision-hash` label. */
  readonly revision: string;
  /** Every label (a role label such as `spilo-role` moves with a switchover); absent in some doubles. */
  readonly labels?: Readonly<Record<string, string>>;
  readonly phase: string;
  /** Condition Ready is True. */
  readonly ready: boolean;
  /** `lastTransitionTime` of the Ready condition when it is True. */
  readonly readySince: number | undefined;
  readonly deleting: boolean;
  readonly containers: readonly ContainerObservation[];
}

export interface StatefulSetObservation {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly resourceVersion: string;
  readonly generation: number;
  readonly observedGeneration: number;
  readonly replicas: number;
  /** `spec.ordinals.start` (0 when unset): the pods are ordinals start .. start+replicas-1. */
  readonly ordinalsStart: number;
  /**
   * `spec.updateStrategy.rollingUpdate.maxUnavailable` as the API server kept it (a count or a
   * percentage; absent: 1, and always absent when the MaxUnavailableStatefulSet feature is off).
   */
  readonly maxUnavailable?: number | string | undefined;
  /** `spec.updateStrategy.rollingUpdate.partition` (0 when unset). */
  readonly partition: number;
  /** The field manager that last wrote the partition (from managedFields), to name who changed it. */
  readonly partitionManager?: string | undefined;
  /**
   * Field managers that own the partition and will set it again on their next sync (server-side
   * appliers, GitOps controllers, Helm, kubectl apply when its last-applied sets it), for ownership
   * conflicts. A manager that only created the object is not one: its ownership is taken over.
   */
  readonly partitionOwners?: readonly string[];
  readonly updateStrategy: string;
  readonly podManagementPolicy: string;
  readonly minReadySeconds: number;
  readonly currentRevision: string;
  readonly updateRevision: string;
  readonly readyReplicas: number;
  readonly updatedReplicas: number;
  readonly availableReplicas: number;
  readonly annotations: Readonly<Record<string, string>>;
  /** Images of the pod template, by container name. */
  readonly images: Readonly<Record<string, string>>;
  /** `spec.template` as the API server returned it (defaulted), for equality checks only. */
  readonly template: unknown;
}

export interface Observation {
  readonly statefulSet: StatefulSetObservation;
  /** Pods owned by the StatefulSet, by ordinal (and so index) ascending. */
  readonly pods: readonly PodObservation[];
}

/** One ControllerRevision of a StatefulSet, as `kubectl rollout history` shows it. */
export interface RevisionInfo {
  readonly name: string;
  /** The hash part of `<statefulset>-<hash>`, for display; pods carry the full name in `controller-revision-hash`. */
  readonly hash: string;
  readonly number: number;
  readonly changeCause: string | undefined;
  readonly images: Readonly<Record<string, string>>;
  /** Why a rollout of this revision failed its canary (this action's mark), if it did. */
  readonly failed?: string | undefined;
}
