// The Log port for the command line: timestamped lines, stages as headings.
import type { Log } from '../../ports/log.ts';

export function consoleLog(options: { debug: boolean; write?: (line: string) => void }): Log {
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
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
