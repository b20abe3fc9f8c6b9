import type { Socket } from 'node:net';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { createLogger } from '../../../modules/common/src/log';
import { HubListener } from '../iothub/listener';
import { JsonStateFile } from '../state/json-state-file';
import { generateSandboxPki, type SandboxPki } from '../tls/pki';
import { loadOrCreateSandboxPki } from '../tls/pki-store';
import { EnrollmentGroups, type EnrollmentGroupRecord } from './enrollments';
import { HubLink, type LinkedIotHub } from './hub-link';
import { HttpFront } from './http-front';
import { deriveDeviceKey, generateIdScope } from './keys';
import type { DpsLogger } from './logger';
import { MqttFront } from './mqtt-front';
import { OperationTable } from './operations';
import { DPS_STATE_FILE, isDpsStateDocument, type DpsStateDocument } from './persistence';
import { RegistrationService } from './registration-service';
import { Registrations, type RegistrationRecord } from './registrations';
import { authenticateService, defaultPolicies, OWNER_POLICY, type DpsPolicy } from './service-auth';

/** Options of startSandboxDps; only `iotHub` is required. */
export interface SandboxDpsOptions {
  /** The hub devices are assigned to (a `SandboxIotHub`, or any `{ ownerConnectionString, caPem? }`). */
  readonly iotHub: LinkedIotHub;
  /** Directory for `dps-state.json` (and, without `pki`, the CA in `{stateDir}/pki`). Without it nothing is kept. */
  readonly stateDir?: string;
  /** TLS material; default loaded from / created in `{stateDir}/pki`, else generated. */
  readonly pki?: SandboxPki;
  /** The one TLS port of MQTT and HTTPS. Default: the saved port if free, else ephemeral. */
  readonly port?: number;
  /** Bind address; default 127.0.0.1. */
  readonly listenHost?: string;
  /** Host part of the endpoint; default `localhost` (the PKI must cover it). */
  readonly hostName?: string;
  /** Service name; `{dpsName}.azure-devices-provisioning.net` is accepted as token audience too. Default `sandbox-dps`. */
  readonly dpsName?: string;
  /** ID scope; default the saved one, else a new `0ne…` scope. */
  readonly idScope?: string;
  /** `retry-after` the service tells devices while assigning. Default 1 s (Azure sends about 3 s). */
  readonly retryAfterSeconds?: number;
  readonly logger?: DpsLogger;
}

