// The action's entry: inputs -> settings -> secrets masked -> the composition root -> run ->
// outputs. The only place that fails the step.
import * as core from '@actions/core';
import { actionsLog } from './adapters/actions/log.ts';
import { kubeConfigOrSkip } from './adapters/actions/plan-skip.ts';
import { readRunContext } from './adapters/github/context.ts';
import { loadKubeConfig } from './adapters/kubernetes/kubeconfig.ts';
import { neutraliseWorkflowCommands } from './adapters/log-text.ts';
import type { Outcome } from './app.ts';
import { composeApp } from './compose.ts';
import { composeCommentApp } from './compose-comment.ts';
import { settingsSecrets } from './config/analysis/input.ts';
import { readSettings } from './config/inputs.ts';

export async function run(): Promise<void> {
  const cancel = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    core.warning(`Received ${signal}: stopping before the next partition change`);
    cancel.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const settings = readSettings((name) => core.getInput(name));
    for (const secret of settingsSecrets(settings)) core.setSecret(secret);
    const github = readRunContext();
    // A fork's pull request has no kubeconfig secret: its plan is skipped with the reason, not failed.
    const kube = await kubeConfigOrSkip(settings, github, () =>
      // With `clusters`, the first context listed (the kubeconfig need not have a current one).
      loadKubeConfig({
        content: settings.kubeconfig,
        context: settings.context ?? settings.clusters[0]?.contexts[0],
      }),
    );
    if (kube === undefined) return;
    for (const secret of kube.secrets) core.setSecret(secret);
    const compose = settings.command === 'comment' ? composeCommentApp : composeApp;
    const app = await compose({
      settings,
      kube,
      log: actionsLog(),
      origin: { kind: 'github', run: github, jobSummary: true },
    });
    const outcome = await app.run(cancel.signal);
    setOutputs(outcome);
    if (outcome.failure) core.setFailed(outcome.failure);
  } catch (error) {
    core.setOutput('result', 'failed');
    core.setFailed(error instanceof Error ? error.message : String(error));
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function setOutputs(outcome: Outcome): void {
  // The text (a status, an answer) holds cluster text: no line of it may be a workflow command.
  if (outcome.text) core.info(neutraliseWorkflowCommands(outcome.text));
  core.setOutput('result', outcome.result);
  core.setOutput('revision', outcome.revision ?? '');
  core.setOutput('previous-revision', outcome.previousRevision ?? '');
  core.setOutput('statefulsets', JSON.stringify(outcome.statefulSets));
  core.setOutput('stages', JSON.stringify(outcome.stages));
  core.setOutput('duration-seconds', String(outcome.durationSeconds));
}
