// Prometheus for the local cluster: built from its Go module by build-prometheus.sh (cached
// outside the repo), it scrapes the kubelet stand-in's /metrics (the simulated apps'
// app_requests_total and app_up, kubelet-http.ts) every second, keeping the stand-in's
// namespace/pod labels (honor_labels). The cluster's own one starts and stops with the cluster
// (control-plane.ts); a test can start a private one (test/support/analysis-env.ts).

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runBuildScript } from '../build/build-script.ts';
import { httpGet } from './state.ts';

/** Runs build-prometheus.sh (a no-op when cached); its last stdout line is the binary. */
export async function buildPrometheus(): Promise<string> {
  const binary = await runBuildScript('build-prometheus.sh');
  if (!binary) throw new Error('test/cluster/build/build-prometheus.sh printed no binary path');
  return binary;
}

/**
 * Writes `dir`/prometheus.yml (one job scraping `metricsTarget`, host:port) and returns the
 * flags that start Prometheus on 127.0.0.1:`port` with its data in `dir`/data.
 */
export function prometheusArgs(
  dir: string,
  port: number,
  metricsTarget: string,
  scrapeIntervalMs = 1000,
): string[] {
  mkdirSync(dir, { recursive: true });
  const config = join(dir, 'prometheus.yml');
  const interval = `${Math.max(100, Math.round(scrapeIntervalMs))}ms`;
  writeFileSync(
    config,
    [
      'global:',
      `  scrape_interval: ${interval}`,
      `  scrape_timeout: ${interval}`,
      `  evaluation_interval: ${interval}`,
      'scrape_configs:',
      '  - job_name: pods',
      '    honor_labels: true',
      '    static_configs:',
      `      - targets: ['${metricsTarget}']`,
      '',
    ].join('\n'),
  );
  return [
    `--config.file=${config}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--storage.tsdb.retention.time=1d',
    // Targets are static; without this (hidden) flag the first scrape waits for the 5 s default.
    '--scrape.discovery-reload-interval=100ms',
    '--log.level=warn',
  ];
}

/** True once Prometheus at `url` answers /-/ready. */
export async function prometheusReady(url: string): Promise<boolean> {
  return (await httpGet(`${url}/-/ready`)).status === 200;
}
