// Starts etcd, kube-apiserver, kube-controller-manager, kube-scheduler, the kubelet stand-in
// and Prometheus on free 127.0.0.1 ports, each detached with its log in .cluster/logs/, and
// waits until each is healthy before starting the next.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NodeComponents } from '../node/node-config.ts';
import { realPodCidrs, startRealNodes } from '../node/nodes.ts';
import { makePki, type Pki } from './pki.ts';
import { freePort, startDetached, waitUntil } from './processes.ts';
import { prometheusArgs, prometheusReady } from './prometheus.ts';
import {
  type ClusterProcess,
  type ClusterState,
  clusterDir,
  clusterOptions,
  httpGet,
  isAlive,
  kubeconfigFile,
  kubeletReadyFile,
  logsDir,
  nodeName,
  pkiDir,
  podNetworkSocketPath,
  repoRoot,
  writeState,
} from './state.ts';

/**
 * Controllers the tests rely on; names from cmd/kube-controller-manager/names (old aliases, and
 * `job-controller` as v1.36.3 names it: Jobs of checks and hooks, which only real nodes run to
 * an end, since the stand-in never makes a pod Succeeded or Failed). No ttl-after-finished: the
 * action deletes its Jobs itself.
 */
const controllers = [
  'statefulset',
  'garbagecollector',
  'namespace',
  'serviceaccount',
  'serviceaccount-token',
  'job-controller',
];

/**
 * Volume binding, for the cluster with a scheduler (names checked in
 * cmd/kube-controller-manager/names of v1.36.3): claims bind to volumes, and claims and
 * volumes in use are not deleted from under a pod.
 */
const volumeControllers = [
  'persistentvolume-binder-controller',
  'persistentvolumeclaim-protection-controller',
  'persistentvolume-protection-controller',
];

function assertAlive(p: ClusterProcess): void {
  if (!isAlive(p.pid)) {
    throw new Error(`${p.name} (pid ${p.pid}) exited during start; see ${join(logsDir, `${p.name}.log`)}`);
  }
}

async function waitHealthy(p: ClusterProcess, check: () => Promise<boolean>, what: string): Promise<void> {
  await waitUntil(
    async () => {
      assertAlive(p);
      return check();
    },
    60_000,
    `${what} (log: ${join(logsDir, `${p.name}.log`)})`,
  );
}

function kubeconfigYaml(server: string, caFile: string, token: string): string {
  const ca = readFileSync(caFile).toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: local',
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority-data: ${ca}`,
    'users:',
    '- name: admin',
    '  user:',
    `    token: ${token}`,
    'contexts:',
    '- name: local',
    '  context:',
    '    cluster: local',
    '    user: admin',
    'current-context: local',
    '',
  ].join('\n');
}

async function startEtcd(binDir: string, clientPort: number, peerPort: number): Promise<ClusterProcess> {
  const client = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const etcd = startDetached('etcd', join(binDir, 'etcd'), [
    '--name=local',
    `--data-dir=${join(clusterDir, 'etcd')}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=local=${peer}`,
    '--unsafe-no-fsync=true',
    '--log-level=warn',
  ]);
  await waitHealthy(etcd, async () => (await httpGet(`${client}/health`)).status === 200, 'etcd /health');
  return etcd;
}

/**
 * The API server's egress to the `cluster` network (the pods/proxy subresources' transport and the
 * kubelet client, cmd/kube-apiserver/app/server.go): HTTP CONNECT over the kubelet stand-in's unix
 * socket, which routes pod IPs that exist only in the stand-in (kubelet-network.ts).
 * apiserver.k8s.io/v1beta1 is served by every release the suite runs (1.34 to 1.37).
 */
function writeEgressSelectorConfig(socket: string): string {
  const file = join(clusterDir, 'egress-selector.yaml');
  writeFileSync(
    file,
    [
      'apiVersion: apiserver.k8s.io/v1beta1',
      'kind: EgressSelectorConfiguration',
      'egressSelections:',
      '  - name: cluster',
      '    connection:',
      '      proxyProtocol: HTTPConnect',
      '      transport:',
      '        uds:',
      `          udsName: ${socket}`,
      '',
    ].join('\n'),
  );
  return file;
}

function apiServerArgs(pki: Pki, etcdPort: number, port: number, egressConfig: string): string[] {
  return [
    `--etcd-servers=http://127.0.0.1:${etcdPort}`,
    `--secure-port=${port}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    // The in-apiserver reconciler of the `kubernetes` Service would publish a
    // loopback endpoint, which Endpoints validation rejects; no test needs it.
    '--endpoint-reconciler-type=none',
    `--cert-dir=${join(clusterDir, 'apiserver-certs')}`,
    `--tls-cert-file=${pki.serverCert}`,
    `--tls-private-key-file=${pki.serverKey}`,
    `--client-ca-file=${pki.caCert}`,
    `--token-auth-file=${pki.tokenFile}`,
    '--authorization-mode=RBAC',
    '--service-cluster-ip-range=10.0.0.0/24',
    '--allow-privileged=true',
    // Without a kubelet there is no projected token to mount, and the plugin
    // would reject pods in a namespace whose `default` ServiceAccount the
    // controller has not created yet (envtest disables it for the same reason).
    '--disable-admission-plugins=ServiceAccount',
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${pki.saPub}`,
    `--service-account-signing-key-file=${pki.saKey}`,
    '--profiling=false',
    `--egress-selector-config-file=${egressConfig}`,
    // A real node also reports its name as a Hostname address, which nothing here resolves: dial
    // its InternalIP (the stand-in's is 127.0.0.1).
    '--kubelet-preferred-address-types=InternalIP,Hostname',
    ...(clusterOptions.featureGates ? [`--feature-gates=${clusterOptions.featureGates}`] : []),
    ...clusterOptions.apiServerArgs,
  ];
}

