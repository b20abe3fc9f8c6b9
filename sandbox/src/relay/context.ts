import type { IncomingMessage } from 'node:http';
import type { WebSocketServer } from 'ws';
import type { Logger } from '../../../modules/common/src/log';
import type { ControlChannel } from './control-channel';
import type { LatencyProfile } from './latency';
import type { ListenerRegistry } from './listener-registry';
import type { NamespaceRegistry } from './namespace-registry';
import type { RendezvousTable } from './rendezvous';
import type { RelayCounters } from './stats';
import type { TimerSet } from './timers';
import type { TunnelRegistry } from './tunnels';

/** Tunables of one relay instance, defaults applied. */
export interface RelaySettings {
  /** How long an accept address stays valid (the protocol says to assume at most 30 s). */
  readonly acceptTimeoutMs: number;
  readonly maxInFlightBytesPerDirection: number;
  readonly maxListenersPerHybridConnection: number;
}

/** Everything the upgrade handlers share: state, settings and plumbing of one running relay. */
export interface RelayContext {
  /** `127.0.0.1:PORT`, known once the server listens. */
  namespace: string;
  stopped: boolean;
  readonly settings: RelaySettings;
  readonly registry: NamespaceRegistry;
  readonly listeners: ListenerRegistry<ControlChannel>;
  readonly rendezvous: RendezvousTable;
  readonly tunnels: TunnelRegistry;
  readonly counters: RelayCounters;
  readonly timers: TimerSet;
  readonly latency: LatencyProfile;
  readonly wss: WebSocketServer;
  readonly logger: Logger;
  readonly random: () => number;
  /** The sub-protocol each pending upgrade must answer with (read by the server's handleProtocols). */
  readonly protocolChoice: WeakMap<IncomingMessage, string | false>;
}
