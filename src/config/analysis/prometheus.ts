// A `prometheus:` check: a PromQL query (once for the stage's pods, or once a pod) whose every
// series must keep min and/or max.
import type { OnNoData, PrometheusProbe } from '../../engine/analysis.ts';
import { placeholders, QUERY_VARIABLES } from '../../engine/templates.ts';
import { quote } from '../../manifests/names.ts';
import { InputError } from '../input-error.ts';
import {
  type At,
  durationOf,
  headersOf,
  INPUT,
  integerOf,
  isMapping,
  type Mapping,
  template,
  thresholdOf,
  unknownKeys,
} from './fields.ts';

const PROM_KEYS = [
  'address',
  'query',
  'min',
  'max',
  'on-no-data',
  'headers',
  'bearer-token',
  'error-limit',
  'timeout',
];
const NO_DATA: readonly OnNoData[] = ['wait', 'fail', 'pass'];

export function parsePrometheus(value: unknown, at: At): PrometheusProbe {
  if (!isMapping(value))
    throw new InputError(INPUT, `${at('prometheus')} must be a mapping with address, query and min or max`);
  unknownKeys(value, PROM_KEYS, at('prometheus'));
  const address = addressOf(value.address, at('prometheus.address'));
  const query = queryOf(value.query, at('prometheus.query'));
  const threshold = thresholdOf(value, at, 'prometheus');
  if (threshold === undefined || threshold.equals !== undefined)
    throw new InputError(
      INPUT,
      `${at('prometheus')} needs min or max (the value the query may not go below or above)`,
    );
  const headers = headersWithToken(value, at);
  const onNoData = value['on-no-data'] === undefined ? 'wait' : String(value['on-no-data']);
  if (!(NO_DATA as readonly string[]).includes(onNoData))
    throw new InputError(
      INPUT,
      `${at('prometheus.on-no-data')} ${quote(onNoData)} is not one of ${NO_DATA.join(', ')}`,
    );
  return Object.freeze({
    kind: 'prometheus',
    address,
    query,
    threshold,
    onNoData: onNoData as OnNoData,
    headers: Object.freeze(headers),
    errorLimit: integerOf(value['error-limit'], 3, 0, 1000, at('prometheus.error-limit')),
    timeoutMs: durationOf(value.timeout, '10s', at('prometheus.timeout'), 1),
  });
}

function queryOf(value: unknown, where: string): string {
  if (typeof value !== 'string' || value.trim() === '')
    throw new InputError(INPUT, `${where} is missing; write a PromQL query giving one number a series`);
  const query = template(value, QUERY_VARIABLES, where);
  if (placeholders(query).includes('pod') && placeholders(query).includes('pods'))
    throw new InputError(
      INPUT,
      `${where} uses both {{pod}} and {{pods}}; use one: {{pod}} runs the query once a pod, {{pods}} once for all`,
    );
  return query;
}

/** The headers, with `bearer-token` as an Authorization header (masked in logs like the others). */
function headersWithToken(value: Mapping, at: At): Record<string, string> {
  const headers = { ...headersOf(value.headers, at('prometheus.headers')) };
  const token = value['bearer-token'];
  if (token === undefined) return headers;
  if (typeof token !== 'string' || token.trim() === '')
    throw new InputError(
      INPUT,
      `${at('prometheus.bearer-token')} is empty; pass the token from a secret, or leave the key out`,
    );
  headers.Authorization = `Bearer ${token.trim()}`;
  return headers;
}

function addressOf(value: unknown, where: string): string {
  const text = typeof value === 'string' ? value.trim() : '';
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (!url || !['http:', 'https:'].includes(url.protocol) || url.search || url.hash || url.username)
    throw new InputError(
      INPUT,
      `${where} ${quote(text || 'is missing')}${text ? ' is not' : ''} a Prometheus base URL; write e.g. http://prometheus.monitoring:9090`,
    );
  return text.replace(/\/+$/, '');
}
