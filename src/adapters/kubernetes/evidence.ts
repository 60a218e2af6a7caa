// Reads what the cluster says about stuck pods: the pod (conditions, container states), its
// Warning events, its PersistentVolumeClaims with their Warning events, and whether their
// StorageClasses exist. Called only while a stage has a stuck pod. What RBAC does not allow is
// named in the evidence, never thrown: a diagnosis must not stop a rollout. For a failed stage,
// also the last lines of a crashed container's log (readCrashLog).
import { CRASH_LOG, type CrashLogRead, type CrashLogTarget, maskSecrets } from '../../engine/crash-log.ts';
import type { ClaimEvidence, ContainerEvidence, EventEvidence, PodEvidence } from '../../engine/diagnosis.ts';
import { KubeError, statusMessage } from './errors.ts';
import type { Api } from './http.ts';
import { podsPath } from './paths.ts';

const enc = encodeURIComponent;

interface RawState {
  readonly waiting?: { readonly reason?: string; readonly message?: string };
  readonly terminated?: { readonly reason?: string; readonly exitCode?: number; readonly message?: string };
}

interface RawFullPod {
  readonly metadata?: { readonly creationTimestamp?: string; readonly deletionTimestamp?: string };
  readonly spec?: {
    readonly volumes?: readonly { readonly persistentVolumeClaim?: { readonly claimName?: string } }[];
  };
  readonly status?: {
    readonly phase?: string;
    readonly conditions?: readonly {
      readonly type?: string;
      readonly status?: string;
      readonly reason?: string;
      readonly message?: string;
      readonly lastTransitionTime?: string;
    }[];
    readonly containerStatuses?: readonly {
      readonly name?: string;
      readonly ready?: boolean;
      readonly restartCount?: number;
      readonly state?: RawState;
      readonly lastState?: RawState;
    }[];
  };
}

interface RawEvent {
  readonly metadata?: { readonly creationTimestamp?: string };
  readonly reason?: string;
  readonly message?: string;
  readonly count?: number;
  readonly lastTimestamp?: string;
  readonly eventTime?: string;
  readonly series?: { readonly count?: number; readonly lastObservedTime?: string };
}

interface RawClaim {
  readonly spec?: { readonly storageClassName?: string };
  readonly status?: { readonly phase?: string };
}

const time = (value: string | undefined): number | undefined => {
  const ms = value ? Date.parse(value) : Number.NaN;
  return Number.isNaN(ms) ? undefined : ms;
};

/** What we could not read and why, for the diagnosis line. */
function unreadableText(what: string, error: unknown): string {
  if (error instanceof KubeError)
    return `${what} (${error.status === 403 ? 'forbidden' : error.reason || error.status})`;
  return `${what} (${error instanceof Error ? error.message : String(error)})`;
}

async function getOrUndefined<T>(
  api: Api,
  kind: string,
  namespace: string | undefined,
  path: string,
): Promise<T | undefined> {
  try {
    return await api.request<T>({ verb: 'get', kind, namespace }, { method: 'GET', path });
  } catch (error) {
    if (error instanceof KubeError && error.status === 404) return undefined;
    throw error;
  }
}

async function warningEvents(
  api: Api,
  namespace: string,
  kind: string,
  name: string,
): Promise<EventEvidence[]> {
  const list = await api.request<{ items?: RawEvent[] }>(
    { verb: 'list', kind: 'events', namespace },
    {
      method: 'GET',
      path: `/api/v1/namespaces/${enc(namespace)}/events`,
      // A claim's binder events are Normal (FailedBinding, ExternalProvisioning): all of them.
      query: {
        fieldSelector: `involvedObject.kind=${kind},involvedObject.name=${name}${kind === 'Pod' ? ',type=Warning' : ''}`,
      },
    },
  );
  return (list.items ?? []).map((e) => ({
    reason: e.reason ?? '',
    message: e.message ?? '',
    count: e.series?.count ?? e.count ?? 1,
    lastSeen: time(
      e.series?.lastObservedTime ?? e.lastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp,
    ),
  }));
}

function containersOf(pod: RawFullPod): ContainerEvidence[] {
  return (pod.status?.containerStatuses ?? []).map((c) => {
    const last = c.lastState?.terminated;
    const now = c.state?.terminated;
    return {
      name: c.name ?? '',
      ready: c.ready === true,
      waitingReason: c.state?.waiting?.reason,
      waitingMessage: c.state?.waiting?.message,
      lastTermination: last
        ? { reason: last.reason, exitCode: last.exitCode ?? 0, message: last.message }
        : undefined,
      restartCount: c.restartCount ?? 0,
      terminated: now ? { reason: now.reason, exitCode: now.exitCode ?? 0 } : undefined,
    };
  });
}

interface Reader {
  readonly api: Api;
  readonly namespace: string;
  readonly unreadable: Set<string>;
  readonly classes: Map<string, Promise<boolean | undefined>>;
}

/** Runs a read; on failure records what could not be read and returns `fallback`. */
async function tryRead<T>(reader: Reader, what: string, read: () => Promise<T>, fallback: T): Promise<T> {
  try {
    return await read();
  } catch (error) {
    reader.unreadable.add(unreadableText(what, error));
    return fallback;
  }
}

function classExists(reader: Reader, name: string): Promise<boolean | undefined> {
  let found = reader.classes.get(name);
  if (!found) {
    const path = `/apis/storage.k8s.io/v1/storageclasses/${enc(name)}`;
    const read = async () =>
      (await getOrUndefined<object>(reader.api, 'StorageClass', undefined, path)) !== undefined;
    found = tryRead<boolean | undefined>(reader, 'storageclasses', read, undefined);
    reader.classes.set(name, found);
  }
  return found;
}

