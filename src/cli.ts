// The command line over the same engine as the action:
//   statefulset-canary rollout --manifests k8s/web.yaml --steps "1, 50%, 100%" --soak 30s
// Flags are the action's inputs (same names, same validation), but for the GitHub ones;
// --kubeconfig takes a path. The same program answers as a kubectl plugin
// (`kubectl statefulset-canary ...`, installed as kubectl-statefulset_canary): kubectl runs it
// with the words after the plugin's name, so kubectl's own flags (--context, -n, --kubeconfig,
// KUBECONFIG) are flags of ours too. Exit codes and the --json shape: docs/cli.md.
import './adapters/heap.ts';
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { consoleLog } from './adapters/console/log.ts';
import { EXIT_CODES, jsonFailure, jsonOutcome } from './adapters/console/outcome.ts';
import { loadKubeConfig } from './adapters/kubernetes/kubeconfig.ts';
import { composeApp } from './compose.ts';
import { InputError } from './config/input-error.ts';
import { readSettings } from './config/inputs.ts';
import { ManifestError } from './manifests/load.ts';
import { outcomeText } from './runner/commands/status.ts';
import { ValidationError } from './runner/validate.ts';
import { version } from './version.ts';

/** Flags whose value is a YAML file whose content is the input. */
const FILE_FLAGS = ['analysis', 'hooks', 'primary', 'waves', 'clusters'];

const VALUE_FLAGS = [
  'manifests',
  'analysis',
  'hooks',
  'primary',
  'waves',
  'max-parallel',
  'clusters',
  'cluster-soak',
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
  'plan-show-values',
] as const;

const USAGE = `usage: statefulset-canary <rollout|rollback|status|plan|promote|abort|park> [flags]
       kubectl statefulset-canary <command> [flags]   (as a kubectl plugin)
  --manifests PATH      manifest file or glob (repeat for more)
  --kubeconfig PATH     kubeconfig file (default: KUBECONFIG, ~/.kube/config, in-cluster)
  --context NAME        kubeconfig context
  --namespace NS, -n NS namespace override
  --steps LIST          pods on the new revision after each stage (default "1, 50%, 100%")
  --rollback-steps LIST stages of a manual rollback (default "100%")
  --soak DURATION       time each stage's pods stay healthy before the next (default 30s)
  --stage-timeout D     time a stage may take to become healthy (default 10m)
  --diagnose-after D    time a pod of a stage may be not Ready before the action reads why (default 10s)
  --allow-unhealthy-start BOOL
                        true: go on when pods below the first stage's partition are not Ready
  --analysis PATH       YAML file of analysis checks (HTTP, Prometheus, exec, Job) gating each stage
  --hooks PATH          YAML file of hooks (exec, Job, HTTP) before/after the rollout and each stage
  --primary PATH        YAML file: how to find the primary and switch it over before its stage
  --max-restarts N      restarts tolerated per pod during a stage (default 0)
  --on-failure MODE     rollback (default) or halt
  --apply BOOL          false: a GitOps controller applies; wait for its sync, gate it, park the partition
  --sync-timeout D      with --apply false, how long to wait for the sync (default 10m)
  --pause-after LIST    stages after which a rollout pauses for promote (e.g. "1", "each")
  --waves PATH          YAML file: the StatefulSets in ordered waves (by name, glob or selector), each wave in parallel
  --max-parallel N      StatefulSets of a wave rolled out at once (default 4)
  --clusters PATH       YAML file: kubeconfig contexts in ordered waves (e.g. staging, then eu-1, then us-1 and us-2)
  --cluster-soak D      wait after a cluster wave succeeded before the next (default 0s)
  --on-failure-others M keep (default), rollback-wave or rollback: what a failure does to the rest of its wave and the waves before
  --rollback-timeout D  time an automatic rollback may take (default 10m)
  --field-manager NAME  server-side apply field manager (default statefulset-canary)
  --statefulset NAME    StatefulSet for rollback, status, promote, abort and park
  --to-revision N       ControllerRevision number to roll back to (default: the previous one)
  --reason TEXT         why (manual rollback): recorded in the change cause
  --lock-timeout D      how long to wait for another run's lock (default 0s)
  --plan-show-values BOOL
                        true: the plan shows env values and admission's additions (default false: hidden)
  --json                print the outcome (result, revision, stages, ...) as one JSON object
  --debug               debug logging
  --version             print the version
exit codes: 0 done (also paused), 1 the run failed, 2 bad flags or inputs (nothing was done)`;

