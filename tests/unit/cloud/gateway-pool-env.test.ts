/**
 * One source for the gateway pool's public range (issue 16): GATEWAY_PORT_RANGE_* in the controller's environment
 * is the pool when --pools is absent, and a --pools range that differs is refused with both values.
 */
import { parseControllerOptions } from '../../../cloud/src/cli-options';

const BASE = {
  IOTHUB_CONNECTION_STRING:
    'HostName=hub.azure-devices.net;SharedAccessKeyName=fleet-controller;SharedAccessKey=a2V5',
  AZURE_SUBSCRIPTION_ID: '00000000-0000-0000-0000-000000000001',
  RELAY_RESOURCE_GROUP: 'rg',
  RELAY_NAMESPACE: 'contoso-relay',
};
const RANGE = {
  GATEWAY_PORT_RANGE_START: '40000',
  GATEWAY_PORT_RANGE_END: '40099',
  GATEWAY_ALLOWED_SOURCES: '0.0.0.0/0, 10.0.0.0/8',
};

describe('the gateway pool from GATEWAY_PORT_RANGE_*', () => {
  it('is the pool when --pools is absent', () => {
    const r = parseControllerOptions([], { ...BASE, ...RANGE, GATEWAY_PUBLIC_HOST: 'gw.example.net' });
    expect(r.ok && r.options.pools).toEqual([
      {
        name: 'default',
        firstPort: 40000,
        lastPort: 40099,
        allow: ['0.0.0.0/0', '10.0.0.0/8'],
        publicHost: 'gw.example.net',
      },
    ]);
  });

  it('takes GATEWAY_POOL_NAME', () => {
    const r = parseControllerOptions([], { ...BASE, ...RANGE, GATEWAY_POOL_NAME: 'west' });
    expect(r.ok && r.options.pools.map((p) => p.name)).toEqual(['west']);
  });

  it('accepts --pools that agrees with it', () => {
    const pools = '[{"name":"default","ports":"40000-40099","allow":["0.0.0.0/0"],"publicHost":"gw"}]';
    const r = parseControllerOptions(['--pools', pools], { ...BASE, ...RANGE });
    expect(r.ok && r.options.pools.map((p) => [p.firstPort, p.lastPort, p.publicHost])).toEqual([
      [40000, 40099, 'gw'],
    ]);
  });

  it('refuses --pools whose range for the same pool differs, naming both values', () => {
    const pools = '[{"name":"default","ports":"40000-40999","allow":["0.0.0.0/0"]}]';
    const r = parseControllerOptions([], { ...BASE, ...RANGE, CONTROLLER_POOLS: pools });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.problems.join('\n')).toMatch(
      /pool "default": --pools \(CONTROLLER_POOLS\) says ports 40000-40999 but GATEWAY_PORT_RANGE_START\/END say 40000-40099/,
    );
  });

  it('leaves --pools alone when it does not name that pool', () => {
    const pools = '[{"name":"edge","ports":"1000-1001","allow":["10.0.0.0/8"]}]';
    const r = parseControllerOptions(['--pools', pools], { ...BASE, ...RANGE });
    expect(r.ok && r.options.pools.map((p) => p.name)).toEqual(['edge']);
  });

  it.each([
    [
      { GATEWAY_PORT_RANGE_END: '40099', GATEWAY_ALLOWED_SOURCES: '0.0.0.0/0' },
      /GATEWAY_PORT_RANGE_START must be a port 1-65535 \(got nothing\)/,
    ],
    [
      { ...RANGE, GATEWAY_PORT_RANGE_END: '70000' },
      /GATEWAY_PORT_RANGE_END must be a port 1-65535 \(got "70000"\)/,
    ],
    [{ ...RANGE, GATEWAY_ALLOWED_SOURCES: ' ' }, /GATEWAY_ALLOWED_SOURCES must list the CIDR blocks/],
  ])('refuses a bad range or allow-list %#', (env, message) => {
    const r = parseControllerOptions([], { ...BASE, ...env });
    expect(!r.ok && r.problems.join('\n')).toMatch(message);
  });

  it("takes GATEWAY_MODULES as the pool's relay-gateway instances, and --pools for that pool inherits it", () => {
    const alone = parseControllerOptions([], { ...BASE, ...RANGE, GATEWAY_MODULES: '22' });
    expect(alone.ok && alone.options.pools[0]!.gatewayModules).toBe(22);
    const pools = '[{"name":"default","ports":"40000-40099","allow":["0.0.0.0/0"]}]';
    const listed = parseControllerOptions(['--pools', pools], { ...BASE, ...RANGE, GATEWAY_MODULES: '3' });
    expect(listed.ok && listed.options.pools[0]!.gatewayModules).toBe(3);
  });

  it('refuses a GATEWAY_MODULES that is not a count, and a --pools count that differs from it', () => {
    const bad = parseControllerOptions([], { ...BASE, ...RANGE, GATEWAY_MODULES: 'three' });
    expect(!bad.ok && bad.problems.join('\n')).toMatch(/GATEWAY_MODULES must be the number/);
    const pools = '[{"name":"default","ports":"40000-40099","allow":["0.0.0.0/0"],"gatewayModules":2}]';
    const differs = parseControllerOptions(['--pools', pools], { ...BASE, ...RANGE, GATEWAY_MODULES: '3' });
    expect(!differs.ok && differs.problems.join('\n')).toMatch(
      /says gatewayModules 2 but GATEWAY_MODULES .* says 3/,
    );
  });
});
