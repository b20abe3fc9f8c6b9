// What the demo runs, as data, and the two module configuration documents built from it (pure functions).
import type { SampleServiceKind } from './services';

/** One service a location exposes. */
export interface DemoServicePlan {
  /** The port name in the azbridge preamble, and the forwarder's service key. */
  readonly name: string;
  readonly kind: SampleServiceKind;
}

/** One on-prem location: one hybrid connection carrying every service of the location. */
export interface DemoLocationPlan {
  readonly name: string;
  readonly services: readonly DemoServicePlan[];
}

/** The demo's locations. A list, so the fleet demo of later issues can grow it. */
export const DEMO_LOCATIONS: readonly DemoLocationPlan[] = [
  {
    name: 'site-a',
    services: [
      { name: 'web', kind: 'http' },
      { name: 'echo', kind: 'echo' },
    ],
  },
];

/** Least-privilege connection strings of one location's hybrid connection. */
export interface LocationCredentials {
  /** Listen-only, for the forwarder. */
  readonly listenConnectionString: string;
  /** Send-only, for the gateway. */
  readonly sendConnectionString: string;
}

/** How long removed routes and tunnels may drain in the demo: short, so Ctrl-C is quick. */
export const DEMO_DRAIN_TIMEOUT_MS = 2_000;

/** Control channels the forwarder holds per location (two, so one dropping loses nothing). */
export const DEMO_LISTENERS_PER_LOCATION = 2;

/** The gateway route id of a location's service. */
export function routeId(location: string, service: string): string {
  return `${location}-${service}`;
}

/** The relay-forwarder document: each location's hybrid connection, its services mapped to their local ports. */
export function forwarderDocument(
  locations: readonly DemoLocationPlan[],
  credentials: Readonly<Record<string, LocationCredentials>>,
  targetPorts: Readonly<Record<string, Readonly<Record<string, number>>>>,
): Record<string, unknown> {
  const hybridConnections: Record<string, unknown> = {};
  for (const location of locations) {
    const services: Record<string, unknown> = {};
    for (const service of location.services)
      services[service.name] = { target: `127.0.0.1:${port(targetPorts, location.name, service.name)}` };
    hybridConnections[location.name] = {
      connectionString: credentialsOf(credentials, location.name).listenConnectionString,
      listeners: DEMO_LISTENERS_PER_LOCATION,
      services,
    };
  }
  return { schemaVersion: 1, logLevel: 'info', drainTimeoutMs: DEMO_DRAIN_TIMEOUT_MS, hybridConnections };
}

/** The relay-gateway document: one loopback route per service, on a port the OS picks (reported in the log). */
export function gatewayDocument(
  locations: readonly DemoLocationPlan[],
  credentials: Readonly<Record<string, LocationCredentials>>,
): Record<string, unknown> {
  const hybridConnections: Record<string, unknown> = {};
  const routes: Record<string, unknown> = {};
  for (const location of locations) {
    hybridConnections[location.name] = {
      connectionString: credentialsOf(credentials, location.name).sendConnectionString,
    };
    for (const service of location.services) {
      routes[routeId(location.name, service.name)] = {
        port: 0,
        bindAddress: '127.0.0.1',
        hybridConnection: location.name,
        service: service.name,
        allow: ['127.0.0.0/8'],
      };
    }
  }
  return {
    schemaVersion: 1,
    logLevel: 'info',
    drainTimeoutMs: DEMO_DRAIN_TIMEOUT_MS,
    hybridConnections,
    routes,
  };
}

function credentialsOf(
  credentials: Readonly<Record<string, LocationCredentials>>,
  location: string,
): LocationCredentials {
  const found = credentials[location];
  if (!found) throw new Error(`no credentials for location ${location}`);
  return found;
}

function port(
  targetPorts: Readonly<Record<string, Readonly<Record<string, number>>>>,
  location: string,
  service: string,
): number {
  const found = targetPorts[location]?.[service];
  if (found === undefined) throw new Error(`no target port for ${location}/${service}`);
  return found;
}
