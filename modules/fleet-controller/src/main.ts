#!/usr/bin/env node
// fleet-controller as an IoT Edge module (modules/fleet-controller/, docs/fleet-controller.md "As an IoT Edge
// module"): the controller of cloud/src/cli.ts configured by the module's environment (the deployment manifest's
// env, e.g. GATEWAY_PORT_RANGE_*), plus /healthz and /readyz on HEALTH_PORT (8082) for the image's HEALTHCHECK.
import {
  healthSettingsFromEnv,
  NOT_READY,
  ReadinessTracker,
  startHealthServer,
} from '../../common/src/health';
import { runControllerCli } from '../../../cloud/src/cli';
import { startStatusFromEnvironment } from '../../../cloud/src/status/from-environment';

/** The controller module's health port: 8080 is the gateway's and 8081 the forwarder's on the same host. */
const CONTROLLER_HEALTH_PORT = 8082;

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const readiness = new ReadinessTracker();
  const health = await startHealthServer({
    ...healthSettingsFromEnv(process.env, CONTROLLER_HEALTH_PORT),
    readiness: () => readiness.reasons(),
  });
  const shuttingDown = () => readiness.notReady(NOT_READY.shuttingDown, 'stopping');
  process.once('SIGTERM', shuttingDown);
  process.once('SIGINT', shuttingDown);
  try {
    const status = await startStatusFromEnvironment(argv, process.env);
    try {
      return await runControllerCli(argv, {
        env: process.env,
        stdout: process.stdout,
        stderr: process.stderr,
        signals: process,
      });
    } finally {
      await status?.close();
    }
  } finally {
    await health.close();
  }
}

main().then(
  // The Azure Monitor exporter may keep timers after its bounded shutdown: exit explicitly.
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`fleet-controller: fatal: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(70);
  },
);
