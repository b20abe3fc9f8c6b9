// Starts the whole sandbox tunnel demo: relay, sample services, and relay-forwarder and relay-gateway as child
// processes on generated configuration files; and stops it all again.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pino from 'pino';
import { createLogger } from '../../../modules/common/src/log';
import { startDemoRelay, type DemoRelay } from './relay-setup';
import { ModuleProcess, type ModuleExit } from './module-process';
import {
  DEMO_LISTENERS_PER_LOCATION,
  DEMO_LOCATIONS,
  forwarderDocument,
  gatewayDocument,
  routeId,
  type DemoLocationPlan,
} from './plan';
import { startSampleService, type SampleService, type SampleServiceKind } from './services';

/** Options of {@link startDemo}. */
export interface DemoOptions {
  /** Holds `pki/` (the CA, kept between runs) and `demo/` (configuration files and logs of this run). */
  readonly stateDir: string;
  readonly locations?: readonly DemoLocationPlan[];
  /** Bound on each start-up step (child process ready, listeners online). */
  readonly startTimeoutMs?: number;
}

/** One public entry point of the demo: a gateway route and the on-prem service behind it. */
export interface DemoRoute {
  readonly id: string;
  readonly location: string;
  readonly service: string;
  readonly kind: SampleServiceKind;
  /** The gateway's public port on 127.0.0.1. */
  readonly publicPort: number;
  /** The sample service's own port on 127.0.0.1 (what the forwarder dials). */
  readonly targetPort: number;
}

/** Files the demo writes under `{stateDir}/demo`. */
export interface DemoFiles {
  readonly dir: string;
  readonly gatewayConfig: string;
  readonly forwarderConfig: string;
  readonly gatewayLog: string;
  readonly forwarderLog: string;
  readonly relayLog: string;
}

/** How the demo's child processes ended. */
export interface DemoStopResult {
  readonly gateway: ModuleExit;
  readonly forwarder: ModuleExit;
}

/** A running demo. */
export interface Demo {
  readonly relay: DemoRelay['relay'];
  readonly caFile: string;
  readonly files: DemoFiles;
  readonly gateway: ModuleProcess;
  readonly forwarder: ModuleProcess;
  readonly routes: readonly DemoRoute[];
  /** Ports of the modules' `/healthz` and `/readyz` on 127.0.0.1. */
  readonly healthPorts: { readonly gateway: number; readonly forwarder: number };
  /** Stops the modules (SIGTERM, bounded), the sample services and the relay. Safe to call twice. */
  stop(): Promise<DemoStopResult>;
}

/** Default bound on each start-up step: ts-node compiles each module at start, which takes seconds on a small VM. */
export const DEFAULT_START_TIMEOUT_MS = 60_000;

