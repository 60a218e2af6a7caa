// The retry policy and error translation of the Kubernetes adapter, with synthetic failures
// (the API server's own behaviour is tested in test/integration/kubernetes-adapter.test.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiException } from '@kubernetes/client-node';
import { KubeError, type Operation, toKubeError } from '../../src/adapters/kubernetes/errors.ts';
import {
  createRetrier,
  isRetryable,
  type RetryEvent,
  retryOnConflict,
} from '../../src/adapters/kubernetes/retry.ts';

const op: Operation = { verb: 'patch', kind: 'StatefulSet', namespace: 'shop', name: 'db' };

function status(code: number, reason: string, message: string): string {
  return JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message });
}

function apiError(code: number, reason = '', headers: Record<string, string> = {}): ApiException<string> {
  return new ApiException(code, '', status(code, reason, `${reason} from the server`), headers);
}

function networkError(code: string): Error {
  return new TypeError('fetch failed', { cause: Object.assign(new Error(`connect ${code}`), { code }) });
}

describe('which failures are retried', () => {
  const cases: { name: string; error: unknown; answered?: boolean; retry: boolean }[] = [
    { name: '429 Too Many Requests', error: apiError(429, 'TooManyRequests'), retry: true },
    { name: '500 Internal Server Error', error: apiError(500, 'InternalError'), retry: true },
    { name: '503 Service Unavailable', error: apiError(503, 'ServiceUnavailable'), retry: true },
    { name: '504 Gateway Timeout', error: apiError(504, 'Timeout'), retry: true },
    { name: 'a connection reset', error: networkError('ECONNRESET'), retry: true },
    { name: 'a connection timeout', error: networkError('ETIMEDOUT'), retry: true },
    { name: 'an undici socket error', error: networkError('UND_ERR_SOCKET'), retry: true },
    {
      name: 'a refused connection once the server has answered',
      error: networkError('ECONNREFUSED'),
      retry: true,
    },
    {
      name: 'a refused connection to a server that never answered',
      error: networkError('ECONNREFUSED'),
      answered: false,
      retry: false,
    },
    {
      name: 'an unknown host never answered',
      error: networkError('ENOTFOUND'),
      answered: false,
      retry: false,
    },
    { name: 'socket hang up', error: new Error('socket hang up'), retry: true },
    { name: '400 Bad Request', error: apiError(400, 'BadRequest'), retry: false },
    { name: '401 Unauthorized', error: apiError(401, 'Unauthorized'), retry: false },
    { name: '403 Forbidden', error: apiError(403, 'Forbidden'), retry: false },
    { name: '404 Not Found', error: apiError(404, 'NotFound'), retry: false },
    { name: '409 Conflict (the caller re-reads instead)', error: apiError(409, 'Conflict'), retry: false },
    { name: '422 Invalid', error: apiError(422, 'Invalid'), retry: false },
    { name: '501 Not Implemented', error: apiError(501, ''), retry: false },
    {
      name: "server-side apply's 500 for a field not in the schema",
      error: new ApiException(
        500,
        '',
        status(
          500,
          'InternalError',
          'failed to create typed patch object (shop/db): .spec.replica: field not declared in schema',
        ),
        {},
      ),
      retry: false,
    },
    {
      name: 'a certificate the runner does not trust',
      error: networkError('SELF_SIGNED_CERT_IN_CHAIN'),
      retry: false,
    },
  ];
  for (const c of cases) {
    it(`${c.retry ? 'retries' : 'does not retry'} ${c.name}`, () => {
      assert.equal(
        isRetryable(toKubeError(c.error, op, 'https://k8s.example:6443'), c.answered ?? true),
        c.retry,
      );
    });
  }
});

