import { Amqp, Client, ConnectionString, Registry, SharedAccessSignature } from 'azure-iothub';
import { RestApiClient } from 'azure-iothub/dist/common-http/rest_api_client';
import { Agent, AgentOptions, RequestOptions } from 'node:https';
import { isIP } from 'node:net';
import { Duplex } from 'node:stream';
import { budgetedRegistry } from './budgeted-registry';
import type { HubBudget } from './hub-budget';

// azure-iothub's own user agent string, so requests look the same as from Registry.fromConnectionString.
const SDK_USER_AGENT = `azure-iothub/${(require('azure-iothub/package.json') as { version: string }).version}`;

/**
 * An https.Agent that accepts `host:port` in the `host` option. azure-iothub passes the connection string's
 * HostName verbatim as `host` (no port option), which Node would look up as a DNS name; this agent splits it.
 */
export class HostPortAgent extends Agent {
  constructor(options?: AgentOptions) {
    super(options);
  }

  override createConnection(
    options: RequestOptions,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    const m = /^([^:]+):(\d+)$/.exec(String(options.host ?? ''));
    if (!m) return super.createConnection(options, callback);
    const host = m[1] ?? '';
    const next: RequestOptions = { ...options, host, port: Number(m[2]) };
    // SNI carries names only; Node refuses an IP address as servername.
    if (isIP(host)) delete next.servername;
    else next.servername = host;
    return super.createConnection(next, callback);
  }
}

// The SDK's REST client with the agent and CA pinned: Registry and Client call setOptions() in their
// constructors with a plain keep-alive agent, which would otherwise replace ours.
class PinnedRestApiClient extends RestApiClient {
  constructor(
    config: RestApiClient.TransportConfig,
    private readonly pinned: { agent: Agent; ca?: string },
  ) {
    super(config, SDK_USER_AGENT);
  }

  override setOptions(options: { http?: object } | undefined): void {
    super.setOptions({
      ...options,
      ...(this.pinned.ca ? { ca: this.pinned.ca } : {}),
      http: { ...options?.http, agent: this.pinned.agent },
    });
  }
}

/** azure-iothub's two service clients, built for one hub. */
export interface IotHubServiceClients {
  registry: Registry;
  client: Client;
  /** Closes the keep-alive sockets of the pinned agent (no-op for the stock clients). */
  close(): void;
}

/**
 * Builds an unmodified azure-iothub `Registry` and `Client` for a connection string. For a real hub
 * (`HostName` without a port, no extra CA) this is exactly `fromConnectionString`. For a hub at
 * `HostName=host:port` (the sandbox), the SDK's own REST client is used with an agent that honours the port
 * and, optionally, an explicit CA — the only seam the SDK offers, since it has no port or CA option.
 */
export function createIotHubServiceClients(
  connectionString: string,
  options: { ca?: string; budget?: HubBudget } = {},
): IotHubServiceClients {
  const clients = createUnbudgeted(connectionString, options);
  return options.budget
    ? { ...clients, registry: budgetedRegistry(clients.registry, options.budget) }
    : clients;
}

function createUnbudgeted(connectionString: string, options: { ca?: string }): IotHubServiceClients {
  const cn = ConnectionString.parse(connectionString);
  const host = cn.HostName ?? '';
  const keyName = cn.SharedAccessKeyName ?? '';
  const key = cn.SharedAccessKey ?? '';
  if (!host || !keyName || !key) {
    throw new Error(
      'an IoT Hub service connection string needs HostName, SharedAccessKeyName and SharedAccessKey',
    );
  }
  if (!/:\d+$/.test(host) && !options.ca) {
    return {
      registry: Registry.fromConnectionString(connectionString),
      client: Client.fromConnectionString(connectionString),
      close: () => undefined,
    };
  }
  const agent = new HostPortAgent({ keepAlive: true, ...(options.ca ? { ca: options.ca } : {}) });
  const pinned = options.ca ? { agent, ca: options.ca } : { agent };
  // Same config shapes as Registry.fromConnectionString / Client.fromConnectionString build.
  const registryConfig = {
    host,
    sharedAccessSignature: SharedAccessSignature.create(host, keyName, key, Date.now()),
  };
  const clientConfig = {
    host,
    keyName,
    sharedAccessSignature: SharedAccessSignature.create(
      host,
      keyName,
      key,
      Math.ceil(Date.now() / 1000) + 3600,
    ),
  };
  return {
    registry: new Registry(registryConfig, new PinnedRestApiClient(registryConfig, pinned)),
    client: new Client(new Amqp(clientConfig), new PinnedRestApiClient(clientConfig, pinned)),
    close: () => agent.destroy(),
  };
}
