// Exec checks: how a command's end (exit code, output) is judged against the check's condition.
// Pure; the exec port (src/ports/exec.ts) answers, src/runner/stages/measure.ts asks.
import { type ExecProbe, keeps, type Measurement } from './analysis.ts';
import { atJsonPath } from './json-path.ts';

/** How a command ended, as the exec port answers it. */
export interface ExecAnswer {
  readonly exitCode: number | undefined;
  readonly stdout: string;
  readonly stderr: string;
  readonly truncated: boolean;
  readonly error: string | undefined;
}

/** A command's end against the check's condition: exit 0, then the regex and the value of its output. */
export function judgeExec(probe: ExecProbe, answer: ExecAnswer): Pick<Measurement, 'value' | 'verdict'> {
  if (answer.exitCode === undefined)
    return { value: `did not run: ${oneLine(answer.error ?? 'no exit status')}`, verdict: 'fail' };
  const output = answer.stdout.trim();
  if (answer.exitCode !== 0) {
    const said = oneLine(answer.stderr) || oneLine(output);
    return { value: `exit ${answer.exitCode}${said ? `: ${said}` : ''}`, verdict: 'fail' };
  }
  if (probe.regex !== undefined && !new RegExp(probe.regex).test(output))
    return { value: `exit 0: ${oneLine(output) || '(no output)'}`, verdict: 'fail' };
  if (probe.expect === undefined)
    return { value: `exit 0${output ? `: ${oneLine(output)}` : ''}`, verdict: 'pass' };
  let value: unknown = output;
  if (probe.jsonPath !== undefined) {
    try {
      value = atJsonPath(JSON.parse(output), probe.jsonPath);
    } catch {
      return {
        value: `exit 0, not JSON${answer.truncated ? ' (cut)' : ''}: ${oneLine(output)}`,
        verdict: 'fail',
      };
    }
  }
  const shown =
    value === undefined
      ? 'missing'
      : typeof value === 'string'
        ? oneLine(value)
        : JSON.stringify(value).slice(0, 80);
  return {
    value: `exit 0, ${probe.jsonPath ?? 'output'} = ${shown}`,
    verdict: keeps(probe.expect, value) ? 'pass' : 'fail',
  };
}

/** At most 100 characters of text, on one line. */
/** `text` on one line (whitespace runs made one space), cut to `max` characters with an ellipsis. */
export function oneLine(text: string, max = 100): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
