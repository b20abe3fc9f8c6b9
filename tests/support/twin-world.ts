// Twin-mode integration world: the sandbox IoT Hub (TLS, unmodified SDKs on both sides), the sandbox relay,
// real TCP targets, and both modules started in twin mode with ModuleClient.fromEnvironment(Mqtt) — the
// IotHubConnectionString / EdgeHubConnectionString + EdgeModuleCACertificateFile path.
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { Client, Registry } from 'azure-iothub';
import { moduleClientFromEnvironment } from '../../modules/common/src/twin/module-client';
import type { JsonObject } from '../../modules/common/src/twin/json';
import { startForwarderFromTwin, type ForwarderTwinApp } from '../../modules/relay-forwarder/src/twin-app';
import { startGatewayFromTwin, type GatewayTwinApp } from '../../modules/relay-gateway/src/twin-app';
import {
  createIotHubServiceClients,
  startSandboxIotHub,
  type HubMessage,
  type SandboxIotHub,
} from '../../sandbox/src/iothub';
import { startSandboxRelay, type SandboxRelay } from '../../sandbox/src/relay';
import { startTcpServer, type TestTcpServer } from './tunnel-harness';
import { startLink, type HubLink } from './hub-link';

/** Device and module ids of the two modules. */
export const GATEWAY = { deviceId: 'gw-1', moduleId: 'relay-gateway' } as const;
export const FORWARDER = { deviceId: 'loc-1', moduleId: 'relay-forwarder' } as const;

/** Reconnect quickly in tests (production: 1 s doubling to 30 s). */
export const FAST_BACKOFF = { initialDelayMs: 100, maxDelayMs: 400, multiplier: 2, jitterRatio: 0 };

/** Everything a twin test needs. */
export interface TwinWorld {
  readonly hub: SandboxIotHub;
  readonly relay: SandboxRelay;
  readonly registry: Registry;
  readonly service: Client;
  readonly echo: TestTcpServer;
  /** Answers with the sha256 (hex) of everything received, at the client's FIN. */
  readonly sink: TestTcpServer;
  /** Listen-only connection string of hybrid connection `site-a` (the forwarder's). */
  readonly listenConnectionString: string;
  /** Send-only connection string of `site-a` (the gateway's). */
  readonly sendConnectionString: string;
  /** Starts relay-forwarder in twin mode as loc-1/relay-forwarder (through `link` when given). */
  startForwarder(options?: { link?: HubLink }): ForwarderTwinApp;
  /** Starts relay-gateway in twin mode as gw-1/relay-gateway (through `link` when given). */
  startGateway(options?: { link?: HubLink }): Promise<GatewayTwinApp>;
  /** A TCP link to the hub a test can cut. */
  openLink(): Promise<HubLink>;
  /** Patches a module's desired properties with the unmodified service SDK. */
  patchDesired(identity: { deviceId: string; moduleId: string }, desired: JsonObject): Promise<void>;
  /** The module twin as the service SDK reads it. */
  moduleTwin(identity: {
    deviceId: string;
    moduleId: string;
  }): Promise<{ desired: JsonObject; reported: JsonObject }>;
  /** Waits (bounded) until the module's reported properties satisfy `predicate`; returns them. */
  waitReported(
    identity: { deviceId: string; moduleId: string },
    predicate: (reported: JsonObject) => boolean,
    what: string,
    timeoutMs?: number,
  ): Promise<JsonObject>;
  /** Waits until the module reports the newest desired version as received and decided (applied or refused). */
  settled(identity: { deviceId: string; moduleId: string }): Promise<JsonObject>;
  /** Invokes a direct method with the service SDK; resolves with status and payload. */
  invoke(
    identity: { deviceId: string; moduleId: string },
    methodName: string,
    payload?: unknown,
  ): Promise<{ status: number; payload: JsonObject }>;
  /** Waits until the hub delivers desired patches and method calls to the module. */
  waitSubscribed(identity: { deviceId: string; moduleId: string }): Promise<void>;
  /** Stops the hub and starts it again on the same port and state (identities, twins, sessions survive). */
  stopHub(): Promise<void>;
  startHub(): Promise<void>;
  /** Messages the modules sent (telemetry and output events). */
  messages(filter: (m: HubMessage) => boolean): HubMessage[];
  close(): Promise<void>;
}

