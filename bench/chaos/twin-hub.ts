// The sandbox IoT Hub as a process of the fault suite (so it can be killed -9 and started again on its port and
// state), the module identities on it, and a TCP link between the modules and the hub that a case can cut.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { createIotHubServiceClients } from '../../sandbox/src/iothub';
import { startLink, type HubLink } from '../../tests/support/hub-link';

const ROOT = resolve(__dirname, '..', '..');

/** A module identity on the hub. */
export interface TwinIdentity {
  readonly deviceId: string;
  readonly moduleId: string;
}

/** What the hub process prints. */
interface HubInfo {
  readonly hostName: string;
  readonly caFile: string;
  readonly ownerConnectionString: string;
}

/** The hub process, its service clients, and the link the modules reach it through. */
export class ChaosHub {
  private child: ChildProcess | undefined;
  private port = 0;
  private info!: HubInfo;
  private clients!: ReturnType<typeof createIotHubServiceClients>;
  private link!: HubLink;

  private constructor(private readonly stateDir: string) {}

  /** Starts a hub keeping its state (and sharing the relay's PKI) in `stateDir`. */
  static async start(stateDir: string): Promise<ChaosHub> {
    const hub = new ChaosHub(stateDir);
    await hub.startProcess();
    hub.clients = createIotHubServiceClients(hub.info.ownerConnectionString, { ca: await hub.ca() });
    hub.link = await startLink(() => hub.port);
    return hub;
  }

  /** The CA file both the hub and the relay present certificates of (one sandbox PKI). */
  get caFile(): string {
    return this.info.caFile;
  }

  /** Creates an IoT Edge device and module; returns the module's environment for `ModuleClient.fromEnvironment`. */
  async addModule(id: TwinIdentity): Promise<Record<string, string>> {
    await this.clients.registry.create({ deviceId: id.deviceId, capabilities: { iotEdge: true } });
    const { responseBody } = await this.clients.registry.addModule({
      deviceId: id.deviceId,
      moduleId: id.moduleId,
    });
    const key = (responseBody as { authentication?: { symmetricKey?: { primaryKey?: string } } })
      .authentication?.symmetricKey?.primaryKey;
    if (!key) throw new Error(`no key for ${id.deviceId}/${id.moduleId}`);
    // The IoT Edge shape: HostName the hub, GatewayHostName where MQTT goes (the link a case can cut).
    return {
      EdgeHubConnectionString: `HostName=${this.info.hostName};GatewayHostName=localhost:${this.link.port};DeviceId=${id.deviceId};ModuleId=${id.moduleId};SharedAccessKey=${key}`,
      EdgeModuleCACertificateFile: this.info.caFile,
      NODE_EXTRA_CA_CERTS: this.info.caFile,
    };
  }

  /** Patches a module's desired properties (a merge patch) with the unmodified service SDK. */
  async patchDesired(id: TwinIdentity, desired: object): Promise<void> {
    await this.clients.registry.updateModuleTwin(id.deviceId, id.moduleId, { properties: { desired } }, '*');
  }

  /** The module's reported `config` section (receivedVersion, version, refused) and the desired `$version`. */
  async configState(
    id: TwinIdentity,
  ): Promise<{ desiredVersion: number; version?: number; received?: number }> {
    const { responseBody } = await this.clients.registry.getModuleTwin(id.deviceId, id.moduleId);
    const p = (
      responseBody as unknown as {
        properties: {
          desired: { $version: number };
          reported: { config?: { version?: number; receivedVersion?: number } };
        };
      }
    ).properties;
    return {
      desiredVersion: p.desired.$version,
      ...(p.reported.config?.version !== undefined && { version: p.reported.config.version }),
      ...(p.reported.config?.receivedVersion !== undefined && {
        received: p.reported.config.receivedVersion,
      }),
    };
  }

  /** Drops every module connection through the link and refuses new ones until {@link restoreLink}. */
  cutLink(): void {
    this.link.cut();
  }

  /** Lets modules connect again. */
  restoreLink(): void {
    this.link.restore();
  }

  /** kill -9 of the hub process. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }

  /** Starts the hub again on the same port and state. */
  async restart(): Promise<void> {
    await this.startProcess();
  }

  /** Stops the hub, the link and the service clients. */
  async close(): Promise<void> {
    this.clients.close();
    await this.link.close();
    await this.kill();
  }

  private async ca(): Promise<string> {
    const { readFile } = await import('node:fs/promises');
    return readFile(this.info.caFile, 'utf8');
  }

  private async startProcess(): Promise<void> {
    const args = [
      '-r',
      require.resolve('ts-node/register/transpile-only'),
      join(ROOT, 'sandbox/src/iothub-main.ts'),
      '--json',
      '--port',
      String(this.port),
      '--state-dir',
      this.stateDir,
    ];
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, LOG_LEVEL: 'warn' },
    });
    this.child = child;
    const line = await new Promise<string>((resolveLine, reject) => {
      const timer = setTimeout(() => reject(new Error('IoT Hub did not start within 60 s')), 60_000);
      createInterface({ input: child.stdout! }).on('line', (l) => {
        if (!l.startsWith('{')) return;
        clearTimeout(timer);
        resolveLine(l);
      });
      child.once('exit', () => reject(new Error('IoT Hub exited during start')));
    });
    this.info = JSON.parse(line) as HubInfo;
    this.port = Number(this.info.hostName.split(':')[1]);
  }
}
