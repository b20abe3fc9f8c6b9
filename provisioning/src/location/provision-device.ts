import type { Registry } from 'azure-iothub';
import type { ProvisioningServiceClient } from 'azure-iot-provisioning-service';
import { join } from 'node:path';
import { registerWithSymmetricKey } from '../../../cloud/src/azure/dps-clients';
import { describeSdkError, ProvisioningError } from '../errors';
import { writeEdgeConfigToml, type EdgeDpsConfig } from './config-toml';
import { deriveDeviceKey } from './device-key';
import { writeRelayTag, type TagOutcome } from './device-twin';
import { DEFAULT_ENROLLMENT_GROUP, ensureEnrollmentGroup, type EnrollmentOutcome } from './enrollment';
import { relayTagValue, type RelayDeclaration } from './tags';
import { SILENT_PROGRESS, type Progress } from '../../../modules/common/src/cli/progress';

/** Registers a device with DPS (the unmodified device SDK) and says where it landed. */
export type DeviceRegistrar = (request: {
  readonly provisioningHost: string;
  readonly idScope: string;
  readonly registrationId: string;
  readonly symmetricKey: string;
}) => Promise<{ readonly assignedHub?: string; readonly deviceId?: string; readonly substatus?: string }>;

/** Options of provisionDevice. */
export interface ProvisionDeviceOptions {
  /** DPS registration id; DPS makes it the device id. */
  readonly registrationId: string;
  /** A location with its services, or a gateway of a pool. */
  readonly declaration: RelayDeclaration;
  /** Enrollment group; `relay-fleet` when absent. */
  readonly groupId?: string;
  /** The enrollment service client (`createProvisioningServiceClient`). */
  readonly provisioningService: ProvisioningServiceClient;
  /** `https://global.azure-devices-provisioning.net`, or the sandbox's `https://localhost:{port}/`. */
  readonly globalEndpoint: string;
  readonly idScope: string;
  /** The IoT hub DPS assigns to (a Registry with RegistryWrite) and its host name, to check the assignment. */
  readonly registry: Registry;
  readonly hubHostName: string;
  /** Folder config.toml is written to. */
  readonly outDir: string;
  /** Written as `trust_bundle_cert` (the sandbox CA; absent on Azure). */
  readonly trustBundleFile?: string;
  /** How to register; the unmodified SDK over MQTT when absent (`NODE_EXTRA_CA_CERTS` or `ca` for the sandbox). */
  readonly register?: DeviceRegistrar;
  /** Extra CA for the default registrar. */
  readonly ca?: string;
  /** Reports each step as it runs (the CLI's progress lines); silent by default. */
  readonly progress?: Progress;
}

/** What provisionDevice did (no secrets). */
export interface ProvisionDeviceResult {
  readonly registrationId: string;
  readonly deviceId: string;
  readonly assignedHub: string;
  readonly groupId: string;
  readonly enrollment: EnrollmentOutcome;
  /** `initialAssignment` for a new device, `deviceDataMigrated` when it was already there. */
  readonly registration: string;
  readonly tags: TagOutcome;
  readonly configTomlPath: string;
}

/**
 * Onboards a location (or a gateway) so that nobody edits a twin by hand:
 * 1. ensures the shared symmetric-key enrollment group and derives the device key from its primary key;
 * 2. registers the device through DPS with that key — DPS creates the identity in the hub it assigns (the same
 *    registration the device repeats when it boots; `migrateDeviceData` keeps the twin then);
 * 3. writes the declaration to the device twin's `tags.relay` (etag-guarded), where the fleet controller and the
 *    automatic deployments' target conditions read it;
 * 4. writes IoT Edge's config.toml (mode 0600) with the derived key.
 * Running it again changes nothing, or exactly what the declaration changed.
 */
