#!/usr/bin/env node
// Entry point of the `malloc` command. It is committed (not built) so that npm links it at
// install time, before `dist/` exists; it loads the compiled CLI.
let cli;
try {
  cli = require('../dist/cli.js');
} catch (error) {
  if (error && error.code === 'MODULE_NOT_FOUND' && String(error.message).includes('dist/cli.js')) {
    process.stderr.write("malloc: the runner is not built yet (missing packages/runner/dist/cli.js). Run 'npm run build' in the workspace first.\n");
    process.exit(2);
  }
  throw error;
}
cli.runCli();
