#!/usr/bin/env node
// relay-gateway entry point: `relay-gateway --config f.json`. Everything else is importable from cli.ts.
import { runGatewayCli } from './cli';

runGatewayCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  signals: process,
}).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`relay-gateway: fatal: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(70);
  },
);
