import { canonicalJson } from '../../../provisioning/src/adm/plan';

/** The modules this stand-in can run as local processes, by image repository name. */
export const RUNNABLE_MODULES = ['relay-forwarder', 'relay-gateway'] as const;

/** One of RUNNABLE_MODULES. */
export type RunnableModule = (typeof RUNNABLE_MODULES)[number];

/** IoT Edge restart policies (`restartPolicy` of a module in `$edgeAgent`). */
export type RestartPolicy = 'never' | 'on-failure' | 'on-unhealthy' | 'always';

/** One custom module as `$edgeAgent`'s desired properties list it. */
export interface ModuleSpec {
  readonly name: string;
  readonly image: string;
  /** Which of our modules the image is (its repository's last path segment), or undefined for any other image. */
  readonly runs: RunnableModule | undefined;
  /** Desired state: `running`, or `stopped` (the module is kept but not run). */
  readonly status: 'running' | 'stopped';
  readonly restartPolicy: RestartPolicy;
  readonly startupOrder: number;
  readonly version: string;
  /** `env` of the module, as NAME → value. */
  readonly env: Readonly<Record<string, string>>;
  /**
   * What makes IoT Edge recreate the container when it changes (image, createOptions, env, version, type):
   * a different fingerprint restarts the process. `status` and `restartPolicy` are not part of it.
   */
  readonly fingerprint: string;
}

/** `$edgeAgent` desired properties made sense of: the custom modules, or why the document was refused. */
export type AgentSpec =
  | { readonly ok: true; readonly modules: ReadonlyMap<string, ModuleSpec> }
  | { readonly ok: false; readonly problem: string };

const RESTART_POLICIES: readonly string[] = ['never', 'on-failure', 'on-unhealthy', 'always'];

/**
 * Reads the `$edgeAgent` desired document (system keys already removed) as IoT Edge 1.5's agent would: schema
 * version 1.x, `modules.{name}` with `settings.image`, `status`, `restartPolicy`, `env`. A module entry that
 * breaks the schema refuses the whole document, like the real agent (which then keeps running what it has).
 */
export function parseAgentDesired(desired: Readonly<Record<string, unknown>>): AgentSpec {
  const schema = desired.schemaVersion;
  if (typeof schema !== 'string' || !/^1\.\d+$/.test(schema))
    return { ok: false, problem: `schemaVersion ${JSON.stringify(schema)} is not supported (1.0 or 1.1)` };
  const raw = desired.modules ?? {};
  if (!isRecord(raw)) return { ok: false, problem: 'modules must be an object' };
  const modules = new Map<string, ModuleSpec>();
  for (const [name, entry] of Object.entries(raw)) {
    const spec = parseModule(name, entry);
    if (typeof spec === 'string') return { ok: false, problem: `modules.${name}: ${spec}` };
    modules.set(name, spec);
  }
  return { ok: true, modules };
}

/** The repository's last path segment of an image reference (`reg.io/a/relay-forwarder:0.1.0-amd64` → `relay-forwarder`). */
export function imageRepositoryName(image: string): string {
  const withoutDigest = image.split('@')[0] ?? '';
  const lastSegment = withoutDigest.split('/').pop() ?? '';
  const colon = lastSegment.indexOf(':');
  return colon < 0 ? lastSegment : lastSegment.slice(0, colon);
}

function parseModule(name: string, entry: unknown): ModuleSpec | string {
  if (!isRecord(entry)) return 'must be an object';
  const settings = entry.settings;
  if (!isRecord(settings) || typeof settings.image !== 'string' || settings.image === '')
    return 'settings.image is required';
  const status = entry.status ?? 'running';
  if (status !== 'running' && status !== 'stopped') return `status must be "running" or "stopped"`;
  const restartPolicy = entry.restartPolicy ?? 'always';
  if (typeof restartPolicy !== 'string' || !RESTART_POLICIES.includes(restartPolicy))
    return `restartPolicy must be one of ${RESTART_POLICIES.join(', ')}`;
  const startupOrder = entry.startupOrder ?? 4294967295;
  if (typeof startupOrder !== 'number' || !Number.isInteger(startupOrder) || startupOrder < 0)
    return 'startupOrder must be a whole number';
  const env: Record<string, string> = {};
  if (entry.env !== undefined) {
    if (!isRecord(entry.env)) return 'env must be an object';
    for (const [key, value] of Object.entries(entry.env)) {
      if (!isRecord(value) || !['string', 'number', 'boolean'].includes(typeof value.value))
        return `env.${key} must be { "value": … }`;
      env[key] = String(value.value);
    }
  }
  const repository = imageRepositoryName(settings.image);
  const runs = (RUNNABLE_MODULES as readonly string[]).includes(repository)
    ? (repository as RunnableModule)
    : undefined;
  const version = typeof entry.version === 'string' ? entry.version : '';
  return {
    name,
    image: settings.image,
    runs,
    status,
    restartPolicy: restartPolicy as RestartPolicy,
    startupOrder,
    version,
    env,
    fingerprint: canonicalJson({ settings, env: entry.env ?? {}, version, type: entry.type ?? 'docker' }),
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
