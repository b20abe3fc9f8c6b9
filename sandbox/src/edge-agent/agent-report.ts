import type { JsonObject } from '../../../modules/common/src/twin/json';
import type { ModuleState } from './module-supervisor';

/** What the agent knows about the desired document it last handled. */
export interface DesiredOutcome {
  readonly version: number;
  /** 200 applied; 400 refused (the modules that ran before keep running). */
  readonly code: 200 | 400;
  readonly description: string;
}

/**
 * `$edgeAgent` reported properties in the shape IoT Edge's agent writes (the part tools read): schema version,
 * the desired version handled and its status, runtime, system modules, and per module its runtime status, exit
 * code, restart count and times. edgeHub is reported `unknown`: in the sandbox, modules talk to IoT Hub directly.
 */
export function buildAgentReport(input: {
  readonly startedAtIso: string;
  readonly desired: DesiredOutcome | undefined;
  readonly modules: readonly ModuleState[];
}): JsonObject {
  const modules: JsonObject = {};
  for (const m of input.modules) {
    modules[m.name] = {
      type: 'docker',
      status: m.spec.status,
      restartPolicy: m.spec.restartPolicy,
      version: m.spec.version,
      settings: { image: m.spec.image },
      runtimeStatus: m.runtimeStatus,
      restartCount: m.restartCount,
      ...(m.exitCode !== undefined && { exitCode: m.exitCode }),
      ...(m.statusDescription !== undefined && { statusDescription: m.statusDescription }),
      ...(m.lastStartTimeUtc !== undefined && { lastStartTimeUtc: m.lastStartTimeUtc }),
      ...(m.lastExitTimeUtc !== undefined && { lastExitTimeUtc: m.lastExitTimeUtc }),
      ...(m.lastRestartTimeUtc !== undefined && { lastRestartTimeUtc: m.lastRestartTimeUtc }),
    };
  }
  return {
    schemaVersion: '1.1',
    ...(input.desired && {
      lastDesiredVersion: input.desired.version,
      lastDesiredStatus: { code: input.desired.code, description: input.desired.description },
    }),
    runtime: {
      type: 'docker',
      platform: { os: process.platform, architecture: process.arch, version: 'sandbox-edge-agent' },
    },
    systemModules: {
      edgeAgent: { type: 'docker', runtimeStatus: 'running', lastStartTimeUtc: input.startedAtIso },
      edgeHub: {
        type: 'docker',
        runtimeStatus: 'unknown',
        statusDescription: 'not run by the sandbox: modules connect to IoT Hub directly',
      },
    },
    modules,
  };
}
