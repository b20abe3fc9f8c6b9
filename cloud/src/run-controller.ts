import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { RelayAPI } from '@azure/arm-relay';
import type { TokenCredential } from '@azure/core-auth';
import type { Tracer } from '@opentelemetry/api';
import type { Registry } from 'azure-iothub';
import { createLogger, type Logger } from '../../modules/common/src/log';
import type { RelayMetrics } from '../../modules/common/src/telemetry/metrics';
import { budgetedRegistry } from './azure/budgeted-registry';
import { HubBudget, type HubBudgetSettings, type HubBudgetUse } from './azure/hub-budget';
import { createIotHubServiceClients } from './azure/iothub-service-clients';
import { IotHubFleetTwins } from './adapters/fleet-twins';
import { ArmNamespaceProvisioner } from './adapters/arm-namespace-provisioner';
import { armRelayNamespaces, type ArmNamespaceRef } from './adapters/arm-namespaces';
import { LeaderLease, type LeaseTiming } from './lease/leader-lease';
import { DEFAULT_LEASE_DEVICE_ID } from './lease/record';
import { IotHubLeaseStore } from './lease/store';
import type { Action } from './plan/actions';
import { FleetController, type LoopOptions } from './reconcile/controller';
import { NamespaceGrowth } from './reconcile/namespace-growth';
import type { ReconcileResult } from './reconcile/reconcile';
import { resolveSettings, type ControllerSettings, type ControllerSettingsInput } from './settings';

/** How to reach IoT Hub: an existing azure-iothub Registry, or a service connection string (+ CA for the sandbox). */
export type IotHubAccess =
  { readonly registry: Registry } | { readonly connectionString: string; readonly ca?: string };

/**
 * How to reach the Relay namespace(s) through ARM: `namespace` for one, or `namespaces` for several (each may
 * name its own resource group and subscription); `settings.namespaces` then gives their limits.
 */
export type ArmAccess = {
  readonly resourceGroup: string;
  readonly namespace?: string;
  readonly namespaces?: readonly ArmNamespaceRef[];
  /** Poll period of a namespace creation when ARM sends no Retry-After (the SDK's 2 s when absent). */
  readonly namespacePollIntervalMs?: number;
} & (
  | { readonly client: RelayAPI }
  | {
      /** DefaultAzureCredential in production; the sandbox's credential locally. */
      readonly credential: TokenCredential;
      readonly subscriptionId: string;
      /** ARM endpoint; https://management.azure.com when absent. */
      readonly endpoint?: string;
      /** Extra CA for the endpoint's TLS (the sandbox). */
      readonly ca?: string;
    }
);

/** Options of runController. */
export interface RunControllerOptions extends LoopOptions {
  readonly settings: ControllerSettingsInput | ControllerSettings;
  readonly iothub: IotHubAccess;
  readonly arm: ArmAccess;
  readonly logger?: Logger;
  readonly metrics?: RelayMetrics;
  readonly tracer?: Tracer;
  /** Start the loop at once (default true); false leaves it to `reconcileNow` (tests, the bench). */
  readonly start?: boolean;
  readonly nowMs?: () => number;
  readonly beforeAction?: (action: Action) => void;
  /**
   * Run as one of several replicas: reconcile only while holding the lease in the twin of device `deviceId`
   * (default `fleet-controller-lease`, created disabled when missing). Absent: always reconcile.
   */
  readonly lease?: LeaseTiming & { readonly deviceId?: string; readonly holderId?: string };
  /** Budget every IoT Hub call (twins, queries, the lease) for this hub tier and unit count; absent: unbudgeted. */
  readonly hubBudget?: HubBudgetSettings | HubBudget;
}

/** A running controller. */
export interface ControllerHandle {
  readonly controller: FleetController;
  readonly settings: ControllerSettings;
  /** Runs a full reconcile now (after the one in progress). */
  reconcileNow(): Promise<ReconcileResult>;
  /** Stops the loop and closes the clients it created. Idempotent. */
  stop(): Promise<void>;
  /** Each IoT Hub call kind's use of its budget; empty when unbudgeted. */
  hubBudgetUse(): HubBudgetUse[];
}

/**
 * Starts the fleet controller in-process with the unmodified SDKs: azure-iothub for twins, @azure/arm-relay for
 * the namespace. `main.ts` calls it with settings from the environment; the demo and tests call it directly.
 */
