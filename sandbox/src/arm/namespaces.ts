import type { Logger } from '../../../modules/common/src/log';
import { NamespaceRegistry } from '../relay/namespace-registry';
import { checkArmRequest, namespaceNotFound, RelayArmApi, type ArmReply, type ArmRequest } from './api';
import { ArmError } from './errors';
import { pageOf, SKIP_TOKEN } from './paging';
import { namespaceId } from './paths';
import { namespaceResource, type ArmJson, type NamespaceInfo } from './resources';

/** What serves one namespace's data plane: a running sandbox relay, or a bare registry without one. */
export interface NamespaceDataPlane {
  readonly registry: NamespaceRegistry;
  /** `host[:port]` of the data plane. */
  readonly namespace: string;
  stats(): { readonly listenersByPath: Readonly<Record<string, number>> };
}

/** A data plane started for a namespace created through ARM; stopped when the namespace is deleted. */
export interface CreatedDataPlane {
  readonly relay: NamespaceDataPlane;
  stop(): Promise<void>;
}

/** Starts the data plane of a namespace created with PUT (each sandbox relay is its own host and port). */
export type DataPlaneFactory = (namespaceName: string) => Promise<CreatedDataPlane>;

/** What the catalog serves: one subscription and resource group. */
export interface NamespaceCatalogConfig {
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  /** Region of the namespaces served at start, and named in ARM's api-version message. */
  readonly location: string;
  readonly baseUrl: () => string;
  readonly pageSize: number;
  /** Without one, a namespace created with PUT has state only (no data plane; its host does not resolve). */
  readonly createDataPlane?: DataPlaneFactory;
  readonly logger?: Logger;
}

interface Entry {
  info: NamespaceInfo;
  state: 'Created' | 'Succeeded' | 'Failed';
  api?: RelayArmApi;
  plane?: CreatedDataPlane;
}

// Azure's rule for namespace names (6-50, a letter first, letters, digits and hyphens, a letter or digit last).
const NAMESPACE_NAME = /^[A-Za-z][A-Za-z0-9-]{4,48}[A-Za-z0-9]$/;
// How long a client polling a namespace being created is asked to wait between polls (ARM's Retry-After).
const RETRY_AFTER_SECONDS = '1';

/**
 * The namespaces of the sandbox's resource group: list, get, create (PUT, a long-running operation: `Created`
 * until the data plane runs, then `Succeeded`, polled by the SDK through GET) and delete; requests below a
 * namespace go to that namespace's RelayArmApi.
 */
export class NamespaceCatalog {
  private readonly entries = new Map<string, Entry>();
  private stopped = false;

  constructor(private readonly cfg: NamespaceCatalogConfig) {}

  /** Serves `plane` as namespace `name` (provisioned already: the namespaces a sandbox starts with). */
  add(name: string, plane: NamespaceDataPlane, relayHost = plane.namespace): void {
    if (!NAMESPACE_NAME.test(name) || this.entries.has(name.toLowerCase()))
      throw new Error(`namespace "${name}" must be 6-50 letters, digits or hyphens and not repeat one`);
    const entry: Entry = { info: this.info(name, this.cfg.location, {}, relayHost), state: 'Succeeded' };
    entry.api = this.api(entry.info, plane);
    this.entries.set(name.toLowerCase(), entry);
  }

  /** Names of the namespaces served now, in creation order. */
  names(): string[] {
    return [...this.entries.values()].map((e) => e.info.name);
  }

  /** Serves one request (already authenticated); throws ArmError for every refusal. */
  async handle(req: ArmRequest): Promise<ArmReply> {
    const path = checkArmRequest(req, this.cfg);
    if (path.kind === 'namespaces') {
      if (req.method !== 'GET') throw methodNotAllowed(req.method);
      return { status: 200, body: this.list(req) };
    }
    const name = path.namespace ?? '';
    const entry = this.entries.get(name.toLowerCase());
    if (path.kind === 'namespace') {
      if (req.method === 'PUT') return this.put(name, entry, req.body);
      if (req.method === 'DELETE') return this.delete(name, entry);
      if (req.method !== 'GET') throw methodNotAllowed(req.method);
      if (!entry) throw namespaceNotFound(name, path.resourceGroup);
      return this.reply(entry, 200);
    }
    if (!entry) throw namespaceNotFound(name, path.resourceGroup);
    if (!entry.api)
      throw new ArmError(
        409,
        'Conflict',
        `Namespace '${entry.info.name}' is being provisioned (${entry.state}).`,
      );
    return entry.api.handle(req);
  }

