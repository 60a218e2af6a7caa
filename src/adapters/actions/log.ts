// The Log port on @actions/core: log groups per stage, annotations for warnings and notices.
import * as core from '@actions/core';
import type { Log } from '../../ports/log.ts';

export function actionsLog(): Log {
  let open = false;
  return {
    info: (message) => core.info(message),
    notice: (message) => core.notice(message),
    warning: (message) => core.warning(message),
    debug: (message) => core.debug(message),
    startGroup(title) {
      if (open) core.endGroup();
      core.startGroup(title);
      open = true;
    },
    endGroup() {
      if (open) core.endGroup();
      open = false;
    },
  };
}
