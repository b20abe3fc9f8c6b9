/** The tunnel byte path shared by relay-gateway (sender side) and relay-forwarder (listener side). */
export * from './close-codes';
export * from './datagram-batch';
export * from './datagram-channel';
export * from './datagram-framing';
export * from './errors';
export * from './half-close';
export * from './listener-tunnel';
export * from './preamble';
export * from './pump';
export * from './relay-duplex';
export * from './sender-tunnel';
export * from './target-errors';
export * from './warm-meta';
