// The fault suite's world: the sandbox relay, relay-forwarder and relay-gateway as real child processes (so
// each can be killed, frozen or restarted), the targets and the clients in this process.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { createSasToken, relayResourceUri } from '../../modules/common/src/hc/sas';
import { ModuleProcess } from '../../sandbox/src/demo/module-process';
import { describeSockets, procSockets, tcpState } from './proc-sockets';
import { ChaosHub } from './twin-hub';
import { startEcho, startSink, startSource, type ChaosTarget } from './targets';
import { probe } from './transfers';

const ROOT = resolve(__dirname, '..', '..');
/** The one hybrid connection of the suite. */
export const SITE = 'site-a';
/** Module log level (CHAOS_LOG_LEVEL, default warn); with CHAOS_LOG_DIR each module's log is kept there. */
const LOG_LEVEL = process.env.CHAOS_LOG_LEVEL ?? 'warn';
const LOG_DIR = process.env.CHAOS_LOG_DIR;
let logSerial = 0;
const logPath = (name: string): string | undefined =>
  LOG_DIR === undefined ? undefined : join(LOG_DIR, `${name}-${++logSerial}.log`);
/** Bytes the source target sends per download. */
export const DOWNLOAD_BYTES = 8 * 1024 * 1024;

/** How a world is built (the default: SAS keys in the configs, no pre-warmed connections). */
export interface WorldOptions {
  /** Pre-warmed connections per gateway route (default 0, see the route's comment). */
  readonly warmConnections?: number;
  /**
   * Pre-issued SAS tokens of this lifetime in the config files instead of keys (the fleet controller's way);
   * {@link ChaosWorld.renewTokens} rewrites the files with fresh ones, as the controller renews them.
   */
  readonly tokenLifetimeMs?: number;
  /** With `tokenLifetimeMs`: fresh tokens written this often (default a third of the lifetime). */
  readonly tokenRenewEveryMs?: number;
  /**
   * Both modules in twin mode against a sandbox IoT Hub process ({@link ChaosWorld.hub}): the same documents go
   * to their desired properties instead of files.
   */
  readonly twin?: boolean;
}

/** The modules' identities in a twin-mode world. */
export const TWIN_IDS = {
  forwarder: { deviceId: 'loc-1', moduleId: 'relay-forwarder' },
  gateway: { deviceId: 'gw-1', moduleId: 'relay-gateway' },
} as const;

/** What a process holds, from /proc. */
export interface Held {
  readonly gatewaySockets: number;
  readonly forwarderSockets: number;
  readonly targetConnections: number;
  readonly gatewayRssMiB: number;
  readonly forwarderRssMiB: number;
  /** What the modules' sockets are (when a case left sockets held: now and at the baseline), for the note. */
  readonly detail?: string;
}

/** Sockets (fds that are sockets) a process holds, from /proc/<pid>/fd. */
export function socketCount(pid: number | undefined): number {
  if (pid === undefined) return -1;
  try {
    return readdirSync(`/proc/${pid}/fd`).filter((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:');
      } catch {
        return false;
      }
    }).length;
  } catch {
    return -1;
  }
}

/** Resident set size in MiB, from /proc/<pid>/status. */
export function rssMiB(pid: number | undefined): number {
  if (pid === undefined) return -1;
  try {
    const kb = Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? -1024);
    return Math.round((kb / 1024) * 10) / 10;
  } catch {
    return -1;
  }
}

/**
 * A free port for a gateway route, below the kernel's ephemeral range. The routes keep fixed ports (a restarted
 * gateway serves the same ones); a port taken from the ephemeral range can meanwhile become the local port of any
 * outgoing connection on the machine (a module's own relay or target connections), and the gateway then refuses
 * the route (PORT_IN_USE) until it restarts — read as a held gateway socket once it does.
 */
export async function freePort(): Promise<number> {
  const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
    .trim()
    .split(/\s+/)
    .map(Number);
  const top = Math.min(low ?? 32_768, 32_768);
  const base = Math.max(1_024, Math.min(10_000, top - 2_000));
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = base + Math.floor(Math.random() * (top - base));
    const server = createServer();
    const bound = await new Promise<boolean>((r) => {
      server.once('error', () => r(false));
      server.listen(port, '127.0.0.1', () => r(true));
    });
    if (!bound) continue;
    await new Promise<void>((r) => server.close(() => r()));
    return port;
  }
  throw new Error('no free port below the ephemeral range');
}