  /** Stops the data planes of namespaces created through ARM. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.entries.values()].map((e) => e.plane?.stop().catch(() => undefined)));
  }

  private list(req: ArmRequest): ArmJson {
    const all = [...this.entries.values()].map((e) =>
      namespaceResource(e.info, this.cfg.subscriptionId, e.state),
    );
    const version = req.query.get('api-version') ?? '';
    const next = (offset: number): string =>
      `${this.cfg.baseUrl()}${req.pathname}?${new URLSearchParams({ 'api-version': version, [SKIP_TOKEN]: String(offset) }).toString()}`;
    return { ...pageOf(all, req.query.get(SKIP_TOKEN), this.cfg.pageSize, next) };
  }

  // PUT: a new namespace answers 201 `Created` at once and comes up in the background (ARM's long-running
  // create); an existing one has its tags replaced (200). Relay has one SKU, Standard.
  private put(name: string, entry: Entry | undefined, body: unknown): ArmReply {
    const fields = isObject(body) ? body : {};
    const location = fields.location;
    if (typeof location !== 'string' || location === '')
      throw new ArmError(400, 'BadRequest', "The 'location' property is required for a namespace.");
    const sku = fields.sku;
    if (sku !== undefined && (!isObject(sku) || sku.name !== 'Standard'))
      throw new ArmError(400, 'BadRequest', "Azure Relay namespaces have one SKU: {'name': 'Standard'}.");
    const tags = tagsOf(fields.tags);
    if (entry) {
      if (entry.info.location.toLowerCase() !== location.toLowerCase())
        throw new ArmError(
          400,
          'BadRequest',
          `Namespace '${entry.info.name}' exists in '${entry.info.location}'; its location cannot change.`,
        );
      entry.info = { ...entry.info, tags, updatedAtMs: Date.now() };
      // A namespace whose creation failed is provisioned again by the next PUT, as ARM does.
      if (entry.state === 'Failed') this.provision(entry);
      return this.reply(entry, 200);
    }
    if (!NAMESPACE_NAME.test(name))
      throw new ArmError(
        400,
        'BadRequest',
        `The namespace name '${name}' is invalid: 6-50 letters, digits or hyphens, starting with a letter and ending with a letter or digit.`,
      );
    const created: Entry = { info: this.info(name, location, tags, ''), state: 'Created' };
    this.entries.set(name.toLowerCase(), created);
    this.provision(created);
    return this.reply(created, 201);
  }

  // Starts the data plane in the background: `Created` until it runs, then `Succeeded` (or `Failed`).
  private provision(entry: Entry): void {
    const name = entry.info.name;
    entry.state = 'Created';
    const factory =
      this.cfg.createDataPlane ??
      ((n: string) =>
        Promise.resolve({
          relay: registryOnly(`${n}.servicebus.windows.net`),
          stop: () => Promise.resolve(),
        }));
    factory(name).then(
      (plane) => {
        // Deleted (or the sandbox stopped) while it was coming up: nothing serves it any more.
        if (this.stopped || this.entries.get(name.toLowerCase()) !== entry) return void plane.stop();
        entry.plane = plane;
        entry.info = { ...entry.info, relayHost: plane.relay.namespace, updatedAtMs: Date.now() };
        entry.api = this.api(entry.info, plane.relay);
        entry.state = 'Succeeded';
        this.cfg.logger?.info(
          { namespace: name, host: plane.relay.namespace },
          'sandbox namespace provisioned',
        );
      },
      (err: unknown) => {
        entry.state = 'Failed';
        this.cfg.logger?.error({ namespace: name, err: (err as Error).message }, 'sandbox namespace failed');
      },
    );
  }

  // DELETE removes the namespace and everything in it (as in Azure); 204 when there was none.
  private async delete(name: string, entry: Entry | undefined): Promise<ArmReply> {
    if (!entry) return { status: 204 };
    this.entries.delete(name.toLowerCase());
    await entry.plane?.stop();
    return { status: 200 };
  }

  private reply(entry: Entry, status: number): ArmReply {
    const inProgress = entry.state === 'Created';
    return {
      status,
      body: namespaceResource(entry.info, this.cfg.subscriptionId, entry.state),
      ...(inProgress && { headers: { 'retry-after': RETRY_AFTER_SECONDS } }),
    };
  }

  private info(
    name: string,
    location: string,
    tags: Readonly<Record<string, string>>,
    relayHost: string,
  ): NamespaceInfo {
    return {
      id: namespaceId(this.cfg.subscriptionId, this.cfg.resourceGroup, name),
      name,
      location,
      relayHost,
      createdAtMs: Date.now(),
      tags,
    };
  }

  private api(info: NamespaceInfo, plane: NamespaceDataPlane): RelayArmApi {
    return new RelayArmApi({
      registry: plane.registry,
      subscriptionId: this.cfg.subscriptionId,
      resourceGroup: this.cfg.resourceGroup,
      namespace: info,
      listenerCount: (hc) => plane.stats().listenersByPath[hc] ?? 0,
      baseUrl: this.cfg.baseUrl,
      pageSize: this.cfg.pageSize,
    });
  }
}

/** A data plane of state only: a registry and a host name nothing listens on. */
export function registryOnly(host: string, registry = new NamespaceRegistry()): NamespaceDataPlane {
  return { registry, namespace: host, stats: () => ({ listenersByPath: {} }) };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// ARM's tag rules that matter here: an object of string values, at most 50.
function tagsOf(value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isObject(value) || Object.values(value).some((v) => typeof v !== 'string'))
    throw new ArmError(400, 'InvalidRequestContent', "'tags' must be an object of string values.");
  if (Object.keys(value).length > 50)
    throw new ArmError(400, 'BadRequest', 'A resource may have at most 50 tags.');
  return { ...(value as Record<string, string>) };
}

function methodNotAllowed(method: string): ArmError {
  return new ArmError(
    405,
    'MethodNotAllowed',
    `The requested resource does not support http method '${method}'.`,
  );
}
