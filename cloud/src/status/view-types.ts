// The shapes of the status view's JSON (`/api/fleet`, the `fleet` server-sent event). The page reads exactly these.
import type { ConfigReport, Reason } from './reported';

/** Listener state of a location, the worst of its hybrid connections' (`online` when every channel is up). */
export type ListenerState =
  | 'online'
  | 'partial'
  | 'connecting'
  | 'refused'
  | 'draining'
  | 'drained'
  /** The forwarder module runs but reports no hybrid connection for this location (yet). */
  | 'no report'
  /** No relay-forwarder module on the device (deployment pending). */
  | 'no forwarder';

/** One gateway's route for a location's service. */
export interface ServiceRouteView {
  readonly gateway: string;
  /** The relay-gateway instance that carries the route, when it is not the first (`relay-gateway-2`, …). */
  readonly module?: string;
  readonly route: string;
  readonly status: string;
  readonly port?: number;
  readonly reason?: Reason;
  /** The latest relay-side failure of its tunnels (auth, no listener, relay down), until a tunnel opens again. */
  readonly relayFault?: { readonly reason: string; readonly code?: string };
}

/** A service of a location, joined from its tags, the controller's allocation and both modules' reports. */
export interface ServiceView {
  readonly name: string;
  readonly target?: string;
  /** The public port the controller allocated (else the port a gateway route listens on). */
  readonly publicPort?: number;
  /** The server name the controller assigned (`{service}.{location}.{zone}`), reached on `sniPort`. */
  readonly serverName?: string;
  readonly sniPort?: number;
  /** The forwarder's status of the service (`enabled`, `disabled`, `draining`, `drained`), when it reports one. */
  readonly forwarderStatus?: string;
  readonly routes: readonly ServiceRouteView[];
  /** Gateways whose route for this service is listening, of `routes.length`. */
  readonly listeningRoutes: number;
  /** Tunnels open now, over every gateway. */
  readonly active: number;
  /** Totals since each route started (gateway counters), absent when no gateway reports counters. */
  readonly totals?: {
    readonly connections: number;
    readonly bytesFromClients: number;
    readonly bytesToClients: number;
    /** User errors: every refusal, failure and broken tunnel, less the startup failures. */
    readonly errors: number;
    /** `errors` by reason. */
    readonly errorsByReason: Readonly<Record<string, number>>;
    /** `no-listener` failures before the route's first tunnel (the location was coming up; boot probes). */
    readonly startupErrors: number;
  };
}

/** The relay-forwarder of a location. */
export interface ForwarderView {
  readonly connected?: boolean;
  readonly version?: string;
  readonly config?: ConfigReport;
  readonly hybridConnections: readonly string[];
  readonly reason?: Reason;
  readonly reconnects?: number;
  readonly tokenRenewals?: number;
}

/** Another forwarder device serving the same location (active/active), as the primary's card shows it. */
export interface ReplicaView {
  readonly deviceId: string;
  /** The controller's verdict on this device (`tags.relayStatus.state`). */
  readonly state?: string;
  readonly connected?: boolean;
  readonly listeners: { readonly state: ListenerState; readonly online: number; readonly total: number };
  readonly tokenExpiresAt?: string;
  readonly tokenExpiring?: boolean;
  /** Tunnels this replica's forwarder carries now, over the location's services. */
  readonly active: number;
}

/** One location (a relay-forwarder device) as a person looks at it. */
export interface LocationView {
  readonly id: string;
  readonly deviceId: string;
  /** False for a forwarder found on a device without `tags.relay` (configured by hand). */
  readonly tagged: boolean;
  readonly pool?: string;
  /** The controller's verdict from `tags.relayStatus` (`ok`, `pending`, `error`). */
  readonly state?: string;
  readonly problems: readonly Reason[];
  readonly hybridConnection?: string;
  /** The Relay namespace the controller placed the hybrid connection in (several namespaces configured). */
  readonly namespace?: string;
  readonly publicHost?: string;
  readonly listeners: { readonly state: ListenerState; readonly online: number; readonly total: number };
  /** The earliest expiry of the forwarder's Listen tokens, and the seconds left when the view was built. */
  readonly tokenExpiresAt?: string;
  readonly tokenExpiresInS?: number;
  /** True when that token has less than the renewal margin left: it should have been replaced already. */
  readonly tokenExpiring?: boolean;
  readonly forwarder?: ForwarderView;
  readonly services: readonly ServiceView[];
  /** The location's other forwarder devices (their status tag names this device as `replicaOf`). */
  readonly replicas?: readonly ReplicaView[];
}

