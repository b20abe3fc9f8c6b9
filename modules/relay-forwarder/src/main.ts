#!/usr/bin/env node
// relay-forwarder entry point: `relay-forwarder --config f.json`. Everything else is importable from cli.ts.
import { runForwarderCli } from './cli';

runForwarderCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  signals: process,
}).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`relay-forwarder: fatal: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(70);
  },
);
