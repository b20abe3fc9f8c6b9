import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client as DeviceClient, ModuleClient } from 'azure-iot-device';
import { Mqtt } from 'azure-iot-device-mqtt';
import { SandboxIotHub, startSandboxIotHub, SandboxIotHubOptions } from '../../sandbox/src/iothub';

/** A retry policy that never retries, so a refused connection fails the test at once. */
export const noRetry = { shouldRetry: () => false, nextRetryTimeout: () => 0 };

/** Tracks everything a test opens so `cleanup()` closes it even when the test fails. */
export class Harness {
  private readonly closers: (() => Promise<unknown>)[] = [];

  /** Registers a cleanup step; steps run in reverse order. */
  defer(fn: () => Promise<unknown>): void {
    this.closers.push(fn);
  }

  /** A fresh state directory, removed at cleanup. */
  async tempDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'iothub-sandbox-'));
    this.defer(() => rm(dir, { recursive: true, force: true }));
    return dir;
  }

  /** Starts a hub that is stopped at cleanup. */
  async hub(options: SandboxIotHubOptions = {}): Promise<SandboxIotHub> {
    const hub = await startSandboxIotHub(options);
    this.defer(() => hub.stop());
    return hub;
  }

  /** Opens an unmodified device client over MQTT, trusting the hub's CA. */
  async device(hub: SandboxIotHub, connectionString: string): Promise<DeviceClient> {
    const client = DeviceClient.fromConnectionString(connectionString, Mqtt);
    client.setRetryPolicy(noRetry);
    await client.setOptions({ ca: hub.caPem });
    this.defer(() => client.close());
    await client.open();
    return client;
  }

  /** Opens an unmodified module client over MQTT, trusting the hub's CA. */
  async module(hub: SandboxIotHub, connectionString: string): Promise<ModuleClient> {
    const client = ModuleClient.fromConnectionString(connectionString, Mqtt);
    client.setRetryPolicy(noRetry);
    await client.setOptions({ ca: hub.caPem });
    this.defer(() => client.close());
    await client.open();
    return client;
  }

  /** Runs every cleanup step, newest first, ignoring individual failures. */
  async cleanup(): Promise<void> {
    while (this.closers.length > 0) {
      const fn = this.closers.pop();
      try {
        await fn?.();
      } catch {
        // A client that failed to open may also fail to close; the hub still stops.
      }
    }
  }
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Resolves with the next value `subscribe` delivers, or rejects after `timeoutMs`. */
export function nextEvent<T>(subscribe: (deliver: (value: T) => void) => void, timeoutMs = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no event within ${timeoutMs} ms`)), timeoutMs);
    subscribe((value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}
