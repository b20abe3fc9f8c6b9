// The Hybrid Connections client: one import for both modules. Keep this a plain export list.
export * from './errors';
export * from './connection-string';
export * from './sas';
export * from './backoff';
export * from './token-provider';
export * from './endpoint';
export * from './logger';
export * from './handshake-errors';
export * from './open-socket';
export * from './accept-message';
export * from './token-renewal';
export * from './keepalive';
export * from './rendezvous';
export * from './listener-options';
export * from './listener';
export * from './sender';
export * from './tls-sessions';
