// The StatefulSets the real-node tests roll out with the bundled action: the test app
// (test/cluster/node/app) on the real nodes (their label and taint), with a real readiness
// probe, its behaviour chosen by env, and optionally a claim on a local PersistentVolume of the
// node it runs on. Also those volumes: static local PVs, as a database team provisions them.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { CoreV1Api, StorageV1Api, V1Container, V1StatefulSet } from '@kubernetes/client-node';
import { realNodeLabel, realNodeTaint } from '../cluster/node/node-config.ts';

export const appImage = (tag: string): string => `statefulset-canary.local/app:${tag}`;

export interface RealAppOptions {
  /** Default `db`. */
  readonly name?: string;
  /** Default 3. */
  readonly replicas?: number;
  /** The app image's tag: v1, v2 and v3 are built here; any other tag is not in the runtime. */
  readonly tag: string;
  /** The app's behaviour (test/cluster/node/app/main.go); VERSION defaults to the tag. */
  readonly env?: Readonly<Record<string, string>>;
  readonly minReadySeconds?: number;
  /** Default 5. */
  readonly terminationGracePeriodSeconds?: number;
  /** A preStop exec hook (the image holds only /app: e.g. ['/app', 'sleep', '5s']). */
  readonly preStop?: readonly string[];
  /** A claim template `data` of this StorageClass, mounted at /data (DATA_DIR). */
  readonly storageClass?: string;
  /**
   * A directory of this machine that every pod shares (hostPath, DirectoryOrCreate), mounted at
   * /roles (ROLE_DIR): where the app's `role`, `lag` and `switchover` keep the database's roles.
   */
  readonly roleDir?: string;
}

/** The test app as a user's StatefulSet: no updateStrategy, readiness on GET /ready. */
export function realApp(o: RealAppOptions): V1StatefulSet {
  const name = o.name ?? 'db';
  const labels = { app: name };
  const env = {
    VERSION: o.tag,
    ...(o.storageClass ? { DATA_DIR: '/data' } : {}),
    ...(o.roleDir ? { ROLE_DIR: '/roles' } : {}),
    ...o.env,
  };
  const volumeMounts = [
    ...(o.storageClass ? [{ name: 'data', mountPath: '/data' }] : []),
    ...(o.roleDir ? [{ name: 'roles', mountPath: '/roles' }] : []),
  ];
  const container: V1Container = {
    name: 'app',
    image: appImage(o.tag),
    imagePullPolicy: 'IfNotPresent',
    env: Object.entries(env).map(([key, value]) => ({ name: key, value })),
    ports: [{ name: 'http', containerPort: 8080 }],
    readinessProbe: { httpGet: { path: '/ready', port: 'http' }, periodSeconds: 1, failureThreshold: 1 },
    ...(o.preStop ? { lifecycle: { preStop: { exec: { command: [...o.preStop] } } } } : {}),
    ...(volumeMounts.length > 0 ? { volumeMounts } : {}),
  };
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name },
    spec: {
      replicas: o.replicas ?? 3,
      serviceName: name,
      ...(o.minReadySeconds === undefined ? {} : { minReadySeconds: o.minReadySeconds }),
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          terminationGracePeriodSeconds: o.terminationGracePeriodSeconds ?? 5,
          nodeSelector: { [realNodeLabel.key]: realNodeLabel.value },
          tolerations: [{ key: realNodeTaint.key, operator: 'Exists', effect: 'NoSchedule' }],
          containers: [container],
          ...(o.roleDir
            ? { volumes: [{ name: 'roles', hostPath: { path: o.roleDir, type: 'DirectoryOrCreate' } }] }
            : {}),
        },
      },
      ...(o.storageClass
        ? {
            volumeClaimTemplates: [
              {
                metadata: { name: 'data' },
                spec: {
                  accessModes: ['ReadWriteOnce'],
                  storageClassName: o.storageClass,
                  resources: { requests: { storage: '1Gi' } },
                },
              },
            ],
          }
        : {}),
    },
  };
}

/**
 * StorageClass `className` with no provisioner, bound when a pod is scheduled, and `perNode` local
 * PersistentVolumes of it on each real node under `root/<node>/<i>` (the directories made here).
 */
export async function localVolumes(
  core: CoreV1Api,
  storage: StorageV1Api,
  o: { className: string; root: string; perNode: number },
): Promise<void> {
  await storage.createStorageClass({
    body: {
      metadata: { name: o.className },
      provisioner: 'kubernetes.io/no-provisioner',
      volumeBindingMode: 'WaitForFirstConsumer',
      reclaimPolicy: 'Retain',
    },
  });
  const nodes = await core.listNode({ labelSelector: `${realNodeLabel.key}=${realNodeLabel.value}` });
  for (const node of nodes.items) {
    const hostname = node.metadata?.labels?.['kubernetes.io/hostname'] ?? '';
    for (let i = 0; i < o.perNode; i++) {
      const path = join(o.root, hostname, String(i));
      mkdirSync(path, { recursive: true });
      await core.createPersistentVolume({
        body: {
          metadata: { name: `${o.className}-${hostname}-${i}` },
          spec: {
            capacity: { storage: '1Gi' },
            accessModes: ['ReadWriteOnce'],
            persistentVolumeReclaimPolicy: 'Retain',
            storageClassName: o.className,
            local: { path },
            nodeAffinity: {
              required: {
                nodeSelectorTerms: [
                  {
                    matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [hostname] }],
                  },
                ],
              },
            },
          },
        },
      });
    }
  }
}

/** Deletes what localVolumes made (the directories stay for cluster:down). */
export async function deleteLocalVolumes(core: CoreV1Api, storage: StorageV1Api, className: string) {
  const pvs = await core.listPersistentVolume();
  for (const pv of pvs.items) {
    if (pv.spec?.storageClassName === className)
      await core.deletePersistentVolume({ name: pv.metadata?.name ?? '' });
  }
  await storage.deleteStorageClass({ name: className });
}
