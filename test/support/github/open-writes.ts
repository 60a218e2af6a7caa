// How many writes the fake GitHub had open at once: each write's path and the real time it was
// open, from its arrival until its answer ended.

export interface OpenWrite {
  readonly path: string;
  readonly from: number;
  to: number;
}

/** The most writes whose path matches `path` that were open at the same time. */
export function peakOpen(writes: readonly OpenWrite[], path: RegExp): number {
  const edges = writes
    .filter((w) => path.test(w.path))
    .flatMap(
      (w): Array<[number, number]> => [
        [w.from, 1],
        [w.to, -1],
      ],
    )
    // An answer that ends as another write arrives was not open with it.
    .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let open = 0;
  let peak = 0;
  for (const [, step] of edges) {
    open += step;
    peak = Math.max(peak, open);
  }
  return peak;
}
