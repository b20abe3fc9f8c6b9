import { ModuleClient } from 'azure-iot-device';
import { Mqtt } from 'azure-iot-device-mqtt';
import type { Registry } from 'azure-iothub';
import { join } from 'node:path';
import type { Logger } from '../../../modules/common/src/log';
import type { DesiredDocument } from '../../../modules/common/src/twin/desired-tracker';
import { ModuleConnection } from '../../../modules/common/src/twin/module-connection';
import { ReportedWriter } from '../../../modules/common/src/twin/reported-writer';
import { TwinSource } from '../../../modules/common/src/twin/twin-source';
import { buildAgentReport, type DesiredOutcome } from './agent-report';
import { parseAgentDesired, type ModuleSpec } from './deployment-spec';
import { ModuleChild, moduleCommand, type RunningModule } from './module-child';
import { moduleEnvironment } from './module-env';
import { ensureModuleIdentity, moduleConnectionString } from './module-identity';
import { ModuleSupervisor, type ModuleState } from './module-supervisor';
import type { RestartBackoff } from './restart-policy';

/** The module id IoT Edge's agent runs as; its module twin carries the deployment. */
export const EDGE_AGENT_MODULE_ID = '$edgeAgent';

/** Options of EdgeAgent. */
export interface EdgeAgentOptions {
  readonly deviceId: string;
  /** The assigned hub, `HostName` of the module connection strings. */
  readonly hubHostName: string;
  /** A service Registry (module identities and their keys). */
  readonly registry: Registry;
  /** CA (PEM) of the hub, for the agent's own MQTT connection. */
  readonly ca?: string;
  /** CA file given to the modules (EdgeModuleCACertificateFile, NODE_EXTRA_CA_CERTS). */
  readonly trustBundleFile?: string;
  readonly extraEnv?: Readonly<Record<string, string>>;
  readonly envOverrides?: Readonly<Record<string, string>>;
  /** Where module output goes: `{logDir}/{deviceId}/{module}.log`; kept in memory only when absent. */
  readonly logDir?: string;
  readonly backoff: RestartBackoff;
  readonly stopTimeoutMs: number;
  /** Coalescing window of `$edgeAgent` reported patches. */
  readonly reportDebounceMs: number;
  readonly logger: Logger;
  /** How a module process is started (tests); our modules' entry files when absent. */
  readonly launchProcess?: (spec: ModuleSpec, env: Record<string, string>, logFile?: string) => RunningModule;
}

/**
 * The stand-in for IoT Edge's agent on one device: keeps a session as `$edgeAgent` (unmodified device SDK),
 * turns each complete desired document of its module twin into running module processes (one supervisor per
 * module), and reports their runtime status back. Desired documents are handled one at a time, newest wins.
 */
