// The Log port for the command line: timestamped lines, stages as headings. The CLI runs in CI
// steps too, whose runner reads stderr for workflow commands: every line is neutralised.
import type { Log } from '../../ports/log.ts';
import { neutraliseWorkflowCommands } from '../log-text.ts';

export function consoleLog(options: { debug: boolean; write?: (line: string) => void }): Log {
  const out = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const write = (line: string) => out(neutraliseWorkflowCommands(line));
  const stamp = () => new Date().toISOString().slice(11, 23);
  let indent = '';
  return {
    info: (message) => write(`${stamp()} ${indent}${message}`),
    notice: (message) => write(`${stamp()} ${indent}notice: ${message}`),
    warning: (message) => write(`${stamp()} ${indent}warning: ${message}`),
    debug: (message) => {
      if (options.debug) write(`${stamp()} ${indent}debug: ${message}`);
    },
    startGroup(title) {
      indent = '';
      write(`${stamp()} == ${title}`);
      indent = '  ';
    },
    endGroup() {
      indent = '';
    },
  };
}
