// Process-level observability of relay-forwarder: telemetry (Azure Monitor / Prometheus) and /healthz + /readyz on
// HEALTH_PORT (default 8081), bound to the forwarder through the CLI's extension hook. The entry file creates it,
// passes `extension` to either mode's CLI, and awaits `shutdown()` before it exits.
import type { Logger } from '../../common/src/log';
import {
  createModuleObservability,
  type ModuleObservability,
} from '../../common/src/telemetry/module-observability';
import type { Forwarder } from './forwarder';
import { attachForwarderTelemetry, FORWARDER_MODULE, type ForwarderTelemetryOptions } from './observability';
import { ForwarderReadiness } from './readiness';

/** Default port of /healthz and /readyz on a forwarder. */
export const FORWARDER_HEALTH_PORT = 8081;

/** Options for forwarderObservability. */
export interface ForwarderObservabilityOptions {
  /** Settings source (HEALTH_PORT, METRICS_PORT, LOCATION, IOTEDGE_DEVICEID, …); default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  readonly logger?: Logger;
  /** Pass `process`: the first stop signal marks the forwarder not ready while it drains. */
  readonly signals?: NodeJS.EventEmitter;
  /** Telemetry options; `location` defaults to LOCATION, else IOTEDGE_DEVICEID. */
  readonly telemetry?: ForwarderTelemetryOptions;
}

/** The forwarder's observability: `extension` for the CLI, `readiness` (reasons for reports), `shutdown`. */
export type ForwarderObservability = ModuleObservability<Forwarder> & {
  readonly readiness: ForwarderReadiness;
};

/** Creates the forwarder process's observability; nothing starts until the CLI runs `extension` with its forwarder. */
export function forwarderObservability(options: ForwarderObservabilityOptions = {}): ForwarderObservability {
  const env = options.env ?? process.env;
  const location = options.telemetry?.location ?? (env.LOCATION || env.IOTEDGE_DEVICEID || undefined);
  const readiness = new ForwarderReadiness();
  const observability = createModuleObservability<Forwarder>({
    serviceName: FORWARDER_MODULE,
    defaultHealthPort: FORWARDER_HEALTH_PORT,
    readiness,
    attachTelemetry: (forwarder, telemetry) => {
      const binding = attachForwarderTelemetry(forwarder, telemetry, {
        ...options.telemetry,
        ...(location !== undefined && { location }),
      });
      return () => binding.detach();
    },
    env,
    ...(options.logger && { logger: options.logger }),
    ...(options.signals && { signals: options.signals }),
  });
  return { ...observability, readiness };
}