/** A running fault-suite world. */
export class ChaosWorld {
  relay: ChildProcess | undefined;
  forwarder: ModuleProcess | undefined;
  gateway: ModuleProcess | undefined;
  /** The relay's root-key connection string for the hybrid connection (hostile peers of a case use it). */
  relayKeyConnectionString = '';
  /** The IoT Hub of a twin-mode world. */
  hub: ChaosHub | undefined;
  private twinEnv: { forwarder?: Record<string, string>; gateway?: Record<string, string> } = {};
  private relayPort = 0;
  private writeConfigs: () => Promise<void> = async () => undefined;
  private renewTimer: NodeJS.Timeout | undefined;

  private constructor(
    readonly dir: string,
    readonly targets: { echo: ChaosTarget; sink: ChaosTarget; source: ChaosTarget },
    /** Public ports of the gateway routes. */
    readonly ports: { echo: number; sink: number; source: number },
  ) {}

  /** Starts everything and waits until a probe round-trips. */
  static async start(options: WorldOptions = {}): Promise<ChaosWorld> {
    const dir = await mkdtemp(join(tmpdir(), 'hrf-chaos-'));
    const targets = {
      echo: await startEcho(),
      sink: await startSink(),
      source: await startSource(DOWNLOAD_BYTES),
    };
    const ports = { echo: await freePort(), sink: await freePort(), source: await freePort() };
    const world = new ChaosWorld(dir, targets, ports);
    const info = await world.startRelay();
    const keyCs = `${info.manageConnectionString};EntityPath=${SITE}`;
    world.relayKeyConnectionString = keyCs;
    await writeFile(join(dir, 'relay-ca.pem'), await readFile(info.caFile));
    const service = (port: number): object => ({ target: `127.0.0.1:${port}` });
    const cs = (): string =>
      options.tokenLifetimeMs === undefined ? keyCs : tokenConnectionString(keyCs, options.tokenLifetimeMs);
    const forwarderDoc = (): object => ({
      schemaVersion: 1,
      logLevel: LOG_LEVEL,
      drainTimeoutMs: 1000,
      hybridConnections: {
        [SITE]: {
          connectionString: cs(),
          listeners: 2,
          services: {
            echo: service(targets.echo.port),
            sink: service(targets.sink.port),
            source: service(targets.source.port),
          },
        },
      },
    });
    const route = (port: number, name: string): object => ({
      port,
      bindAddress: '127.0.0.1',
      hybridConnection: SITE,
      service: name,
      allow: ['127.0.0.0/8'],
      maxConnections: 20_000,
      // No pre-warmed connections unless asked (cases-warm.ts): "held" compares socket counts with the baseline,
      // and a warm pool grows with demand by design (released with its route: relay-gateway-warm*.test.ts).
      warmConnections: options.warmConnections ?? 0,
      // Nor multiplexed ones, held the same way (tests/e2e/mux.test.ts covers their release and faults).
      multiplex: false,
    });
    const gatewayDoc = (): object => ({
      schemaVersion: 1,
      logLevel: LOG_LEVEL,
      drainTimeoutMs: 1000,
      limits: { maxConnections: 20_000 },
      hybridConnections: { [SITE]: { connectionString: cs() } },
      routes: {
        echo: route(ports.echo, 'echo'),
        sink: route(ports.sink, 'sink'),
        source: route(ports.source, 'source'),
      },
    });
    if (options.twin) {
      try {
        world.hub = await ChaosHub.start(join(dir, 'relay-state'));
        world.twinEnv = {
          forwarder: await world.hub.addModule(TWIN_IDS.forwarder),
          gateway: await world.hub.addModule(TWIN_IDS.gateway),
        };
      } catch (err) {
        await world.close().catch(() => undefined);
        throw err;
      }
    }
    world.writeConfigs = async () => {
      const hub = world.hub;
      if (hub)
        await Promise.all([
          hub.patchDesired(TWIN_IDS.forwarder, forwarderDoc()),
          hub.patchDesired(TWIN_IDS.gateway, gatewayDoc()),
        ]);
      else
        await Promise.all([
          replaceFile(join(dir, 'forwarder.json'), JSON.stringify(forwarderDoc()), { mode: 0o600 }),
          replaceFile(join(dir, 'gateway.json'), JSON.stringify(gatewayDoc()), { mode: 0o600 }),
        ]);
    };
    await world.writeConfigs();
    if (options.tokenLifetimeMs !== undefined)
      world.setTokenRenewal(options.tokenRenewEveryMs ?? Math.floor(options.tokenLifetimeMs / 3));
    world.startForwarder();
    world.startGateway();
    if ((await world.timeToRecover(60_000)) < 0) {
      await world.close();
      throw new Error('the chaos world did not carry a probe within 60 s');
    }
    return world;
  }

  /** The relay's TLS port (the same across restarts). */
  get relayPortNumber(): number {
    return this.relayPort;
  }

  /** Writes both config files again with fresh tokens (a world started with `tokenLifetimeMs`). */
  renewTokens(): Promise<void> {
    return this.writeConfigs();
  }

