// The one recording Log of the tests: every line as `level: message` in `lines` (groups as
// `group: title` and `endgroup`), warnings and notices also on their own.
import type { Log } from '../../../src/ports/log.ts';

export interface RecordingLog extends Log {
  readonly lines: string[];
  readonly warnings: string[];
  readonly notices: string[];
}

export function recordingLog(): RecordingLog {
  const lines: string[] = [];
  const warnings: string[] = [];
  const notices: string[] = [];
  return {
    lines,
    warnings,
    notices,
    info: (m) => lines.push(`info: ${m}`),
    notice: (m) => {
      notices.push(m);
      lines.push(`notice: ${m}`);
    },
    warning: (m) => {
      warnings.push(m);
      lines.push(`warning: ${m}`);
    },
    debug: (m) => lines.push(`debug: ${m}`),
    startGroup: (m) => lines.push(`group: ${m}`),
    endGroup: () => lines.push('endgroup'),
  };
}
