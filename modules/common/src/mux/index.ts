/** Multiplexed streams over one relay WebSocket (docs/tunnel-protocol.md, "Multiplexed streams"). */
export * from './frame';
export * from './negotiate';
export * from './open-meta';
export * from './session';
export * from './stream';
export * from './handshake';
