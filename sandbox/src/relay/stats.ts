/** Counters the relay keeps for stats() and the admin API; monotonic since start. */
export interface RelayCounters {
  listenersAccepted: number;
  listenersRefused: number;
  connectsRefused: number;
  /** Rendezvous completed: both upgrades done and frames pumping. */
  tunnelsOpened: number;
  rejectedByListener: number;
  acceptTimeouts: number;
  /** Senders that hung up while waiting for a listener to accept. */
  sendersAbandoned: number;
  acceptsDispatched: number;
  tokenRenewals: number;
  tokenRenewalsRefused: number;
  tokenExpiryCloses: number;
  listenersDropped: number;
  bytesSenderToListener: number;
  bytesListenerToSender: number;
  /** Times a tunnel direction stopped reading its source because the destination was backed up. */
  backpressurePauses: number;
  /** Largest destination bufferedAmount seen right after forwarding a frame (bounded by the in-flight limit plus one message). */
  maxBufferedBytesObserved: number;
  /** Handshakes refused, by action and HTTP status, e.g. `connect:404`. */
  refusedByStatus: Record<string, number>;
}

/** Fresh zeroed counters. */
export function createCounters(): RelayCounters {
  return {
    listenersAccepted: 0,
    listenersRefused: 0,
    connectsRefused: 0,
    tunnelsOpened: 0,
    rejectedByListener: 0,
    acceptTimeouts: 0,
    sendersAbandoned: 0,
    acceptsDispatched: 0,
    tokenRenewals: 0,
    tokenRenewalsRefused: 0,
    tokenExpiryCloses: 0,
    listenersDropped: 0,
    bytesSenderToListener: 0,
    bytesListenerToSender: 0,
    backpressurePauses: 0,
    maxBufferedBytesObserved: 0,
    refusedByStatus: {},
  };
}

/** Records a refused handshake. */
export function countRefusal(counters: RelayCounters, action: string, status: number): void {
  const key = `${action}:${status}`;
  counters.refusedByStatus[key] = (counters.refusedByStatus[key] ?? 0) + 1;
  if (action === 'listen') counters.listenersRefused++;
  if (action === 'connect') counters.connectsRefused++;
}

/** A snapshot of the relay's state for tests, the admin API and people. */
export interface RelayStats {
  /** Open listener control channels per hybrid connection name. */
  readonly listenersByPath: Readonly<Record<string, number>>;
  readonly activeTunnels: number;
  readonly pendingRendezvous: number;
  readonly counters: Readonly<RelayCounters>;
}