/** Starts hub, relay, targets and the identities; modules are started by the test. */
export async function startTwinWorld(): Promise<TwinWorld> {
  const stateDir = await mkdtemp(join(tmpdir(), 'hrf-twin-'));
  let hub = await startSandboxIotHub({ stateDir, logger: quietHubLogger() });
  let hubRunning = true;
  const relay = await startSandboxRelay();
  relay.createHybridConnection('site-a');
  const listen = relay.createAuthorizationRule('site-a', 'listen', ['Listen']);
  const send = relay.createAuthorizationRule('site-a', 'send', ['Send']);
  const echo = await startTcpServer((socket) => {
    socket.on('error', () => undefined);
    socket.pipe(socket);
  });
  const sink = await startTcpServer((socket) => {
    const hash = createHash('sha256');
    socket.on('data', (chunk: Buffer) => hash.update(chunk));
    socket.on('end', () => socket.end(hash.digest('hex')));
    socket.on('error', () => undefined);
  });
  for (const id of [GATEWAY, FORWARDER]) {
    hub.createDevice(id.deviceId, { iotEdge: true });
    hub.createModule(id.deviceId, id.moduleId);
  }
  const serviceClients = createIotHubServiceClients(hub.ownerConnectionString, { ca: hub.caPem });
  const forwarders: ForwarderTwinApp[] = [];
  const gateways: GatewayTwinApp[] = [];
  const links: HubLink[] = [];

  const environment = (
    identity: { deviceId: string; moduleId: string },
    link?: HubLink,
  ): Record<string, string> => {
    const env = hub.moduleEnvironment(identity.deviceId, identity.moduleId);
    if (!link) return env;
    // The IoT Edge shape: HostName is the hub, GatewayHostName where the MQTT connection goes (here: the link).
    const key = /SharedAccessKey=([^;]+)/.exec(env.IotHubConnectionString!)![1];
    return {
      EdgeHubConnectionString: `HostName=${hub.hubName}.azure-devices.net;GatewayHostName=localhost:${link.port};DeviceId=${identity.deviceId};ModuleId=${identity.moduleId};SharedAccessKey=${key}`,
      EdgeModuleCACertificateFile: env.EdgeModuleCACertificateFile!,
    };
  };
  const twinOptions = (identity: { deviceId: string; moduleId: string }, link?: HubLink) => ({
    connection: {
      createClient: () => moduleClientFromEnvironment(environment(identity, link)),
      backoff: FAST_BACKOFF,
      stableSessionMs: 1_000,
      setupTimeoutMs: 5_000,
    },
    reported: { debounceMs: 50, refreshIntervalMs: 0 },
    stats: { intervalMs: 0 },
    identity,
  });

  const world: TwinWorld = {
    get hub() {
      return hub;
    },
    relay,
    registry: serviceClients.registry,
    service: serviceClients.client,
    echo,
    sink,
    listenConnectionString: listen.primaryConnectionString,
    sendConnectionString: send.primaryConnectionString,
    startForwarder(options = {}) {
      const app = startForwarderFromTwin({
        log: testLogger('relay-forwarder'),
        tls: { ca: relay.caPem },
        ...twinOptions(FORWARDER, options.link),
      });
      forwarders.push(app);
      return app;
    },
    async startGateway(options = {}) {
      const app = await startGatewayFromTwin({
        logger: testLogger('relay-gateway'),
        tls: { ca: relay.caPem },
        ...twinOptions(GATEWAY, options.link),
      });
      gateways.push(app);
      return app;
    },
    async openLink() {
      const link = await startLink(() => hub.port);
      links.push(link);
      return link;
    },
    async patchDesired(identity, desired) {
      await serviceClients.registry.updateModuleTwin(
        identity.deviceId,
        identity.moduleId,
        { properties: { desired } },
        '*',
      );
    },
    async moduleTwin(identity) {
      const { responseBody } = await serviceClients.registry.getModuleTwin(
        identity.deviceId,
        identity.moduleId,
      );
      const properties = (
        responseBody as unknown as { properties: { desired: JsonObject; reported: JsonObject } }
      ).properties;
      return { desired: properties.desired, reported: properties.reported };
    },
    async waitReported(identity, predicate, what, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      let last: JsonObject;
      for (;;) {
        last = (await world.moduleTwin(identity)).reported;
        if (predicate(last)) return last;
        if (Date.now() > deadline)
          throw new Error(`timed out waiting for reported ${what}; last: ${JSON.stringify(last)}`);
        await delay(25);
      }
    },
    async settled(identity) {
      const { desired } = await world.moduleTwin(identity);
      const version = desired.$version;
      return world.waitReported(
        identity,
        (r) => {
          const config = r.config as {
            receivedVersion?: number;
            version?: number;
            refused?: { version?: number };
          };
          return (
            config?.receivedVersion === version &&
            (config.version === version || config.refused?.version === version)
          );
        },
        `version ${String(version)} decided`,
      );
    },
    async invoke(identity, methodName, payload) {
      const { result } = await serviceClients.client.invokeDeviceMethod(
        identity.deviceId,
        identity.moduleId,
        {
          methodName,
          payload: payload ?? null,
          responseTimeoutInSeconds: 10,
          connectTimeoutInSeconds: 5,
        },
      );
      const answer = result as unknown as { status: number; payload: JsonObject };
      return { status: answer.status, payload: answer.payload };
    },
    async waitSubscribed(identity) {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const subs = hub.subscriptionsOf(identity.deviceId, identity.moduleId);
        if (
          hub.isConnected(identity.deviceId, identity.moduleId) &&
          subs.some((s) => s.startsWith('$iothub/twin/PATCH/properties/desired')) &&
          subs.some((s) => s.startsWith('$iothub/methods/POST'))
        )
          return;
        if (Date.now() > deadline)
          throw new Error(`${identity.deviceId}/${identity.moduleId} not subscribed`);
        await delay(20);
      }
    },
    async stopHub() {
      hubRunning = false;
      await hub.stop();
    },
    async startHub() {
      hub = await startSandboxIotHub({ stateDir, logger: quietHubLogger() });
      hubRunning = true;
    },
    messages: (filter) => hub.messages.recent(filter),
    async close() {
      for (const app of gateways) app.hurry();
      await Promise.all([...gateways.map((app) => app.stop(0)), ...forwarders.map((app) => app.stop(0))]);
      serviceClients.close();
      for (const link of links) await link.close();
      if (hubRunning) await hub.stop();
      await relay.stop();
      await Promise.all([echo.close(), sink.close()]);
      await rm(stateDir, { recursive: true, force: true });
    },
  };
  return world;
}

