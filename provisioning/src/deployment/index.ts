/** IoT Edge deployment manifests for the fleet: generation, validation and layered fragments. */
export { DeploymentError, isDeploymentError, formatProblems } from './errors';
export type { DeploymentErrorCode, ManifestProblem } from './errors';
export { generateManifest } from './generate';
export type { DeploymentManifest, GenerateOptions } from './generate';
export { validateManifest, validateModuleEntry } from './validate';
export { parseModuleJson, moduleImage, commonPlatforms } from './module-metadata';
export type { ModuleMetadata } from './module-metadata';
export { extractModuleFragment, toLayeredModulesContent, toBaseModulesContent } from './fragments';
export type { ModuleFragment, LayeredOptions } from './fragments';
export { loadFleetFragments, loadModules, loadVariables, findRepoRoot, FLEET_TEMPLATES } from './fleet';
export type { FleetModuleName, FleetFragmentOptions } from './fleet';
export { parseEnvFile, mergeVariables } from './env-file';
export { splitCreateOptions, joinCreateOptions, CREATE_OPTIONS_CHUNK_CHARS } from './create-options';
export { parseRoute } from './routes';
