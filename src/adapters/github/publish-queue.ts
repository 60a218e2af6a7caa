// Publishes the newest item per key until caught up: items that arrive while one is being
// published collapse into the next round, so a burst of reports costs at most two rounds of
// requests per StatefulSet, and one StatefulSet's slow requests never delay another's.

export interface PublishQueue<T> {
  /** Queues `item` under `key`; resolves once it, or a newer item of that key, is published. */
  push(key: string, item: T): Promise<void>;
  /** Resolves once the newest item of every key is published (or given up on). Never rejects. */
  drained(): Promise<void>;
}

/** One key's newest item and how far publishing has got (items are numbered as they arrive). */
interface Slot<T> {
  latest: T;
  requested: number;
  published: number;
  running: boolean;
  waiters: Array<{ readonly upTo: number; readonly resolve: () => void }>;
}

/**
 * `publish` must not throw; if it does, `onError` hears of it and the item counts as published
 * (reporting never breaks a rollout).
 */
export function createPublishQueue<T>(
  publish: (item: T) => Promise<void>,
  onError: (error: unknown) => void,
): PublishQueue<T> {
  const slots = new Map<string, Slot<T>>();

  async function drain(slot: Slot<T>): Promise<void> {
    slot.running = true;
    while (slot.published < slot.requested) {
      const upTo = slot.requested;
      try {
        await publish(slot.latest);
      } catch (error) {
        onError(error);
      }
      slot.published = upTo;
      const ready = slot.waiters.filter((w) => w.upTo <= upTo);
      slot.waiters = slot.waiters.filter((w) => w.upTo > upTo);
      for (const waiter of ready) waiter.resolve();
    }
    slot.running = false;
  }

  function published(slot: Slot<T>, upTo: number): Promise<void> {
    if (slot.published >= upTo) return Promise.resolve();
    return new Promise((resolve) => slot.waiters.push({ upTo, resolve }));
  }

  return {
    push(key, item) {
      let slot = slots.get(key);
      if (slot === undefined) {
        slot = { latest: item, requested: 0, published: 0, running: false, waiters: [] };
        slots.set(key, slot);
      }
      slot.latest = item;
      const done = published(slot, ++slot.requested);
      if (!slot.running) void drain(slot);
      return done;
    },
    async drained() {
      await Promise.all([...slots.values()].map((slot) => published(slot, slot.requested)));
    },
  };
}
