// The action's wiring: inputs -> settings -> adapters -> run -> outputs. The only place
// that fails the step.
import * as core from '@actions/core';
import { jobSummaryReporter } from './adapters/actions/job-summary.ts';
import { actionsLog } from './adapters/actions/log.ts';
import { readRunContext } from './adapters/github/context.ts';
import { githubReporting } from './adapters/github/wiring.ts';
import { createCluster } from './adapters/kubernetes/cluster.ts';
import { loadKubeConfig } from './adapters/kubernetes/kubeconfig.ts';
import { createLock } from './adapters/kubernetes/lock.ts';
import { fanOut, skipNoChange } from './adapters/reporters.ts';
import { systemClock } from './adapters/system-clock.ts';
import { execute, type Outcome } from './app.ts';
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
    if (settings.kubeconfig) core.setSecret(settings.kubeconfig);
    if (settings.github.token) core.setSecret(settings.github.token);
    const kube = loadKubeConfig({ content: settings.kubeconfig, context: settings.context });
    for (const secret of kube.secrets) core.setSecret(secret);
    const log = actionsLog();
    const cluster = createCluster({ kubeConfig: kube.kubeConfig, fieldManager: settings.fieldManager });
    const githubRun = readRunContext();
    for (const problem of githubRun.problems) log.warning(problem);
    const github = await githubReporting({
      settings,
      run: githubRun,
      log,
      cluster,
      defaultNamespace: kube.defaultNamespace,
    });
    const reporter = fanOut([jobSummaryReporter(), skipNoChange(github.reporter)]);
    const outcome = await execute(
      settings,
      {
        cluster,
        lock: createLock(kube.kubeConfig, {}),
        clock: systemClock,
        log,
        reporterFor: () => reporter,
        defaultNamespace: kube.defaultNamespace,
        cwd: process.cwd(),
      },
      {
        contextName: kube.contextName,
        runUrl: githubRun.runUrl,
        commit: githubRun.sha,
        pullRequest: github.pullRequest,
      },
      cancel.signal,
    );
    await github.flush();
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
  if (outcome.text) core.info(outcome.text);
  core.setOutput('result', outcome.result);
  core.setOutput('revision', outcome.revision ?? '');
  core.setOutput('previous-revision', outcome.previousRevision ?? '');
  core.setOutput('stages', JSON.stringify(outcome.stages));
  core.setOutput('duration-seconds', String(outcome.durationSeconds));
}
