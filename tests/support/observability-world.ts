// The whole data path in one process for observability tests: the sandbox relay over TLS, a real relay-forwarder
// and a real relay-gateway (each with its own in-memory metrics and recording tracer, bound through the modules'
// observability files), and TCP targets. Nothing in the path is a test double.
import { createHash } from 'node:crypto';
import * as net from 'node:net';
import { propagation } from '@opentelemetry/api';
import pino from 'pino';
import { createSasToken, relayResourceUri } from '../../modules/common/src/hc/sas';
import { Forwarder } from '../../modules/relay-forwarder/src/forwarder';
import {
  attachForwarderTelemetry,
  type ForwarderTelemetryBinding,
} from '../../modules/relay-forwarder/src/observability';
import { Gateway } from '../../modules/relay-gateway/src/gateway';
import {
  attachGatewayTelemetry,
  type GatewayTelemetryBinding,
} from '../../modules/relay-gateway/src/observability';
import { createRelayTunnelOpener } from '../../modules/relay-gateway/src/tunnel-opener';
import { startSandboxRelay, type SandboxRelay } from '../../sandbox/src/relay';
import { generateSandboxPki, type SandboxPki } from '../../sandbox/src/tls/pki';
import { createTestMetrics, type TestMetrics } from './metrics';
import { RecordingTracer, TraceparentPropagator } from './tracing';
import { startTcpServer, waitFor, type TestTcpServer } from './tunnel-harness';

/** The hybrid connection the forwarder serves. */
export const SITE = 'site-a';
/** A hybrid connection nobody listens on (404 no listener). */
export const EMPTY = 'empty';
/** The location attribute the forwarder reports. */
export const LOCATION = 'plant-7';

/** Everything an observability test drives and reads. */
export interface ObservabilityWorld {
  readonly relay: SandboxRelay;
  readonly gateway: Gateway;
  readonly forwarder: Forwarder;
  readonly gatewayMetrics: TestMetrics;
  readonly forwarderMetrics: TestMetrics;
  readonly gatewayTracer: RecordingTracer;
  readonly forwarderTracer: RecordingTracer;
  readonly gatewayBinding: GatewayTelemetryBinding;
  readonly forwarderBinding: ForwarderTelemetryBinding;
  /** Echoes every byte, half-close aware. */
  readonly echo: TestTcpServer;
  /** Reads to EOF, answers with the sha256 hex of what it read, and ends. */
  readonly sink: TestTcpServer;
  /** Keeps every connection open and silent. */
  readonly hold: TestTcpServer;
  /** A loopback port nothing listens on. */
  readonly downPort: number;
  /** Listen rule connection string of SITE (with EntityPath). */
  readonly listenConnectionString: string;
  /** Send rule connection strings by hybrid connection. */
  readonly sendConnectionString: Readonly<Record<string, string>>;
  /** A Listen token for SITE valid for `lifetimeMs`. */
  listenToken(lifetimeMs: number): string;
  /** A forwarder document for SITE (2 listeners, the Listen key; a pre-issued token instead when given). */
  forwarderDocument(services: Record<string, unknown>, sasToken?: string): object;
  /** A gateway document with hybrid connections SITE and EMPTY and the given routes. */
  gatewayDocument(routes: Record<string, unknown>, extra?: Record<string, unknown>): object;
  /** The bound port of a gateway route. */
  port(routeId: string): number;
  /** Stops the relay (every listener and tunnel drops). */
  stopRelay(): Promise<void>;
  /** Starts the relay again on the same port, certificate and namespace state. */
  startRelay(): Promise<void>;
  close(): Promise<void>;
}

/** Options for startObservabilityWorld. */
export interface ObservabilityWorldOptions {
  /** Faster listener reconnects (relay restart tests). */
  readonly fastReconnect?: boolean;
}

