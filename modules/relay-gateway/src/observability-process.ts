// Process-level observability of relay-gateway: telemetry (Azure Monitor / Prometheus) and /healthz + /readyz on
// HEALTH_PORT (default 8080), bound to the gateway through the CLI's extension hook. The entry file creates it,
// passes `extension` to either mode's CLI, and awaits `shutdown()` before it exits.
import type { Logger } from '../../common/src/log';
import {
  createModuleObservability,
  type ModuleObservability,
} from '../../common/src/telemetry/module-observability';
import type { Gateway } from './gateway';
import { attachGatewayTelemetry, GATEWAY_MODULE, type GatewayTelemetryOptions } from './observability';
import { GatewayReadiness, type GatewayReadinessOptions } from './readiness';

/** Default port of /healthz and /readyz on a gateway (the load-balancer probe's port). */
export const GATEWAY_HEALTH_PORT = 8080;

/** Options for gatewayObservability. */
export interface GatewayObservabilityOptions {
  /** Settings source (HEALTH_PORT, METRICS_PORT, APPLICATIONINSIGHTS_CONNECTION_STRING, …); default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  readonly logger?: Logger;
  /** Pass `process`: the first stop signal marks the gateway not ready while it drains. */
  readonly signals?: NodeJS.EventEmitter;
  readonly telemetry?: GatewayTelemetryOptions;
  readonly readiness?: GatewayReadinessOptions;
}

/** The gateway's observability: `extension` for the CLI, `readiness` (reasons for reports), `shutdown`. */
export type GatewayObservability = ModuleObservability<Gateway> & { readonly readiness: GatewayReadiness };

/** Creates the gateway process's observability; nothing starts until the CLI runs `extension` with its gateway. */
export function gatewayObservability(options: GatewayObservabilityOptions = {}): GatewayObservability {
  const readiness = new GatewayReadiness(options.readiness);
  const observability = createModuleObservability<Gateway>({
    serviceName: GATEWAY_MODULE,
    defaultHealthPort: GATEWAY_HEALTH_PORT,
    readiness,
    attachTelemetry: (gateway, telemetry) => {
      const binding = attachGatewayTelemetry(gateway, telemetry, options.telemetry);
      return () => binding.detach();
    },
    ...(options.env && { env: options.env }),
    ...(options.logger && { logger: options.logger }),
    ...(options.signals && { signals: options.signals }),
  });
  return { ...observability, readiness };
}
