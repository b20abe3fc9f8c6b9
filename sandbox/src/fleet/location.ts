// One location of the sandbox fleet from nothing to reachable: its two sample on-prem services, onboarding through
// the provisioning functions, the device's boot through DPS, then waiting (bounded) until the controller has given
// each service a public port and the bytes come back right through the gateway.
import type { Registry } from 'azure-iothub';
import { locationDeclaration } from '../../../provisioning/src';
import type { SandboxEdgeDevice } from '../edge-agent';
import { startSampleService, type SampleService, type SampleServiceKind } from '../demo/services';
import { bootFleetDevice, provisionFleetDevice, type DeviceContext } from './devices';
import { locationRoles } from './entra';
import { LOCATION_SERVICES } from './plan';
import { probeService, type ProbeResult } from './probe';

/** One service of a location as the table shows it. */
export interface FleetRow {
  readonly location: string;
  readonly service: string;
  readonly kind: SampleServiceKind;
  /** The gateway's public port on 127.0.0.1. */
  readonly publicPort: number;
  /** The sample service's own address (what the forwarder dials). */
  readonly target: string;
  /** The probe that showed it reachable. */
  readonly verified: ProbeResult;
}

/** How long each step of a location's start took, in ms. */
export interface LocationTimings {
  /** Enrollment, DPS registration by the provisioning step, tags, config.toml. */
  readonly provisionMs: number;
  /** From "device boots" (the edge agent reads config.toml) to its DPS registration done. */
  readonly dpsMs: number;
  /** From "device boots" to relay-forwarder started as a process (its last start). */
  readonly forwarderStartedMs?: number;
  /** From "device boots" to every service answering correctly through the gateway. */
  readonly reachableMs: number;
}

/** A running location. */
export interface FleetLocation {
  readonly name: string;
  readonly deviceId: string;
  /** The DPS substatus of the device's own registration at boot (`deviceDataMigrated`: provisioning ran first). */
  readonly dpsSubstatus: string;
  readonly rows: readonly FleetRow[];
  readonly timings: LocationTimings;
  /** Stops the device (its modules) and the sample services. Idempotent. */
  stop(): Promise<void>;
}

/** Bound on each wait of a location's start (ports allocated, services reachable). */
export const DEFAULT_LOCATION_TIMEOUT_MS = 90_000;

/** Starts the location's services, onboards and boots its device, and resolves once every service is reachable. */
export async function startFleetLocation(
  ctx: DeviceContext,
  name: string,
  timeoutMs = DEFAULT_LOCATION_TIMEOUT_MS,
  signal?: AbortSignal,
): Promise<FleetLocation> {
  const services: Array<{ name: string; kind: SampleServiceKind; running: SampleService }> = [];
  let device: SandboxEdgeDevice | undefined;
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      await device?.stop();
      await Promise.all(services.map((s) => s.running.close()));
    })());
  try {
    for (const service of LOCATION_SERVICES) {
      const running = await startSampleService(service.kind, { location: name, service: service.name });
      services.push({ ...service, running });
    }
    signal?.throwIfAborted();
    const provisionStart = Date.now();
    const provisioned = await provisionFleetDevice(
      ctx,
      name,
      locationDeclaration({
        registrationId: name,
        services: services.map((s) => ({ name: s.name, target: `127.0.0.1:${s.running.port}` })),
      }),
    );
    const provisionMs = Date.now() - provisionStart;

    signal?.throwIfAborted();
    const bootStart = Date.now();
    const identity = await ctx.infra.entra?.deviceEnvironment(provisioned.deviceId, locationRoles(name));
    device = await bootFleetDevice(ctx, provisioned.configTomlPath, identity);
    const ports = await waitForPorts(
      ctx.infra.registry,
      provisioned.deviceId,
      services.map((s) => s.name),
      timeoutMs,
      signal,
    );
    const rows: FleetRow[] = [];
    for (const service of services) {
      const publicPort = ports[service.name]!;
      const verified = await waitReachable(
        { location: name, service: service.name, kind: service.kind, publicPort },
        timeoutMs,
        signal,
      );
      rows.push({
        location: name,
        service: service.name,
        kind: service.kind,
        publicPort,
        target: `127.0.0.1:${service.running.port}`,
        verified,
      });
    }
    const reachableMs = Date.now() - bootStart;
    const forwarder = device.modules().find((m) => m.name === 'relay-forwarder');
    const startedAt =
      forwarder?.lastStartTimeUtc !== undefined ? Date.parse(forwarder.lastStartTimeUtc) : NaN;
    return {
      name,
      deviceId: provisioned.deviceId,
      dpsSubstatus: device.substatus,
      rows,
      timings: {
        provisionMs,
        dpsMs: device.registrationMs,
        ...(Number.isFinite(startedAt) && { forwarderStartedMs: startedAt - bootStart }),
        reachableMs,
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Polls the location's status tag (written by the controller) until every service has a public port. */
async function waitForPorts(
  registry: Registry,
  deviceId: string,
  services: readonly string[],
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<Record<string, number>> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no status tag yet';
  for (;;) {
    signal?.throwIfAborted();
    const twin = (await registry.getTwin(deviceId)).responseBody as unknown as {
      tags?: { relayStatus?: { ports?: Record<string, number>; state?: string; problems?: object } };
    };
    const status = twin.tags?.relayStatus;
    const ports = status?.ports ?? {};
    if (services.every((s) => typeof ports[s] === 'number')) return ports;
    if (status) last = `state ${status.state ?? '?'} ${JSON.stringify(status.problems ?? {})}`;
    if (Date.now() > deadline)
      throw new Error(`${deviceId}: the controller gave no public ports within ${timeoutMs} ms (${last})`);
    await sleep(150);
  }
}

/** Probes until the service answers correctly through the gateway; rejects with the last failure at the deadline. */
async function waitReachable(
  target: Parameters<typeof probeService>[0],
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<ProbeResult> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    signal?.throwIfAborted();
    const result = await probeService(target, 5_000);
    if (result.ok) return result;
    if (Date.now() > deadline)
      throw new Error(
        `${target.location}/${target.service} not reachable through port ${target.publicPort} within ${timeoutMs} ms: ${result.detail}`,
      );
    await sleep(100);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
