import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parse, stringify } from 'smol-toml';
import { ProvisioningError } from '../errors';

/** DPS's global device endpoint, the `global_endpoint` of a production device. */
export const DPS_GLOBAL_ENDPOINT = 'https://global.azure-devices-provisioning.net';
/** The edge agent image config.toml names (the runtime version the deployment templates use). */
export const EDGE_AGENT_IMAGE = 'mcr.microsoft.com/azureiotedge-agent:1.5';

/** What an IoT Edge device needs to provision itself through DPS with a symmetric key. */
export interface EdgeDpsConfig {
  /** `https://global.azure-devices-provisioning.net`, or the sandbox's `https://localhost:{port}/`. */
  readonly globalEndpoint: string;
  readonly idScope: string;
  readonly registrationId: string;
  /** The derived device key (base64). */
  readonly symmetricKey: string;
  /** Extra root CAs the device trusts (`trust_bundle_cert`), e.g. the sandbox CA; absent on Azure. */
  readonly trustBundleFile?: string;
}

const HEADER = `# IoT Edge configuration (IoT Edge 1.4 / 1.5), written by \`npm run provision\`.
# Install as /etc/aziot/config.toml (root-owned, mode 0600) and run \`sudo iotedge config apply\`.
# It holds the device's symmetric key: keep it off shared drives and out of source control.
`;

/**
 * Renders config.toml: `[provisioning] source = "dps"`, `global_endpoint`, `id_scope`, and
 * `[provisioning.attestation] method = "symmetric_key"`, `registration_id`, `symmetric_key.value` (the same TOML
 * data as the docs' inline `symmetric_key = { value = "…" }`), plus the default `[agent]` section of IoT Edge's
 * template and, when given, `trust_bundle_cert`.
 */
export function renderEdgeConfigToml(config: EdgeDpsConfig): string {
  const doc = {
    ...(config.trustBundleFile !== undefined && {
      trust_bundle_cert: pathToFileURL(config.trustBundleFile).href,
    }),
    provisioning: {
      source: 'dps',
      global_endpoint: config.globalEndpoint,
      id_scope: config.idScope,
      attestation: {
        method: 'symmetric_key',
        registration_id: config.registrationId,
        symmetric_key: { value: config.symmetricKey },
      },
    },
    agent: { name: 'edgeAgent', type: 'docker', config: { image: EDGE_AGENT_IMAGE } },
  };
  return `${HEADER}\n${stringify(doc)}\n`;
}

/**
 * Reads the DPS symmetric-key settings back from config.toml text. Accepts the key inline (`{ value }` or a bare
 * string, as older docs write it) or as a `file://` URI; throws PROVISION_BAD_INPUT naming the first problem.
 */
export async function parseEdgeConfigToml(text: string, source = 'config.toml'): Promise<EdgeDpsConfig> {
  let doc: Record<string, unknown>;
  try {
    doc = parse(text) as Record<string, unknown>;
  } catch (err) {
    throw bad(`${source} is not valid TOML: ${(err as Error).message.split('\n')[0]}`);
  }
  const provisioning = table(doc.provisioning, `${source}: [provisioning]`);
  if (provisioning.source !== 'dps') throw bad(`${source}: provisioning.source must be "dps"`);
  const attestation = table(provisioning.attestation, `${source}: [provisioning.attestation]`);
  if (attestation.method !== 'symmetric_key')
    throw bad(`${source}: provisioning.attestation.method must be "symmetric_key"`);
  const symmetricKey = await readKey(attestation.symmetric_key, source);
  const trust = doc.trust_bundle_cert;
  return {
    globalEndpoint: requiredText(provisioning.global_endpoint, `${source}: provisioning.global_endpoint`),
    idScope: requiredText(provisioning.id_scope, `${source}: provisioning.id_scope`),
    registrationId: requiredText(
      attestation.registration_id,
      `${source}: provisioning.attestation.registration_id`,
    ),
    symmetricKey,
    ...(typeof trust === 'string' && { trustBundleFile: filePath(trust, `${source}: trust_bundle_cert`) }),
  };
}

/**
 * Writes config.toml with mode 0600 (its folder 0700) atomically: a temporary file in the same folder, renamed
 * over the old one, so a reader never sees half a file and an older file with looser permissions is replaced.
 */
export async function writeEdgeConfigToml(file: string, config: EdgeDpsConfig): Promise<void> {
  const temp = join(dirname(file), `.config.toml.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    await writeFile(temp, renderEdgeConfigToml(config), { mode: 0o600, flag: 'wx' });
    await chmod(temp, 0o600);
    await rename(temp, file);
  } catch (err) {
    await rm(temp, { force: true }).catch(() => undefined);
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new ProvisioningError('PROVISION_WRITE_FAILED', `cannot write ${file}: ${code}`, false, {
      cause: err,
    });
  }
}

async function readKey(value: unknown, source: string): Promise<string> {
  const where = `${source}: provisioning.attestation.symmetric_key`;
  if (typeof value === 'string' && value !== '') return value;
  const key = table(value, where);
  if (typeof key.value === 'string' && key.value !== '') return key.value;
  if (typeof key.uri === 'string') {
    // IoT Edge reads a file URI's raw key bytes; the key is base64 everywhere else, so encode them.
    const bytes = await readFile(filePath(key.uri, where)).catch((err: NodeJS.ErrnoException) => {
      throw bad(`${where}: cannot read ${key.uri as string}: ${err.code ?? 'error'}`);
    });
    return bytes.toString('base64');
  }
  throw bad(`${where} must be { value = "…" } or { uri = "file:///…" }`);
}

function filePath(uri: string, where: string): string {
  if (!uri.startsWith('file://')) throw bad(`${where} must be a file:// URI`);
  return fileURLToPath(uri);
}

function table(value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad(`${where} is missing`);
  return value as Record<string, unknown>;
}

function requiredText(value: unknown, where: string): string {
  if (typeof value !== 'string' || value === '') throw bad(`${where} must be a non-empty string`);
  return value;
}

function bad(message: string): ProvisioningError {
  return new ProvisioningError('PROVISION_BAD_INPUT', message, false);
}