describe('the retrier', () => {
  const fast = { minDelayMs: 1, maxDelayMs: 5 };

  it('makes no retries when nothing fails', async () => {
    const retrier = createRetrier(fast);
    assert.equal(await retrier.run(op, async () => 'ok'), 'ok');
    assert.equal(retrier.retries, 0);
  });

  it('retries a 503 until it succeeds, reporting each retry', async () => {
    const events: RetryEvent[] = [];
    const retrier = createRetrier({ ...fast, onRetry: (e) => events.push(e) });
    let calls = 0;
    const result = await retrier.run(op, async () => {
      calls++;
      if (calls < 3) throw apiError(503, 'ServiceUnavailable');
      return calls;
    });
    assert.equal(result, 3);
    assert.equal(retrier.retries, 2);
    assert.deepEqual(
      events.map((e) => [e.attempt, e.error.status, e.operation.name]),
      [
        [1, 503, 'db'],
        [2, 503, 'db'],
      ],
    );
  });

  it('fails a 422 at once with a KubeError naming the object', async () => {
    const retrier = createRetrier(fast);
    let calls = 0;
    await assert.rejects(
      retrier.run(op, async () => {
        calls++;
        throw apiError(422, 'Invalid');
      }),
      (error: unknown) =>
        error instanceof KubeError && /patch StatefulSet shop\/db failed \(422\)/.test(error.message),
    );
    assert.equal(calls, 1);
    assert.equal(retrier.retries, 0);
  });

  it('waits as long as Retry-After asks before retrying a 429', async () => {
    const retrier = createRetrier(fast);
    let calls = 0;
    const started = Date.now();
    await retrier.run(op, async () => {
      if (calls++ === 0) throw apiError(429, 'TooManyRequests', { 'retry-after': '0.3' });
    });
    assert.ok(Date.now() - started >= 290, `waited ${Date.now() - started} ms`);
  });

  it('gives up after the configured retries with the last error', async () => {
    const retrier = createRetrier({ ...fast, retries: 2 });
    let calls = 0;
    await assert.rejects(
      retrier.run(op, async () => {
        calls++;
        throw apiError(500, 'InternalError');
      }),
      /retries were exhausted/,
    );
    assert.equal(calls, 3);
  });

  // The backoff is ten minutes: that the test ends at all shows the abort cut the wait short
  // (the test's own timeout fails it otherwise, instead of an elapsed-time bound that a loaded
  // machine can break).
  it('stops retrying when the signal aborts', { timeout: 120_000 }, async () => {
    const abort = new AbortController();
    const waits: number[] = [];
    const retrier = createRetrier({
      minDelayMs: 600_000,
      maxDelayMs: 600_000,
      // Aborts once the retrier has announced its wait, so the abort lands during it.
      onRetry: (event) => {
        waits.push(event.delayMs);
        setImmediate(() => abort.abort(new Error('cancelled')));
      },
    });
    let calls = 0;
    const run = retrier.run(
      op,
      async () => {
        calls++;
        throw apiError(503, 'ServiceUnavailable');
      },
      abort.signal,
    );
    await assert.rejects(run, /cancelled/);
    assert.equal(calls, 1, 'no attempt after the abort');
    assert.ok((waits[0] ?? 0) >= 600_000, `announced a wait of ${waits[0]} ms`);
  });
});

describe('retryOnConflict', () => {
  it('re-runs the read-and-write on 409 and counts each conflict', async () => {
    const retrier = createRetrier();
    let reads = 0;
    const result = await retrier.onConflict(op, async () => {
      reads++;
      if (reads < 3) throw toKubeError(apiError(409, 'Conflict'), op);
      return 'written';
    });
    assert.equal(result, 'written');
    assert.equal(reads, 3);
    assert.equal(retrier.retries, 2);
  });

  it('passes other errors through at once', async () => {
    let reads = 0;
    await assert.rejects(
      retryOnConflict(async () => {
        reads++;
        throw toKubeError(apiError(403, 'Forbidden'), op);
      }),
      /403/,
    );
    assert.equal(reads, 1);
  });

  it('gives up after the attempts with the conflict', async () => {
    let reads = 0;
    await assert.rejects(
      retryOnConflict(
        async () => {
          reads++;
          throw toKubeError(apiError(409, 'Conflict'), op);
        },
        { attempts: 3 },
      ),
      (error: unknown) => error instanceof KubeError && error.status === 409,
    );
    assert.equal(reads, 3);
  });
});
