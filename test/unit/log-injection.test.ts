// Workflow-command injection (issue 26 item 5): the runner reads every line of a step's stdout
// and stderr (split at \n, \r\n and a lone \r) as a possible command, `::name::` after leading
// white space or `##[name]` anywhere. Text from the cluster, an app, an exec or Prometheus
// reaches the log through the Log port: no line of it may become a command.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { actionsLog } from '../../src/adapters/actions/log.ts';
import { consoleLog } from '../../src/adapters/console/log.ts';
import { neutraliseWorkflowCommands } from '../../src/adapters/log-text.ts';

const hostile = [
  '::stop-commands::pwned',
  'pod db-2: ::error file=x::forged failure',
  'ready\r::add-mask::x',
  'ok\r  ::error::forged after a lone carriage return',
  'event message\n  ::warning::forged\r\n::set-output name=result::succeeded',
  '##[error]legacy form mid-line',
];

/** The workflow commands the runner would read in `output`, one per line that holds one. */
function commandsIn(output: string): string[] {
  return output.split(/\r\n|\r|\n/).flatMap((line) => {
    const v2 = /^\s*::([\w-]+)/.exec(line)?.[1];
    const v1 = [...line.matchAll(/##\[([\w-]+)/g)].map((m) => m[1] ?? '');
    return [...(v2 === undefined ? [] : [v2]), ...v1];
  });
}

/** What `act` writes to stdout, captured. */
function stdoutOf(act: () => void): string {
  const chunks: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  try {
    act();
  } finally {
    process.stdout.write = write;
  }
  return chunks.join('');
}

describe('text that reaches the Actions log', () => {
  it('finds the commands in the raw hostile text (the check can fail)', () => {
    assert.deepEqual(commandsIn(hostile.join('\n')), [
      'stop-commands',
      'add-mask',
      'error',
      'warning',
      'set-output',
      'error',
    ]);
  });

  for (const text of hostile) {
    it(`starts no command in info, warning, notice, debug or a group title: ${JSON.stringify(text)}`, () => {
      const log = actionsLog();
      const output = stdoutOf(() => {
        log.info(text);
        log.warning(text);
        log.notice(text);
        log.debug(text);
        log.startGroup(text);
        log.endGroup();
      });
      // Only the adapter's own commands, once each.
      assert.deepEqual(commandsIn(output), ['warning', 'notice', 'debug', 'group', 'endgroup']);
      assert.doesNotMatch(output, /::(stop-commands|error|add-mask|set-output)/);
    });

    it(`starts no command on the command line's stderr: ${JSON.stringify(text)}`, () => {
      const lines: string[] = [];
      const log = consoleLog({ debug: true, write: (line) => lines.push(line) });
      log.info(text);
      log.warning(text);
      log.startGroup(text);
      assert.deepEqual(commandsIn(lines.join('\n')), []);
    });
  }

  it('reads the same to a person: only zero-width spaces added, a lone \\r shown as \\r', () => {
    const safe = neutraliseWorkflowCommands('a::b\r\nc\rd ##[x]');
    assert.equal(safe.replaceAll('\u200b', ''), 'a::b\nc\\rd ##[x]');
  });
});