/** A running sandbox DPS. */
export interface SandboxDps {
  /** `localhost:{port}`: the global device endpoint and the service host in one. */
  readonly hostName: string;
  readonly port: number;
  readonly idScope: string;
  readonly dpsName: string;
  readonly caPem: string;
  /** The CA as a file, when it came from `{stateDir}/pki`. */
  readonly caFile: string | undefined;
  /** `HostName=localhost:{port};SharedAccessKeyName=provisioningserviceowner;SharedAccessKey=…`. */
  readonly serviceConnectionString: string;
  /** The device key for `registrationId` in a group (derived from the group's primary key). */
  deviceKey(enrollmentGroupId: string, registrationId: string): string;
  /** An enrollment group as the service API shows it; throws when absent. */
  enrollmentGroup(enrollmentGroupId: string): EnrollmentGroupRecord;
  /** Registration states (final attempts), by registration ID. */
  registrations(): RegistrationRecord[];
  /** Calls `listener` whenever a registration attempt finishes; returns the unsubscribe function. */
  onRegistration(listener: (record: RegistrationRecord) => void): () => void;
  /** Disconnects everyone, waits for running assignments, writes the state file. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts the sandbox Device Provisioning Service: device registration over MQTT and HTTPS and the enrollment
 * service API, on one TLS port, assigning devices to a linked (sandbox) IoT hub.
 */
export async function startSandboxDps(options: SandboxDpsOptions): Promise<SandboxDps> {
  const log = options.logger ?? createLogger('sandbox-dps');
  const groups = new EnrollmentGroups();
  const registrations = new Registrations();
  let policies: DpsPolicy[] = defaultPolicies();
  let dpsName = options.dpsName ?? 'sandbox-dps';
  let idScope = options.idScope ?? '';
  let port = 0;

  const snapshot = (): DpsStateDocument => ({
    schema: 1,
    dpsName,
    idScope,
    port,
    policies,
    enrollmentGroups: groups.snapshot(),
    registrations: registrations.list(),
  });
  const stateFile = options.stateDir
    ? new JsonStateFile(join(options.stateDir, DPS_STATE_FILE), snapshot, isDpsStateDocument, log)
    : undefined;
  const saved = await stateFile?.load();
  if (saved) {
    dpsName = options.dpsName ?? saved.dpsName;
    idScope = options.idScope ?? saved.idScope;
    policies = saved.policies;
    groups.restore(saved.enrollmentGroups);
    registrations.restore(saved.registrations);
  }
  idScope ||= generateIdScope();

  const hostBase = options.hostName ?? 'localhost';
  const { pki, caFile } = await resolvePki(options, hostBase);
  const hub = new HubLink(options.iotHub);
  const registration = new RegistrationService({
    idScope,
    groups,
    registrations,
    operations: new OperationTable(),
    hub,
    retryAfterSeconds: options.retryAfterSeconds ?? 1,
    log,
  });
  let hostNames: string[] = [];
  const http = new HttpFront(
    { registration, groups, registrations },
    (authorization) => authenticateService(authorization, policies, hostNames),
    log,
  );
  const mqtt = new MqttFront(registration, log);
  // No Nagle: registration is a chain of small request/answer packets, and Nagle's wait for the peer's
  // delayed ACK would add about 40 ms to several of them.
  const listener = new HubListener(
    pki,
    {
      mqtt: (s) => mqtt.handle(withNoDelay(s)),
      https: (s) => http.handle(withNoDelay(s)),
    },
    log,
  );
  const listenHost = options.listenHost ?? '127.0.0.1';
  try {
    port = await listener.listen(options.port ?? saved?.port ?? 0, listenHost);
  } catch (err) {
    // The saved port is only a preference; an explicit one must be honoured or fail.
    if (options.port !== undefined || !saved?.port || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE')
      throw err;
    port = await listener.listen(0, listenHost);
  }
  const hostName = `${hostBase}:${port}`;
  hostNames = [
    hostName,
    `localhost:${port}`,
    `127.0.0.1:${port}`,
    `${dpsName}.azure-devices-provisioning.net`,
  ];
  const unsubscribe = [
    groups.onChange(() => stateFile?.markDirty()),
    registrations.onRecord(() => stateFile?.markDirty()),
  ];
  stateFile?.markDirty();
  log.info({ hostName, idScope, hub: hub.hostName }, 'sandbox DPS listening');

  const owner = policies.find((p) => p.keyName === OWNER_POLICY) ?? policies[0];
  let stopped: Promise<void> | undefined;
  return {
    hostName,
    port,
    idScope,
    dpsName,
    caPem: pki.caPem,
    caFile,
    serviceConnectionString: `HostName=${hostName};SharedAccessKeyName=${owner?.keyName};SharedAccessKey=${owner?.primaryKey}`,
    deviceKey: (groupId, registrationId) =>
      deriveDeviceKey(groups.get(groupId).attestation.symmetricKey.primaryKey, registrationId),
    enrollmentGroup: (groupId) => groups.get(groupId),
    registrations: () => registrations.list(),
    onRegistration: (l) => registrations.onRecord(l),
    stop: () =>
      (stopped ??= (async () => {
        await listener.close();
        await mqtt.close();
        http.close();
        await registration.idle();
        hub.close();
        for (const u of unsubscribe) u();
        await stateFile?.flush();
        log.info({ hostName }, 'sandbox DPS stopped');
      })()),
  };
}

function withNoDelay(stream: Duplex): Duplex {
  (stream as Partial<Socket>).setNoDelay?.(true);
  return stream;
}

async function resolvePki(
  options: SandboxDpsOptions,
  host: string,
): Promise<{ pki: SandboxPki; caFile: string | undefined }> {
  if (options.pki) return { pki: options.pki, caFile: undefined };
  const hosts = [...new Set([host, 'localhost', '127.0.0.1', '::1'])];
  if (options.stateDir) {
    // Same layout as the relay and hub processes: {stateDir}/pki holds ca.pem, server.pem and server.key.
    const stored = await loadOrCreateSandboxPki(join(options.stateDir, 'pki'), hosts);
    return { pki: stored, caFile: stored.caFile };
  }
  return { pki: await generateSandboxPki(hosts), caFile: undefined };
}
