// The end-to-end world: the sandbox relay over TLS, the REAL relay-forwarder and relay-gateway (in-process, each
// driven by its own configuration file, as `--config` runs them), and real TCP/HTTP targets on loopback.
import { once } from 'node:events';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { SampleService } from '../../sandbox/src/demo/services';
import { startSandboxRelay, type SandboxRelay, type SandboxRelayOptions } from '../../sandbox/src/relay';
import type { ConfigProblem } from '../../modules/common/src/config/schema-validator';
import type { GatewayEvents } from '../../modules/relay-gateway/src/events';
import { startGatewayFromFile, type GatewayFileApp } from '../../modules/relay-gateway/src/file-app';
import type { ConfigAppliedEvent } from '../../modules/relay-forwarder/src/forwarder';
import { startForwarderFromFile, type ForwarderFileApp } from '../../modules/relay-forwarder/src/file-app';
import {
  startEchoTarget,
  startHttpTarget,
  startRespondAfterEofTarget,
  startSha256SinkTarget,
} from './e2e-targets';
import { waitOnline } from './relay-forwarder-harness';
import { freePort, routePort, testLogger } from './relay-gateway-harness';
import type { TestTcpServer } from './tunnel-harness';

/** The hybrid connection every e2e test uses (one location). */
export const SITE = 'site-a';

/** Least-privilege connection strings of one hybrid connection. */
export interface SiteKeys {
  readonly listenConnectionString: string;
  readonly sendConnectionString: string;
}

/** Targets every world starts. */
export interface E2eTargets {
  readonly echo: TestTcpServer;
  readonly sink: TestTcpServer;
  readonly afterEof: TestTcpServer;
  readonly http: SampleService;
  /** A loopback port nothing listens on. */
  readonly downPort: number;
}

/** Options of {@link startE2eWorld}. */
export interface E2eWorldOptions {
  /** Forwarder services of `site-a`: port name → service entry; default {@link defaultServices}. */
  readonly services?: (targets: E2eTargets) => Record<string, unknown>;
  /** Gateway routes: id → route; default {@link defaultRoutes}. */
  readonly routes?: Record<string, Record<string, unknown>>;
  /** The forwarder's logger (default: silent unless LOG_LEVEL is set). */
  readonly forwarderLog?: pino.Logger;
  /** Extra top-level gateway fields (limits, drainTimeoutMs). */
  readonly gatewayExtra?: Record<string, unknown>;
  /** Credential fields of each side's `site-a` entry (e.g. Entra ID `auth`); default the SAS connection strings. */
  readonly credentials?: (relay: SandboxRelay) => Promise<{
    readonly forwarder: Record<string, unknown>;
    readonly gateway: Record<string, unknown>;
  }>;
  /** Sandbox relay options (e.g. a smaller in-flight bound per tunnel). */
  readonly relay?: SandboxRelayOptions;
  /** The gateway's logger (default: silent unless LOG_LEVEL says otherwise). */
  readonly gatewayLogger?: pino.Logger;
}

/** A running end-to-end world. */
export interface E2eWorld {
  readonly relay: SandboxRelay;
  readonly targets: E2eTargets;
  readonly keys: SiteKeys;
  readonly forwarder: ForwarderFileApp;
  readonly gateway: GatewayFileApp;
  readonly forwarderConfigPath: string;
  readonly gatewayConfigPath: string;
  /** The public port of a gateway route. */
  port(routeId: string): number;
  /** A forwarder document for `site-a` with `services`. */
  forwarderDocument(services: Record<string, unknown>, extra?: Record<string, unknown>): object;
  /** A gateway document for `site-a` with `routes`. */
  gatewayDocument(routes: Record<string, unknown>, extra?: Record<string, unknown>): object;
  /** Replaces the forwarder's file (temp file + rename, as deployment tools do) and resolves with its verdict. */
  rewriteForwarder(document: unknown): Promise<ForwarderVerdict>;
  /** Replaces the gateway's file and resolves with its verdict. */
  rewriteGateway(document: unknown): Promise<GatewayVerdict>;
  close(): Promise<void>;
}

/** What the forwarder did with a rewritten file. */
export type ForwarderVerdict =
  { readonly applied: ConfigAppliedEvent } | { readonly rejected: readonly ConfigProblem[] };

/** What the gateway did with a rewritten file. */
export type GatewayVerdict =
  { readonly applied: GatewayEvents['applied'][0] } | { readonly rejected: readonly ConfigProblem[] };

/** A gateway route on 127.0.0.1 (OS-chosen port) to `service` of `site-a`, open to loopback clients. */
export function e2eRoute(service: string, more: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    port: 0,
    bindAddress: '127.0.0.1',
    hybridConnection: SITE,
    service,
    allow: ['127.0.0.0/8'],
    ...more,
  };
}

/** The forwarder's default services: one per target, plus `down` (nothing listens). */
export function defaultServices(t: E2eTargets): Record<string, unknown> {
  const at = (port: number): { target: string } => ({ target: `127.0.0.1:${port}` });
  return {
    echo: at(t.echo.port),
    sink: at(t.sink.port),
    'after-eof': at(t.afterEof.port),
    web: at(t.http.port),
    down: { ...at(t.downPort), connectTimeoutMs: 5_000 },
  };
}

