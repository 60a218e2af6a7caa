// The command line over the same engine as the action:
//   statefulset-canary rollout --manifests k8s/web.yaml --steps "1, 50%, 100%" --soak 30s
// Flags are the action's inputs (same names, same validation), but for the GitHub ones;
// --kubeconfig takes a path.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { consoleLog } from './adapters/console/log.ts';
import { loadKubeConfig } from './adapters/kubernetes/kubeconfig.ts';
import { composeApp } from './compose.ts';
import { InputError } from './config/input-error.ts';
import { readSettings } from './config/inputs.ts';
import { outcomeText } from './runner/commands/status.ts';

const VALUE_FLAGS = [
  'manifests',
  'analysis',
  'namespace',
  'context',
  'steps',
  'rollback-steps',
  'soak',
  'stage-timeout',
  'diagnose-after',
  'allow-unhealthy-start',
  'max-restarts',
  'on-failure',
  'on-failure-others',
  'pause-after',
  'apply',
  'sync-timeout',
  'rollback-timeout',
  'field-manager',
  'statefulset',
  'to-revision',
  'reason',
  'lock-timeout',
] as const;

const USAGE = `usage: statefulset-canary <rollout|rollback|status|plan|promote|abort|park> [flags]
  --manifests PATH      manifest file or glob (repeat for more)
  --kubeconfig PATH     kubeconfig file (default: KUBECONFIG, ~/.kube/config, in-cluster)
  --context NAME        kubeconfig context
  --namespace NS        namespace override
  --steps LIST          pods on the new revision after each stage (default "1, 50%, 100%")
  --rollback-steps LIST stages of a manual rollback (default "100%")
  --soak DURATION       time each stage's pods stay healthy before the next (default 30s)
  --stage-timeout D     time a stage may take to become healthy (default 10m)
  --diagnose-after D    time a pod of a stage may be not Ready before the action reads why (default 10s)
  --allow-unhealthy-start BOOL
                        true: go on when pods below the first stage's partition are not Ready
  --analysis PATH       YAML file of analysis checks (HTTP, Prometheus) gating each stage
  --max-restarts N      restarts tolerated per pod during a stage (default 0)
  --on-failure MODE     rollback (default) or halt
  --apply BOOL          false: a GitOps controller applies; wait for its sync, gate it, park the partition
  --sync-timeout D      with --apply false, how long to wait for the sync (default 10m)
  --pause-after LIST    stages after which a rollout pauses for promote (e.g. "1", "each")
  --on-failure-others M keep (default) or rollback: what a failure does to StatefulSets rolled out before it
  --rollback-timeout D  time an automatic rollback may take (default 10m)
  --field-manager NAME  server-side apply field manager (default statefulset-canary)
  --statefulset NAME    StatefulSet for rollback, status, promote, abort and park
  --to-revision N       ControllerRevision number to roll back to (default: the previous one)
  --reason TEXT         why (manual rollback): recorded in the change cause
  --lock-timeout D      how long to wait for another run's lock (default 0s)
  --json                print the outputs (result, revision, stages, ...) as JSON
  --debug               debug logging`;

export async function main(argv: readonly string[]): Promise<number> {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = {
    kubeconfig: { type: 'string' },
    debug: { type: 'boolean' },
    json: { type: 'boolean' },
    help: { type: 'boolean' },
  };
  for (const flag of VALUE_FLAGS) options[flag] = { type: 'string', multiple: flag === 'manifests' };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length !== 1) {
    process.stderr.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const log = consoleLog({ debug: values.debug === true });
  const cancel = new AbortController();
  process.once('SIGINT', () => cancel.abort());
  process.once('SIGTERM', () => cancel.abort());
  try {
    const settings = readSettings((name) => {
      if (name === 'command') return positionals[0] ?? '';
      // --kubeconfig is a path (set as KUBECONFIG below); the kubeconfig input is content.
      if (name === 'kubeconfig') return '';
      // --analysis is a YAML file of checks; the analysis input is its content.
      if (name === 'analysis')
        return typeof values.analysis === 'string' ? readAnalysisFile(values.analysis) : '';
      const value = values[name];
      return Array.isArray(value) ? value.join('\n') : typeof value === 'string' ? value : '';
    });
    if (typeof values.kubeconfig === 'string') process.env.KUBECONFIG = values.kubeconfig;
    const kube = loadKubeConfig({ context: settings.context });
    const app = await composeApp({ settings, kube, log, origin: { kind: 'local' } });
    const outcome = await app.run(cancel.signal);
    const { text, ...outputs } = outcome;
    if (text) process.stdout.write(`${text}\n`);
    else if (values.json) process.stdout.write(`${JSON.stringify(outputs, null, 2)}\n`);
    else process.stdout.write(`${outcomeText(outputs)}\n`);
    if (outcome.failure) log.warning(outcome.failure);
    return outcome.failure ? 1 : 0;
  } catch (error) {
    log.warning(error instanceof Error ? error.message : String(error));
    return error instanceof InputError ? 2 : 1;
  }
}

process.exitCode = await main(process.argv.slice(2));

/** The --analysis file's content; an unreadable file is an input error that names it. */
function readAnalysisFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new InputError(
      'analysis',
      `cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'}); give the path of a YAML file of checks`,
    );
  }
}
