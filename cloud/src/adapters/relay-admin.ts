import type { RelayAPI } from '@azure/arm-relay';
import { ControllerError } from '../errors';
import type { ObservedHybridConnection } from '../model/observed';

/** The Relay management operations the controller needs (one namespace). */
export interface RelayAdmin {
  /** `host[:port]` of the namespace's data plane, from its serviceBusEndpoint. */
  namespaceHost(): Promise<string>;
  listHybridConnections(): Promise<ObservedHybridConnection[]>;
  /** Creates or updates a hybrid connection that requires client authorization. */
  createHybridConnection(name: string, userMetadata: string): Promise<void>;
  createAuthorizationRule(
    hybridConnection: string,
    rule: string,
    rights: readonly ('Listen' | 'Send')[],
  ): Promise<void>;
  /** A rule's primary key; CONTROLLER_RULE_NOT_FOUND when the rule (or its hybrid connection) does not exist. */
  primaryKey(hybridConnection: string, rule: string): Promise<string>;
  /** Deletes a hybrid connection; succeeds when it is already gone. */
  deleteHybridConnection(name: string): Promise<void>;
}

/** Where the namespace lives in ARM. */
export interface RelayNamespaceRef {
  readonly resourceGroup: string;
  readonly namespace: string;
}

/**
 * RelayAdmin over the unmodified `@azure/arm-relay` client (`RelayAPI`), which brings its own retries for
 * throttling and transient failures; its errors become ControllerErrors with the HTTP status.
 */
export class ArmRelayAdmin implements RelayAdmin {
  constructor(
    private readonly client: RelayAPI,
    private readonly ref: RelayNamespaceRef,
  ) {}

  async namespaceHost(): Promise<string> {
    const ns = await this.call('get namespace', () =>
      this.client.namespaces.get(this.ref.resourceGroup, this.ref.namespace),
    );
    if (!ns.serviceBusEndpoint) {
      throw new ControllerError(
        'CONTROLLER_ARM_FAILED',
        `namespace ${this.ref.namespace} has no serviceBusEndpoint`,
        true,
      );
    }
    return hostOfEndpoint(ns.serviceBusEndpoint);
  }

  async listHybridConnections(): Promise<ObservedHybridConnection[]> {
    return this.call('list hybrid connections', async () => {
      const all: ObservedHybridConnection[] = [];
      for await (const hc of this.client.hybridConnections.listByNamespace(
        this.ref.resourceGroup,
        this.ref.namespace,
      )) {
        if (hc.name)
          all.push({
            name: hc.name,
            ...(hc.userMetadata !== undefined && { userMetadata: hc.userMetadata }),
          });
      }
      return all;
    });
  }

  async createHybridConnection(name: string, userMetadata: string): Promise<void> {
    await this.call(`create hybrid connection ${name}`, () =>
      this.client.hybridConnections.createOrUpdate(this.ref.resourceGroup, this.ref.namespace, name, {
        requiresClientAuthorization: true,
        userMetadata,
      }),
    );
  }

  async createAuthorizationRule(
    hybridConnection: string,
    rule: string,
    rights: readonly ('Listen' | 'Send')[],
  ): Promise<void> {
    await this.call(`create rule ${hybridConnection}/${rule}`, () =>
      this.client.hybridConnections.createOrUpdateAuthorizationRule(
        this.ref.resourceGroup,
        this.ref.namespace,
        hybridConnection,
        rule,
        { rights: [...rights] },
      ),
    );
  }

  async primaryKey(hybridConnection: string, rule: string): Promise<string> {
    const what = `list keys ${hybridConnection}/${rule}`;
    const keys = await this.call(what, () =>
      this.client.hybridConnections.listKeys(
        this.ref.resourceGroup,
        this.ref.namespace,
        hybridConnection,
        rule,
      ),
    ).catch((err: ControllerError) => {
      // 404: the rule (or its hybrid connection) is missing, which the planner repairs by creating it.
      throw err.status === 404
        ? new ControllerError('CONTROLLER_RULE_NOT_FOUND', err.message, false, 404)
        : err;
    });
    if (!keys.primaryKey)
      throw new ControllerError(
        'CONTROLLER_ARM_FAILED',
        `listKeys ${hybridConnection}/${rule} returned no key`,
        true,
      );
    return keys.primaryKey;
  }

  async deleteHybridConnection(name: string): Promise<void> {
    await this.call(`delete hybrid connection ${name}`, () =>
      this.client.hybridConnections.delete(this.ref.resourceGroup, this.ref.namespace, name),
    );
  }

  private async call<T>(what: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      const status = (err as { statusCode?: unknown }).statusCode;
      const retryable = typeof status !== 'number' || status === 408 || status === 429 || status >= 500;
      throw new ControllerError(
        'CONTROLLER_ARM_FAILED',
        `${what}: ${(err as Error).message}`,
        retryable,
        typeof status === 'number' ? status : undefined,
        {
          cause: err,
        },
      );
    }
  }
}

/** `https://ns.servicebus.windows.net:443/` → `ns.servicebus.windows.net`; a non-default port is kept (sandbox). */
export function hostOfEndpoint(endpoint: string): string {
  const url = new URL(endpoint);
  return url.port && url.port !== '443' ? `${url.hostname}:${url.port}` : url.hostname;
}
