import { readFile } from 'node:fs/promises';
import { createLogger, type Logger } from '../../../modules/common/src/log';
import { createIotHubServiceClients } from '../azure/iothub-service-clients';
import {
  parseControllerOptions,
  durationProblem,
  parseDurationMs,
  settingsOfOptions,
  type ControllerCliOptions,
} from '../cli-options';
import { MAX_GATEWAY_MODULES, resolveSettings } from '../settings';
import { StatusError } from './errors';
import { startStatusServer, type StatusServer } from './server';

/** Environment variables of the status view in the controller process. */
export const STATUS_ENV = {
  port: 'STATUS_PORT',
  bindAddress: 'STATUS_BIND_ADDRESS',
  pollInterval: 'STATUS_POLL_INTERVAL',
  operatorToken: 'STATUS_OPERATOR_TOKEN',
} as const;

/**
 * Starts the status view beside the controller when `STATUS_PORT` is set (not for `--once` or `--help`), reading
 * IoT Hub with the controller's own connection string and CA (`--iothub-connection-string`, `--iothub-ca` or their
 * variables). Resolves undefined when it is not wanted, or when the controller's options are incomplete (the
 * controller reports those itself). Bad status settings reject with STATUS_BAD_OPTIONS.
 */
export async function startStatusFromEnvironment(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  logger: Logger = createLogger('status-view'),
): Promise<StatusServer | undefined> {
  const portText = env[STATUS_ENV.port];
  if (portText === undefined || portText === '') return undefined;
  const parsed = parseControllerOptions(argv, env);
  if (!parsed.ok || parsed.options.once) return undefined;
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new StatusError(
      'STATUS_BAD_OPTIONS',
      `${STATUS_ENV.port} must be a port number, not "${portText}"`,
      false,
    );
  const intervalText = env[STATUS_ENV.pollInterval];
  const pollIntervalMs = intervalText ? parseDurationMs(intervalText) : undefined;
  if (intervalText && pollIntervalMs === undefined)
    throw new StatusError(
      'STATUS_BAD_OPTIONS',
      `${STATUS_ENV.pollInterval}: ${durationProblem(intervalText)}`,
      false,
    );
  const caFile = parsed.options.iothubCaFile;
  const ca = caFile !== undefined ? await readFile(caFile, 'utf8') : undefined;
  const clients = createIotHubServiceClients(parsed.options.iothubConnectionString, {
    ...(ca !== undefined && { ca }),
  });
  const operatorToken = env[STATUS_ENV.operatorToken] || undefined;
  let server: StatusServer;
  try {
    server = await startStatusServer({
      registry: clients.registry,
      port,
      bindAddress: env[STATUS_ENV.bindAddress] || '127.0.0.1',
      ...(operatorToken !== undefined && { operatorToken, methods: clients.client }),
      ...(pollIntervalMs !== undefined && { pollIntervalMs }),
      // Bad counts are the controller's to refuse (exit 64); the view stays within the limit meanwhile.
      gatewayModules: Math.min(
        MAX_GATEWAY_MODULES,
        Math.max(1, ...parsed.options.pools.map((p) => p.gatewayModules ?? 1)),
      ),
      ...renewMargin(parsed.options),
      logger,
    });
  } catch (err) {
    clients.close();
    throw err;
  }
  return {
    ...server,
    close: async () => {
      await server.close();
      clients.close();
    },
  };
}

// The margin the controller renews at: a token below it is one the controller missed. Bad settings are the
// controller's to report; the view then keeps its default.
function renewMargin(options: ControllerCliOptions): { tokenWarnBelowMs?: number } {
  try {
    return { tokenWarnBelowMs: resolveSettings(settingsOfOptions(options)).tokenRenewMarginMs };
  } catch {
    return {};
  }
}
