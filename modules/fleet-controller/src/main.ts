#!/usr/bin/env node
// fleet-controller as an IoT Edge module (docs/fleet-controller.md "As an IoT Edge module"): the controller of
// cloud/src/cli.ts configured by the module's environment (the deployment manifest's env, e.g. GATEWAY_PORT_RANGE_*)
// and its module twin's desired settings (twin-settings.ts), plus /healthz and /readyz on HEALTH_PORT (8082).
import { EventEmitter } from 'node:events';
import { wantsDebug } from '../../common/src/cli/command-line';
import { failureExit } from '../../common/src/cli/failure';
import { createLogger } from '../../common/src/log';
import {
  healthSettingsFromEnv,
  NOT_READY,
  ReadinessTracker,
  startHealthServer,
} from '../../common/src/health';
import { runControllerCli } from '../../../cloud/src/cli';
import { startStatusFromEnvironment } from '../../../cloud/src/status/from-environment';
import { hasModuleIdentity, openControllerTwin, type ControllerTwin } from './module-twin';
import { desiredSettings } from './twin-settings';

/** The controller module's health port: 8080 is the gateway's and 8081 the forwarder's on the same host. */
const CONTROLLER_HEALTH_PORT = 8082;

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  // --help and --version are answered before anything starts (no health port, no twin).
  if (argv.some((a) => a === '--help' || a === '-h' || a === '--version'))
    return runControllerCli(argv, {
      env: process.env,
      stdout: process.stdout,
      stderr: process.stderr,
      signals: process,
    });
  const log = createLogger('fleet-controller-module', process.env.LOG_LEVEL);
  const readiness = new ReadinessTracker();
  const health = await startHealthServer({
    ...healthSettingsFromEnv(process.env, CONTROLLER_HEALTH_PORT),
    readiness: () => readiness.reasons(),
  });
  // The controller stops on these; a desired-settings change raises one too (the edge agent then restarts us).
  const signals = new EventEmitter();
  const stop = (signal: string) => {
    readiness.notReady(NOT_READY.shuttingDown, 'stopping');
    signals.emit(signal);
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  let twin: ControllerTwin | undefined;
  try {
    let env: Record<string, string | undefined> = { ...process.env };
    if (hasModuleIdentity(process.env)) {
      twin = await openControllerTwin(process.env);
      const applied = desiredSettings(twin.desired(), argv, process.env);
      if (applied.ok) env = { ...env, ...applied.overrides };
      else log.error({ problems: applied.problems }, 'desired settings refused; running on the environment');
      await report(twin, applied.ok ? applied.overrides : {}, applied.ok ? [] : applied.problems);
      twin.onDesiredChange((desired) => {
        const next = desiredSettings(desired, argv, process.env);
        if (!next.ok) {
          // Refused: the running configuration stays.
          log.error({ problems: next.problems }, 'desired settings refused; the running ones stay');
          void report(twin as ControllerTwin, applied.ok ? applied.overrides : {}, next.problems);
          return;
        }
        log.info({ settings: next.overrides }, 'desired settings changed; restarting to apply them');
        stop('SIGTERM');
      });
    }
    const status = await startStatusFromEnvironment(argv, env);
    try {
      return await runControllerCli(argv, { env, stdout: process.stdout, stderr: process.stderr, signals });
    } finally {
      await status?.close();
    }
  } finally {
    await twin?.close();
    await health.close();
  }
}

/** Reported `settings`: what runs, and why the last desired document was refused (never a secret: names only). */
async function report(twin: ControllerTwin, applied: Record<string, string>, problems: readonly string[]) {
  await twin
    .report({
      settings: { applied: { ...applied }, problems: problems.length > 0 ? problems.join('; ') : null },
    })
    .catch(() => undefined); // a reported-properties failure must not stop the controller
}

main().then(
  // The Azure Monitor exporter may keep timers after its bounded shutdown: exit explicitly.
  (code) => process.exit(code),
  (err: unknown) =>
    process.exit(failureExit('fleet-controller', err, process.stderr, wantsDebug(process.argv.slice(2)))),
);
