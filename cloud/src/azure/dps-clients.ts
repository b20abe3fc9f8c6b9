import { ProvisioningDeviceClient, type RegistrationResult } from 'azure-iot-provisioning-device';
import { ProvisioningServiceClient } from 'azure-iot-provisioning-service';
import { SymmetricKeySecurityClient } from 'azure-iot-security-symmetric-key';
import { Http as ProvisioningHttp } from 'azure-iot-provisioning-device-http';
import { Mqtt as ProvisioningMqtt } from 'azure-iot-provisioning-device-mqtt';
import { dirname } from 'node:path';
import { HostPortAgent } from './iothub-service-clients';

/**
 * Loads `dep` exactly as `sdk` itself loads it: the provisioning packages pin their own copies of
 * azure-iot-http-base / azure-iot-mqtt-base / azure-iot-common, so the seams below use the same code the
 * unmodified SDK would have built for itself.
 */
function sdkDependency<T>(sdk: string, dep: string): T {
  const base = dirname(require.resolve(`${sdk}/package.json`));
  return require(require.resolve(dep, { paths: [base] })) as T;
}

// The base classes as each SDK's own constructor types them (each SDK pins its own copy).
type MqttBase = NonNullable<ConstructorParameters<typeof ProvisioningMqtt>[0]>;
type HttpBase = NonNullable<ConstructorParameters<typeof ProvisioningHttp>[0]>;
type ServiceRestClient = NonNullable<ConstructorParameters<typeof ProvisioningServiceClient>[1]>;
type ServiceConfig = ConstructorParameters<typeof ProvisioningServiceClient>[0];

const hasPort = (host: string): boolean => /:\d+$/.test(host);

/**
 * The MQTT provisioning transport, trusting `ca` when given. The transport has no CA option of its own, but
 * its public constructor takes the MQTT base it connects with, whose `setOptions({ ca })` it honours. Without
 * `ca` this is `new Mqtt()`, and NODE_EXTRA_CA_CERTS works as for any Node TLS client. `host:port` needs no
 * help: the transport dials `mqtts://{provisioningHost}`.
 */
export function createDpsMqttTransport(options: { ca?: string } = {}): ProvisioningMqtt {
  if (!options.ca) return new ProvisioningMqtt();
  const { MqttBase: Base } = sdkDependency<{ MqttBase: new () => MqttBase }>(
    'azure-iot-provisioning-device-mqtt',
    'azure-iot-mqtt-base',
  );
  const base = new Base();
  base.setOptions({ ca: options.ca });
  return new ProvisioningMqtt(base);
}

/**
 * The HTTPS provisioning transport for a service at `provisioningHost`. The transport passes the host verbatim
 * to `https.request` with no port, so `localhost:{port}` would be looked up as a DNS name; for such a host (or
 * an extra CA) it gets, through its public constructor, an HTTP base whose agent splits `host:port` and
 * trusts `ca`. For a real DPS host without `ca` it is exactly `new Http()`.
 */
export function createDpsHttpTransport(
  provisioningHost: string,
  options: { ca?: string } = {},
): ProvisioningHttp {
  if (!hasPort(provisioningHost) && !options.ca) return new ProvisioningHttp();
  return new ProvisioningHttp(pinnedHttpBase('azure-iot-provisioning-device-http', options.ca));
}

/**
 * `ProvisioningServiceClient.fromConnectionString`, for a service whose `HostName` carries a port (the
 * sandbox) or needs an extra CA: the same config and the SDK's own REST client, given an HTTP base whose agent
 * honours the port and the CA. For a real service (no port, no `ca`) it is exactly `fromConnectionString`.
 */
export function createProvisioningServiceClient(
  connectionString: string,
  options: { ca?: string } = {},
): ProvisioningServiceClient {
  const common = sdkDependency<typeof import('azure-iot-common')>(
    'azure-iot-provisioning-service',
    'azure-iot-common',
  );
  const cn = common.ConnectionString.parse(connectionString);
  const host = cn.HostName ?? '';
  if (!hasPort(host) && !options.ca) return ProvisioningServiceClient.fromConnectionString(connectionString);
  if (!host || !cn.SharedAccessKeyName || !cn.SharedAccessKey)
    throw new Error(
      'a provisioning service connection string needs HostName, SharedAccessKeyName and SharedAccessKey',
    );
  // Same config as fromConnectionString builds (its SAS is extended to an hour ahead on every request).
  const config: ServiceConfig = {
    host,
    sharedAccessSignature: common.SharedAccessSignature.create(
      host,
      cn.SharedAccessKeyName,
      cn.SharedAccessKey,
      Date.now(),
      // The service pins its own azure-iot-common; the class is the same code, typed from another copy.
    ) as unknown as ServiceConfig['sharedAccessSignature'],
    tokenCredential: undefined,
  };
  const { RestApiClient: Rest } = sdkDependency<{
    RestApiClient: new (config: ServiceConfig, userAgent: string, http: HttpBase) => ServiceRestClient;
  }>('azure-iot-provisioning-service', 'azure-iot-http-base');
  const version = (require('azure-iot-provisioning-service/package.json') as { version: string }).version;
  const rest = new Rest(
    config,
    `azure-iot-provisioning-service/${version}`,
    pinnedHttpBase('azure-iot-provisioning-service', options.ca),
  );
  return new ProvisioningServiceClient(config, rest);
}

function pinnedHttpBase(sdk: string, ca: string | undefined): HttpBase {
  const { Http } = sdkDependency<{ Http: new () => HttpBase }>(sdk, 'azure-iot-http-base');
  const base = new Http();
  // No keep-alive: the SDKs never close their HTTP clients, and pooled sockets would outlive them.
  base.setOptions({
    ...(ca && { ca }),
    http: { agent: new HostPortAgent({ keepAlive: false, ...(ca && { ca }) }) },
  });
  return base;
}

/** Options of registerWithSymmetricKey. */
export interface SymmetricKeyRegistrationOptions {
  /** Global device endpoint: `global.azure-devices-provisioning.net`, or the sandbox's `localhost:{port}`. */
  readonly provisioningHost: string;
  readonly idScope: string;
  readonly registrationId: string;
  /** The device's (derived) key, base64. */
  readonly symmetricKey: string;
  readonly transport?: 'mqtt' | 'http';
  /** Extra CA to trust (the sandbox's); otherwise the process's trust store (NODE_EXTRA_CA_CERTS). */
  readonly ca?: string;
}

/**
 * Registers a device with the unmodified provisioning SDK (`ProvisioningDeviceClient` +
 * `SymmetricKeySecurityClient`) and resolves with the registration result (`assignedHub`, `deviceId`, …).
 */
export async function registerWithSymmetricKey(
  options: SymmetricKeyRegistrationOptions,
): Promise<RegistrationResult> {
  const ca = options.ca !== undefined ? { ca: options.ca } : {};
  const transport =
    options.transport === 'http'
      ? createDpsHttpTransport(options.provisioningHost, ca)
      : createDpsMqttTransport(ca);
  const security = new SymmetricKeySecurityClient(options.registrationId, options.symmetricKey);
  // Both packages pin their own azure-iot-common, so their SharedAccessSignature types differ while the
  // objects are exactly what the provisioning client expects.
  const client = ProvisioningDeviceClient.create(
    options.provisioningHost,
    options.idScope,
    transport,
    security as unknown as Parameters<typeof ProvisioningDeviceClient.create>[3],
  );
  const result = await (client.register() as Promise<RegistrationResult>);
  return result;
}
