// One resource's watch requests, one after another: each resumes from the last resourceVersion
// seen, and 410 Gone re-lists (statefulset.ts says why client-node's Watch and not its informer).
import { Watch } from '@kubernetes/client-node';
import type { Clock } from '../../../ports/clock.ts';
import type { Api } from '../http.ts';
import type { RawMeta } from '../types.ts';
import type { Resource } from './resources.ts';

export interface WatchStats {
  /** Watch requests opened (both resources). */
  connects: number;
  /** Re-lists after 410 Gone. */
  relists: number;
}

type StreamEnd = 'ended' | 'gone' | 'aborted';

// client-node gives up on a watch after 30 s without data; bookmarks arrive about once a
// minute, so that would cut every quiet watch. Dead connections still end by socket errors.
const idleTimeoutMs = 100_000;

interface FollowOptions {
  readonly api: Api;
  readonly resource: Resource;
  /** Called after every event applied to the view, and after a re-list. */
  readonly onEvent: () => void;
  readonly signal: AbortSignal;
  readonly stats: WatchStats;
  readonly clock: Clock;
}

/** Watches one resource until `signal` aborts, resuming after every end and re-listing after 410. */
export async function follow(options: FollowOptions): Promise<void> {
  const { api, resource, onEvent, signal, stats, clock } = options;
  while (!signal.aborted) {
    const started = clock.now();
    const end = await api.retrier.run(resource.operation, () => streamOnce(options), signal);
    if (end === 'aborted' || signal.aborted) return;
    if (end === 'gone') {
      stats.relists++;
      resource.resourceVersion = await resource.relist();
      onEvent();
    } else if (clock.now() - started < 1_000) {
      // A stream that ends as soon as it starts (a flapping proxy) must not become a busy loop.
      await clock.sleep(200 + Math.random() * 800, signal);
    }
  }
}

function watchQuery(resource: Resource): Record<string, string | number | boolean> {
  return {
    ...resource.selector,
    resourceVersion: resource.resourceVersion,
    allowWatchBookmarks: true,
    // Spread reconnects out, as client-go does, so many watchers do not end together.
    timeoutSeconds: 240 + Math.floor(Math.random() * 60),
  };
}

/**
 * One watch request. Resolves when the stream ends (cleanly, by a dropped connection, or with
 * 410 Gone); rejects only when it could not be opened, so the retry policy handles that case.
 */
function streamOnce(options: FollowOptions): Promise<StreamEnd> {
  const { api, resource, onEvent, signal, stats } = options;
  const watcher = new Watch(api.kubeConfig);
  Object.assign(watcher, { requestTimeoutMs: idleTimeoutMs });
  stats.connects++;
  api.countRequest();
  return new Promise((resolve, reject) => {
    let opened = false;
    let gone = false;
    let controller: AbortController | undefined;
    // Resolve at once on abort, also while the watch is still opening: a proxy in front of the
    // API server may hold the response headers until the first event (a bookmark, a minute
    // later), and the caller must not wait for that. The open is aborted when it completes.
    const onAbort = (): void => {
      controller?.abort();
      resolve('aborted');
    };
    if (signal.aborted) {
      resolve('aborted');
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    const done = (error: unknown): void => {
      signal.removeEventListener('abort', onAbort);
      if (signal.aborted) resolve('aborted');
      else if (gone || (error as { statusCode?: unknown } | null)?.statusCode === 410) resolve('gone');
      else if (error && !opened) reject(error);
      else resolve('ended');
    };
    const onLine = (type: string, object: unknown): void => {
      opened = true;
      if (type === 'ERROR') {
        gone = (object as { code?: unknown } | null)?.code === 410;
        controller?.abort();
        return;
      }
      const rv = (object as { metadata?: RawMeta } | null)?.metadata?.resourceVersion;
      if (rv) resource.resourceVersion = rv;
      if (type === 'BOOKMARK') return;
      resource.apply(type, object);
      onEvent();
    };
    watcher.watch(resource.path, watchQuery(resource), onLine, done).then(
      (c) => {
        controller = c;
        opened = true;
        if (signal.aborted) c.abort();
      },
      (error: unknown) => done(error),
    );
  });
}