function controllerManagerArgs(pki: Pki, port: number): string[] {
  return [
    `--kubeconfig=${kubeconfigFile}`,
    `--controllers=${[...controllers, ...(clusterOptions.scheduler ? volumeControllers : [])].join(',')}`,
    '--leader-elect=false',
    '--use-service-account-credentials=false',
    '--bind-address=127.0.0.1',
    `--secure-port=${port}`,
    `--cert-dir=${join(clusterDir, 'controller-manager-certs')}`,
    `--root-ca-file=${pki.caCert}`,
    `--service-account-private-key-file=${pki.saKey}`,
    // The default client limits (20 qps, burst 30) would make a 300-replica
    // Parallel StatefulSet take many seconds just to create its pods.
    '--kube-api-qps=500',
    '--kube-api-burst=1000',
    '--concurrent-statefulset-syncs=10',
    '--profiling=false',
    ...(clusterOptions.featureGates ? [`--feature-gates=${clusterOptions.featureGates}`] : []),
  ];
}

/**
 * Starts everything and writes .cluster/state.json as each process comes up; Prometheus only
 * when given its binary, real nodes only when given their components.
 */
export async function startControlPlane(
  binDir: string,
  prometheusBinary?: string,
  nodeComponents?: NodeComponents,
): Promise<ClusterState> {
  mkdirSync(logsDir, { recursive: true });
  const pki = makePki();
  const used = new Set<number>();
  const take = async (): Promise<number> => {
    const port = await freePort(used);
    used.add(port);
    return port;
  };
  const [etcdClientPort, etcdPeerPort, apiPort, kcmPort, podHttpPort] = [
    await take(),
    await take(),
    await take(),
    await take(),
    await take(),
  ];
  const podNetworkSocket = podNetworkSocketPath();
  const state: ClusterState = {
    startedAt: new Date().toISOString(),
    options: clusterOptions,
    binDir,
    apiServerUrl: `https://127.0.0.1:${apiPort}`,
    controllerManagerPort: kcmPort,
    etcdClientPort,
    adminToken: pki.adminToken,
    podHttpUrl: `http://127.0.0.1:${podHttpPort}`,
    podNetworkSocket,
    processes: [],
  };
  const record = (p: ClusterProcess): void => {
    state.processes.push(p);
    writeState(state);
  };
  writeState(state);

  record(await startEtcd(binDir, etcdClientPort, etcdPeerPort));

  const ca = readFileSync(pki.caCert, 'utf8');
  const token = pki.adminToken;
  const api = startDetached(
    'kube-apiserver',
    join(binDir, 'kube-apiserver'),
    apiServerArgs(pki, etcdClientPort, apiPort, writeEgressSelectorConfig(podNetworkSocket)),
  );
  record(api);
  await waitHealthy(
    api,
    async () => (await httpGet(`${state.apiServerUrl}/readyz`, { ca, token })).status === 200,
    'kube-apiserver /readyz',
  );
  writeFileSync(kubeconfigFile, kubeconfigYaml(state.apiServerUrl, pki.caCert, token), { mode: 0o600 });

  const kcm = startDetached(
    'kube-controller-manager',
    join(binDir, 'kube-controller-manager'),
    controllerManagerArgs(pki, kcmPort),
  );
  record(kcm);
  await waitHealthy(
    kcm,
    // Its serving certificate is self-signed, made at start in --cert-dir.
    async () => (await httpGet(`https://127.0.0.1:${kcmPort}/healthz`, { insecure: true })).status === 200,
    'kube-controller-manager /healthz',
  );

  if (clusterOptions.scheduler) {
    const port = await take();
    const scheduler = startDetached('kube-scheduler', join(binDir, 'kube-scheduler'), [
      `--kubeconfig=${kubeconfigFile}`,
      '--leader-elect=false',
      '--bind-address=127.0.0.1',
      `--secure-port=${port}`,
      // As the controller-manager's: a burst of pods must not wait on client rate limits.
      '--kube-api-qps=500',
      '--kube-api-burst=1000',
      '--profiling=false',
      ...(clusterOptions.featureGates ? [`--feature-gates=${clusterOptions.featureGates}`] : []),
    ]);
    record(scheduler);
    await waitHealthy(
      scheduler,
      async () => (await httpGet(`https://127.0.0.1:${port}/healthz`, { insecure: true })).status === 200,
      'kube-scheduler /healthz',
    );
  }
  record(await startKubelet(state));
  if (nodeComponents && clusterOptions.realNodes) {
    state.realNodes = await startRealNodes(
      state,
      binDir,
      nodeComponents,
      clusterOptions.realNodes,
      record,
      used,
    );
    writeState(state);
  }
  if (prometheusBinary) {
    const port = await take();
    const prometheus = startDetached(
      'prometheus',
      prometheusBinary,
      prometheusArgs(join(clusterDir, 'prometheus'), port, `127.0.0.1:${podHttpPort}`),
    );
    state.prometheusUrl = `http://127.0.0.1:${port}`;
    record(prometheus);
    const url = state.prometheusUrl;
    await waitHealthy(prometheus, () => prometheusReady(url), 'Prometheus /-/ready');
  }
  return state;
}

