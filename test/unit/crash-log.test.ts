// The crash log of a failed stage (issue 22, item 5), pure: which containers' logs are read
// (bounded), what of the text is shown, the line for a log that could not be read, how the run's
// log prints it, and the masking of the run's secrets.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CRASH_LOG,
  type CrashLogTarget,
  crashLog,
  crashLogLines,
  crashLogTargets,
  maskSecrets,
} from '../../src/engine/crash-log.ts';
import type { ContainerEvidence, PodEvidence } from '../../src/engine/diagnosis.ts';

function container(overrides: Partial<ContainerEvidence> = {}): ContainerEvidence {
  return {
    name: 'app',
    ready: false,
    waitingReason: undefined,
    waitingMessage: undefined,
    lastTermination: undefined,
    restartCount: 0,
    terminated: undefined,
    ...overrides,
  };
}

const crashLooping = container({
  waitingReason: 'CrashLoopBackOff',
  restartCount: 3,
  lastTermination: { reason: 'Error', exitCode: 1, message: undefined },
});

function pod(name: string, containers: ContainerEvidence[]): PodEvidence {
  return {
    pod: name,
    phase: 'Running',
    createdAt: undefined,
    deleting: false,
    conditions: [],
    containers,
    events: [],
    claims: [],
    unreadable: [],
  };
}

const target: CrashLogTarget = { pod: 'db-2', container: 'app', previous: true };

describe('crash logs: which logs a failed stage reads', () => {
  it('A container in CrashLoopBackOff is read from its previous instance', () => {
    assert.deepEqual(crashLogTargets([pod('db-2', [crashLooping])], { pod: 'db-2', container: 'app' }), [
      { pod: 'db-2', container: 'app', previous: true },
    ]);
  });

  it('A container terminated with an error and not restarted yet is read from itself', () => {
    const stopped = container({ terminated: { reason: 'Error', exitCode: 2 } });
    assert.deepEqual(crashLogTargets([pod('db-2', [stopped])], { pod: '', container: undefined }), [
      { pod: 'db-2', container: 'app', previous: false },
    ]);
  });

  it('A container that restarted after a termination is read from its previous instance, even Running again', () => {
    const restarted = container({
      restartCount: 1,
      lastTermination: { reason: 'OOMKilled', exitCode: 137, message: undefined },
    });
    assert.deepEqual(crashLogTargets([pod('db-2', [restarted])], { pod: '', container: undefined }), [
      { pod: 'db-2', container: 'app', previous: true },
    ]);
  });

  it('A pod that did not crash (Pending, ImagePullBackOff, not Ready) costs no request', () => {
    const pulling = container({ waitingReason: 'ImagePullBackOff' });
    const notReady = container({ ready: false });
    const evidence = [pod('db-2', [pulling]), pod('db-1', [notReady]), pod('db-0', [])];
    assert.deepEqual(crashLogTargets(evidence, { pod: 'db-2', container: 'app' }), []);
  });

  it(`Reads at most ${CRASH_LOG.PODS} pods however many crashed, the failing pod first`, () => {
    const evidence = Array.from({ length: 1000 }, (_, i) => pod(`db-${i}`, [crashLooping]));
    const targets = crashLogTargets(evidence, { pod: 'db-500', container: 'app' });
    assert.deepEqual(
      targets.map((t) => t.pod),
      ['db-500', 'db-0', 'db-1'],
    );
  });

  it('Reads one container a pod, the failure’s container first', () => {
    const sidecar = { ...crashLooping, name: 'sidecar' };
    const targets = crashLogTargets([pod('db-2', [sidecar, crashLooping])], {
      pod: 'db-2',
      container: 'app',
    });
    assert.deepEqual(targets, [{ pod: 'db-2', container: 'app', previous: true }]);
  });
});

describe('crash logs: what the report shows of a log', () => {
  it(`Shows the last ${CRASH_LOG.TAIL_LINES} lines, each at most ${CRASH_LOG.LINE_CHARS} characters`, () => {
    const text = `${Array.from({ length: 30 }, (_, i) => `line ${i}`).join('\n')}\n${'x'.repeat(1000)}\n`;
    const log = crashLog(target, { kind: 'text', text });
    assert.equal(log.lines.length, CRASH_LOG.TAIL_LINES);
    assert.equal(log.lines[0], 'line 11');
    assert.equal(log.lines.at(-1), `${'x'.repeat(CRASH_LOG.LINE_CHARS - 1)}…`);
    assert.equal(log.cut, false);
    assert.equal(log.note, undefined);
  });

  it(`Says the API server cut the log at ${CRASH_LOG.LIMIT_BYTES} bytes`, () => {
    const text = `${'y'.repeat(100)}\n`.repeat(100);
    const log = crashLog(target, { kind: 'text', text: text.slice(0, CRASH_LOG.LIMIT_BYTES) });
    assert.equal(log.cut, true);
    assert.match(crashLogLines(log)[0] ?? '', /cut at 8192 bytes/);
  });

  it('Strips terminal colours and control characters, keeps backticks and Markdown as text', () => {
    const text = '\u001b[31mpanic:\u001b[0m boom\u0007 ```\n\u202e<script>alert(1)</script>\tdone\r\n';
    const log = crashLog(target, { kind: 'text', text });
    assert.deepEqual(log.lines, ['panic: boom ```', '<script>alert(1)</script> done']);
  });

  it('A 403 says what it could not read and which RBAC rule adds it, and the run goes on', () => {
    const log = crashLog(target, { kind: 'forbidden' });
    assert.deepEqual(log.lines, []);
    assert.deepEqual(crashLogLines(log), [
      'Crash log of db-2, container app (previous instance): could not read its log (forbidden): the RBAC rule pods/log get adds it',
    ]);
  });

  it('No previous log, an empty log and another error are one short line each', () => {
    assert.equal(crashLog(target, { kind: 'none' }).note, 'no log of the previous instance');
    assert.equal(crashLog(target, { kind: 'text', text: '\n' }).note, 'its log is empty');
    const error = crashLog(target, { kind: 'error', reason: `500: ${'dial tcp: refused '.repeat(20)}` });
    assert.match(error.note ?? '', /^could not read its log \(500: dial tcp: refused/);
    assert.ok((error.note ?? '').length < 160, error.note);
  });

  it('The run’s log prints each line after "| ", so a log line cannot start a workflow command', () => {
    const text = '::add-mask::x\n::error::forged\nok';
    const lines = crashLogLines(crashLog(target, { kind: 'text', text }));
    assert.equal(lines[0], 'Crash log of db-2, container app (previous instance), last 3 lines:');
    assert.deepEqual(lines.slice(1), ['  | ::add-mask::x', '  | ::error::forged', '  | ok']);
    assert.ok(lines.every((l) => !l.startsWith('::')));
  });
});

describe('crash logs: masking the run’s secrets', () => {
  it('Replaces every occurrence of each secret, longest first, as the runner masks its log', () => {
    const token = 'eyJhbGciOiJSUzI1NiJ9.secret-token';
    const text = `connecting with ${token}\nretry ${token}; prefix eyJhbGciOiJSUzI1NiJ9 alone`;
    assert.equal(
      maskSecrets(text, [token, 'eyJhbGciOiJSUzI1NiJ9']),
      'connecting with ***\nretry ***; prefix *** alone',
    );
  });

  it('Leaves text alone for empty and very short values (they would mask common text)', () => {
    assert.equal(maskSecrets('a b abc', ['', 'a', 'abc', '   ']), 'a b abc');
  });
});
