/** The sandbox Azure Relay: a local, TLS, protocol-faithful stand-in for the Hybrid Connections data plane. */
export { startSandboxRelay, type SandboxRelay } from './server';
export { DEFAULT_ACCEPT_TIMEOUT_MS, type SandboxRelayOptions } from './options';
export { LATENCY_PROFILES, type LatencyProfile } from './latency';
export { DEFAULT_MAX_IN_FLIGHT_BYTES } from './frame-pump';
export { MAX_LISTENERS_PER_HYBRID_CONNECTION } from './listener-registry';
export { NamespaceRegistry, ROOT_RULE_NAME, type KeyType } from './namespace-registry';
export {
  DEFAULT_DROP_CLOSE,
  relayConnectionString,
  type AccessKeys,
  type HybridConnectionInfo,
} from './management';
export type { RelayStats, RelayCounters } from './stats';
export { SandboxRelayError } from './errors';
export { SandboxRelayAdminClient } from './admin-client';
