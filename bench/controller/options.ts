// The controller bench's command line (bench/controller-reconcile.ts documents the flags).
import { parseArgs } from 'node:util';
import type { HubBudgetSettings } from '../../cloud/src/azure/hub-budget';
import { parseHubBudgetFlags } from '../../cloud/src/azure/hub-throttles';

/** What one controller bench run measures. */
export interface Options {
  locations: number;
  services: number;
  perPool: number;
  gatewayModules: number;
  concurrency: number;
  skipSandbox: boolean;
  json: boolean;
  hubBudget?: HubBudgetSettings;
  /** Relay namespaces the sandbox serves and the controller places locations in. */
  namespaces: number;
}

/** Reads the bench's flags (defaults: 1,000 locations × 2 services, pools of 40, one gateway module). */
export function parse(): Options {
  const { values } = parseArgs({
    options: {
      locations: { type: 'string', default: '1000' },
      services: { type: 'string', default: '2' },
      'per-pool': { type: 'string', default: '40' },
      'gateway-modules': { type: 'string', default: '1' },
      concurrency: { type: 'string', default: '8' },
      'skip-sandbox': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      'iothub-tier': { type: 'string' },
      'iothub-units': { type: 'string' },
      namespaces: { type: 'string' },
    },
  });
  const problems: string[] = [];
  const hubBudget = parseHubBudgetFlags(values['iothub-tier'], values['iothub-units'], problems);
  if (problems.length > 0) throw new Error(problems.join('; '));
  const locations = Number(values.locations);
  const services = Number(values.services);
  return {
    ...(hubBudget && { hubBudget }),
    // Default: as many namespaces as Azure's 5,000 connections need at the controller's default budget (2
    // listeners + 1 per service), so no location is refused NAMESPACE_CAPACITY.
    namespaces:
      values.namespaces !== undefined
        ? Number(values.namespaces)
        : Math.max(1, Math.ceil((locations * (2 + services)) / 5000)),
    locations,
    services,
    perPool: Number(values['per-pool']),
    gatewayModules: Number(values['gateway-modules']),
    concurrency: Number(values.concurrency),
    skipSandbox: values['skip-sandbox'] === true,
    json: values.json === true,
  };
}
