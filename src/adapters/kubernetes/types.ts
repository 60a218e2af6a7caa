// The fields of Kubernetes objects this adapter reads, as they arrive in JSON (times are
// RFC 3339 strings, as in watch events). Everything is optional because the server omits
// zero values.

/** One entry of metadata.managedFields: who owns which fields, by which operation. */
export interface RawManagedFields {
  readonly manager?: string;
  readonly operation?: 'Apply' | 'Update';
  readonly apiVersion?: string;
  readonly time?: string;
  readonly fieldsType?: string;
  readonly fieldsV1?: Record<string, unknown>;
  readonly subresource?: string;
}

export interface RawMeta {
  readonly name?: string;
  readonly namespace?: string;
  readonly uid?: string;
  readonly resourceVersion?: string;
  readonly generation?: number;
  readonly deletionTimestamp?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly managedFields?: readonly RawManagedFields[];
  readonly ownerReferences?: readonly {
    readonly uid?: string;
    readonly kind?: string;
    readonly name?: string;
    readonly controller?: boolean;
  }[];
}

export interface RawContainer {
  readonly name?: string;
  readonly image?: string;
}

export interface RawPodTemplate {
  readonly metadata?: RawMeta;
  readonly spec?: {
    readonly containers?: readonly RawContainer[];
    readonly initContainers?: readonly RawContainer[];
  };
}

export interface RawLabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly {
    readonly key: string;
    readonly operator: string;
    readonly values?: readonly string[];
  }[];
}

export interface RawStatefulSet {
  readonly metadata?: RawMeta;
  readonly spec?: {
    readonly replicas?: number;
    readonly selector?: RawLabelSelector;
    readonly template?: RawPodTemplate;
    readonly podManagementPolicy?: string;
    readonly minReadySeconds?: number;
    readonly ordinals?: { readonly start?: number };
    readonly updateStrategy?: {
      readonly type?: string;
      readonly rollingUpdate?: { readonly partition?: number; readonly maxUnavailable?: number | string };
    };
  };
  readonly status?: {
    readonly observedGeneration?: number;
    readonly currentRevision?: string;
    readonly updateRevision?: string;
    readonly readyReplicas?: number;
    readonly updatedReplicas?: number;
    readonly availableReplicas?: number;
  };
}

interface RawContainerState {
  readonly waiting?: { readonly reason?: string; readonly message?: string };
  readonly terminated?: { readonly reason?: string; readonly message?: string; readonly exitCode?: number };
  readonly running?: { readonly startedAt?: string };
}

export interface RawContainerStatus {
  readonly name?: string;
  readonly ready?: boolean;
  readonly restartCount?: number;
  readonly state?: RawContainerState;
  readonly lastState?: RawContainerState;
}

export interface RawPod {
  readonly metadata?: RawMeta;
  readonly spec?: {
    readonly containers?: readonly RawContainer[];
    readonly initContainers?: readonly RawContainer[];
  };
  readonly status?: {
    readonly phase?: string;
    readonly conditions?: readonly {
      readonly type?: string;
      readonly status?: string;
      readonly lastTransitionTime?: string;
    }[];
    readonly containerStatuses?: readonly RawContainerStatus[];
    readonly initContainerStatuses?: readonly RawContainerStatus[];
  };
}

export interface RawControllerRevision {
  readonly metadata?: RawMeta;
  readonly revision?: number;
  /** For StatefulSets: a strategic-merge patch `{ spec: { template: { ..., $patch: replace } } }`. */
  readonly data?: { readonly spec?: { readonly template?: RawPodTemplate & { readonly $patch?: string } } };
}

export interface RawList<T> {
  readonly metadata?: { readonly resourceVersion?: string };
  readonly items?: readonly T[];
}
