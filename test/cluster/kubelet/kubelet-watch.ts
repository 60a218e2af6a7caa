// The kubelet stand-in's view of all pods: list, then watch from the list's
// resourceVersion; resume an idle-ended watch from the last event, and
// re-list (reconciling what is tracked) on 410 Gone or any other failure.

import { setTimeout as sleep } from 'node:timers/promises';
import type { CoreV1Api, KubeConfig, V1Pod } from '@kubernetes/client-node';
import { Watch } from '@kubernetes/client-node';
import { call, log } from './kubelet-api.ts';

export interface PodSink {
  handle(pod: V1Pod): void;
  forget(uid: string): void;
  /** Uids the sink holds state for, so a re-list can forget pods deleted while not watching. */
  known(): Iterable<string>;
}

let abortWatch: AbortController | undefined;

export function stopWatching(): void {
  abortWatch?.abort();
}

/** Lists all pods, reconciles what is tracked, returns the list's resourceVersion. */
async function relist(core: CoreV1Api, sink: PodSink): Promise<string> {
  for (;;) {
    const list = await call('list pods', () => core.listPodForAllNamespaces());
    if (typeof list === 'object') {
      const seen = new Set(list.items.map((p) => p.metadata?.uid));
      for (const uid of [...sink.known()]) if (!seen.has(uid)) sink.forget(uid);
      for (const pod of list.items) sink.handle(pod);
      return list.metadata?.resourceVersion ?? '';
    }
    await sleep(1000);
  }
}

/** Watches from `rv` until the watch ends; resolves with the resourceVersion to resume from, or undefined to re-list. */
function watchFrom(
  kc: KubeConfig,
  sink: PodSink,
  rv: string,
  onOpen: () => void,
): Promise<string | undefined> {
  let last: string | undefined = rv;
  let ended = false;
  return new Promise((resolveWatch) => {
    const onEvent = (type: string, obj: V1Pod & { code?: number }): void => {
      if (type === 'ERROR') {
        log(`watch error ${obj.code ?? ''}: re-listing`);
        last = undefined; // 410 Gone: our resourceVersion is too old.
        abortWatch?.abort();
        return;
      }
      if (last !== undefined) last = obj.metadata?.resourceVersion ?? last;
      if (type === 'DELETED') sink.forget(obj.metadata?.uid ?? '');
      else if (type !== 'BOOKMARK') sink.handle(obj);
    };
    const onDone = (err: unknown): void => {
      // The client ends an idle watch after 30 s: resume from where it was.
      ended = true;
      if (err && !(err instanceof DOMException && err.name === 'TimeoutError')) last = undefined;
      resolveWatch(last);
    };
    new Watch(kc)
      .watch('/api/v1/pods', { resourceVersion: rv, allowWatchBookmarks: true }, onEvent, onDone)
      .then((controller) => {
        abortWatch = controller;
        if (!ended) onOpen();
      })
      .catch((error: unknown) => {
        log(`watch failed to start: ${String(error)}`);
        resolveWatch(undefined);
      });
  });
}

/** Runs forever; `onFirstWatch` is called once, when the first watch is open. */
export async function watchAllPods(
  kc: KubeConfig,
  core: CoreV1Api,
  sink: PodSink,
  onFirstWatch: () => void,
): Promise<void> {
  let rv: string | undefined;
  let announced = false;
  for (;;) {
    rv ??= await relist(core, sink);
    rv = await watchFrom(kc, sink, rv, () => {
      if (!announced) onFirstWatch();
      announced = true;
    });
    if (rv === undefined) await sleep(200);
  }
}