/** Starts relay, targets, forwarder and gateway (both unconfigured: tests apply their documents). */
export async function startObservabilityWorld(
  options: ObservabilityWorldOptions = {},
): Promise<ObservabilityWorld> {
  // The Azure Monitor distro registers a W3C propagator; tests register a minimal one in its place.
  propagation.setGlobalPropagator(new TraceparentPropagator());
  const pki: SandboxPki = await generateSandboxPki();
  let relay = await startSandboxRelay({ pki });
  const { port: relayPort, registry } = relay;
  for (const name of [SITE, EMPTY]) relay.createHybridConnection(name);
  const listen = relay.createAuthorizationRule(SITE, 'listen', ['Listen']);
  const sends = {
    [SITE]: relay.createAuthorizationRule(SITE, 'send', ['Send']).primaryConnectionString,
    [EMPTY]: relay.createAuthorizationRule(EMPTY, 'send', ['Send']).primaryConnectionString,
  };

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
  const hold = await startTcpServer((socket) => socket.on('error', () => undefined));
  const downPort = await closedPort();

  const logger = pino({ level: process.env.LOG_LEVEL ?? 'silent' });
  const gatewayMetrics = createTestMetrics({ module: 'relay-gateway' });
  const forwarderMetrics = createTestMetrics({ module: 'relay-forwarder' });
  const gatewayTracer = new RecordingTracer();
  const forwarderTracer = new RecordingTracer();
  const forwarder = new Forwarder({
    log: logger,
    tls: { ca: relay.caPem },
    ...(options.fastReconnect && {
      listener: {
        backoff: { initialDelayMs: 50, maxDelayMs: 200, multiplier: 2, jitterRatio: 0.5 },
        healthyAfterMs: 100,
      },
    }),
  });
  const gateway = new Gateway({
    opener: createRelayTunnelOpener({ tls: { ca: relay.caPem }, logger }),
    logger,
  });
  const forwarderBinding = attachForwarderTelemetry(
    forwarder,
    { metrics: forwarderMetrics.metrics, tracer: forwarderTracer },
    { location: LOCATION, liveBytesIntervalMs: 0 },
  );
  const gatewayBinding = attachGatewayTelemetry(
    gateway,
    { metrics: gatewayMetrics.metrics, tracer: gatewayTracer },
    { liveBytesIntervalMs: 0 },
  );

  return {
    get relay() {
      return relay;
    },
    gateway,
    forwarder,
    gatewayMetrics,
    forwarderMetrics,
    gatewayTracer,
    forwarderTracer,
    gatewayBinding,
    forwarderBinding,
    echo,
    sink,
    hold,
    downPort,
    listenConnectionString: listen.primaryConnectionString,
    sendConnectionString: sends,
    listenToken: (lifetimeMs) =>
      createSasToken({
        resource: relayResourceUri(relay.namespace, SITE),
        keyName: listen.keyName,
        key: listen.primaryKey,
        lifetimeMs,
      }),
    forwarderDocument: (services, sasToken) => ({
      schemaVersion: 1,
      hybridConnections: {
        [SITE]: {
          ...(sasToken === undefined
            ? { connectionString: listen.primaryConnectionString }
            : { namespace: relay.namespace, path: SITE, sasToken }),
          listeners: 2,
          services,
        },
      },
    }),
    gatewayDocument: (routes, extra = {}) => ({
      schemaVersion: 1,
      hybridConnections: {
        [SITE]: { connectionString: sends[SITE] },
        [EMPTY]: { connectionString: sends[EMPTY] },
      },
      routes,
      ...extra,
    }),
    port: (routeId) => {
      const state = gateway.state().routes[routeId];
      if (!state?.boundPort) throw new Error(`route ${routeId} is not listening (${state?.status})`);
      return state.boundPort;
    },
    stopRelay: () => relay.stop(),
    async startRelay() {
      relay = await startSandboxRelay({ pki, port: relayPort, registry });
    },
    async close() {
      gatewayBinding.detach();
      forwarderBinding.detach();
      gateway.closeAllConnections();
      await gateway.stop(0);
      await forwarder.stop(0);
      await Promise.all([echo.close(), sink.close(), hold.close()]);
      await relay.stop();
      await Promise.all([gatewayMetrics.shutdown(), forwarderMetrics.shutdown()]);
      propagation.disable();
    },
  };
}

/** A gateway route on 127.0.0.1 (ephemeral port) to `service` of SITE, open to loopback clients. */
export function route(service: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    port: 0,
    bindAddress: '127.0.0.1',
    hybridConnection: SITE,
    service,
    allow: ['127.0.0.0/8'],
    ...overrides,
  };
}

/** Waits until every control channel of SITE is online (bounded). */
export async function forwarderOnline(forwarder: Forwarder, timeoutMs = 10_000): Promise<void> {
  await waitFor(
    () => {
      const hc = forwarder.state().hybridConnections[SITE];
      return hc !== undefined && hc.onlineListeners === hc.listeners;
    },
    'forwarder listeners online',
    timeoutMs,
  );
}

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
