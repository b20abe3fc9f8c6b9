import type { Logger } from '../../../modules/common/src/log';
import type { SandboxPki } from '../tls/pki';
import type { LatencyProfile } from './latency';
import type { HybridConnectionOptions, NamespaceRegistry } from './namespace-registry';

/** Options for startSandboxRelay; every one is optional. */
export interface SandboxRelayOptions {
  /** TCP port on 127.0.0.1; 0 (default) picks a free one. A fixed port allows a restart on the same port. */
  readonly port?: number;
  /** CA and server certificate; generated when absent (valid for localhost, 127.0.0.1, ::1). */
  readonly pki?: SandboxPki;
  /** How long an accept address stays valid. Default 30 000 ms (the protocol says to assume at most 30 s). */
  readonly acceptTimeoutMs?: number;
  /** Backpressure bound per tunnel direction. Default 16 MiB (real Azure pushes back at roughly 14-16 MiB). */
  readonly maxInFlightBytesPerDirection?: number;
  /** Listener limit per hybrid connection. Default 25, the documented quota. */
  readonly maxListenersPerHybridConnection?: number;
  /** `none` (default), `azure` (adds service-like delays to handshakes) or a custom profile. */
  readonly latencyProfile?: 'none' | 'azure' | LatencyProfile;
  /** Structured logger (pino); silent when absent. */
  readonly logger?: Logger;
  /**
   * Namespace state to serve. Pass the registry of a stopped relay to restart with the same hybrid
   * connections, rules and keys (reconnect tests); a fresh one is made otherwise.
   */
  readonly registry?: NamespaceRegistry;
  /** Primary key for RootManageSharedAccessKey when the relay creates it (stable connection strings across runs). */
  readonly rootKey?: string;
  /** Hybrid connections to create at start, by name or with options. */
  readonly hybridConnections?: ReadonlyArray<string | ({ readonly name: string } & HybridConnectionOptions)>;
  /**
   * Number of TLS front processes (default 0: TLS in this process). With N > 0 the TLS handshakes and record
   * crypto run in N child processes and this process keeps the protocol and the pairing (docs/sandbox-relay.md).
   */
  readonly tlsFronts?: number;
  /** Random source for listener choice and delays (tests). */
  readonly random?: () => number;
}

/** Default accept window: "The maximum to assume is 30 seconds." */
export const DEFAULT_ACCEPT_TIMEOUT_MS = 30_000;
