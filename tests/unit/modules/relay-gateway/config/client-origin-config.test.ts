import { diffGatewayConfig } from '../../../../../modules/relay-gateway/src/config/diff';
import { normalizeGatewayConfig } from '../../../../../modules/relay-gateway/src/config/normalize';
import { normalizeForwarderConfig } from '../../../../../modules/relay-forwarder/src/config/normalize';
import type { GatewayConfig } from '../../../../../modules/relay-gateway/src/config/types';

const KEY = Buffer.alloc(32, 7).toString('base64');
const cs = (right: string): string =>
  `Endpoint=sb://ns.example/;SharedAccessKeyName=${right};SharedAccessKey=${KEY};EntityPath=site-a`;

const gatewayDoc = (route: Record<string, unknown>) => ({
  schemaVersion: 1,
  hybridConnections: { a: { connectionString: cs('send') } },
  routes: { r: { port: 0, hybridConnection: 'a', service: 's', allow: ['0.0.0.0/0'], ...route } },
});

const forwarderDoc = (service: Record<string, unknown>) => ({
  schemaVersion: 1,
  hybridConnections: { a: { connectionString: cs('listen'), services: { s: { target: '127.0.0.1:1', ...service } } } },
});

function gateway(route: Record<string, unknown>): GatewayConfig {
  const result = normalizeGatewayConfig(gatewayDoc(route));
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.config;
}

describe('client origin configuration (PROXY protocol)', () => {
  it('a route may accept the PROXY protocol from trusted ranges, with a default header timeout', () => {
    const route = gateway({ acceptProxyProtocol: { trustedSources: ['10.0.0.0/8', 'fd00::/8'] } }).routes.get('r')!;
    expect(route.acceptProxyProtocol).toMatchObject({ trustedSources: ['10.0.0.0/8', 'fd00::/8'], headerTimeoutMs: 5000 });
    expect(route.acceptProxyProtocol!.trustedList.allows('10.1.2.3')).toBe(true);
    expect(route.acceptProxyProtocol!.trustedList.allows('192.0.2.1')).toBe(false);
  });

  it('refuses a bad trusted range, an empty list and unknown fields, each by pointer', () => {
    const bad = normalizeGatewayConfig(gatewayDoc({ acceptProxyProtocol: { trustedSources: ['10.0.0.0/33'] } }));
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.problems.map((p) => p.path)).toContain('/routes/r/acceptProxyProtocol/trustedSources/0');
    const empty = normalizeGatewayConfig(gatewayDoc({ acceptProxyProtocol: { trustedSources: [] } }));
    expect(!empty.ok && empty.problems[0]!.path).toBe('/routes/r/acceptProxyProtocol/trustedSources');
    const extra = normalizeGatewayConfig(gatewayDoc({ acceptProxyProtocol: { trustedSources: ['::/0'], v: 2 } }));
    expect(extra.ok).toBe(false);
  });

  it('a change of the trusted ranges is a route change that keeps the port', () => {
    const before = gateway({ acceptProxyProtocol: { trustedSources: ['10.0.0.0/8'] } });
    const after = gateway({ acceptProxyProtocol: { trustedSources: ['10.0.0.0/16'] } });
    expect(diffGatewayConfig(before, after).routesChanged).toEqual([
      { id: 'r', fields: ['acceptProxyProtocol'], rebind: false },
    ]);
  });

  it('a forwarder service may emit PROXY v1 or v2; anything else is refused by pointer', () => {
    const ok = normalizeForwarderConfig(forwarderDoc({ proxyProtocol: 'v2' }));
    expect(ok.ok && ok.value.hybridConnections.get('a')!.services.get('s')!.proxyProtocol).toBe('v2');
    const bad = normalizeForwarderConfig(forwarderDoc({ proxyProtocol: 'v3' }));
    expect(!bad.ok && bad.problems.map((p) => p.path)).toContain('/hybridConnections/a/services/s/proxyProtocol');
  });
});
