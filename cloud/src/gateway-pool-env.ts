import type { PoolSettings, PoolSniSettings } from './settings';

/**
 * The gateway pool as the deployment describes it: `GATEWAY_PORT_RANGE_START`/`_END` (the same values the
 * infrastructure template gave the load balancer and the NSG, copied into `.env` by the runbook and passed by
 * `deployment:gen` into the controller module's environment), `GATEWAY_POOL_NAME` (default "default"),
 * `GATEWAY_ALLOWED_SOURCES` (comma-separated CIDR blocks, required with the range: no silent "everyone") and
 * `GATEWAY_PUBLIC_HOST`, `GATEWAY_MODULES` (relay-gateway instances per gateway, as the deployment generator
 * declares them; default 1) and the shared SNI port with its DNS zone (`GATEWAY_SNI_PORT`, `GATEWAY_SNI_ZONE`).
 * Absent range: undefined (the pools come from `--pools` alone).
 */
export function gatewayPoolFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  problems: string[],
): PoolSettings | undefined {
  const startText = env.GATEWAY_PORT_RANGE_START?.trim() || undefined;
  const endText = env.GATEWAY_PORT_RANGE_END?.trim() || undefined;
  if (startText === undefined && endText === undefined) return undefined;
  const port = (name: string, text: string | undefined): number => {
    if (text === undefined || !/^[0-9]{1,5}$/.test(text) || Number(text) < 1 || Number(text) > 65535)
      problems.push(`${name} must be a port 1-65535 (got ${text === undefined ? 'nothing' : `"${text}"`})`);
    return Number(text);
  };
  const firstPort = port('GATEWAY_PORT_RANGE_START', startText);
  const lastPort = port('GATEWAY_PORT_RANGE_END', endText);
  const allow = (env.GATEWAY_ALLOWED_SOURCES ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (allow.length === 0)
    problems.push('GATEWAY_ALLOWED_SOURCES must list the CIDR blocks the NSG admits (e.g. 0.0.0.0/0)');
  const publicHost = env.GATEWAY_PUBLIC_HOST?.trim() || undefined;
  const modulesText = env.GATEWAY_MODULES?.trim() || undefined;
  if (modulesText !== undefined && !/^[1-9][0-9]{0,1}$/.test(modulesText))
    problems.push(
      `GATEWAY_MODULES must be the number of relay-gateway modules per gateway (got "${modulesText}")`,
    );
  const sni = sniFromEnv(env, problems);
  return {
    name: env.GATEWAY_POOL_NAME?.trim() || 'default',
    firstPort,
    lastPort,
    allow,
    ...(publicHost !== undefined && { publicHost }),
    ...(modulesText !== undefined && { gatewayModules: Number(modulesText) }),
    ...(sni !== undefined && { sni }),
  };
}

// GATEWAY_SNI_PORT and GATEWAY_SNI_ZONE together (the shared port and DNS zone), or neither; GATEWAY_SNI_PUBLIC_PORT
// when the load balancer maps another port (443) to it.
function sniFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  problems: string[],
): PoolSniSettings | undefined {
  const portText = env.GATEWAY_SNI_PORT?.trim() || undefined;
  const publicText = env.GATEWAY_SNI_PUBLIC_PORT?.trim() || undefined;
  const zone = env.GATEWAY_SNI_ZONE?.trim() || undefined;
  if (portText === undefined && zone === undefined && publicText === undefined) return undefined;
  if (portText === undefined || zone === undefined || !/^[0-9]{1,5}$/.test(portText)) {
    problems.push('GATEWAY_SNI_PORT (a port) and GATEWAY_SNI_ZONE (a DNS zone) go together');
    return undefined;
  }
  if (publicText !== undefined && !/^[0-9]{1,5}$/.test(publicText)) {
    problems.push(`GATEWAY_SNI_PUBLIC_PORT must be a port (got "${publicText}")`);
    return undefined;
  }
  return {
    port: Number(portText),
    ...(publicText !== undefined && { publicPort: Number(publicText) }),
    zone,
  };
}

/**
 * One source for the public range: when `--pools` also names the environment's pool, its range must be the
 * environment's (what the load balancer and the NSG carry). Returns one problem naming both values, or none.
 */
export function poolRangeMismatch(pools: readonly PoolSettings[], fromEnv: PoolSettings): string[] {
  const named = pools.find((p) => p.name === fromEnv.name);
  if (!named || (named.firstPort === fromEnv.firstPort && named.lastPort === fromEnv.lastPort)) return [];
  return [
    `pool "${fromEnv.name}": --pools (CONTROLLER_POOLS) says ports ${named.firstPort}-${named.lastPort} but ` +
      `GATEWAY_PORT_RANGE_START/END say ${fromEnv.firstPort}-${fromEnv.lastPort} (the range the load balancer ` +
      'and NSG were deployed with); make them equal, or drop --pools and let the range decide',
  ];
}

/**
 * `GATEWAY_MODULES` is what the deployment declared: a `--pools` entry for the environment's pool without
 * `gatewayModules` takes it, and one that says otherwise is refused (the controller would place locations on
 * instances that do not run, or leave running ones empty).
 */
export function withEnvGatewayModules(
  pools: readonly PoolSettings[],
  fromEnv: PoolSettings,
  problems: string[],
): PoolSettings[] {
  const n = fromEnv.gatewayModules;
  if (n === undefined) return [...pools];
  return pools.map((p) => {
    if (p.name !== fromEnv.name) return p;
    if (p.gatewayModules === undefined) return { ...p, gatewayModules: n };
    if (p.gatewayModules !== n)
      problems.push(
        `pool "${p.name}": --pools (CONTROLLER_POOLS) says gatewayModules ${String(p.gatewayModules)} but ` +
          `GATEWAY_MODULES (the deployment's relay-gateway instances) says ${n}; make them equal`,
      );
    return p;
  });
}
