#!/usr/bin/env node
// fleet-controller entry point: options from flags and environment (see cli-options.ts, docs/fleet-controller.md).
// Everything else is importable: runController for an in-process controller, runControllerCli for this process.
import { runControllerCli } from './cli';
import { startStatusFromEnvironment } from './status/from-environment';

const argv = process.argv.slice(2);

// The status page (docs/status-view.md) runs beside the controller when STATUS_PORT is set.
startStatusFromEnvironment(argv, process.env)
  .then((status) =>
    runControllerCli(argv, {
      env: process.env,
      stdout: process.stdout,
      stderr: process.stderr,
      signals: process,
    }).finally(() => status?.close()),
  )
  .then(
    // The Azure Monitor exporter may keep timers after its bounded shutdown: exit explicitly.
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`fleet-controller: fatal: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(70);
    },
  );
