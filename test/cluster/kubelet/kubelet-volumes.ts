// What the kubelet stand-in does about volumes and probes on the cluster with a scheduler
// (issue 13): a provisioner for StorageClass `local` (one PersistentVolume per claim, as
// external provisioners do), a hostPath volume of type Directory whose path is missing (the pod
// stays in ContainerCreating with the kubelet's FailedMount Warning events), and Unhealthy
// Warning events for a readiness probe that fails.
import { statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type CoreV1Api,
  type KubeConfig,
  type StorageV1Api,
  type V1PersistentVolumeClaim,
  type V1Pod,
  Watch,
} from '@kubernetes/client-node';
import { call, log, mergePatch as mergePatchOptions } from './kubelet-api.ts';

export const localStorageClass = 'local';
export const localProvisioner = 'statefulset-canary.local/hostpath';
/** How often the stand-in repeats a Warning event while its cause lasts (the kubelet's back-off is longer). */
export const warningIntervalMs = 2000;

/** StorageClass `local`, served by the provisioner below. */
export async function ensureLocalStorageClass(storage: StorageV1Api): Promise<void> {
  await call('create StorageClass local', () =>
    storage.createStorageClass({
      body: {
        metadata: { name: localStorageClass },
        provisioner: localProvisioner,
        reclaimPolicy: 'Delete',
        volumeBindingMode: 'Immediate',
      },
    }),
  );
}

/** A PersistentVolume for a claim of StorageClass `local` that has none yet. */
async function provision(core: CoreV1Api, claim: V1PersistentVolumeClaim): Promise<void> {
  const { namespace = '', name = '', uid = '' } = claim.metadata ?? {};
  const size = claim.spec?.resources?.requests?.storage ?? '1Gi';
  await call(`provision a volume for ${namespace}/${name}`, () =>
    core.createPersistentVolume({
      body: {
        metadata: {
          name: `pvc-${uid}`,
          annotations: { 'pv.kubernetes.io/provisioned-by': localProvisioner },
        },
        spec: {
          capacity: { storage: size },
          accessModes: claim.spec?.accessModes ?? ['ReadWriteOnce'],
          persistentVolumeReclaimPolicy: 'Delete',
          storageClassName: localStorageClass,
          hostPath: { path: `/tmp/statefulset-canary-volumes/${uid}` },
          claimRef: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace, name, uid },
        },
      },
    }),
  );
}

/** Watches claims in every namespace and provisions those of StorageClass `local`. Runs forever. */
export async function runProvisioner(kc: KubeConfig, core: CoreV1Api): Promise<void> {
  const done = new Set<string>();
  const onClaim = (type: string, claim: V1PersistentVolumeClaim): void => {
    const uid = claim.metadata?.uid ?? '';
    if (type === 'DELETED' || type === 'ERROR' || type === 'BOOKMARK') return;
    if (claim.spec?.storageClassName !== localStorageClass || claim.spec.volumeName || done.has(uid)) return;
    done.add(uid);
    void provision(core, claim);
  };
  for (;;) {
    await new Promise<void>((resolve) => {
      new Watch(kc)
        .watch('/api/v1/persistentvolumeclaims', {}, onClaim, () => resolve())
        .catch((error: unknown) => {
          log(`claim watch failed: ${String(error)}`);
          resolve();
        });
    });
    await sleep(200);
  }
}

/**
 * The hostPath volume of type Directory (inline, or the claim's PersistentVolume) whose path is
 * not a directory on this machine, if any: the kubelet's type check fails it before the mount.
 */
export async function failingHostPathMount(
  core: CoreV1Api,
  pod: V1Pod,
): Promise<{ volume: string; path: string } | undefined> {
  const namespace = pod.metadata?.namespace ?? '';
  for (const volume of pod.spec?.volumes ?? []) {
    let hostPath = volume.hostPath;
    let name = volume.name;
    const claimName = volume.persistentVolumeClaim?.claimName;
    if (!hostPath && claimName) {
      const claim = await call('read claim', () =>
        core.readNamespacedPersistentVolumeClaim({ name: claimName, namespace }),
      );
      const pvName = typeof claim === 'object' ? claim.spec?.volumeName : undefined;
      const pv = pvName
        ? await call('read volume', () => core.readPersistentVolume({ name: pvName }))
        : undefined;
      hostPath = typeof pv === 'object' ? pv.spec?.hostPath : undefined;
      // The kubelet names a claim's volume by its PersistentVolume.
      name = pvName ?? name;
    }
    if (hostPath?.type === 'Directory' && !isDirectory(hostPath.path))
      return { volume: name, path: hostPath.path };
  }
  return undefined;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The real kubelet's words (checked on a real node: test/integration/real-node.test.ts). */
export function failedMountMessage(mount: { volume: string; path: string }): string {
  return `MountVolume.SetUp failed for volume "${mount.volume}" : hostPath type check failed: ${mount.path} is not a directory`;
}

export const readinessFailedMessage = 'Readiness probe failed: HTTP probe failed with statuscode: 503';

/** Whether a container of the pod has an HTTP readiness probe (which the stand-in can fail). */
export function hasHttpReadinessProbe(pod: V1Pod): boolean {
  return (pod.spec?.containers ?? []).some((c) => c.readinessProbe?.httpGet !== undefined);
}

/**
 * A Warning event about a pod, aggregated as the kubelet's event recorder does: the first
 * creates the event, later ones raise its count and lastTimestamp.
 */
export class PodWarnings {
  private readonly counts = new Map<string, number>();
  private readonly core: CoreV1Api;
  private readonly node: string;

  constructor(core: CoreV1Api, node: string) {
    this.core = core;
    this.node = node;
  }

  async emit(pod: V1Pod, reason: string, message: string): Promise<void> {
    const { namespace = '', name = '', uid = '' } = pod.metadata ?? {};
    const key = `${name}.${uid.slice(0, 8)}.${reason.toLowerCase()}`;
    const count = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, count);
    const now = new Date();
    if (count > 1) {
      const patch = { count, lastTimestamp: now };
      const patched = await call(`event ${key}`, () =>
        this.core.patchNamespacedEvent({ name: key, namespace, body: patch }, mergePatchOptions),
      );
      if (patched !== 'gone') return;
    }
    await call(`event ${key}`, () =>
      this.core.createNamespacedEvent({
        namespace,
        body: {
          metadata: { name: key, namespace },
          involvedObject: { apiVersion: 'v1', kind: 'Pod', namespace, name, uid },
          reason,
          message,
          type: 'Warning',
          count,
          firstTimestamp: now,
          lastTimestamp: now,
          source: { component: 'kubelet', host: this.node },
          reportingComponent: 'kubelet',
          reportingInstance: this.node,
        },
      }),
    );
  }

  forget(uid: string): void {
    for (const key of [...this.counts.keys()])
      if (key.includes(`.${uid.slice(0, 8)}.`)) this.counts.delete(key);
  }
}