  /** Renews the tokens every `everyMs` (as the fleet controller would), or stops renewing (`undefined`). */
  setTokenRenewal(everyMs: number | undefined): void {
    clearInterval(this.renewTimer);
    this.renewTimer = undefined;
    if (everyMs !== undefined)
      this.renewTimer = setInterval(() => void this.renewTokens().catch(() => undefined), everyMs);
  }

  /** Starts (or restarts, on the same port and state) the relay process; resolves with its info line. */
  async startRelay(): Promise<{ namespace: string; caFile: string; manageConnectionString: string }> {
    const args = [
      '-r',
      require.resolve('ts-node/register/transpile-only'),
      join(ROOT, 'sandbox/src/relay-main.ts'),
      '--json',
      '--port',
      String(this.relayPort),
      '--state-dir',
      join(this.dir, 'relay-state'),
      '--hc',
      SITE,
    ];
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, LOG_LEVEL: 'warn' },
    });
    this.relay = child;
    const line = await new Promise<string>((resolveLine, reject) => {
      const timer = setTimeout(() => reject(new Error('relay did not start within 60 s')), 60_000);
      createInterface({ input: child.stdout! }).on('line', (l) => {
        if (!l.startsWith('{"namespace"')) return;
        clearTimeout(timer);
        resolveLine(l);
      });
      child.once('exit', () => reject(new Error('relay exited during start')));
    });
    const info = JSON.parse(line) as { namespace: string; caFile: string; manageConnectionString: string };
    this.relayPort = Number(info.namespace.split(':')[1]);
    return info;
  }

  /** kill -9 of the relay; resolves once it is gone. */
  async killRelay(): Promise<void> {
    await killHard(this.relay);
    this.relay = undefined;
  }

  /** Starts the forwarder from its config file. */
  startForwarder(): void {
    this.forwarder = ModuleProcess.start({
      module: 'relay-forwarder',
      ...(this.hub === undefined && { configPath: join(this.dir, 'forwarder.json') }),
      logPath: logPath('forwarder'),
      relayCaPath: join(this.dir, 'relay-ca.pem'),
      env: {
        ...process.env,
        ...this.twinEnv.forwarder,
        HEALTH_PORT: '0',
        HEALTH_BIND_ADDRESS: '127.0.0.1',
        LOG_LEVEL,
      },
    });
  }

  /** Starts the gateway from its config file (fixed route ports, so a restart serves the same ports). */
  startGateway(): void {
    this.gateway = ModuleProcess.start({
      module: 'relay-gateway',
      ...(this.hub === undefined && { configPath: join(this.dir, 'gateway.json') }),
      logPath: logPath('gateway'),
      relayCaPath: join(this.dir, 'relay-ca.pem'),
      env: {
        ...process.env,
        ...this.twinEnv.gateway,
        HEALTH_PORT: '0',
        HEALTH_BIND_ADDRESS: '127.0.0.1',
        LOG_LEVEL,
      },
    });
  }

  /** kill -9 of a module. */
  async kill(module: 'forwarder' | 'gateway'): Promise<void> {
    const proc = this[module];
    if (proc?.pid !== undefined && proc.exitStatus === undefined) {
      process.kill(proc.pid, 'SIGKILL');
      await proc.exited;
    }
  }

  /** Polls a probe until it round-trips; the ms it took, or -1 after `timeoutMs`. */
  async timeToRecover(timeoutMs: number): Promise<number> {
    const started = Date.now();
    while (Date.now() - started < timeoutMs) {
      if (await probe(this.ports.sink, Math.min(5_000, timeoutMs))) return Date.now() - started;
      await new Promise((r) => setTimeout(r, 100));
    }
    return -1;
  }

  /** What the modules and targets hold right now (`detail`: both modules' sockets described). */
  held(withDetail = true): Held {
    return {
      ...(withDetail && { detail: `gw ${this.describe('gateway')} / fwd ${this.describe('forwarder')}` }),
      gatewaySockets: socketCount(this.gateway?.pid),
      forwarderSockets: socketCount(this.forwarder?.pid),
      targetConnections: this.targets.echo.open + this.targets.sink.open + this.targets.source.open,
      gatewayRssMiB: rssMiB(this.gateway?.pid),
      forwarderRssMiB: rssMiB(this.forwarder?.pid),
    };
  }

  /**
   * Waits (bounded) until sockets and target connections are back at `baseline` and stay there for 1 s,
   * then reports what is held above it. A fault that leaves something held shows as a positive number.
   */
  async heldAbove(baseline: Held, boundMs = 10_000): Promise<Held> {
    const deadline = Date.now() + boundMs;
    let now = this.held(false);
    let stableSince = Date.now();
    let last = '';
    while (Date.now() < deadline) {
      now = this.held(false);
      const key = `${now.gatewaySockets}/${now.forwarderSockets}/${now.targetConnections}`;
      if (key !== last) [last, stableSince] = [key, Date.now()];
      // The forwarder must be back to exactly its baseline: fewer sockets means a control channel still
      // reconnecting, and a case that ended so would hand the next case a baseline one channel short (its return
      // then read as a held socket).
      const atBaseline =
        now.gatewaySockets <= baseline.gatewaySockets &&
        now.forwarderSockets === baseline.forwarderSockets &&
        now.targetConnections <= baseline.targetConnections;
      if (atBaseline && Date.now() - stableSince >= 1_000) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const heldGw = now.gatewaySockets - baseline.gatewaySockets;
    const heldFwd = now.forwarderSockets - baseline.forwarderSockets;
    const detail = [
      ...(heldGw > 0
        ? [`gw sockets: ${this.describe('gateway')} (baseline: ${baseline.detail ?? '?'})`]
        : []),
      ...(heldFwd > 0
        ? [`fwd sockets: ${this.describe('forwarder')} (baseline: ${baseline.detail ?? '?'})`]
        : []),
      ...(heldFwd < 0
        ? [
            `fwd ${-heldFwd} socket(s) below the baseline: ${this.describe('forwarder')} (baseline: ${baseline.detail ?? '?'})`,
          ]
        : []),
      ...(now.targetConnections > baseline.targetConnections
        ? [`target connections: ${this.describeTargets()}; fwd sockets: ${this.describe('forwarder')}`]
        : []),
    ].join('; ');
    return {
      ...(detail !== '' && { detail }),
      gatewaySockets: Math.max(0, now.gatewaySockets - baseline.gatewaySockets),
      forwarderSockets: Math.max(0, now.forwarderSockets - baseline.forwarderSockets),
      targetConnections: Math.max(0, now.targetConnections - baseline.targetConnections),
      gatewayRssMiB: now.gatewayRssMiB,
      forwarderRssMiB: now.forwarderRssMiB,
    };
  }

  /** One module's sockets, named by what they talk to (the relay, a target, a route). */
  describe(module: 'forwarder' | 'gateway'): string {
    const names = new Map<number, string>([
      [this.relayPort, 'relay'],
      [this.targets.echo.port, 'echo'],
      [this.targets.sink.port, 'sink'],
      [this.targets.source.port, 'source'],
      [this.ports.echo, 'route-echo'],
      [this.ports.sink, 'route-sink'],
      [this.ports.source, 'route-source'],
    ]);
    return describeSockets(procSockets(this[module]?.pid), names);
  }

  /** The targets' open connections: peer port, kernel state, what Node thinks of each side. */
  describeTargets(): string {
    return Object.entries(this.targets)
      .flatMap(([name, target]) =>
        target.sockets.map((s) => {
          const state = tcpState(target.port, s.remotePort ?? 0);
          const flags = `${s.readableEnded ? 'read-ended' : 'reading'}/${s.writableEnded ? 'write-ended' : 'writing'}`;
          return `${name}←:${s.remotePort} ${state} ${flags} in ${s.bytesRead} out ${s.bytesWritten} pending ${s.writableLength}`;
        }),
      )
      .join(', ');
  }

  /** Stops every process and target and removes the directory. */
  async close(): Promise<void> {
    this.setTokenRenewal(undefined);
    await Promise.all([this.gateway?.stop(5_000), this.forwarder?.stop(5_000)]);
    if (this.relay?.pid !== undefined) process.kill(this.relay.pid, 'SIGCONT');
    await killHard(this.relay, 'SIGTERM');
    await this.hub?.close();
    await Promise.all([this.targets.echo.close(), this.targets.sink.close(), this.targets.source.close()]);
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** Writes a file next to `path` and renames it over `path`, so a config watcher never reads half a file. */
async function replaceFile(path: string, text: string, options: { mode: number }): Promise<void> {
  const next = `${path}.next`;
  await writeFile(next, text, options);
  await rename(next, path);
}

/** `keyCs` (a connection string with a key and EntityPath) as one holding a pre-issued token instead. */
function tokenConnectionString(keyCs: string, lifetimeMs: number): string {
  const field = (name: string): string => new RegExp(`(?:^|;)${name}=([^;]*)`).exec(keyCs)?.[1] ?? '';
  const endpoint = field('Endpoint');
  const namespace = new URL(endpoint).host;
  const token = createSasToken({
    resource: relayResourceUri(namespace, field('EntityPath')),
    keyName: field('SharedAccessKeyName'),
    key: field('SharedAccessKey'),
    lifetimeMs,
  });
  return `Endpoint=${endpoint};SharedAccessSignature=${token};EntityPath=${field('EntityPath')}`;
}

async function killHard(child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}