export class EdgeAgent {
  private readonly supervisors = new Map<string, ModuleSupervisor>();
  private readonly listeners = new Set<() => void>();
  private readonly startedAtIso = new Date().toISOString();
  private connection: ModuleConnection | undefined;
  private writer: ReportedWriter | undefined;
  private desired: DesiredOutcome | undefined;
  private pending: DesiredDocument | undefined;
  private applying: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly options: EdgeAgentOptions) {}

  /** Connects as `$edgeAgent` and starts following its desired properties. */
  async start(): Promise<void> {
    const { registry, deviceId, hubHostName, ca, logger } = this.options;
    const key = await ensureModuleIdentity(registry, deviceId, EDGE_AGENT_MODULE_ID);
    const connectionString = moduleConnectionString(hubHostName, deviceId, EDGE_AGENT_MODULE_ID, key);
    const connection = new ModuleConnection({
      logger,
      createClient: async () => {
        const client = ModuleClient.fromConnectionString(connectionString, Mqtt);
        if (ca !== undefined) await client.setOptions({ ca });
        return client;
      },
      backoff: { initialDelayMs: 500, maxDelayMs: 10_000, multiplier: 2, jitterRatio: 0.5 },
    });
    const source = new TwinSource(connection, logger);
    const writer = new ReportedWriter({
      snapshot: () =>
        buildAgentReport({ startedAtIso: this.startedAtIso, desired: this.desired, modules: this.modules() }),
      send: (patch) => source.updateReported(patch),
      logger,
      debounceMs: this.options.reportDebounceMs,
      refreshIntervalMs: 0,
    });
    source.on('reported', (reported) => writer.resync(reported));
    source.on('desired', (desired) => this.offer(desired));
    this.connection = connection;
    this.writer = writer;
    connection.start();
  }

  /** Every module of the deployment with its state. */
  modules(): ModuleState[] {
    return [...this.supervisors.values()].map((s) => s.state());
  }

  /** The outcome of the last desired document handled. */
  lastDesired(): DesiredOutcome | undefined {
    return this.desired;
  }

  /** Calls `listener` after every module state change or desired document handled; returns an unsubscribe. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stops following the twin, stops every module (SIGTERM, SIGKILL after the stop timeout), closes the session. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.pending = undefined;
    await this.applying;
    await Promise.all([...this.supervisors.values()].map((s) => s.stop()));
    await this.writer?.flush().catch(() => undefined);
    this.writer?.stop();
    await this.connection?.stop();
  }

  private offer(desired: DesiredDocument): void {
    if (this.stopped) return;
    this.pending = desired;
    this.applying ??= this.drain().finally(() => (this.applying = undefined));
  }

  private async drain(): Promise<void> {
    for (let next = this.pending; next && !this.stopped; next = this.pending) {
      this.pending = undefined;
      await this.apply(next);
    }
  }

  private async apply(desired: DesiredDocument): Promise<void> {
    const { logger } = this.options;
    const spec = parseAgentDesired(desired.document);
    if (!spec.ok) {
      logger.warn(
        { version: desired.version, problem: spec.problem },
        'deployment refused; modules keep running',
      );
      this.desired = { version: desired.version, code: 400, description: spec.problem };
      this.changed();
      return;
    }
    for (const [name, supervisor] of [...this.supervisors]) {
      if (spec.modules.has(name)) continue;
      logger.info({ module: name }, 'module removed from the deployment; stopping it');
      this.supervisors.delete(name);
      await supervisor.stop();
    }
    const ordered = [...spec.modules.values()].sort((a, b) => a.startupOrder - b.startupOrder);
    for (const module of ordered) {
      const existing = this.supervisors.get(module.name);
      if (existing) {
        await existing.update(module);
        continue;
      }
      logger.info({ module: module.name, image: module.image }, 'module added by the deployment');
      const supervisor = new ModuleSupervisor(module, {
        launch: (s) => this.launch(s),
        backoff: this.options.backoff,
        stopTimeoutMs: this.options.stopTimeoutMs,
        onChange: () => this.changed(),
      });
      this.supervisors.set(module.name, supervisor);
      supervisor.start();
    }
    this.desired = { version: desired.version, code: 200, description: '' };
    this.changed();
  }

  private async launch(spec: ModuleSpec): Promise<RunningModule> {
    const { registry, deviceId, hubHostName, logDir } = this.options;
    const key = await ensureModuleIdentity(registry, deviceId, spec.name);
    const env = moduleEnvironment({
      spec,
      deviceId,
      hubHostName,
      connectionString: moduleConnectionString(hubHostName, deviceId, spec.name, key),
      ...(this.options.trustBundleFile !== undefined && { trustBundleFile: this.options.trustBundleFile }),
      ...(this.options.extraEnv !== undefined && { extraEnv: this.options.extraEnv }),
      ...(this.options.envOverrides !== undefined && { envOverrides: this.options.envOverrides }),
    });
    const logFile = logDir !== undefined ? join(logDir, deviceId, `${spec.name}.log`) : undefined;
    if (this.options.launchProcess) return this.options.launchProcess(spec, env, logFile);
    if (!spec.runs) throw new Error(`image ${spec.image} cannot run in the sandbox`);
    const { command, args, cwd } = moduleCommand(spec.runs);
    const child = ModuleChild.spawn({ command, args, cwd, env, ...(logFile !== undefined && { logFile }) });
    this.options.logger.info({ module: spec.name, pid: child.pid }, 'module process started');
    return child;
  }

  private changed(): void {
    this.writer?.request();
    for (const listener of this.listeners) listener();
  }
}
