/** IoT Hub tiers whose operation throttles the controller and the provisioning CLI budget for. */
export type IotHubTier = 'F1' | 'B1' | 'B2' | 'B3' | 'S1' | 'S2' | 'S3';

/** The throttled operation classes the project's IoT Hub calls fall into. */
export type HubCallKind = 'query' | 'twinRead' | 'twinUpdate' | 'registry' | 'configuration';

/** Every call kind, in report order. */
export const HUB_CALL_KINDS: readonly HubCallKind[] = [
  'query',
  'twinRead',
  'twinUpdate',
  'registry',
  'configuration',
];

/** Calls per minute IoT Hub allows, per kind, for one hub. */
export type HubLimits = Readonly<Record<HubCallKind, number>>;

/**
 * The published operation throttles ("IoT Hub quotas and throttling", learn.microsoft.com/azure/iot-hub/
 * iot-hub-devguide-quotas-throttling, checked 2026-12): per minute, as the hub applies them "in minute ranges".
 *   queries                        F1/B1/S1 and B2/S2: 20/min/unit;  B3/S3: 1,000/min/unit
 *   twin reads (device and module) F1/B1/S1: 100/s;  B2/S2: higher of 100/s or 10/s/unit;  B3/S3: 500/s/unit
 *   twin updates                   F1/B1/S1: 50/s;   B2/S2: higher of 50/s or 5/s/unit;    B3/S3: 250/s/unit
 *   identity registry operations   F1/B1/S1 and B2/S2: 100/min/unit;  B3/S3: 5,000/min/unit
 *   configurations / deployments   every tier: 20/min/unit
 */
export function hubLimits(tier: IotHubTier, units: number): HubLimits {
  const u = Math.max(1, Math.floor(units));
  const big = tier === 'B3' || tier === 'S3';
  const mid = tier === 'B2' || tier === 'S2';
  const perSec = (s1: number, s2PerUnit: number, s3PerUnit: number): number =>
    60 * (big ? s3PerUnit * u : mid ? Math.max(s1, s2PerUnit * u) : s1);
  return {
    query: (big ? 1000 : 20) * u,
    twinRead: perSec(100, 10, 500),
    twinUpdate: perSec(50, 5, 250),
    registry: (big ? 5000 : 100) * u,
    configuration: 20 * u,
  };
}

/** Parses a tier name (case-insensitive); undefined when unknown. */
export function parseIotHubTier(value: string): IotHubTier | undefined {
  const t = value.trim().toUpperCase();
  return (['F1', 'B1', 'B2', 'B3', 'S1', 'S2', 'S3'] as const).find((x) => x === t);
}

/**
 * `--iothub-tier` / `--iothub-units` as the controller and the provisioning CLI read them: both absent means no
 * budget; a tier alone means one unit. Problems are appended to `problems`.
 */
export function parseHubBudgetFlags(
  tier: string | undefined,
  units: string | undefined,
  problems: string[],
): { tier: IotHubTier; units: number } | undefined {
  if (tier === undefined) {
    if (units !== undefined) problems.push('--iothub-units needs --iothub-tier (e.g. --iothub-tier S1)');
    return undefined;
  }
  const parsed = parseIotHubTier(tier);
  if (!parsed) problems.push(`--iothub-tier: "${tier}" is not one of F1, B1, B2, B3, S1, S2, S3`);
  const n = units === undefined ? 1 : Number(units);
  if (!Number.isInteger(n) || n < 1)
    problems.push(`--iothub-units: "${units}" is not a whole number of units >= 1`);
  return parsed && Number.isInteger(n) && n >= 1 ? { tier: parsed, units: n } : undefined;
}
