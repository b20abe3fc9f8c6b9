// The demo's sandbox relay: TLS with the CA kept in the state directory, one hybrid connection per location
// with a Listen rule (for the forwarder) and a Send rule (for the gateway).
import { join } from 'node:path';
import type { Logger } from '../../../modules/common/src/log';
import { startSandboxRelay, type SandboxRelay } from '../relay';
import { loadOrCreateSandboxPki } from '../tls/pki-store';
import type { DemoLocationPlan, LocationCredentials } from './plan';

/** The running relay and what the modules need to reach it. */
export interface DemoRelay {
  readonly relay: SandboxRelay;
  /** The CA certificate file; stable between runs (the same file `relay-main` uses). */
  readonly caFile: string;
  readonly credentials: Readonly<Record<string, LocationCredentials>>;
}

/** Starts the relay on an ephemeral loopback port and creates each location's hybrid connection and rules. */
export async function startDemoRelay(
  stateDir: string,
  locations: readonly DemoLocationPlan[],
  logger: Logger,
): Promise<DemoRelay> {
  const pki = await loadOrCreateSandboxPki(join(stateDir, 'pki'));
  const relay = await startSandboxRelay({ pki, logger });
  const credentials: Record<string, LocationCredentials> = {};
  for (const location of locations) {
    relay.createHybridConnection(location.name, { userMetadata: 'sandbox tunnel demo' });
    // Least privilege, as the fleet controller will do it: the forwarder can only listen, the gateway only send.
    const listen = relay.createAuthorizationRule(location.name, 'forwarder', ['Listen']);
    const send = relay.createAuthorizationRule(location.name, 'gateway', ['Send']);
    credentials[location.name] = {
      listenConnectionString: listen.primaryConnectionString,
      sendConnectionString: send.primaryConnectionString,
    };
  }
  return { relay, caFile: pki.caFile, credentials };
}
