/** A stand-in for the IoT Edge runtime on one simulated device: DPS boot, `$edgeAgent` twin, modules as processes. */
export { startSandboxEdgeDevice } from './start-device';
export type { SandboxEdgeDevice, SandboxEdgeDeviceOptions, EdgeDeviceHub } from './start-device';
export { EdgeAgent, EDGE_AGENT_MODULE_ID } from './edge-agent';
export type { EdgeAgentOptions } from './edge-agent';
export type { ModuleState, RuntimeStatus } from './module-supervisor';
export { parseAgentDesired, imageRepositoryName, RUNNABLE_MODULES } from './deployment-spec';
export type { ModuleSpec, RestartPolicy, RunnableModule } from './deployment-spec';
export { DEFAULT_ENV_OVERRIDES, moduleEnvironment } from './module-env';
export { DEFAULT_RESTART_BACKOFF } from './restart-policy';
export type { RestartBackoff } from './restart-policy';
