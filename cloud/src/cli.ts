import { readFile } from 'node:fs/promises';
import type { TokenCredential } from '@azure/core-auth';
import { projectVersion } from '../../modules/common/src/cli/version';
import { createLogger, type Logger } from '../../modules/common/src/log';
import { startTelemetry } from '../../modules/common/src/telemetry/bootstrap';
import { waitForStopSignal } from '../../modules/common/src/twin/twin-process';
import { armRefsOf } from './cli-namespaces';
import { parseControllerOptions, settingsOfOptions, USAGE, type ControllerCliOptions } from './cli-options';
import { controllerFailure } from './cli-failure';
import { isControllerError } from './errors';
import { runController, type ControllerHandle } from './run-controller';
import { resolveSettings, type ControllerSettings } from './settings';

/** Exit codes of the controller process (sysexits.h values, like the modules'). */
export const ExitCode = {
  OK: 0,
  /** `--once`: the reconcile did not converge (see the log and the locations' status tags). */
  NOT_CONVERGED: 1,
  USAGE: 64,
  /** A CA file could not be read. */
  NO_INPUT: 66,
  /** IoT Hub or ARM cannot be reached or failed (`--once`). */
  UNAVAILABLE: 69,
  /** IoT Hub or ARM refused the credential (`--once`). */
  NO_PERM: 77,
} as const;

/** Where the CLI reads and writes, and which signals it handles (the process, unless a test passes its own). */
export interface ControllerCliIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  readonly signals: NodeJS.EventEmitter;
  readonly logger?: Logger;
}

/**
 * The controller process: options from flags and environment, the unmodified SDK clients (DefaultAzureCredential
 * for ARM, in Azure and in the sandbox alike), telemetry, then the reconcile loop until SIGINT/SIGTERM — or one reconcile
 * with `--once`. Resolves with the exit code.
 */
export async function runControllerCli(argv: readonly string[], io: ControllerCliIo): Promise<number> {
  const parsed = parseControllerOptions(argv, io.env);
  if (!parsed.ok) {
    if (parsed.help) {
      io.stdout.write(USAGE);
      return ExitCode.OK;
    }
    if (parsed.version) {
      io.stdout.write(`fleet-controller ${projectVersion()}\n`);
      return ExitCode.OK;
    }
    io.stderr.write(`fleet-controller: ${parsed.problems.join('\n  ')}\n\n${USAGE}`);
    return ExitCode.USAGE;
  }
  const o = parsed.options;
  // Listened for before anything slow (CA files, telemetry, loading @azure/identity): a stop asked for during
  // start-up is kept, not lost. It was lost: the module's restart on a desired change, or IoT Edge's SIGTERM,
  // arriving in that window left the controller running until killed. `--once` keeps the default signal handling.
  const stopped = o.once ? undefined : waitForStopSignal(io.signals);
  let iothubCa: string | undefined;
  let armCa: string | undefined;
  try {
    if (o.iothubCaFile) iothubCa = await readFile(o.iothubCaFile, 'utf8');
    if (o.armCaFile) armCa = await readFile(o.armCaFile, 'utf8');
  } catch (err) {
    io.stderr.write(`fleet-controller: cannot read a CA file: ${(err as Error).message}\n`);
    return ExitCode.NO_INPUT;
  }
  let settings: ControllerSettings;
  try {
    settings = resolveSettings(settingsOf(o));
  } catch (err) {
    if (!isControllerError(err, 'CONTROLLER_BAD_SETTINGS')) throw err;
    io.stderr.write(`fleet-controller: ${err.message}\n`);
    return ExitCode.USAGE;
  }
  const logger = io.logger ?? createLogger('fleet-controller', o.logLevel);
  const telemetry = await startTelemetry({
    serviceName: 'fleet-controller',
    env: io.env as NodeJS.ProcessEnv,
    logger,
  });
  let handle: ControllerHandle | undefined;
  try {
    handle = runController({
      settings,
      iothub: { connectionString: o.iothubConnectionString, ...(iothubCa !== undefined && { ca: iothubCa }) },
      ...(o.hubBudget && { hubBudget: o.hubBudget }),
      arm: {
        credential: await credentialFor(),
        subscriptionId: o.subscriptionId,
        resourceGroup: o.resourceGroup,
        ...(o.namespaces ? { namespaces: armRefsOf(o.namespaces) } : { namespace: o.namespace }),
        ...(o.armEndpoint !== undefined && { endpoint: o.armEndpoint }),
        ...(armCa !== undefined && { ca: armCa }),
      },
      logger,
      metrics: telemetry.metrics,
      tracer: telemetry.tracer,
      start: !o.once,
      ...(o.intervalMs !== undefined && { intervalMs: o.intervalMs }),
      ...(o.pollIntervalMs !== undefined && { pollIntervalMs: o.pollIntervalMs }),
      // `--once` is a person's one-off run (key rotation): it takes no lease and writes unfenced.
      ...(o.leaseDeviceId !== undefined &&
        !o.once && { lease: leaseOptions(o.leaseDeviceId, o.leaseDurationMs) }),
    });
    if (o.once) {
      // An unreachable or refusing service is an expected failure: thrown as one line with what to check.
      const result = await handle.reconcileNow().catch((err: unknown) => {
        throw controllerFailure(err);
      });
      return result.outcome === 'converged' ? ExitCode.OK : ExitCode.NOT_CONVERGED;
    }
    const signal = await stopped!;
    logger.info({ signal }, 'stopping');
    return ExitCode.OK;
  } finally {
    await handle?.stop();
    await telemetry.shutdown();
  }
}

function settingsOf(o: ControllerCliOptions) {
  return settingsOfOptions(o);
}

// Loaded on demand: @azure/identity is large. The same credential in Azure and in the sandbox, whose managed
// identity endpoint (IDENTITY_ENDPOINT/IDENTITY_HEADER, as App Service and IoT Edge set them) it finds itself.
async function credentialFor(): Promise<TokenCredential> {
  const { DefaultAzureCredential } = await import('@azure/identity');
  return new DefaultAzureCredential();
}

// Renew three times per duration; a standby reads every quarter duration (at most 2 s), so takeover after a crash
// takes between the duration and the duration plus one read.
function leaseOptions(deviceId: string, durationMs = 15_000) {
  return {
    deviceId,
    durationMs,
    renewIntervalMs: Math.round(durationMs / 3),
    retryIntervalMs: Math.min(2_000, Math.round(durationMs / 4)),
  };
}
