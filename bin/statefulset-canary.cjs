#!/usr/bin/env node
// The npm package's command (statefulset-canary, and kubectl-statefulset_canary for kubectl's
// plugin lookup). CommonJS in the syntax every Node understands, so that an older Node reaches
// this check and prints what to do instead of a syntax error from the Node 24 bundle.
'use strict';
var major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(
    'statefulset-canary needs Node.js 24 or newer, and this is Node.js ' +
      process.version +
      ' (' +
      process.execPath +
      ').\n' +
      'Install Node.js 24 (for example `nvm install 24` or the node:24 image), or use the single ' +
      'executable statefulset-canary-linux-x64 from the GitHub release, which needs no Node.\n',
  );
  process.exit(2);
}
import('../dist/cli.js');
