import type { RelayAPI, RelayNamespace } from '@azure/arm-relay';
import { ControllerError } from '../errors';
import type { CreatedNamespace } from '../plan/namespace-growth';
import { ArmRelayAdmin, type RelayAdmin } from './relay-admin';

/** Tag marking a namespace the controller created; the value says which fleet (`--controller-id`). */
export const CREATED_BY_TAG = 'hybrid-relay-fleet-controller';

/** Creating and finding the namespaces a controller creates itself. */
export interface NamespaceProvisioner {
  /** The namespaces of the growth resource group tagged as this controller's, in name order. */
  listCreated(): Promise<CreatedNamespace[]>;
  /**
   * Makes namespace `name` exist and be provisioned: creates it (a long-running PUT, polled as the SDK does) or,
   * if it exists and is still being created, polls it, until `Succeeded`; throws CONTROLLER_ARM_FAILED when it
   * ends otherwise and CONTROLLER_STOPPED when `signal` aborts first.
   */
  ensure(name: string, signal: AbortSignal): Promise<void>;
  /** The RelayAdmin of a created namespace. */
  adminOf(name: string): RelayAdmin;
}

/** Where and as whom the controller creates namespaces. */
export interface ArmNamespaceProvisionerOptions {
  readonly resourceGroup: string;
  readonly region: string;
  readonly controllerId: string;
  /** Poll period while a creation runs when ARM names none (Retry-After wins); the SDK's default when absent. */
  readonly pollIntervalMs?: number;
}

/** NamespaceProvisioner over the unmodified `@azure/arm-relay` client. */
export class ArmNamespaceProvisioner implements NamespaceProvisioner {
  private readonly admins = new Map<string, RelayAdmin>();

  constructor(
    private readonly client: RelayAPI,
    private readonly options: ArmNamespaceProvisionerOptions,
  ) {}

  async listCreated(): Promise<CreatedNamespace[]> {
    const found: CreatedNamespace[] = [];
    try {
      for await (const ns of this.client.namespaces.listByResourceGroup(this.options.resourceGroup)) {
        if (ns.name && ns.tags?.[CREATED_BY_TAG] === this.options.controllerId)
          found.push({ name: ns.name, provisioningState: ns.provisioningState ?? 'Unknown' });
      }
    } catch (err) {
      throw armFailure(`list namespaces of ${this.options.resourceGroup}`, err);
    }
    return found.sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
  }

  async ensure(name: string, signal: AbortSignal): Promise<void> {
    const rg = this.options.resourceGroup;
    let ns = await this.get(name);
    // A creation still underway (started before a restart) is followed with GET rather than PUT again, which ARM
    // may refuse with 409 while an operation runs on the resource.
    while (ns && !TERMINAL.includes(ns.provisioningState ?? '')) {
      await delay(this.options.pollIntervalMs ?? DEFAULT_POLL_MS, signal, name);
      ns = await this.get(name);
    }
    if (ns?.provisioningState === 'Succeeded') return;
    try {
      // A new namespace, or one whose creation failed (PUT provisions it again). The SDK's poller follows
      // provisioningState on the resource (ARM's "Body" long-running pattern), honouring Retry-After.
      ns = await this.client.namespaces.beginCreateOrUpdateAndWait(
        rg,
        name,
        {
          location: this.options.region,
          sku: { name: 'Standard', tier: 'Standard' },
          tags: { [CREATED_BY_TAG]: this.options.controllerId },
        },
        {
          abortSignal: signal,
          ...(this.options.pollIntervalMs !== undefined && {
            updateIntervalInMs: this.options.pollIntervalMs,
          }),
        },
      );
    } catch (err) {
      if (signal.aborted)
        throw new ControllerError(
          'CONTROLLER_STOPPED',
          `creating namespace ${name}: stopped waiting (${String((signal.reason as Error | undefined)?.message ?? signal.reason)})`,
          true,
        );
      throw armFailure(`create namespace ${name}`, err);
    }
    if (ns.provisioningState !== 'Succeeded')
      throw new ControllerError(
        'CONTROLLER_ARM_FAILED',
        `create namespace ${name}: provisioningState ${ns.provisioningState ?? 'unknown'}`,
        true,
      );
  }

  private async get(name: string): Promise<RelayNamespace | undefined> {
    try {
      return await this.client.namespaces.get(this.options.resourceGroup, name);
    } catch (err) {
      if ((err as { statusCode?: unknown }).statusCode === 404) return undefined;
      throw armFailure(`get namespace ${name}`, err);
    }
  }

  adminOf(name: string): RelayAdmin {
    let admin = this.admins.get(name);
    if (!admin) {
      admin = new ArmRelayAdmin(this.client, { resourceGroup: this.options.resourceGroup, namespace: name });
      this.admins.set(name, admin);
    }
    return admin;
  }
}

const TERMINAL: readonly string[] = ['Succeeded', 'Failed'];
// The LRO poller's own default period (core-lro), used when following a creation with GET.
const DEFAULT_POLL_MS = 2000;

function delay(ms: number, signal: AbortSignal, name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const stopped = () => {
      clearTimeout(timer);
      reject(new ControllerError('CONTROLLER_STOPPED', `creating namespace ${name}: stopped waiting`, true));
    };
    if (signal.aborted) return stopped();
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', stopped);
      resolve();
    }, ms);
    signal.addEventListener('abort', stopped, { once: true });
  });
}

function armFailure(what: string, err: unknown): ControllerError {
  const status = (err as { statusCode?: unknown }).statusCode;
  const retryable = typeof status !== 'number' || status === 408 || status === 429 || status >= 500;
  return new ControllerError(
    'CONTROLLER_ARM_FAILED',
    `${what}: ${(err as Error).message}`,
    retryable,
    typeof status === 'number' ? status : undefined,
    { cause: err },
  );
}
