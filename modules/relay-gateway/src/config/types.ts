import type { LogLevel } from '../../../common/src/log';
import type { HybridConnectionCredentialsDocument, RelayCredential } from '../../../common/src/config/credentials';
import type { CidrAllowList } from '../../../common/src/net/cidr';
import type { MtlsSettings } from '../mtls/mtls-config';
import type { SniRouting } from '../sni/sni-routing';

/** Log levels the configuration may set. */
export type GatewayLogLevel = LogLevel;

/** How the gateway proves its Send right: a SAS key it signs short-lived tokens with, or a pre-issued token. */
export type GatewayCredential = RelayCredential;

/** One hybrid connection routes send to, resolved to namespace, path and credential. */
export interface GatewayHybridConnection {
  /** Map key in the document. */
  readonly name: string;
  /** Relay namespace host (may carry :port for the sandbox). */
  readonly namespace: string;
  /** Hybrid connection path (entity name). */
  readonly path: string;
  readonly credential: GatewayCredential;
}

/** What a TCP and a UDP route both are: a public port, where it goes, and who may use it. */
export interface GatewayRouteBase {
  /** Map key in the document. */
  readonly id: string;
  /** 0 asks the OS for a free port. */
  readonly port: number;
  /** An IP literal. */
  readonly bindAddress: string;
  /** Key in GatewayConfig.hybridConnections. */
  readonly hybridConnection: string;
  /** Port name sent in the preamble (in datagram mode for a UDP route). */
  readonly service: string;
  /** The allow-list as written (compared by the diff). */
  readonly allow: readonly string[];
  /** The compiled allow-list. */
  readonly allowList: CidrAllowList;
}

/** One public port and where its connections go, with every default applied. */
export interface GatewayRoute extends GatewayRouteBase {
  readonly maxConnections: number;
  readonly connectTimeoutMs: number;
  /** 0 disables the idle timeout. */
  readonly idleTimeoutMs: number;
  readonly enabled: boolean;
  /** Upper bound of pre-opened relay connections kept for new clients; 0 turns pre-warming off. */
  readonly warmConnections: number;
  /** An unused warm connection is closed after this long. */
  readonly warmMaxIdleMs: number;
  /** Carry clients as streams over multiplexed relay connections when the forwarder accepts them. */
  readonly multiplex: boolean;
  /** Upper bound of multiplexed relay connections to the route's hybrid connection. */
  readonly muxConnections: number;
  /** Set when a trusted front announces each client with the PROXY protocol. */
  readonly acceptProxyProtocol?: AcceptProxyProtocol;
  /** Set when connections are routed by TLS server name; hybridConnection/service are then the default target. */
  readonly sni?: SniRouting;
  /** Set when the route terminates TLS and requires client certificates. */
  readonly mtls?: MtlsSettings;
}

/** PROXY protocol intake of a route, with defaults applied. */
export interface AcceptProxyProtocol {
  /** The ranges as written (compared by the diff). */
  readonly trustedSources: readonly string[];
  /** The compiled ranges. */
  readonly trustedList: CidrAllowList;
  readonly headerTimeoutMs: number;
}

/** A validated gateway configuration: every default applied, every reference resolved. */
export interface GatewayConfig {
  readonly logLevel?: GatewayLogLevel;
  /** How long connections of a removed or disabled route (and all at shutdown) may finish before they are closed. */
  readonly drainTimeoutMs: number;
  /** Concurrent connections over all routes. */
  readonly maxConnections: number;
  readonly hybridConnections: ReadonlyMap<string, GatewayHybridConnection>;
  readonly routes: ReadonlyMap<string, GatewayRoute>;
  /** UDP routes (absent when the document has none). */
  readonly udpRoutes?: ReadonlyMap<string, GatewayUdpRoute>;
}

/** One public UDP port and where its flows go, with every default applied. */
export interface GatewayUdpRoute extends GatewayRouteBase {
  /** Concurrent flows (client address:port pairs). */
  readonly maxFlows: number;
  readonly flowIdleTimeoutMs: number;
  readonly maxDatagramBytes: number;
  readonly connectTimeoutMs: number;
  readonly enabled: boolean;
}

/** The document as the schema admits it (before defaults and semantic checks). */
export interface GatewayConfigDocument {
  readonly $version?: number;
  readonly schemaVersion: 1;
  readonly logLevel?: GatewayLogLevel;
  readonly drainTimeoutMs?: number;
  readonly hybridConnections?: Readonly<Record<string, HybridConnectionDocument>>;
  readonly routes?: Readonly<Record<string, RouteDocument>>;
  readonly udpRoutes?: Readonly<Record<string, UdpRouteDocument>>;
  readonly limits?: { readonly maxConnections?: number };
}

/** One hybrid connection entry as written in the document. */
export type HybridConnectionDocument = HybridConnectionCredentialsDocument;

/** One route entry as written in the document. */
export interface RouteDocument {
  readonly port: number;
  readonly bindAddress?: string;
  readonly hybridConnection: string;
  readonly service: string;
  readonly allow: readonly string[];
  readonly maxConnections?: number;
  readonly connectTimeoutMs?: number;
  readonly idleTimeoutMs?: number;
  readonly enabled?: boolean;
  readonly warmConnections?: number;
  readonly warmMaxIdleMs?: number;
  readonly multiplex?: boolean;
  readonly muxConnections?: number;
  readonly acceptProxyProtocol?: { readonly trustedSources: readonly string[]; readonly headerTimeoutMs?: number };
  readonly sni?: object;
  readonly mtls?: object;
}

/** One UDP route entry as written in the document. */
export interface UdpRouteDocument {
  readonly port: number;
  readonly bindAddress?: string;
  readonly hybridConnection: string;
  readonly service: string;
  readonly allow: readonly string[];
  readonly maxFlows?: number;
  readonly flowIdleTimeoutMs?: number;
  readonly maxDatagramBytes?: number;
  readonly connectTimeoutMs?: number;
  readonly enabled?: boolean;
}
