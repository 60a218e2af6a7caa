// The primary moved out of a stage's way before the stage lowers the partition: find the pod
// holding the role (a label or an exec answer), and when the stage would restart it, run the
// switchover and wait until the role is on a pod the stage keeps (engine/primary.ts decides).

import type { PrimarySettings } from '../../config/primary.ts';
import type { Measurement } from '../../engine/analysis.ts';
import { judgeExec } from '../../engine/exec.ts';
import type { Hook, HookContext } from '../../engine/hooks.ts';
import type { Observation } from '../../engine/observation.ts';
import { primaryStep, restartedBy } from '../../engine/primary.ts';
import { matches } from '../../engine/selector.ts';
import type { StatefulSetRef } from '../../ports/cluster.ts';
import { containersOf } from '../rollout/objects.ts';
import type { GuardDeps, GuardOutcome, GuardView } from './before-checks.ts';

/** A hook's or switchover's answer, with the failed Job's log as a measurement. */
export interface CallAnswer {
  readonly ok: boolean;
  readonly detail: string;
  readonly failed: Measurement[];
}

/** What moving the primary needs of the stage's guards. */
export interface PrimaryGuard {
  readonly deps: GuardDeps;
  readonly ref: StatefulSetRef;
  readonly target: string;
  context(event: HookContext['event']): HookContext;
  call(
    name: string,
    call: Hook['call'],
    context: HookContext,
    view: GuardView | undefined,
    signal: AbortSignal,
  ): Promise<CallAnswer>;
  failed(stage: number, reason: string, message: string, failed?: readonly Measurement[]): GuardOutcome;
}

/** Moves the primary out of the stage's way, or pauses before the stage when it cannot. */
export async function movePrimary(
  g: PrimaryGuard,
  primary: PrimarySettings,
  at: { readonly stage: number; readonly partition: number },
  view: GuardView,
  signal: AbortSignal,
): Promise<GuardOutcome> {
  const { stage, partition } = at;
  const { log } = g.deps;
  const found = await awaitPrimary(g, primary, view, signal, undefined);
  if (found.kind !== 'found') return g.failed(stage, 'PrimaryNotFound', found.why);
  const step = primaryStep({
    pods: view.latest().pods,
    primary: found.pod,
    partition,
    target: g.target,
    canSwitch: primary.switchover !== undefined,
    stage,
  });
  switch (step.kind) {
    case 'keep':
      log.info(`Primary: ${step.why}`);
      return { kind: 'go' };
    case 'pause':
      log.notice(`Primary: ${step.reason}`);
      return { kind: 'paused', reason: step.reason };
    case 'switchover': {
      log.info(`Primary: switching over from ${step.from} to ${step.to} before stage ${stage}`);
      const switchover = primary.switchover;
      if (!switchover) return { kind: 'paused', reason: `no switchover for ${step.from}` };
      const context = {
        ...g.context('switchover'),
        stage,
        partition,
        from: step.from,
        to: step.to,
        primary: step.from,
      };
      const answer = await g.call('switchover', switchover, context, view, signal);
      if (!answer.ok)
        return g.failed(
          stage,
          'SwitchoverFailed',
          `switchover from ${step.from} to ${step.to} failed: ${answer.detail}`,
          answer.failed,
        );
      // The role may land elsewhere (Sentinel picks its own master): any pod the stage keeps will do.
      const restarted = new Set(restartedBy(view.latest().pods, partition, g.target).map((p) => p.name));
      const safe = (pod: string) => pod !== step.from && !restarted.has(pod);
      const moved = await awaitPrimary(g, primary, view, signal, { name: step.to, accepts: safe });
      if (moved.kind !== 'found')
        return g.failed(stage, 'SwitchoverFailed', `after the switchover to ${step.to}: ${moved.why}`);
      log.info(`Primary: ${moved.pod} holds the role; stage ${stage} restarts ${step.from} as a replica`);
      return { kind: 'go' };
    }
  }
}

/** Waits (up to primary.timeout) until exactly one pod is the primary, and it is `expected` when given. */
async function awaitPrimary(
  g: PrimaryGuard,
  primary: PrimarySettings,
  view: GuardView,
  signal: AbortSignal,
  expected: { readonly name: string; readonly accepts: (pod: string) => boolean } | undefined,
): Promise<{ kind: 'found'; pod: string } | { kind: 'missing'; why: string }> {
  const { clock } = g.deps;
  const deadline = clock.now() + primary.timeoutMs;
  const how =
    primary.selector !== undefined ? `label ${primary.selector}` : `exec ${primary.check?.command.join(' ')}`;
  for (;;) {
    const names = await primaries(g, primary, view.latest(), signal);
    const [only] = names;
    if (names.length === 1 && only !== undefined && (expected === undefined || expected.accepts(only)))
      return { kind: 'found', pod: only };
    if (signal.aborted || clock.now() >= deadline) {
      const seen = names.length === 0 ? 'no pod' : names.join(', ');
      const want =
        expected === undefined ? 'exactly one pod' : `${expected.name} (or another pod this stage keeps)`;
      return {
        kind: 'missing',
        why: `the primary (${how}) should be ${want}, but is ${seen} after ${primary.timeoutMs / 1000}s`,
      };
    }
    // A label moves with a watch event; an exec answer has to be asked again.
    await view.waitUntil(
      Math.min(deadline, clock.now() + (primary.selector !== undefined ? primary.timeoutMs : 1000)),
    );
  }
}

/** The pods that say they hold the primary role now. */
async function primaries(
  g: PrimaryGuard,
  primary: PrimarySettings,
  observation: Observation,
  signal: AbortSignal,
): Promise<string[]> {
  const live = observation.pods.filter((p) => !p.deleting);
  if (primary.selector !== undefined) {
    const selector = primary.selector;
    return live.filter((p) => matches(selector, p.labels ?? {})).map((p) => p.name);
  }
  const check = primary.check;
  const { cluster } = g.deps;
  if (!check || !cluster.exec) return [];
  const container = check.container ?? containersOf(observation.statefulSet.template)[0] ?? '';
  const answers = await Promise.all(
    live
      .filter((p) => p.phase === 'Running')
      .map(async (p) => {
        try {
          const answer = await cluster.exec?.({
            namespace: g.ref.namespace,
            pod: p.name,
            container,
            command: check.command,
            timeoutMs: check.timeoutMs,
            signal,
          });
          return answer && judgeExec(check, answer).verdict === 'pass' ? p.name : undefined;
        } catch {
          return undefined;
        }
      }),
  );
  return answers.filter((n): n is string => n !== undefined);
}
