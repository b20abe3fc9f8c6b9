#!/usr/bin/env node
// fleet-controller entry point: options from flags and environment (see cli-options.ts, docs/fleet-controller.md).
// Everything else is importable: runController for an in-process controller, runControllerCli for this process.
import { wantsDebug } from '../../modules/common/src/cli/command-line';
import { CliError } from '../../modules/common/src/cli/cli-error';
import { ExitCode } from '../../modules/common/src/cli/exit-codes';
import { failureExit } from '../../modules/common/src/cli/failure';
import { runControllerCli } from './cli';
import { StatusError } from './status/errors';
import { startStatusFromEnvironment } from './status/from-environment';

const argv = process.argv.slice(2);

// The status page (docs/status-view.md) runs beside the controller when STATUS_PORT is set.
startStatusFromEnvironment(argv, process.env)
  .catch((err: unknown) => {
    // A bad STATUS_* variable is the operator's configuration, not a bug.
    throw err instanceof StatusError
      ? new CliError(
          ExitCode.CONFIG,
          `status view: ${err.message}`,
          'fix STATUS_PORT / STATUS_* (docs/status-view.md)',
        )
      : err;
  })
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
    (err: unknown) => process.exit(failureExit('fleet-controller', err, process.stderr, wantsDebug(argv))),
  );
