import {
  endpointFromConnectionString,
  type HybridConnectionEndpoint,
} from '../../modules/common/src/hc/endpoint';
import type { RelayRight } from '../../modules/common/src/hc/sas';
import type { SandboxRelay } from '../../sandbox/src/relay';

/** A hybrid connection on the sandbox relay with least-privilege Listen and Send endpoints. */
export interface SandboxHybridConnection {
  readonly path: string;
  readonly listen: HybridConnectionEndpoint;
  readonly send: HybridConnectionEndpoint;
  /** Keys of the rules, for clients (such as hyco-ws) that sign their own tokens. */
  readonly listenKey: { readonly keyName: string; readonly key: string };
  readonly sendKey: { readonly keyName: string; readonly key: string };
}

/** Creates `path` with a `listen` and a `send` rule and returns endpoints that trust the relay's CA. */
export function createSandboxHybridConnection(
  relay: SandboxRelay,
  path: string,
  options: { readonly tokenLifetimeMs?: number } = {},
): SandboxHybridConnection {
  relay.createHybridConnection(path);
  const endpointFor = (rule: string, rights: RelayRight[]) => {
    const keys = relay.createAuthorizationRule(path, rule, rights);
    return {
      endpoint: endpointFromConnectionString(keys.primaryConnectionString, {
        tls: { ca: relay.caPem },
        tokenLifetimeMs: options.tokenLifetimeMs,
      }),
      key: { keyName: keys.keyName, key: keys.primaryKey },
    };
  };
  const listen = endpointFor('listen', ['Listen']);
  const send = endpointFor('send', ['Send']);
  return { path, listen: listen.endpoint, send: send.endpoint, listenKey: listen.key, sendKey: send.key };
}
