// The IPC messages between bench/controller-reconcile.ts and its stand-in processes (stand-in-process.ts).
import type { JsonObject } from '../../cloud/src/model/json';

/** A request to a stand-in; `id` pairs it with its reply. */
export type StandInRequest = { readonly id: number } & (
  | {
      /** Hub: creates IoT Edge devices with tags and module identities, then restarts the call counts. */
      readonly op: 'seed';
      readonly devices: readonly {
        readonly deviceId: string;
        readonly tags: JsonObject;
        readonly modules: readonly string[];
      }[];
    }
  /** Hub: the service calls counted per throttle class since seeding. */
  | { readonly op: 'calls' }
  /** Hub: the desired properties' size of each [deviceId, moduleId], as the controller measures twins. */
  | { readonly op: 'desiredBytes'; readonly modules: readonly (readonly [string, string])[] }
  /** The stand-in process's CPU time so far (process.cpuUsage()). */
  | { readonly op: 'cpu' }
  /** Stops the stand-in; replies with its final CPU time, then the process exits. */
  | { readonly op: 'stop' }
);

/** A stand-in's reply; id 0 is the ready message with what the parent needs to connect. */
export type StandInReply =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly error: string };
