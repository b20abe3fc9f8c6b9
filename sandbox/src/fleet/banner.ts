// The fleet's banner: what runs where (pure).
import type { DeploymentResult } from '../../../provisioning/src';
import { showPath } from './print';

/** The parts of a running fleet the banner shows. */
export interface FleetBannerInfo {
  readonly relayNamespace: string;
  readonly armEndpoint: string;
  readonly hubHost: string;
  readonly dpsHost: string;
  readonly idScope: string;
  readonly caFile: string;
  readonly pool: { readonly firstPort: number; readonly lastPort: number };
  readonly deployments: readonly DeploymentResult[];
  readonly gatewayDevice: string;
  readonly gatewayPid?: number;
  readonly locations: number;
  readonly logDir: string;
  readonly adminFile: string;
  readonly statusUrl: string;
  /** `.sandbox-state/sandbox.env`, when written. */
  readonly envFile?: string;
}

/** The banner above the table. Paths are shown relative to `cwd`. */
export function formatFleetBanner(info: FleetBannerInfo, cwd = process.cwd()): string {
  const rows: Array<[string, string]> = [
    [
      'sandbox Azure Relay',
      `${info.relayNamespace}  (TLS; one CA for all four: ${showPath(info.caFile, cwd)})`,
    ],
    ['sandbox Relay ARM', info.armEndpoint],
    ['sandbox IoT Hub', info.hubHost],
    ['sandbox DPS', `${info.dpsHost}  (id scope ${info.idScope}, group enrollment relay-fleet)`],
    [
      'fleet-controller',
      `in this process, pool default = 127.0.0.1:${info.pool.firstPort}-${info.pool.lastPort}`,
    ],
    ['status view', `${info.statusUrl}  (locations, ports, listeners, traffic; updates live)`],
    ['deployments', info.deployments.map((d) => d.id).join(', ')],
    [info.gatewayDevice, `relay-gateway pid ${info.gatewayPid ?? '?'}`],
    ['locations', `${info.locations}, each an edge device with relay-forwarder and two sample services`],
    ['logs', `${showPath(info.logDir, cwd)}/`],
    ['admin', `${showPath(info.adminFile, cwd)} (loopback port and token, mode 0600)`],
    ...(info.envFile !== undefined
      ? [
          [
            'environment',
            `${showPath(info.envFile, cwd)}  (set -a; . ${showPath(info.envFile, cwd)}; set +a — then the runbook's provisioning and controller commands reach this sandbox)`,
          ] as [string, string],
        ]
      : []),
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return [
    'Sandbox fleet: client → relay-gateway → sandbox Azure Relay (TLS) → relay-forwarder → on-prem service',
    '',
    ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`),
  ].join('\n');
}
