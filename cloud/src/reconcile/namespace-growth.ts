import type { Logger } from '../../../modules/common/src/log';
import type { NamespaceProvisioner } from '../adapters/arm-namespace-provisioner';
import type { RelayNamespaces } from '../adapters/relay-namespaces';
import { isControllerError } from '../errors';
import { decideNamespaceGrowth, type CreatedNamespace } from '../plan/namespace-growth';
import type { ControllerSettings } from '../settings';
import type { ReconcileResult } from './reconcile';

/** The namespaces one reconcile places locations in: the configured ones, then the provisioned created ones. */
export interface GrowthView {
  readonly settings: ControllerSettings;
  readonly namespaces: RelayNamespaces;
  /** Namespaces this controller created (found by their tag), whatever their state; configured ones excluded. */
  readonly created: readonly CreatedNamespace[];
}

/** What NamespaceGrowth works with. */
export interface NamespaceGrowthOptions {
  readonly provisioner: NamespaceProvisioner;
  /** The controller's settings: `namespaces` (configured) and `namespaceGrowth` must be set. */
  readonly settings: ControllerSettings;
  /** The configured namespaces' admins. */
  readonly namespaces: RelayNamespaces;
  readonly logger: Logger;
}

/**
 * Namespaces created through ARM around the reconcile: before it, the created namespaces are found again by their
 * tag (so a restarted controller knows them and creates no second one); after it, when locations were refused
 * with NAMESPACE_CAPACITY, one namespace is created (or one in progress waited for) and the caller reconciles
 * again. Namespaces are never deleted here: one that holds locations must stay, and an empty one costs little.
 */
export class NamespaceGrowth {
  private lastAtMax: string | undefined;
  private lastListed: CreatedNamespace[] | undefined;

  constructor(private readonly options: NamespaceGrowthOptions) {}

  /**
   * Lists the created namespaces and returns the settings and admins that include the provisioned ones. When the
   * list cannot be read, the last one read stands in (the controller never deletes a namespace, so it is not
   * stale in a way that matters); with none read yet it throws, because reconciling without the created
   * namespaces would move the locations placed in them.
   */
  async view(): Promise<GrowthView> {
    const { settings, provisioner, namespaces, logger } = this.options;
    const growth = settings.namespaceGrowth!;
    const configured = new Set((settings.namespaces ?? []).map((n) => n.name.toLowerCase()));
    let listed: CreatedNamespace[];
    try {
      listed = await provisioner.listCreated();
      this.lastListed = listed;
    } catch (err) {
      if (!this.lastListed) throw err;
      logger.warn({ err: (err as Error).message }, 'created namespaces not listed; using the last list');
      listed = this.lastListed;
    }
    const created = listed.filter((c) => !configured.has(c.name.toLowerCase()));
    const ready = created.filter((c) => c.provisioningState === 'Succeeded');
    return {
      settings: {
        ...settings,
        namespaces: [
          ...(settings.namespaces ?? []),
          ...ready.map((c) => ({
            name: c.name,
            maxHybridConnections: growth.maxHybridConnections,
            maxConnections: growth.maxConnections,
          })),
        ],
      },
      namespaces: new Map([
        ...namespaces,
        ...ready.map((c) => [c.name, provisioner.adminOf(c.name)] as const),
      ]),
      created,
    };
  }

  /**
   * After a reconcile over `view`: creates or waits for a namespace when locations were refused for want of room.
   * True when one became ready (reconcile again); false when nothing was to do or it could not be done now (the
   * next reconcile decides again). Never throws for ARM's sake: the reconcile's own result stands.
   */
  async grow(result: ReconcileResult, view: GrowthView, stop: AbortSignal): Promise<boolean> {
    const { settings, provisioner, logger } = this.options;
    const growth = settings.namespaceGrowth!;
    const refused = [...result.outcomes.values()].filter((o) =>
      o.problems.some((p) => p.code === 'NAMESPACE_CAPACITY'),
    ).length;
    const decision = decideNamespaceGrowth(refused, view.created, growth);
    if (decision.kind === 'none') return false;
    if (decision.kind === 'atMax') {
      if (decision.message !== this.lastAtMax)
        logger.warn({ note: decision.message }, 'no namespace created');
      this.lastAtMax = decision.message;
      return false;
    }
    this.lastAtMax = undefined;
    const started = performance.now();
    logger.info(
      { namespace: decision.name, why: decision.why, region: growth.region },
      'creating Relay namespace',
    );
    try {
      await provisioner.ensure(
        decision.name,
        AbortSignal.any([stop, AbortSignal.timeout(growth.createTimeoutMs)]),
      );
    } catch (err) {
      if (stop.aborted) return false;
      logger.warn(
        {
          namespace: decision.name,
          err: (err as Error).message,
          code: isControllerError(err) ? err.code : undefined,
        },
        'Relay namespace not created; the next reconcile tries again',
      );
      return false;
    }
    logger.info(
      { namespace: decision.name, durationMs: Math.round(performance.now() - started) },
      'Relay namespace ready',
    );
    return true;
  }
}
