// The health surface modules import: the probe server and the readiness tracker behind /readyz.
export { healthSettingsFromEnv, startHealthServer, DEFAULT_HEALTH_BIND_ADDRESS } from './health-server';
export type { HealthServer, HealthServerOptions, HealthSettings } from './health-server';
export { NOT_READY, ReadinessTracker } from './readiness';
export type { NotReadyReason, ReadinessCheck } from './readiness';
