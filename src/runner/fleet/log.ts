// StatefulSets rolled out in parallel share the one log: each line says whose it is, and the
// log groups of a stage (which cannot interleave) become headed lines.
import type { Log } from '../../ports/log.ts';

/** `log` with every line prefixed `[prefix]`; groups become lines of their own. */
export function prefixedLog(log: Log, prefix: string): Log {
  const p = (message: string) => `[${prefix}] ${message}`;
  return {
    info: (message) => log.info(p(message)),
    notice: (message) => log.notice(p(message)),
    warning: (message) => log.warning(p(message)),
    debug: (message) => log.debug(p(message)),
    startGroup: (title) => log.info(p(`== ${title}`)),
    endGroup: () => undefined,
  };
}
