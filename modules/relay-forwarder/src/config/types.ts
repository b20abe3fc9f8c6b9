import type { LogLevel } from '../../../common/src/log';
import type { HybridConnectionCredentialsDocument, RelayCredential } from '../../../common/src/config/credentials';
import type { ProxyProtocolVersion } from '../../../common/src/net/proxy-protocol';
import type { TargetAddress } from '../../../common/src/net/target';

/** Log levels the configuration may set. */
export type ForwarderLogLevel = LogLevel;

/** How the forwarder proves its Listen right: a SAS key it signs with, or a pre-issued token. */
export type ForwarderCredential = RelayCredential;

/** One on-prem service reachable through a hybrid connection, with its defaults applied. */
export interface ServiceConfig {
  /** Port name senders ask for in the preamble (the map key). */
  readonly name: string;
  readonly target: TargetAddress;
  readonly maxConnections: number;
  readonly connectTimeoutMs: number;
  /** 0 disables the idle timeout. */
  readonly idleTimeoutMs: number;
  readonly enabled: boolean;
  /** PROXY protocol header sent to the target before any tunnel byte (absent: none). */
  readonly proxyProtocol?: ProxyProtocolVersion;
  /** Set (with the datagram settings) for a udp service: one flow per relay connection, azbridge datagram mode. */
  readonly udp?: UdpServiceSettings;
}

/** What a service carries. */
export type ServiceProtocol = 'tcp' | 'udp';

/** Datagram settings of a udp service, with defaults applied. */
export interface UdpServiceSettings {
  /** Datagrams above this size (either way) are dropped and counted. */
  readonly maxDatagramBytes: number;
  /** A flow with no datagram either way for this long ends. */
  readonly flowIdleTimeoutMs: number;
}

/** One hybrid connection the forwarder listens on, resolved to an endpoint and a credential. */
export interface HybridConnectionConfig {
  /** Map key in the document. */
  readonly name: string;
  /** Relay namespace host (may carry :port for the sandbox). */
  readonly namespace: string;
  /** Hybrid connection path (entity name). */
  readonly path: string;
  readonly credential: ForwarderCredential;
  /** Parallel control channels. */
  readonly listeners: number;
  /** Streams served at once per multiplexed connection (0: no multiplexing); absent: the forwarder's default. */
  readonly muxMaxStreams?: number;
  readonly services: ReadonlyMap<string, ServiceConfig>;
}

/** A validated forwarder configuration: every default applied, every reference resolved. */
export interface ForwarderConfig {
  readonly logLevel?: ForwarderLogLevel;
  readonly drainTimeoutMs: number;
  readonly hybridConnections: ReadonlyMap<string, HybridConnectionConfig>;
}

/** The document as the schema admits it (before defaults and semantic checks). */
export interface ForwarderConfigDocument {
  readonly $version?: number;
  readonly schemaVersion: 1;
  readonly logLevel?: ForwarderLogLevel;
  readonly drainTimeoutMs?: number;
  readonly hybridConnections?: Readonly<Record<string, HybridConnectionDocument>>;
}

/** One hybrid connection entry as written in the document. */
export interface HybridConnectionDocument extends HybridConnectionCredentialsDocument {
  readonly listeners?: number;
  readonly muxMaxStreams?: number;
  readonly services: Readonly<Record<string, ServiceDocument>>;
}

/** One service entry as written in the document. */
export interface ServiceDocument {
  readonly target: string;
  readonly maxConnections?: number;
  readonly connectTimeoutMs?: number;
  readonly idleTimeoutMs?: number;
  readonly enabled?: boolean;
  readonly proxyProtocol?: ProxyProtocolVersion;
  readonly protocol?: ServiceProtocol;
  readonly maxDatagramBytes?: number;
  readonly flowIdleTimeoutMs?: number;
}