/** The forwarder's desired document: `site-a` with the given services. */
export function forwarderDesired(world: TwinWorld, services: Record<string, number>): JsonObject {
  const entries: JsonObject = {};
  for (const [name, port] of Object.entries(services)) entries[name] = { target: `127.0.0.1:${port}` };
  return {
    schemaVersion: 1,
    drainTimeoutMs: 5_000,
    hybridConnections: {
      'site-a': { connectionString: world.listenConnectionString, listeners: 1, services: entries },
    },
  };
}

/** The gateway's desired document: hybrid connection `site-a` and the given routes. */
export function gatewayDesired(world: TwinWorld, routes: JsonObject): JsonObject {
  return {
    schemaVersion: 1,
    drainTimeoutMs: 5_000,
    hybridConnections: { 'site-a': { connectionString: world.sendConnectionString } },
    routes,
  };
}

/** A gateway route on 127.0.0.1:`port` to `service` over `site-a`, open to loopback clients. */
export function route(port: number, service: string, extra: JsonObject = {}): JsonObject {
  return {
    port,
    bindAddress: '127.0.0.1',
    hybridConnection: 'site-a',
    service,
    allow: ['127.0.0.0/8'],
    ...extra,
  };
}

/** Ports that were free a moment ago. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, async () => {
      const server = net.createServer();
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return server;
    }),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  return ports;
}

/** One echo round trip through `port`: true when `payload` came back whole. */
export async function echoOnce(port: number, payload = 'ping'): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    const chunks: Buffer[] = [];
    let settled = false;
    const done = (ok: boolean): void => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(ok);
    };
    socket.on('connect', () => socket.end(payload));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => done(Buffer.concat(chunks).toString() === payload));
    socket.on('error', () => done(false));
    socket.on('close', () => done(false));
  });
}

/** Tries echo round trips through `port` until one succeeds; resolves with the time that took (bounded). */
export async function waitForTraffic(port: number, timeoutMs = 5_000): Promise<number> {
  const startedAt = Date.now();
  for (;;) {
    if (await echoOnce(port, `probe-${port}`)) return Date.now() - startedAt;
    if (Date.now() - startedAt > timeoutMs)
      throw new Error(`no traffic through port ${port} within ${timeoutMs} ms`);
    await delay(5);
  }
}

/** Resolves after `ms`. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function testLogger(name: string): pino.Logger {
  return pino({ name, level: process.env.LOG_LEVEL ?? 'silent' });
}

function quietHubLogger(): pino.Logger {
  return pino({ name: 'sandbox-iothub', level: process.env.LOG_LEVEL ?? 'silent' });
}