export async function provisionDevice(options: ProvisionDeviceOptions): Promise<ProvisionDeviceResult> {
  const groupId = options.groupId ?? DEFAULT_ENROLLMENT_GROUP;
  checkDpsId('registration id', options.registrationId);
  checkDpsId('enrollment group id', groupId);
  const provisioningHost = endpointHost(options.globalEndpoint);
  const progress = options.progress ?? SILENT_PROGRESS;
  const enrollment = await progress.step(
    `DPS enrollment group ${groupId}`,
    () => ensureEnrollmentGroup(options.provisioningService, groupId),
    (e) => e.outcome,
  );
  const symmetricKey = deriveDeviceKey(enrollment.primaryKey, options.registrationId);
  const register =
    options.register ??
    ((request) =>
      registerWithSymmetricKey({
        ...request,
        transport: 'mqtt',
        ...(options.ca !== undefined && { ca: options.ca }),
      }));
  let registered: Awaited<ReturnType<DeviceRegistrar>>;
  const dpsStep = progress.start(`registering ${options.registrationId} through DPS`);
  try {
    registered = await register({
      provisioningHost,
      idScope: options.idScope,
      registrationId: options.registrationId,
      symmetricKey,
    });
    dpsStep.done(registered.assignedHub);
  } catch (err) {
    dpsStep.fail(describeSdkError(err));
    throw new ProvisioningError(
      'PROVISION_DPS_FAILED',
      `register ${options.registrationId} with DPS at ${provisioningHost} (scope ${options.idScope}): ${describeSdkError(err)}`,
      true,
      { cause: err },
    );
  }
  const assignedHub = registered.assignedHub ?? '';
  const deviceId = registered.deviceId ?? options.registrationId;
  if (assignedHub.toLowerCase() !== options.hubHostName.toLowerCase()) {
    throw new ProvisioningError(
      'PROVISION_HUB_MISMATCH',
      `DPS assigned ${options.registrationId} to "${assignedHub}", but the IoT Hub connection string is for "${options.hubHostName}"`,
      false,
    );
  }
  const tags = await progress.step(
    `tags.relay of ${deviceId}`,
    () => writeRelayTag(options.registry, deviceId, relayTagValue(options.declaration)),
    (outcome) => outcome,
  );
  const configTomlPath = join(options.outDir, 'config.toml');
  const config: EdgeDpsConfig = {
    globalEndpoint: options.globalEndpoint,
    idScope: options.idScope,
    registrationId: options.registrationId,
    symmetricKey,
    ...(options.trustBundleFile !== undefined && { trustBundleFile: options.trustBundleFile }),
  };
  await progress.step('config.toml', () => writeEdgeConfigToml(configTomlPath, config));
  return {
    registrationId: options.registrationId,
    deviceId,
    assignedHub,
    groupId,
    enrollment: enrollment.outcome,
    registration: registered.substatus ?? 'assigned',
    tags,
    configTomlPath,
  };
}

// DPS: up to 128 letters, digits and `-._:`, ending in a letter, digit or `-` (registration and group ids alike).
const DPS_ID = /^[A-Za-z0-9._:-]{0,127}[A-Za-z0-9-]$/;

function checkDpsId(what: string, id: string): void {
  if (!DPS_ID.test(id))
    throw new ProvisioningError(
      'PROVISION_BAD_INPUT',
      `${what} "${id}" must be 1-128 letters, digits, - . _ or :, ending in a letter, digit or -`,
      false,
    );
}

/** `host[:port]` of a DPS global endpoint URL (`https://global.azure-devices-provisioning.net` → its host). */
export function endpointHost(globalEndpoint: string): string {
  let url: URL;
  try {
    url = new URL(globalEndpoint);
  } catch {
    throw new ProvisioningError(
      'PROVISION_BAD_INPUT',
      `the DPS global endpoint "${globalEndpoint}" is not a URL`,
      false,
    );
  }
  if (url.protocol !== 'https:' || url.host === '')
    throw new ProvisioningError(
      'PROVISION_BAD_INPUT',
      `the DPS global endpoint must be an https:// URL, not "${globalEndpoint}"`,
      false,
    );
  return url.host;
}