/** Starts everything on loopback with ephemeral ports; on any failure stops what was started and rejects. */
export async function startDemo(options: DemoOptions): Promise<Demo> {
  const locations = options.locations ?? DEMO_LOCATIONS;
  const timeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  const dir = join(options.stateDir, 'demo');
  const files: DemoFiles = {
    dir,
    gatewayConfig: join(dir, 'gateway.json'),
    forwarderConfig: join(dir, 'forwarder.json'),
    gatewayLog: join(dir, 'logs', 'relay-gateway.log'),
    forwarderLog: join(dir, 'logs', 'relay-forwarder.log'),
    relayLog: join(dir, 'logs', 'sandbox-relay.log'),
  };
  await mkdir(join(dir, 'logs'), { recursive: true });

  const cleanups: Array<() => Promise<unknown>> = [];
  const cleanUp = async (): Promise<void> => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  };
  try {
    const relayLogDestination = pino.destination({ dest: files.relayLog, sync: true });
    cleanups.push(async () => relayLogDestination.end());
    const relayLogger = createLogger('sandbox-relay', 'info', { destination: relayLogDestination });
    const relay = await startDemoRelay(options.stateDir, locations, relayLogger);
    cleanups.push(() => relay.relay.stop());

    const services = new Map<string, SampleService>();
    const targetPorts: Record<string, Record<string, number>> = {};
    for (const location of locations) {
      targetPorts[location.name] = {};
      for (const service of location.services) {
        const running = await startSampleService(service.kind, {
          location: location.name,
          service: service.name,
        });
        cleanups.push(() => running.close());
        services.set(routeId(location.name, service.name), running);
        targetPorts[location.name]![service.name] = running.port;
      }
    }

    // The files hold Listen and Send keys: readable by the owner only, as a deployment would keep them.
    const json = (document: unknown): string => `${JSON.stringify(document, null, 2)}\n`;
    await writeFile(
      files.forwarderConfig,
      json(forwarderDocument(locations, relay.credentials, targetPorts)),
      { mode: 0o600 },
    );
    await writeFile(files.gatewayConfig, json(gatewayDocument(locations, relay.credentials)), {
      mode: 0o600,
    });

    // Health endpoints on loopback ports the OS picks: the defaults (8080/8081 on every interface) are for a VM
    // behind a load balancer, and would clash with whatever already uses those ports here.
    const env = { ...process.env, LOG_LEVEL: 'info', HEALTH_PORT: '0', HEALTH_BIND_ADDRESS: '127.0.0.1' };
    const forwarder = ModuleProcess.start({
      module: 'relay-forwarder',
      configPath: files.forwarderConfig,
      relayCaPath: relay.caFile,
      logPath: files.forwarderLog,
      logLevel: 'info',
      env,
      detached: true,
    });
    cleanups.push(() => forwarder.stop());
    const gateway = ModuleProcess.start({
      module: 'relay-gateway',
      configPath: files.gatewayConfig,
      relayCaPath: relay.caFile,
      logPath: files.gatewayLog,
      logLevel: 'info',
      env,
      detached: true,
    });
    cleanups.push(() => gateway.stop());
    // The modules run in process groups of their own: if this process dies without stopping them, kill them.
    const killOnExit = (): void => {
      gateway.kill('SIGKILL');
      forwarder.kill('SIGKILL');
    };
    process.once('exit', killOnExit);
    cleanups.push(async () => process.off('exit', killOnExit));

    const [routes, , gatewayHealth, forwarderHealth] = await Promise.all([
      publicRoutes(gateway, locations, services, timeoutMs),
      forwarderOnline(forwarder, locations, timeoutMs),
      healthPort(gateway, timeoutMs),
      healthPort(forwarder, timeoutMs),
    ]);

    let stopping: Promise<DemoStopResult> | undefined;
    return {
      relay: relay.relay,
      caFile: relay.caFile,
      files,
      gateway,
      forwarder,
      routes,
      healthPorts: { gateway: gatewayHealth, forwarder: forwarderHealth },
      stop: () =>
        (stopping ??= (async () => {
          // Gateway first (no new clients), forwarder second, then what they talked to.
          const [gatewayExit, forwarderExit] = await Promise.all([gateway.stop(), forwarder.stop()]);
          await cleanUp();
          return { gateway: gatewayExit, forwarder: forwarderExit };
        })()),
    };
  } catch (err) {
    await cleanUp();
    throw err;
  }
}

/** Waits until every route's port is open and reads the port the OS chose from the gateway's log. */
async function publicRoutes(
  gateway: ModuleProcess,
  locations: readonly DemoLocationPlan[],
  services: ReadonlyMap<string, SampleService>,
  timeoutMs: number,
): Promise<DemoRoute[]> {
  const routes: DemoRoute[] = [];
  for (const location of locations) {
    for (const service of location.services) {
      const id = routeId(location.name, service.name);
      const line = await gateway.waitForLog(
        (l) => l.msg === 'route listening' && l.routeId === id,
        `route ${id} to listen`,
        { timeoutMs },
      );
      const address = line.address as { port?: unknown } | undefined;
      if (typeof address?.port !== 'number') throw new Error(`relay-gateway logged no port for route ${id}`);
      routes.push({
        id,
        location: location.name,
        service: service.name,
        kind: service.kind,
        publicPort: address.port,
        targetPort: services.get(id)!.port,
      });
    }
  }
  return routes;
}

/** Waits for the module's health endpoint and reads its port from the log. */
async function healthPort(module: ModuleProcess, timeoutMs: number): Promise<number> {
  const line = await module.waitForLog((l) => l.msg === 'health endpoint listening', 'its health endpoint', {
    timeoutMs,
  });
  if (typeof line.port !== 'number') throw new Error(`${module.module} logged no health port`);
  return line.port;
}

/** Waits until every control channel of every location is online (the forwarder logs each one). */
async function forwarderOnline(
  forwarder: ModuleProcess,
  locations: readonly DemoLocationPlan[],
  timeoutMs: number,
): Promise<void> {
  const online = (location: string): number =>
    forwarder.lines.filter((l) => l.msg === 'listener online' && l.hybridConnection === location).length;
  for (const location of locations) {
    await forwarder.waitForLog(
      () => online(location.name) >= DEMO_LISTENERS_PER_LOCATION,
      `the control channels of ${location.name} to be online`,
      { timeoutMs },
    );
  }
}