/** One relay-gateway device. */
export interface GatewayView {
  readonly deviceId: string;
  readonly pool?: string;
  readonly connected?: boolean;
  readonly version?: string;
  readonly config?: ConfigReport;
  readonly connections: { readonly active: number; readonly max?: number };
  readonly routes: number;
  readonly listeningRoutes: number;
  /** Routes that are not listening, with their reason. */
  readonly troubledRoutes: readonly ServiceRouteView[];
}

/** A desired version a module refused, with the first problems. */
export interface RefusedConfigView {
  readonly deviceId: string;
  readonly moduleId: string;
  readonly location?: string;
  readonly version?: number;
  readonly at?: string;
  readonly problemCount: number;
  readonly problems: readonly { readonly path: string; readonly message: string }[];
}

/** Fleet-wide figures for the header. */
export interface FleetTotals {
  readonly locations: number;
  readonly services: number;
  readonly listenersOnline: number;
  readonly listeners: number;
  readonly activeConnections: number;
  readonly gateways: number;
  readonly refusedConfigs: number;
  /** Locations whose token is within the renewal margin (`tokenExpiring`). */
  readonly tokensExpiring: number;
  /** User errors over every route by reason (totals since each route started; startup failures apart). */
  readonly errorsByReason: Readonly<Record<string, number>>;
  /** Startup failures over every route (see ServiceView.totals.startupErrors). */
  readonly startupErrors: number;
}

/** The fleet at one moment. */
export interface FleetSnapshot {
  readonly atMs: number;
  readonly totals: FleetTotals;
  /** The renewal margin the view flags tokens against, in seconds. */
  readonly tokenWarnBelowS: number;
  readonly locations: readonly LocationView[];
  readonly gateways: readonly GatewayView[];
  readonly refusedConfigs: readonly RefusedConfigView[];
}

/** A cumulative counter sample of one gateway route, for the history. */
export interface RouteCounterSample {
  /** `{gatewayDeviceId}/{routeId}`. */
  readonly key: string;
  /** The gateway process's start time: a new one means the counters restarted at zero. */
  readonly epoch: string;
  readonly location?: string;
  readonly active: number;
  /** Cumulative counters; absent when the gateway reports no counters (compact report). */
  readonly counters?: { readonly bytes: number; readonly errors: number; readonly connections: number };
}

/** Figures of one series in one history bucket. */
export interface BucketFigures {
  readonly bytes: number;
  readonly errors: number;
  readonly connections: number;
  /** Most tunnels seen open at once at a poll within the bucket. */
  readonly peakActive: number;
}

/** One bucket of history: the fleet and each location that had a figure. */
export interface HistoryBucket {
  readonly startMs: number;
  readonly fleet: BucketFigures;
  readonly locations: Readonly<Record<string, BucketFigures>>;
}

/** Whether the last read of IoT Hub worked. */
export interface SourceStatus {
  readonly ok: boolean;
  readonly lastSuccessAtMs?: number;
  readonly lastAttemptAtMs?: number;
  readonly error?: { readonly code: string; readonly message: string };
}

/** The whole `/api/fleet` document. */
export interface FleetDocument {
  readonly generatedAtMs: number;
  readonly pollIntervalMs: number;
  readonly source: SourceStatus;
  readonly snapshot: FleetSnapshot | null;
  /** Whether the page may offer drain/resume (an operator token and a method client are configured). */
  readonly actions?: boolean;
  readonly history: {
    readonly bucketMs: number;
    readonly buckets: readonly HistoryBucket[];
    /** Locations charted one by one beside the fleet total: the busiest by bytes over the hour. */
    readonly chartedLocations: readonly string[];
    /** Per location, the hour's sums (every location, for the table). */
    readonly hourByLocation: Readonly<Record<string, BucketFigures>>;
    readonly hour: BucketFigures;
  };
}