export function runController(options: RunControllerOptions): ControllerHandle {
  const arm = options.arm;
  const refs = arm.namespaces ?? (arm.namespace !== undefined ? [{ namespace: arm.namespace }] : []);
  // The single-namespace form is a list of one, with Azure's quotas as its limits unless the settings say more.
  const settings = resolveSettings({
    namespaces: refs.map((r) => ({ name: r.namespace })),
    ...options.settings,
  });
  const logger = options.logger ?? createLogger('fleet-controller');
  let closeHub = () => undefined as void;
  let registry: Registry;
  if ('registry' in options.iothub) {
    registry = options.iothub.registry;
  } else {
    const clients = createIotHubServiceClients(options.iothub.connectionString, {
      ...(options.iothub.ca !== undefined && { ca: options.iothub.ca }),
    });
    registry = clients.registry;
    closeHub = () => clients.close();
  }
  const budget =
    options.hubBudget instanceof HubBudget
      ? options.hubBudget
      : options.hubBudget &&
        new HubBudget(
          options.hubBudget,
          undefined,
          undefined,
          (kind, waitMs, attempt) =>
            logger.warn({ kind, waitMs, attempt }, 'IoT Hub throttled a call (429); waiting as it asks'),
          (kind, outcome) => options.metrics?.iothubCall?.(kind, outcome),
        );
  if (budget) registry = budgetedRegistry(registry, budget);
  // The budget's use once a minute, while calls are being made (a quiet minute logs nothing).
  let lastLogged = '';
  const useLog =
    budget &&
    setInterval(() => {
      const use = budget.use().filter((u) => u.callsLastMinute > 0 || u.throttled > 0);
      const line = JSON.stringify(use);
      if (use.length === 0 || line === lastLogged) return;
      lastLogged = line;
      logger.info({ tier: budget.settings.tier, units: budget.settings.units, use }, 'IoT Hub budget use');
    }, 60_000);
  useLog?.unref();
  const clientOf = (subscriptionId: string | undefined): RelayAPI =>
    'client' in arm
      ? arm.client
      : new RelayAPI(arm.credential, subscriptionId ?? arm.subscriptionId, {
          ...(arm.endpoint !== undefined && { endpoint: arm.endpoint, $host: arm.endpoint }),
          ...(arm.ca !== undefined && { tlsOptions: { ca: arm.ca } }),
        });
  const namespaces = armRelayNamespaces(
    settings,
    refs,
    {
      resourceGroup: arm.resourceGroup,
      ...('subscriptionId' in arm && { subscriptionId: arm.subscriptionId }),
    },
    clientOf,
  );
  // Created namespaces live in the controller's subscription, in the growth resource group (default its own).
  const grow = settings.namespaceGrowth;
  const growth =
    grow &&
    new NamespaceGrowth({
      provisioner: new ArmNamespaceProvisioner(clientOf(undefined), {
        resourceGroup: grow.resourceGroup ?? arm.resourceGroup,
        region: grow.region,
        controllerId: settings.controllerId,
        ...(arm.namespacePollIntervalMs !== undefined && { pollIntervalMs: arm.namespacePollIntervalMs }),
      }),
      settings,
      namespaces,
      logger,
    });
  const lease =
    options.lease &&
    new LeaderLease({
      ...options.lease,
      store: new IotHubLeaseStore(registry, options.lease.deviceId ?? DEFAULT_LEASE_DEVICE_ID),
      holderId: options.lease.holderId ?? `${hostname()}/${process.pid}/${randomBytes(3).toString('hex')}`,
      logger,
    });
  const { lease: _leaseOptions, ...loopOptions } = options;
  const controller = new FleetController({
    ...loopOptions,
    ...(lease && { lease }),
    twins: new IotHubFleetTwins(registry),
    relay: [...namespaces.values()][0]!,
    namespaces,
    ...(growth && { growth }),
    settings,
    logger,
  });
  if (options.start !== false) controller.start();
  let stopping: Promise<void> | undefined;
  return {
    controller,
    settings,
    reconcileNow: () => controller.reconcileNow(),
    hubBudgetUse: () => budget?.use() ?? [],
    stop: () =>
      (stopping ??= controller.stop().finally(() => {
        if (useLog) clearInterval(useLog);
        // The summary of a run (a `--once` run's only one): every class that was used, since the start.
        const used = budget?.use().filter((u) => u.calls > 0);
        if (used?.length)
          logger.info(
            { tier: budget!.settings.tier, units: budget!.settings.units, use: used },
            'IoT Hub budget use',
          );
        closeHub();
      })),
  };
}
