#!/usr/bin/env node
// fleet-controller entry point: options from flags and environment (see cli-options.ts, docs/fleet-controller.md).
// Everything else is importable: runController for an in-process controller, runControllerCli for this process.
import { runControllerCli } from './cli';

runControllerCli(process.argv.slice(2), {
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
  signals: process,
}).then(
  // The Azure Monitor exporter may keep timers after its bounded shutdown: exit explicitly.
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`fleet-controller: fatal: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(70);
  },
);
