import type { ControllerSettings, PoolSettings } from '../settings';

/**
 * The relay-gateway module ids of one pool, in shard order: `relay-gateway`, `relay-gateway-2`, … up to the
 * pool's `gatewayModules` (the deployment generator names the instances the same way from `GATEWAY_MODULES`).
 */
export function gatewayModuleIds(settings: ControllerSettings, pool: PoolSettings): string[] {
  const ids = [settings.gatewayModuleId];
  for (let i = 2; i <= (pool.gatewayModules ?? 1); i++) ids.push(`${settings.gatewayModuleId}-${i}`);
  return ids;
}

/** Every relay-gateway module id any pool uses: what the controller reads from IoT Hub. */
export function allGatewayModuleIds(settings: ControllerSettings): string[] {
  let most = 1;
  for (const pool of settings.pools.values()) most = Math.max(most, pool.gatewayModules ?? 1);
  return gatewayModuleIds(settings, { name: '', firstPort: 1, lastPort: 1, allow: [], gatewayModules: most });
}

/** The module ids the controller reads: the forwarder and every gateway instance. */
export function relayModuleIds(settings: ControllerSettings): string[] {
  return [settings.forwarderModuleId, ...allGatewayModuleIds(settings)];
}

/** True for `relay-gateway` and its numbered instances `relay-gateway-2`, `relay-gateway-3`, … */
export function isGatewayModuleId(settings: ControllerSettings, moduleId: string): boolean {
  if (moduleId === settings.gatewayModuleId) return true;
  const prefix = `${settings.gatewayModuleId}-`;
  return moduleId.startsWith(prefix) && /^[1-9][0-9]*$/.test(moduleId.slice(prefix.length));
}