export async function main(argv: readonly string[]): Promise<number> {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = {
    kubeconfig: { type: 'string' },
    debug: { type: 'boolean' },
    json: { type: 'boolean' },
    help: { type: 'boolean' },
    version: { type: 'boolean' },
  };
  for (const flag of VALUE_FLAGS) options[flag] = { type: 'string', multiple: flag === 'manifests' };
  // kubectl's short flag, so `kubectl statefulset-canary status --statefulset db -n data` works.
  options.namespace = { type: 'string', short: 'n' };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    return EXIT_CODES.usage;
  }
  const { values, positionals } = parsed;
  if (values.version) {
    process.stdout.write(`statefulset-canary ${version}\n`);
    return EXIT_CODES.ok;
  }
  if (values.help || positionals.length !== 1) {
    process.stderr.write(`${USAGE}\n`);
    return values.help ? EXIT_CODES.ok : EXIT_CODES.usage;
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
      // --analysis, --hooks and --primary are YAML files; their inputs are the files' content.
      if (FILE_FLAGS.includes(name)) {
        const path = values[name];
        return typeof path === 'string' ? readInputFile(name, path) : '';
      }
      const value = values[name];
      return Array.isArray(value) ? value.join('\n') : typeof value === 'string' ? value : '';
    });
    if (typeof values.kubeconfig === 'string') {
      if (!existsSync(values.kubeconfig)) {
        throw new InputError(
          'kubeconfig',
          `--kubeconfig ${values.kubeconfig}: no such file; give the path of a kubeconfig file`,
        );
      }
      process.env.KUBECONFIG = values.kubeconfig;
    }
    // A kubeconfig that cannot be read or lacks the context is a bad flag: nothing was done.
    const kube = (() => {
      try {
        return loadKubeConfig({ context: settings.context ?? settings.clusters[0]?.contexts[0] });
      } catch (error) {
        throw new InputError(settings.context ? 'context' : 'kubeconfig', (error as Error).message);
      }
    })();
    const app = await composeApp({ settings, kube, log, origin: { kind: 'local' } });
    const outcome = await app.run(cancel.signal);
    const { text, ...outputs } = outcome;
    if (values.json) process.stdout.write(`${JSON.stringify(jsonOutcome(outcome), null, 2)}\n`);
    else process.stdout.write(`${text ?? outcomeText(outputs)}\n`);
    if (outcome.failure) log.warning(outcome.failure);
    return outcome.failure ? EXIT_CODES.failed : EXIT_CODES.ok;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    log.warning(message);
    // Bad flags, manifests that cannot be read and changes the API server's dry-run refuses are
    // all found before anything changes: nothing was done.
    const nothingDone =
      error instanceof InputError || error instanceof ManifestError || error instanceof ValidationError;
    const code = nothingDone ? EXIT_CODES.usage : EXIT_CODES.failed;
    // With --json a script always gets one object on stdout, also when the run could not start.
    if (values.json) process.stdout.write(`${JSON.stringify(jsonFailure(message), null, 2)}\n`);
    return code;
  }
}

// Not top-level await: the single executable (scripts/sea.ts) bundles this file as CommonJS.
main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});

/** A file flag's content; an unreadable file is an input error that names it. */
function readInputFile(name: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new InputError(
      name,
      `cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'}); give the path of a YAML file (--${name})`,
    );
  }
}