/** Whether PersistentVolumes of a class exist (static provisioning); undefined when not readable. */
function volumesOfClass(reader: Reader, name: string): Promise<boolean | undefined> {
  const read = async () => {
    const list = await reader.api.request<{ items?: { spec?: { storageClassName?: string } }[] }>(
      { verb: 'list', kind: 'persistentvolumes' },
      { method: 'GET', path: '/api/v1/persistentvolumes' },
    );
    return (list.items ?? []).some((pv) => pv.spec?.storageClassName === name);
  };
  return tryRead<boolean | undefined>(reader, 'persistentvolumes', read, undefined);
}

async function claimEvidence(reader: Reader, name: string): Promise<ClaimEvidence> {
  const { api, namespace } = reader;
  const path = `/api/v1/namespaces/${enc(namespace)}/persistentvolumeclaims/${enc(name)}`;
  const read = () => getOrUndefined<RawClaim>(api, 'PersistentVolumeClaim', namespace, path);
  const claim = await tryRead<RawClaim | undefined>(reader, 'persistentvolumeclaims', read, undefined);
  const storageClass = claim?.spec?.storageClassName || undefined;
  const phase = claim?.status?.phase ?? (claim ? 'Pending' : undefined);
  const events =
    phase === 'Pending'
      ? await tryRead(
          reader,
          'events',
          () => warningEvents(api, namespace, 'PersistentVolumeClaim', name),
          [],
        )
      : [];
  const storageClassExists =
    storageClass && phase === 'Pending' ? await classExists(reader, storageClass) : undefined;
  const staticVolumes =
    storageClass && storageClassExists === false ? await volumesOfClass(reader, storageClass) : undefined;
  return { name, phase, storageClass, storageClassExists, staticVolumes, events };
}

/** A pod that could not be read: phase '' says so. */
function unknownPod(pod: string): PodEvidence {
  const none = { conditions: [], containers: [], events: [], claims: [], unreadable: [] };
  return { pod, phase: '', createdAt: undefined, deleting: false, ...none };
}

/** The evidence about each named pod that still exists (phase '' when the pod could not be read). */
export async function gatherEvidence(
  api: Api,
  namespace: string,
  pods: readonly string[],
): Promise<PodEvidence[]> {
  const classes = new Map<string, Promise<boolean | undefined>>();
  const found: PodEvidence[] = [];
  for (const name of pods) {
    const reader: Reader = { api, namespace, unreadable: new Set(), classes };
    const path = `${podsPath(namespace)}/${enc(name)}`;
    let pod: RawFullPod | undefined;
    try {
      pod = await getOrUndefined<RawFullPod>(api, 'Pod', namespace, path);
    } catch (error) {
      // Say what could not be read; the caller fills in what its own observation knows.
      found.push({ ...unknownPod(name), unreadable: [unreadableText('pods', error)] });
      continue;
    }
    if (!pod) continue;
    const events = await tryRead(reader, 'events', () => warningEvents(api, namespace, 'Pod', name), []);
    const claimNames = (pod.spec?.volumes ?? []).flatMap((v) => v.persistentVolumeClaim?.claimName ?? []);
    const claims: ClaimEvidence[] = [];
    for (const claim of claimNames) claims.push(await claimEvidence(reader, claim));
    found.push({
      pod: name,
      phase: pod.status?.phase ?? 'Pending',
      createdAt: time(pod.metadata?.creationTimestamp),
      deleting: pod.metadata?.deletionTimestamp !== undefined,
      conditions: (pod.status?.conditions ?? []).map((c) => ({
        type: c.type ?? '',
        status: c.status ?? '',
        reason: c.reason,
        message: c.message,
        since: time(c.lastTransitionTime),
      })),
      containers: containersOf(pod),
      events,
      claims,
      unreadable: [...reader.unreadable],
    });
  }
  return found;
}

/** How long one log read may take (the API server asks the node's kubelet, which may not answer). */
const LOG_TIMEOUT_MS = 10_000;

/**
 * The last lines of a container's log (`GET .../pods/{pod}/log?container=&previous=&tailLines=
 * &limitBytes=`, bounded by CRASH_LOG), with `secrets` masked before the text goes anywhere.
 * One request, no retries: a crash log is a diagnosis, so a failure is said, never thrown. RBAC:
 * `get` on `pods/log`; a 403 says so, a 400 "previous terminated container ... not found" is
 * no log.
 */
export async function readCrashLog(
  api: Api,
  namespace: string,
  target: CrashLogTarget,
  secrets: readonly string[],
): Promise<CrashLogRead> {
  const query = new URLSearchParams({
    container: target.container,
    previous: String(target.previous),
    tailLines: String(CRASH_LOG.TAIL_LINES),
    limitBytes: String(CRASH_LOG.LIMIT_BYTES),
  });
  const path = `${podsPath(namespace)}/${enc(target.pod)}/log?${query}`;
  let answer: { status: number; body: string };
  try {
    answer = await api.raw(
      { method: 'GET', path, headers: { Accept: 'text/plain, */*' }, maxBytes: CRASH_LOG.LIMIT_BYTES },
      AbortSignal.timeout(LOG_TIMEOUT_MS),
    );
  } catch (error) {
    const reason =
      error instanceof Error && error.name === 'TimeoutError' ? 'no answer in 10 s' : 'no answer';
    return { kind: 'error', reason };
  }
  if (answer.status >= 200 && answer.status < 300)
    return { kind: 'text', text: maskSecrets(answer.body, secrets) };
  if (answer.status === 403) return { kind: 'forbidden' };
  const message = maskSecrets(statusMessage(answer.body), secrets);
  if (answer.status === 400 && /previous terminated container .* not found/i.test(message))
    return { kind: 'none' };
  return { kind: 'error', reason: `${answer.status}: ${message}` };
}
