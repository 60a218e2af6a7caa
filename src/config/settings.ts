// The typed, frozen settings of one run. Built once by src/config/inputs.ts (the action)
// or src/cli.ts (the command line); nothing else reads inputs.

import type { AnalysisCheck } from '../engine/analysis.ts';
import type { Owner } from '../engine/command-owner.ts';
import type { Hook } from '../engine/hooks.ts';
import type { Step } from '../engine/plan.ts';
import type { ClusterWave, OnFailureOthers, WaveSpec } from '../engine/waves.ts';
import type { PrimarySettings } from './primary.ts';

export type Command = 'rollout' | 'rollback' | 'status' | 'plan' | 'promote' | 'abort' | 'park' | 'comment';

/** Stages after which a rollout pauses: every one, or these stage numbers (1-based); empty: none. */
export type PauseAfter = 'each' | readonly number[];

/** What to do when a stage fails: leave the partition where it is, or go back to the previous revision. */
export type OnFailure = 'halt' | 'rollback';

/**
 * With several StatefulSets, what a failure of one does to the rest of its wave and to the
 * waves before it (src/engine/waves.ts).
 */
export type { OnFailureOthers } from '../engine/waves.ts';

export interface GitHubSettings {
  /** Token for the REST API; empty disables every GitHub report. Never logged. */
  readonly token: string;
  /** Keep one sticky comment per StatefulSet on the pull request. */
  readonly comment: boolean;
  /** Pull request to report on; wins over the one found from the event. */
  readonly pullRequest: number | undefined;
  /** Environment name for GitHub Deployments; undefined turns them off. */
  readonly deploymentEnvironment: string | undefined;
}

export interface Settings {
  /** What this run does. */
  readonly command: Command;
  /**
   * Whether this action applies the manifests (true) or a GitOps controller does (false):
   * then it waits for the template to arrive, gates and reports, and parks the partition.
   */
  readonly apply: boolean;
  /** With `apply: false`: how long to wait for the GitOps controller to sync the template, in ms. */
  readonly syncTimeoutMs: number;
  /** Manifest paths or globs, one per line in the input. */
  readonly manifests: readonly string[];
  /** Namespace override; undefined: the object's own, else the context's, else `default`. */
  readonly namespace: string | undefined;
  /** Kubeconfig content; undefined: KUBECONFIG, ~/.kube/config, in-cluster. Secret. */
  readonly kubeconfig: string | undefined;
  /** Kubeconfig context; undefined: the current context. */
  readonly context: string | undefined;
  /** Pods on the new revision after each stage of a rollout; the last is always 100%. */
  readonly steps: readonly Step[];
  /** The same for a manual rollback (default: one stage, 100%). */
  readonly rollbackSteps: readonly Step[];
  /** How long every pod of a stage must stay healthy before the next stage, in ms. */
  readonly soakMs: number;
  /** How long a stage may take to become healthy, in ms. */
  readonly stageTimeoutMs: number;
  /** How long a pod of a stage may be not Ready before the run reads and reports why, in ms. */
  readonly diagnoseAfterMs: number;
  /**
   * Go on when pods below the first stage's partition are not Ready as a rollout begins (a fix
   * meant to heal them); by default the rollout refuses before changing anything.
   */
  readonly allowUnhealthyStart: boolean;
  /** Checks measured against each stage's new pods; a failed one fails the stage (input `analysis`). */
  readonly analysis: readonly AnalysisCheck[];
  /** Calls at the points of a rollout: before it, around each stage, after it, on rollback (input `hooks`). */
  readonly hooks: readonly Hook[];
  /** How to find the primary and move it before its stage (input `primary`); undefined: no primary. */
  readonly primary: PrimarySettings | undefined;
  /** Container restarts tolerated per pod during a stage. */
  readonly maxRestarts: number;
  /** What a failed stage leads to. */
  readonly onFailure: OnFailure;
  /** Stages after which the rollout stops, result `paused`, until `promote`. */
  readonly pauseAfter: PauseAfter;
  /** What a failed StatefulSet does to the rest of its wave and to the waves before it. */
  readonly onFailureOthers: OnFailureOthers;
  /** StatefulSets of the manifests in ordered waves (input `waves`); empty: one at a time, in file order. */
  readonly waves: readonly WaveSpec[];
  /** How many StatefulSets of a wave roll out at once (input `max-parallel`). */
  readonly maxParallel: number;
  /** Kube contexts in ordered waves (input `clusters`); empty: the one context. */
  readonly clusters: readonly ClusterWave[];
  /** How long to wait after a cluster wave succeeded before the next one starts, in ms. */
  readonly clusterSoakMs: number;
  /** How long an automatic rollback may take to get every pod healthy again, in ms. */
  readonly rollbackTimeoutMs: number;
  /** Server-side apply field manager. */
  readonly fieldManager: string;
  /** StatefulSet name for `rollback` and `status`. */
  readonly statefulset: string | undefined;
  /** ControllerRevision number to roll back to; undefined: the previous revision. */
  readonly toRevision: number | undefined;
  /** Why a manual rollback is done; recorded in the change cause. */
  readonly reason: string | undefined;
  /** How long to wait for another run's lock on the StatefulSet, in ms. */
  readonly lockTimeoutMs: number;
  /**
   * `command: plan` shows env values and what admission added to the pod template as they are
   * (input `plan-show-values`, for private repositories); false: hidden and summarised
   * (src/engine/plan-redact.ts), since everyone who reads the pull request reads the plan.
   */
  readonly planShowValues: boolean;
  /** Reporting to GitHub. */
  readonly github: GitHubSettings;
  /**
   * Set for a command from a pull request comment: it acts only on what this pull request rolled
   * out (the recorded state decides, src/engine/command-owner.ts).
   */
  readonly boundTo?: Owner | undefined;
}