/** Starts the kubelet stand-in and waits until it watches pods and its Node is Ready. */
export async function startKubelet(state: ClusterState): Promise<ClusterProcess> {
  rmSync(kubeletReadyFile, { force: true });
  const kubelet = startDetached('kubelet', process.execPath, [
    join(repoRoot, 'test/cluster/kubelet/kubelet.ts'),
    `--kubeconfig=${kubeconfigFile}`,
    `--node-name=${nodeName}`,
    `--ready-file=${kubeletReadyFile}`,
    ...(process.env.KUBELET_VERBOSE ? ['--verbose'] : []),
    // With a scheduler, the scheduler binds pods and the stand-in provisions StorageClass `local`.
    ...(clusterOptions.scheduler ? ['--no-bind', '--provision'] : []),
    ...realPodCidrs(clusterOptions.realNodes ?? 0).map((cidr) => `--real-pod-cidr=${cidr}`),
    ...(state.podNetworkSocket && state.podHttpUrl
      ? [
          `--pod-network-socket=${state.podNetworkSocket}`,
          `--pod-http-port=${new URL(state.podHttpUrl).port}`,
        ]
      : []),
  ]);
  const ca = readFileSync(join(pkiDir, 'ca.crt'), 'utf8');
  await waitHealthy(
    kubelet,
    async () => existsSync(kubeletReadyFile) && (await nodeIsReady(state.apiServerUrl, ca, state.adminToken)),
    `the kubelet stand-in to watch pods and Node ${nodeName} to be Ready`,
  );
  return kubelet;
}

async function nodeIsReady(apiServerUrl: string, ca: string, token: string): Promise<boolean> {
  const res = await httpGet(`${apiServerUrl}/api/v1/nodes/${nodeName}`, { ca, token });
  if (res.status !== 200) return false;
  const node = JSON.parse(res.body) as { status?: { conditions?: { type: string; status: string }[] } };
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}
