import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SandboxPki, generateSandboxPki } from '../tls/pki';
import { loadOrCreateSandboxPki } from '../tls/pki-store';
import { HubAuthenticator } from './auth';
import { ConfigurationsService } from './configurations-service';
import { HubListener } from './listener';
import { defaultHubLogger, HubLogger } from './logger';
import { MessageFeed } from './message-feed';
import { ClientDirectory, DirectMethods } from './methods';
import { MqttFront } from './mqtt/front';
import { SessionStore } from './mqtt/sessions';
import { HubStateDocument, StateFile } from './persistence';
import { defaultPolicies, PolicyRecord } from './policies';
import { Registry } from './registry';
import { RestFront } from './rest/front';
import { RestThrottle, type ThrottleRates } from './rest/throttle';
import { HubConnectionInfo, SandboxIotHub } from './sandbox-hub';

/** Options of `startSandboxIotHub`; every one has a working default. */
export interface SandboxIotHubOptions {
  /** Directory for the state file (and, under `pki/`, the CA when `pki` is not given). Without it the hub forgets everything on stop. */
  stateDir?: string;
  /** TLS material; default: loaded from / created in `stateDir`, or generated fresh. */
  pki?: SandboxPki;
  /** CA file path to report for `pki` (for `EdgeModuleCACertificateFile`); default: `{stateDir}/iothub-ca.pem`. */
  caFile?: string;
  /** The one port MQTT and HTTPS share. Default: the port saved in `stateDir` if still free, else ephemeral. */
  port?: number;
  /** Alias of `port` (MQTT and HTTPS share it). */
  mqttPort?: number;
  /** Alias of `port` (MQTT and HTTPS share it). */
  httpsPort?: number;
  /** Address to bind; default 127.0.0.1 (loopback only). */
  listenHost?: string;
  /** Host part of `HostName` in connection strings; default `localhost` (the PKI must cover it). */
  hostName?: string;
  /** Hub name; `{hubName}.azure-devices.net` is also accepted as token audience. Default `sandbox-hub`. */
  hubName?: string;
  logger?: HubLogger;
  /** Service-API throttles (calls per window per kind) answered with 429 + Retry-After; default: none. */
  throttle?: ThrottleRates;
  /** The window `throttle` counts over; default 60 s (IoT Hub's "minute ranges"). */
  throttleWindowMs?: number;
}

/** Starts the sandbox IoT Hub: MQTT (device side) and HTTPS REST (service side) on one TLS port. */
export async function startSandboxIotHub(options: SandboxIotHubOptions = {}): Promise<SandboxIotHub> {
  const log = options.logger ?? defaultHubLogger();
  const hostBase = options.hostName ?? 'localhost';
  const registry = new Registry();
  const sessions = new SessionStore();
  const configurations = new ConfigurationsService(registry);
  const feed = new MessageFeed();
  let policies: PolicyRecord[] = defaultPolicies();
  let hubName = options.hubName ?? 'sandbox-hub';
  let port = 0;

  const snapshot = (): HubStateDocument => ({
    schema: 1,
    hubName,
    port,
    policies,
    devices: registry.snapshot(),
    configurations: configurations.snapshot(),
    sessions: sessions.snapshot(),
  });
  const stateFile = options.stateDir ? new StateFile(options.stateDir, snapshot, log) : undefined;
  const saved = await stateFile?.load();
  if (saved) {
    hubName = options.hubName ?? saved.hubName;
    policies = saved.policies;
    registry.restore(saved.devices);
    configurations.restore(saved.configurations);
    sessions.restore(saved.sessions);
  }

  const { pki, caFile } = await resolvePki(options, hostBase);
  const auth = new HubAuthenticator(registry, () => policies, []);
  // Methods and the MQTT front need each other: methods publish through the front, the front hands
  // method responses back; the directory closes over the front declared just below.
  const directory: ClientDirectory = {
    deliver: (k, t, p) => mqtt.deliver(k, t, p),
    canReceive: (k, t) => mqtt.canReceive(k, t),
    onReachabilityChange: (l) => mqtt.onReachabilityChange(l),
  };
  const methods = new DirectMethods(directory);
  const mqtt: MqttFront = new MqttFront(auth, registry, sessions, { registry, feed, methods }, log);
  const throttle = new RestThrottle(options.throttle, options.throttleWindowMs);
  const rest = new RestFront({ registry, configurations, methods }, auth, log, throttle);
  const listener = new HubListener(pki, { mqtt: (s) => mqtt.handle(s), https: (s) => rest.handle(s) }, log);

  const explicit = [options.port, options.mqttPort, options.httpsPort].filter((p) => p !== undefined);
  if (new Set(explicit).size > 1)
    throw new Error('port, mqttPort and httpsPort name the same shared port; give one value');
  const wanted = explicit[0];
  const listenHost = options.listenHost ?? '127.0.0.1';
  try {
    port = await listener.listen(wanted ?? saved?.port ?? 0, listenHost);
  } catch (err) {
    // The saved port is only a preference; an explicit one must be honoured or fail.
    if (wanted !== undefined || !saved?.port || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE')
      throw err;
    port = await listener.listen(0, listenHost);
  }
  const hostName = `${hostBase}:${port}`;
  auth.setHostNames([hostName, `localhost:${port}`, `127.0.0.1:${port}`, `${hubName}.azure-devices.net`]);

  const unsubscribers = [
    registry.on(() => stateFile?.markDirty()),
    configurations.onChange(() => stateFile?.markDirty()),
    sessions.onChange(() => stateFile?.markDirty()),
  ];
  configurations.applyAll();
  stateFile?.markDirty();
  log.info({ hostName, hubName, identities: registry.size }, 'sandbox IoT Hub listening');

  const info: HubConnectionInfo = {
    hubName,
    hostName,
    port,
    caPem: pki.caPem,
    ...(caFile ? { caFile } : {}),
  };
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      await listener.close();
      methods.close();
      await mqtt.close();
      rest.close();
      configurations.close();
      feed.close();
      for (const u of unsubscribers) u();
      await stateFile?.flush();
      log.info({ hostName }, 'sandbox IoT Hub stopped');
    })());
  const hub = new SandboxIotHub(info, registry, policies, feed, sessions, stop);
  hub.serviceThrottle = throttle;
  return hub;
}

async function resolvePki(
  options: SandboxIotHubOptions,
  host: string,
): Promise<{ pki: SandboxPki; caFile?: string }> {
  const hosts = [...new Set([host, 'localhost', '127.0.0.1', '::1'])];
  if (options.pki) {
    if (options.caFile || !options.stateDir)
      return options.caFile ? { pki: options.pki, caFile: options.caFile } : { pki: options.pki };
    const caFile = join(options.stateDir, 'iothub-ca.pem');
    await mkdir(options.stateDir, { recursive: true });
    await writeFile(caFile, options.pki.caPem);
    return { pki: options.pki, caFile };
  }
  if (options.stateDir) {
    // Same layout as the relay process: {stateDir}/pki holds ca.pem, server.pem and server.key.
    const stored = await loadOrCreateSandboxPki(join(options.stateDir, 'pki'), hosts);
    return { pki: stored, caFile: stored.caFile };
  }
  return { pki: await generateSandboxPki(hosts) };
}
