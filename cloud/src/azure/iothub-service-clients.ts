import { Amqp, Client, ConnectionString, Registry, SharedAccessSignature } from 'azure-iothub';
import { RestApiClient } from 'azure-iothub/dist/common-http/rest_api_client';
import type { ClientRequest } from 'node:http';
import { Agent, AgentOptions, RequestOptions } from 'node:https';
import { isIP, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { budgetedRegistry } from './budgeted-registry';
import type { HubBudget } from './hub-budget';

// azure-iothub's own user agent string, so requests look the same as from Registry.fromConnectionString.
const SDK_USER_AGENT = `azure-iothub/${(require('azure-iothub/package.json') as { version: string }).version}`;

/**
 * How long a keep-alive socket may sit idle in the pool before it is closed rather than reused, when the hub
 * announces no shorter `Keep-Alive: timeout`. Azure's front ends close idle connections (Azure Load Balancer and
 * SNAT drop idle flows after 4 minutes, without a FIN): 30 s stays well inside, and within one reconcile the
 * sockets are reused long before it.
 */
export const HUB_SOCKET_IDLE_MS = 30_000;

// Node's Agent.addRequest, which hands a free socket (or a new one) to a request; not in @types/node.
type AddRequest = (this: Agent, req: ClientRequest, options: RequestOptions) => void;
const agentAddRequest = (Agent.prototype as unknown as { addRequest: AddRequest }).addRequest;

/**
 * The keep-alive https.Agent of the IoT Hub service clients:
 *
 * - it never hands out a socket that has been idle longer than its idle timeout (the hub's
 *   `Keep-Alive: timeout` hint less a second, as Node sets it, at most HUB_SOCKET_IDLE_MS). Node's agent closes such
 *   a socket from a timer, and learns of the hub's close from the socket's FIN — both only when the event loop
 *   gets to them. A controller busy planning for longer than the timeout (seconds at 10,000 locations) sends its
 *   next request before either, on the socket the hub already closed: ECONNRESET or "socket hang up". So the
 *   age is checked by the clock as the request is placed (the timeout only closes idle sockets: on a busy one
 *   Node just emits 'timeout' on the request, which the SDK does not listen to);
 * - it accepts `host:port` in the `host` option. azure-iothub passes the connection string's HostName verbatim
 *   as `host` (no port option), which Node would look up as a DNS name; this agent splits it.
 */
export class HostPortAgent extends Agent {
  private readonly freedAt = new WeakMap<Socket, number>();

  constructor(options?: AgentOptions) {
    // Node applies the hub's hint only to lower a configured timeout, so a keep-alive agent needs one.
    super(options?.keepAlive ? { timeout: HUB_SOCKET_IDLE_MS, ...options } : options);
    this.on('free', (socket: Socket) => this.freedAt.set(socket, Date.now()));
  }

  /** Drops the stale free sockets, then lets Node's agent place the request. */
  addRequest(req: ClientRequest, options: RequestOptions): void {
    this.dropStaleFreeSockets(Date.now());
    agentAddRequest.call(this, req, options);
  }

  private dropStaleFreeSockets(now: number): void {
    for (const sockets of Object.values(this.freeSockets)) {
      if (!sockets) continue;
      for (let i = sockets.length - 1; i >= 0; i--) {
        const socket = sockets[i]!;
        const freed = this.freedAt.get(socket);
        // socket.timeout is the idle timeout Node's agent gave the free socket (the hub's hint, else ours).
        if (freed === undefined || !socket.timeout || now - freed < socket.timeout) continue;
        sockets.splice(i, 1);
        socket.destroy();
      }
    }
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
  /** Closes the keep-alive sockets of the pinned agent. */
  close(): void;
}

/**
 * Builds an unmodified azure-iothub `Registry` and `Client` for a connection string, configured as
 * `fromConnectionString` configures them, but with the SDK's own REST client given a HostPortAgent — the only
 * seam the SDK offers. For every hub, real or sandbox: the SDK's stock agent reuses sockets the hub already closed
 * after a busy spell (see HostPortAgent); for a hub at `HostName=host:port` (the sandbox) it also honours the
 * port and, optionally, an explicit CA, since the SDK has neither option.
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
