// How the stage driver waits (until a watch event, a timer or cancellation, whichever comes
// first) and what it has seen: the StatefulSet's latest observation, each pod's latest state line.
import type { StagedSpec } from '../../engine/decide.ts';
import { podStateLine } from '../../engine/health.ts';
import type { Observation, PodObservation } from '../../engine/observation.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Cluster, StatefulSetRef } from '../../ports/cluster.ts';
import type { Log } from '../../ports/log.ts';

/** Wakes the loop on a watch event, a timer or cancellation, whichever comes first. */
class Waker {
  private wake: (() => void) | undefined;
  private pending = false;

  notify(): void {
    this.pending = true;
    this.wake?.();
  }

  async until(at: number, clock: Clock, signal: AbortSignal): Promise<void> {
    if (this.pending || signal.aborted) {
      this.pending = false;
      return;
    }
    const timer = new AbortController();
    const onAbort = () => timer.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      await Promise.race([
        new Promise<void>((resolve) => {
          this.wake = resolve;
        }),
        clock.sleep(Math.max(0, at - clock.now()), timer.signal),
      ]);
    } finally {
      this.wake = undefined;
      this.pending = false;
      timer.abort();
      signal.removeEventListener('abort', onAbort);
    }
  }
}

/** The StatefulSet as its watch last saw it; every event (and the watch's end) wakes `waker`. */
export class Watched {
  readonly waker = new Waker();
  latest: Observation | undefined;
  private error: unknown;
  private readonly logged = new Map<string, string>();
  /** Each pod as it was when its line was last worked out (the view keeps an unchanged pod's object). */
  private readonly lined = new Map<string, PodObservation>();

  /** Watches until `stop` aborts; a failed watch is kept for `throwIfFailed`. */
  watch(cluster: Cluster, ref: StatefulSetRef, stop: AbortSignal): Promise<void> {
    const onChange = (observation: Observation) => {
      this.latest = observation;
      this.waker.notify();
    };
    return cluster.watch(ref, onChange, stop).catch((error: unknown) => {
      this.error = error;
      this.waker.notify();
    });
  }

  get failed(): boolean {
    return this.error !== undefined;
  }

  throwIfFailed(): void {
    if (this.error !== undefined) throw this.error;
  }

  /**
   * Logs the state line of each pod whose line changed since it was last logged. A pod the watch
   * has not changed (the same object) is skipped: one event must not cost a line per pod.
   */
  logPodChanges(
    log: Log,
    observation: Observation,
    spec: Pick<StagedSpec, 'targetRevision' | 'words'>,
  ): void {
    for (const pod of observation.pods) {
      if (this.lined.get(pod.name) === pod) continue;
      this.lined.set(pod.name, pod);
      const line = podStateLine(pod, spec.targetRevision, spec.words);
      if (this.logged.get(pod.name) !== line) {
        this.logged.set(pod.name, line);
        log.info(line);
      }
    }
  }
}
