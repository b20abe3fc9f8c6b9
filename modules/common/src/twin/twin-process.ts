import { parseModuleArgs } from '../module-cli/args';

/** How a module process is configured: a file named with `--config`, or (the IoT Edge default) its module twin. */
export type ModuleMode = 'file' | 'twin';

/** `file` when the command line names a configuration file, else `twin`: IoT Edge starts `main.js` with no arguments. */
export function selectModuleMode(argv: readonly string[]): ModuleMode {
  return argv.some((arg) => arg === '--config' || arg === '-c' || arg.startsWith('--config='))
    ? 'file'
    : 'twin';
}

/** Command line of twin mode. */
export interface TwinCliArgs {
  readonly relayCaPath?: string;
  readonly logLevel?: string;
  readonly shutdownDrainMs?: number;
}

/** Parses the twin-mode command line (without node and script); returns an error text instead of throwing. */
export function parseTwinCliArgs(
  argv: readonly string[],
): { ok: true; args: TwinCliArgs } | { ok: false; help: boolean; error?: string } {
  return parseModuleArgs(argv, { config: false, shutdownDrain: true });
}

/** Reporting settings a twin-mode process takes from its environment (set in the deployment manifest). */
export interface TwinEnvSettings {
  readonly reported: { readonly debounceMs?: number; readonly refreshIntervalMs?: number };
  readonly stats: { readonly intervalMs?: number };
  /** `LOCATION`: the location id put on stats messages. */
  readonly location?: string;
}

/** Environment variables read by twinSettingsFromEnv, with what they set. */
export const TWIN_ENV_VARIABLES = {
  REPORTED_DEBOUNCE_MS: 'coalescing window of reported patches (default 1000)',
  REPORTED_REFRESH_MS: 'period of counter updates in reported properties, 0 = off (default 60000)',
  STATS_INTERVAL_MS: 'period of the stats output message, 0 = off (default 60000)',
  LOCATION: 'location id on stats messages (relay-forwarder default: the device id)',
} as const;

/** Reads TWIN_ENV_VARIABLES; a value that is not a whole number of milliseconds is an error naming the variable. */
export function twinSettingsFromEnv(
  env: Readonly<Record<string, string | undefined>>,
): { ok: true; settings: TwinEnvSettings } | { ok: false; error: string } {
  const numbers: Record<string, number> = {};
  for (const name of ['REPORTED_DEBOUNCE_MS', 'REPORTED_REFRESH_MS', 'STATS_INTERVAL_MS']) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    if (!/^[0-9]{1,9}$/.test(raw))
      return { ok: false, error: `${name} must be a whole number of milliseconds` };
    numbers[name] = Number(raw);
  }
  return {
    ok: true,
    settings: {
      reported: {
        ...(numbers.REPORTED_DEBOUNCE_MS !== undefined && { debounceMs: numbers.REPORTED_DEBOUNCE_MS }),
        ...(numbers.REPORTED_REFRESH_MS !== undefined && { refreshIntervalMs: numbers.REPORTED_REFRESH_MS }),
      },
      stats: { ...(numbers.STATS_INTERVAL_MS !== undefined && { intervalMs: numbers.STATS_INTERVAL_MS }) },
      ...(env.LOCATION && { location: env.LOCATION }),
    },
  };
}

/** The IoT Edge variables `ModuleClient.fromEnvironment` needs when no connection string is given. */
const EDGE_VARIABLES = [
  'IOTEDGE_WORKLOADURI',
  'IOTEDGE_DEVICEID',
  'IOTEDGE_MODULEID',
  'IOTEDGE_IOTHUBHOSTNAME',
  'IOTEDGE_AUTHSCHEME',
  'IOTEDGE_MODULEGENERATIONID',
];

/**
 * Why twin mode cannot connect with this environment, or undefined when it can: a module started without
 * `--config` outside IoT Edge and without a connection string would otherwise retry forever, quietly.
 */
export function checkModuleEnvironment(
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  if (env.EdgeHubConnectionString || env.IotHubConnectionString) return undefined;
  const missing = EDGE_VARIABLES.filter((name) => !env[name]);
  if (missing.length === 0) return undefined;
  return (
    'twin mode needs the IoT Edge environment or a module connection string: set EdgeHubConnectionString or ' +
    'IotHubConnectionString (with EdgeModuleCACertificateFile for a private CA), or run with --config <file> ' +
    `(missing: ${missing.join(', ')})`
  );
}

/** Resolves with the first SIGINT or SIGTERM `signals` emits, removing its own listeners. */
export function waitForStopSignal(
  signals: NodeJS.EventEmitter,
  onStop?: (name: 'SIGINT' | 'SIGTERM') => void,
): Promise<'SIGINT' | 'SIGTERM'> {
  return new Promise((resolve) => {
    const onInt = (): void => done('SIGINT');
    const onTerm = (): void => done('SIGTERM');
    const done = (name: 'SIGINT' | 'SIGTERM'): void => {
      // Whoever handles later signals subscribes before we unsubscribe: with no listener for a moment, Node
      // restores the default action and a second signal arriving then would kill the process mid-drain.
      onStop?.(name);
      signals.off('SIGINT', onInt);
      signals.off('SIGTERM', onTerm);
      resolve(name);
    };
    signals.on('SIGINT', onInt);
    signals.on('SIGTERM', onTerm);
  });
}
