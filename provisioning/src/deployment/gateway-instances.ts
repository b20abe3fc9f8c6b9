import { DeploymentError } from './errors';
import { parseRoute, routeText } from './routes';

/** The module a template declares once and the generator repeats `GATEWAY_MODULES` times. */
export const GATEWAY_MODULE = 'relay-gateway';
/** The variable with the number of relay-gateway instances per gateway device (the controller reads it too). */
export const GATEWAY_MODULES_VARIABLE = 'GATEWAY_MODULES';
/** Most instances (the controller's limit, MAX_GATEWAY_MODULES). */
export const MAX_GATEWAY_INSTANCES = 64;
/**
 * Health ports of the extra instances: `relay-gateway-N` gets 8100 + N (8102 … 8164). Host networking puts every
 * instance's health endpoint on the VM, so they must differ; the first keeps 8080, the load balancer's probe.
 */
export const INSTANCE_HEALTH_PORT_BASE = 8100;
/**
 * Set on the first instance: its /readyz (the load balancer's probe) is ready only when every sibling's is too
 * (modules/common/src/health/sibling-readiness.ts), because any instance may serve any port of the pool.
 */
export const SIBLING_PORTS_ENV = 'HEALTH_SIBLING_PORTS';

/** The module id of instance `n` (1-based): `relay-gateway`, `relay-gateway-2`, … as the controller names them. */
export function gatewayInstanceName(n: number): string {
  return n === 1 ? GATEWAY_MODULE : `${GATEWAY_MODULE}-${n}`;
}

/** `GATEWAY_MODULES` as a count: 1 when absent; a DeploymentError naming the variable when it is not 1-64. */
export function gatewayInstanceCount(variables: Readonly<Record<string, string | undefined>>): number {
  const text = variables[GATEWAY_MODULES_VARIABLE]?.trim();
  if (text === undefined || text === '') return 1;
  const n = /^[0-9]{1,2}$/.test(text) ? Number(text) : NaN;
  if (!(n >= 1 && n <= MAX_GATEWAY_INSTANCES))
    throw new DeploymentError(
      'DEPLOYMENT_BAD_TEMPLATE',
      `${GATEWAY_MODULES_VARIABLE} must be the number of relay-gateway modules per gateway, 1-${MAX_GATEWAY_INSTANCES} (got "${text}")`,
      [{ path: '', message: `${GATEWAY_MODULES_VARIABLE}="${text}" is not 1-${MAX_GATEWAY_INSTANCES}` }],
    );
  return n;
}

/**
 * Repeats the template's relay-gateway module as `relay-gateway-2` … `relay-gateway-N`: the same image and
 * settings, its own `HEALTH_PORT`, its own $edgeHub routes and its own module twin defaults; the first instance
 * gets the others' health ports (`HEALTH_SIBLING_PORTS`) for the load balancer's one probe. Each instance reads
 * only its own twin, where the fleet controller writes its share of the pool's routes, and binds only those
 * ports (host networking: ports of the VM, one allocation pool-wide, so instances never collide). A template
 * without relay-gateway, or a count of 1, comes back unchanged.
 */
export function expandGatewayInstances(
  template: Record<string, unknown>,
  count: number,
): Record<string, unknown> {
  const content = record(template['modulesContent']);
  const agentTwin = record(content?.['$edgeAgent']);
  const agent = record(agentTwin?.['properties.desired']);
  const modules = record(agent?.['modules']);
  const gateway = record(modules?.[GATEWAY_MODULE]);
  if (count <= 1 || !content || !agentTwin || !agent || !modules || !gateway) return template;

  const nextModules: Record<string, unknown> = {};
  const siblingPorts = Array.from({ length: count - 1 }, (_, i) => INSTANCE_HEALTH_PORT_BASE + i + 2);
  for (const [name, entry] of Object.entries(modules)) {
    nextModules[name] = entry;
    if (name !== GATEWAY_MODULE) continue;
    nextModules[name] = {
      ...gateway,
      env: { ...(record(gateway['env']) ?? {}), [SIBLING_PORTS_ENV]: { value: siblingPorts.join(',') } },
    };
    for (let n = 2; n <= count; n++) {
      const clone = structuredClone(gateway);
      const env = record(clone['env']) ?? {};
      clone['env'] = { ...env, HEALTH_PORT: { value: String(INSTANCE_HEALTH_PORT_BASE + n) } };
      nextModules[gatewayInstanceName(n)] = clone;
    }
  }
  const nextContent: Record<string, unknown> = {
    ...content,
    $edgeAgent: { ...agentTwin, 'properties.desired': { ...agent, modules: nextModules } },
  };

  const hubTwin = record(content['$edgeHub']);
  const hub = record(hubTwin?.['properties.desired']);
  const routes = record(hub?.['routes']);
  if (hubTwin && hub && routes) {
    const nextRoutes: Record<string, unknown> = { ...routes };
    for (const [name, route] of Object.entries(routes)) {
      const text = routeText(route);
      const parsed = parseRoute(text ?? '');
      if (!text || !parsed.ok || parsed.route.sourceModule !== GATEWAY_MODULE) continue;
      for (let n = 2; n <= count; n++) {
        const instanceText = text.replace(
          `/messages/modules/${GATEWAY_MODULE}/`,
          `/messages/modules/${gatewayInstanceName(n)}/`,
        );
        nextRoutes[`${name}${n}`] =
          typeof route === 'string' ? instanceText : { ...record(route), route: instanceText };
      }
    }
    nextContent['$edgeHub'] = { ...hubTwin, 'properties.desired': { ...hub, routes: nextRoutes } };
  }

  const twin = record(content[GATEWAY_MODULE]);
  if (twin) for (let n = 2; n <= count; n++) nextContent[gatewayInstanceName(n)] = structuredClone(twin);
  return { ...template, modulesContent: nextContent };
}

function record(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}
