import { DeploymentError, ManifestProblem } from './errors';

/** What the generator needs from one module folder's module.json (IoT Edge dev tool format). */
export interface ModuleMetadata {
  /** Folder name under modules/, the name used in `${MODULES.<folder>}`. */
  readonly folder: string;
  /** image.repository; may hold `${NAME}` variables such as `${CONTAINER_REGISTRY_SERVER}`. */
  readonly repository: string;
  /** image.tag.version. */
  readonly version: string;
  /** image.tag.platforms: platform key (amd64, arm64v8.debug, …) → Dockerfile path relative to the folder. */
  readonly platforms: Readonly<Record<string, string>>;
  /** image.contextPath relative to the folder; "." when absent. */
  readonly contextPath: string;
  /** image.buildOptions: extra `docker build` arguments. */
  readonly buildOptions: readonly string[];
}

/** Suffix of the debug variant of a platform key, as the IoT Edge tooling names it. */
export const DEBUG_SUFFIX = '.debug';

/** Validates a parsed module.json and returns its metadata, or throws with every problem found. */
export function parseModuleJson(folder: string, json: unknown): ModuleMetadata {
  const problems: ManifestProblem[] = [];
  const need = (ok: boolean, path: string, message: string): void => {
    if (!ok) problems.push({ path, message });
  };
  const root = asObject(json);
  const image = asObject(root?.['image']);
  const tag = asObject(image?.['tag']);
  const platforms = asObject(tag?.['platforms']);
  need(root !== undefined, '', 'module.json must be an object');
  need(isNonEmptyString(image?.['repository']), '/image/repository', 'must be a non-empty string');
  need(isNonEmptyString(tag?.['version']), '/image/tag/version', 'must be a non-empty string');
  need(
    platforms !== undefined && Object.keys(platforms).length > 0,
    '/image/tag/platforms',
    'must map at least one platform to a Dockerfile',
  );
  for (const [key, file] of Object.entries(platforms ?? {})) {
    need(isNonEmptyString(file), `/image/tag/platforms/${key}`, 'must be a Dockerfile path');
  }
  const contextPath = image?.['contextPath'];
  need(
    contextPath === undefined || isNonEmptyString(contextPath),
    '/image/contextPath',
    'must be a non-empty string',
  );
  const buildOptions = image?.['buildOptions'];
  need(
    buildOptions === undefined ||
      (Array.isArray(buildOptions) && buildOptions.every((o) => typeof o === 'string')),
    '/image/buildOptions',
    'must be an array of strings',
  );
  if (problems.length > 0) {
    throw new DeploymentError(
      'DEPLOYMENT_BAD_MODULE_JSON',
      `modules/${folder}/module.json is not valid`,
      problems,
    );
  }
  return {
    folder,
    repository: image?.['repository'] as string,
    version: tag?.['version'] as string,
    platforms: { ...(platforms as Record<string, string>) },
    contextPath: (contextPath as string | undefined) ?? '.',
    buildOptions: [...((buildOptions as string[] | undefined) ?? [])],
  };
}

/** The image reference the IoT Edge tooling builds for a platform key: `<repository>:<version>-<platformKey>`. */
export function moduleImage(meta: ModuleMetadata, platformKey: string): string {
  if (!Object.prototype.hasOwnProperty.call(meta.platforms, platformKey)) {
    throw new DeploymentError(
      'DEPLOYMENT_UNKNOWN_PLATFORM',
      `module ${meta.folder} has no platform "${platformKey}" in module.json (it has ${Object.keys(meta.platforms).join(', ')})`,
    );
  }
  return `${meta.repository}:${meta.version}-${platformKey}`;
}

/**
 * Maps a `${MODULES.<folder>[.<suffix>]}` suffix to a platform key for the platform being generated:
 * no suffix → the platform itself, "debug" → its debug variant, anything else → that platform key.
 */
export function platformKeyFor(platform: string, suffix: string | undefined): string {
  if (suffix === undefined) return platform;
  if (suffix === 'debug') return `${platform}${DEBUG_SUFFIX}`;
  return suffix;
}

/** Returns the resolver expandPlaceholders needs for `${MODULES.…}`, bound to one platform. */
export function moduleImageResolver(
  modules: Readonly<Record<string, ModuleMetadata>>,
  platform: string,
): (folder: string, suffix: string | undefined) => string {
  return (folder, suffix) => {
    const meta = Object.prototype.hasOwnProperty.call(modules, folder) ? modules[folder] : undefined;
    if (!meta) {
      throw new DeploymentError(
        'DEPLOYMENT_UNKNOWN_MODULE',
        `no module folder "${folder}" with a module.json (known: ${Object.keys(modules).join(', ') || 'none'})`,
      );
    }
    return moduleImage(meta, platformKeyFor(platform, suffix));
  };
}

/** Release platforms (debug variants excluded) that every given module declares, in first-module order. */
export function commonPlatforms(modules: readonly ModuleMetadata[]): string[] {
  const [first, ...rest] = modules;
  if (!first) return [];
  return Object.keys(first.platforms).filter(
    (key) =>
      !key.endsWith(DEBUG_SUFFIX) &&
      rest.every((m) => Object.prototype.hasOwnProperty.call(m.platforms, key)),
  );
}

function asObject(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}