/** The gateway's default routes: one per forwarder service, plus one to a port name the forwarder lacks. */
export function defaultRoutes(): Record<string, Record<string, unknown>> {
  return {
    echo: e2eRoute('echo'),
    sink: e2eRoute('sink'),
    'after-eof': e2eRoute('after-eof'),
    web: e2eRoute('web'),
    down: e2eRoute('down'),
    unknown: e2eRoute('no-such-service'),
  };
}

/** Starts the relay, the targets, then the forwarder (waits for its channels) and the gateway. */
export async function startE2eWorld(options: E2eWorldOptions = {}): Promise<E2eWorld> {
  // TLS in two front processes: with every module in this one process, the relay's crypto must not compete
  // with the modules under test for one event loop (the 200-concurrent test on a loaded machine).
  const relay = await startSandboxRelay({ tlsFronts: 2, ...options.relay });
  const dir = await mkdtemp(join(tmpdir(), 'hrf-e2e-'));
  const opened: Array<{ close(): Promise<void> }> = [];
  try {
    relay.createHybridConnection(SITE);
    const keys: SiteKeys = {
      listenConnectionString: relay.createAuthorizationRule(SITE, 'forwarder', ['Listen'])
        .primaryConnectionString,
      sendConnectionString: relay.createAuthorizationRule(SITE, 'gateway', ['Send']).primaryConnectionString,
    };
    const targets: E2eTargets = {
      echo: await startEchoTarget(),
      sink: await startSha256SinkTarget(),
      afterEof: await startRespondAfterEofTarget(),
      http: await startHttpTarget(SITE, 'web'),
      downPort: await freePort(),
    };
    opened.push(targets.echo, targets.sink, targets.afterEof, targets.http);
    const credentials = (await options.credentials?.(relay)) ?? {
      forwarder: { connectionString: keys.listenConnectionString },
      gateway: { connectionString: keys.sendConnectionString },
    };

    const forwarderDocument = (
      services: Record<string, unknown>,
      extra: Record<string, unknown> = {},
    ): object => ({
      schemaVersion: 1,
      drainTimeoutMs: 5_000,
      hybridConnections: {
        [SITE]: { ...credentials.forwarder, listeners: 2, services },
      },
      ...extra,
    });
    const gatewayDocument = (
      routes: Record<string, unknown>,
      extra: Record<string, unknown> = {},
    ): object => ({
      schemaVersion: 1,
      drainTimeoutMs: 5_000,
      hybridConnections: { [SITE]: credentials.gateway },
      routes,
      ...(options.gatewayExtra ?? {}),
      ...extra,
    });

    const forwarderConfigPath = join(dir, 'forwarder.json');
    const gatewayConfigPath = join(dir, 'gateway.json');
    let writes = 0;
    const replace = async (path: string, document: unknown): Promise<void> => {
      const temp = join(dir, `.write-${++writes}.tmp`);
      await writeFile(temp, typeof document === 'string' ? document : JSON.stringify(document, null, 2));
      await rename(temp, path);
    };
    await replace(forwarderConfigPath, forwarderDocument((options.services ?? defaultServices)(targets)));
    await replace(gatewayConfigPath, gatewayDocument(options.routes ?? defaultRoutes()));

    const watch = { debounceMs: 20, pollIntervalMs: 0 };
    const forwarder = await startForwarderFromFile({
      configPath: forwarderConfigPath,
      log: options.forwarderLog ?? pino({ level: process.env.LOG_LEVEL ?? 'silent' }),
      tls: { ca: relay.caPem },
      watch,
    });
    opened.push({ close: () => forwarder.stop(0) });
    await waitOnline(forwarder.forwarder, SITE);
    const gateway = await startGatewayFromFile({
      configPath: gatewayConfigPath,
      logger: options.gatewayLogger ?? testLogger(),
      tls: { ca: relay.caPem },
      watch,
    });
    opened.push({
      close: () => {
        gateway.hurry();
        return gateway.stop(0);
      },
    });

    return {
      relay,
      targets,
      keys,
      forwarder,
      gateway,
      forwarderConfigPath,
      gatewayConfigPath,
      port: (routeId) => routePort(gateway.gateway, routeId),
      forwarderDocument,
      gatewayDocument,
      async rewriteForwarder(document) {
        const f = forwarder.forwarder;
        const verdict = Promise.race([
          once(f, 'configApplied').then(([applied]) => ({ applied: applied as ConfigAppliedEvent })),
          once(f, 'configRejected').then(([problems]) => ({ rejected: problems as ConfigProblem[] })),
        ]);
        await replace(forwarderConfigPath, document);
        return verdict;
      },
      async rewriteGateway(document) {
        const g = gateway.gateway;
        const verdict = Promise.race([
          once(g, 'applied').then(([applied]) => ({ applied: applied as GatewayEvents['applied'][0] })),
          once(g, 'rejected').then(([rejected]) => ({
            rejected: (rejected as GatewayEvents['rejected'][0]).problems,
          })),
        ]);
        await replace(gatewayConfigPath, document);
        return verdict;
      },
      async close() {
        for (const item of opened.splice(0).reverse()) await item.close();
        await relay.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    for (const item of opened.splice(0).reverse()) await item.close().catch(() => undefined);
    await relay.stop();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
