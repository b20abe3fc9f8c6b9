import { normalizeGatewayConfig } from '../../../../../modules/relay-gateway/src/config/normalize';
import { normalizeForwarderConfig } from '../../../../../modules/relay-forwarder/src/config/normalize';

const SEND =
  'Endpoint=sb://contoso.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=c2VjcmV0;EntityPath=site-a';
const LISTEN = SEND.replace('=send;', '=listen;');
const udp = (more: Record<string, unknown> = {}): Record<string, unknown> => ({
  port: 5353,
  hybridConnection: 'site-a',
  service: 'dns',
  allow: ['10.0.0.0/8'],
  ...more,
});
const gateway = (udpRoutes: Record<string, unknown>, routes: Record<string, unknown> = {}) =>
  normalizeGatewayConfig({
    schemaVersion: 1,
    hybridConnections: { 'site-a': { connectionString: SEND } },
    routes,
    udpRoutes,
  });

describe('gateway udpRoutes', () => {
  it('applies the schema defaults and leaves documents without udpRoutes unchanged', () => {
    const result = gateway({ dns: udp() });
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    expect(result.config.udpRoutes?.get('dns')).toMatchObject({
      id: 'dns',
      port: 5353,
      bindAddress: '0.0.0.0',
      maxFlows: 1000,
      flowIdleTimeoutMs: 60_000,
      maxDatagramBytes: 65_507,
      connectTimeoutMs: 15_000,
      enabled: true,
    });
    const none = normalizeGatewayConfig({ schemaVersion: 1 });
    expect(none.ok && 'udpRoutes' in none.config).toBe(false);
  });

  it('lets a UDP route share a TCP route port, but not another UDP route port', () => {
    const tcp = {
      dnsTcp: { port: 5353, hybridConnection: 'site-a', service: 'dns-tcp', allow: ['10.0.0.0/8'] },
    };
    expect(gateway({ dns: udp() }, tcp).ok).toBe(true);
    const result = gateway({ a: udp(), b: udp({ bindAddress: '127.0.0.1' }) });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.problems).toEqual([
      {
        path: '/udpRoutes/b/port',
        message: expect.stringMatching(/UDP routes "a" \(0.0.0.0:5353\) and "b"/),
      },
    ]);
  });

  it('names every bad field with its pointer', () => {
    const result = gateway({
      x: udp({
        hybridConnection: 'nope',
        allow: ['10.0.0.1/8'],
        bindAddress: 'localhost',
        maxDatagramBytes: 70_000,
      }),
    });
    expect(!result.ok && result.problems.map((p) => p.path)).toEqual([
      '/udpRoutes/x/allow/0',
      '/udpRoutes/x/bindAddress',
      '/udpRoutes/x/hybridConnection',
      '/udpRoutes/x/maxDatagramBytes',
    ]);
  });
});

describe('forwarder udp services', () => {
  const forwarder = (services: Record<string, unknown>) =>
    normalizeForwarderConfig({
      schemaVersion: 1,
      hybridConnections: { a: { connectionString: LISTEN, services } },
    });

  it('carries datagram settings only for udp services', () => {
    const result = forwarder({
      dns: { target: 'ns1.local:53', protocol: 'udp' },
      web: { target: '10.0.0.1:80' },
    });
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    const services = result.value.hybridConnections.get('a')!.services;
    expect(services.get('dns')!.udp).toEqual({ maxDatagramBytes: 65_507, flowIdleTimeoutMs: 240_000 });
    expect('udp' in services.get('web')!).toBe(false);
  });

  it('refuses a Unix socket target and a PROXY header on a udp service', () => {
    const result = forwarder({
      sock: { target: 'unix:/run/app.sock', protocol: 'udp' },
      proxied: { target: '10.0.0.1:53', protocol: 'udp', proxyProtocol: 'v2' },
    });
    expect(!result.ok && result.problems).toEqual([
      {
        path: '/hybridConnections/a/services/proxied/proxyProtocol',
        message: 'the PROXY protocol header is for tcp services only',
      },
      {
        path: '/hybridConnections/a/services/sock/target',
        message: 'a udp service needs host:port, not a Unix socket',
      },
    ]);
  });
});
