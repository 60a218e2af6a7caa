// `npm run demo`: starts the local control plane (building it on first use), creates the
// example 5-replica StatefulSet from examples/, then rolls it out to a new image with the
// default steps, printing each stage live. Uses the bundled CLI, the same engine as the action.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';

const root = resolve(import.meta.dirname, '..');
const kubeconfig = join(root, '.cluster', 'kubeconfig');
const namespace = 'demo';
const node = process.execPath;

function step(title: string): void {
  process.stdout.write(`\n\x1b[1m== ${title}\x1b[0m\n`);
}

function run(args: string[]): number {
  const result = spawnSync(node, args, { cwd: root, stdio: 'inherit' });
  return result.status ?? 1;
}

step(
  'Starting the local control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubelet stand-in, Prometheus)',
);
if (run(['test/cluster/up.ts']) !== 0) process.exit(1);

step(`Preparing namespace ${namespace}`);
const kc = new KubeConfig();
kc.loadFromFile(kubeconfig);
const core = kc.makeApiClient(CoreV1Api);
const exists = await core.readNamespace({ name: namespace }).then(
  () => true,
  () => false,
);
if (exists) {
  await core.deleteNamespace({ name: namespace });
  const deadline = Date.now() + 120_000;
  while (
    await core.readNamespace({ name: namespace }).then(
      () => true,
      () => false,
    )
  ) {
    if (Date.now() > deadline) throw new Error(`namespace ${namespace} did not go away within 2 minutes`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
await core.createNamespace({ body: { metadata: { name: namespace } } });

const cli = ['dist/cli.js'];
const common = ['--kubeconfig', kubeconfig, '--namespace', namespace];

step('Creating the example StatefulSet (examples/statefulset.yaml: 5 replicas, web:1.0.0)');
if (run([...cli, 'rollout', '--manifests', 'examples/statefulset.yaml', ...common]) !== 0) process.exit(1);

step(
  'Rolling out web:1.1.0 as a staged canary: steps 1, 50%, 100% (partitions 5 -> 4 -> 2 -> 0), soak 5s, ' +
    'each stage also gated by the analysis check in examples/analysis.yaml (GET /healthz of each new pod through the pod proxy)',
);
const dir = mkdtempSync(join(tmpdir(), 'statefulset-canary-demo-'));
const next = join(dir, 'statefulset.yaml');
writeFileSync(
  next,
  readFileSync(join(root, 'examples/statefulset.yaml'), 'utf8').replace('web:1.0.0', 'web:1.1.0'),
);
const analysis = join(root, 'examples/analysis.yaml');
const code = run([...cli, 'rollout', '--manifests', next, '--soak', '5s', '--analysis', analysis, ...common]);
rmSync(dir, { recursive: true, force: true });

step('Status: revisions (with the change cause) and pods');
run([...cli, 'status', '--statefulset', 'web', ...common]);

process.stdout.write(
  `\nThe cluster is still up: KUBECONFIG=${kubeconfig}. Try a rollback:\n` +
    `  node dist/cli.js rollback --statefulset web ${common.join(' ')}\n` +
    'Stop it with: npm run cluster:down\n',
);
process.exit(code);
