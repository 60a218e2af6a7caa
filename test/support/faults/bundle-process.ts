// The bundled action as a child process a test can signal mid-run (a cancelled workflow run
// sends SIGINT, then SIGTERM): startBundle in test/integration/runner-env.ts.
export { type BundleProcess, type Exit, startBundle } from '../runner-env.ts';
