// The Log port on @actions/core: log groups per stage, annotations for warnings and notices.
// Every message is neutralised first (log-text.ts): core.info writes it raw to stdout, where a
// line from the cluster could otherwise be read as a workflow command (::stop-commands::, ::error::).
import * as core from '@actions/core';
import type { Log } from '../../ports/log.ts';
import { neutraliseWorkflowCommands as safe } from '../log-text.ts';

export function actionsLog(): Log {
  let open = false;
  return {
    info: (message) => core.info(safe(message)),
    notice: (message) => core.notice(safe(message)),
    warning: (message) => core.warning(safe(message)),
    debug: (message) => core.debug(safe(message)),
    startGroup(title) {
      if (open) core.endGroup();
      core.startGroup(safe(title));
      open = true;
    },
    endGroup() {
      if (open) core.endGroup();
      open = false;
    },
  };
}
