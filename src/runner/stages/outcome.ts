// How a drive through the stages ends, what it depends on, and what it is given: shared by the
// driver and the guards it runs around each stage.
import type { StagedSpec, StageFailure } from '../../engine/decide.ts';
import type { Observation } from '../../engine/observation.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Cluster, StatefulSetRef } from '../../ports/cluster.ts';
import type { HttpClient } from '../../ports/http.ts';
import type { Log } from '../../ports/log.ts';
import type { StageAnalysisSpec } from './analysis.ts';
import type { GuardSpec } from './guards.ts';
import type { StageHooks } from './hooks.ts';

export type StagesOutcome =
  | { readonly kind: 'complete'; readonly observation: Observation }
  | { readonly kind: 'failed'; readonly failure: StageFailure; readonly observation: Observation }
  | { readonly kind: 'cancelled'; readonly stage: number }
  /**
   * Stopped after `stage` passed, as asked (pause-after), or before the next stage for `reason`
   * (it would restart the primary and nothing can move the role).
   */
  | {
      readonly kind: 'paused';
      readonly stage: number;
      readonly observation: Observation;
      readonly reason?: string;
    };

export interface StageDeps {
  readonly cluster: Cluster;
  readonly clock: Clock;
  readonly log: Log;
  /** For analysis checks that reach a URL or Prometheus. */
  readonly http?: HttpClient;
}

export interface Drive {
  readonly ref: StatefulSetRef;
  readonly spec: StagedSpec;
  readonly hooks: StageHooks;
  readonly signal: AbortSignal;
  readonly analysis: StageAnalysisSpec | undefined;
  readonly guards: GuardSpec | undefined;
}
