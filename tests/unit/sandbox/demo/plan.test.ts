import { normalizeForwarderConfig } from '../../../../modules/relay-forwarder/src/config/normalize';
import { normalizeGatewayConfig } from '../../../../modules/relay-gateway/src/config/normalize';
import {
  DEMO_LOCATIONS,
  forwarderDocument,
  gatewayDocument,
  routeId,
  type LocationCredentials,
} from '../../../../sandbox/src/demo/plan';

const credentials: Record<string, LocationCredentials> = {
  'site-a': {
    listenConnectionString:
      'Endpoint=sb://127.0.0.1:4443/;SharedAccessKeyName=forwarder;SharedAccessKey=bGlzdGVu;EntityPath=site-a',
    sendConnectionString:
      'Endpoint=sb://127.0.0.1:4443/;SharedAccessKeyName=gateway;SharedAccessKey=c2VuZA==;EntityPath=site-a',
  },
};
const targets = { 'site-a': { web: 8080, echo: 7007 } };

describe('demo plan', () => {
  it('builds a forwarder document the real normalizer accepts, one service per sample target', () => {
    const document = forwarderDocument(DEMO_LOCATIONS, credentials, targets);
    const normalized = normalizeForwarderConfig(document, { nowMs: Date.now() });
    expect(normalized.ok).toBe(true);
    expect(document).toMatchObject({
      hybridConnections: {
        'site-a': {
          connectionString: credentials['site-a']!.listenConnectionString,
          listeners: 2,
          services: { web: { target: '127.0.0.1:8080' }, echo: { target: '127.0.0.1:7007' } },
        },
      },
    });
  });

  it('builds a gateway document the real normalizer accepts: one loopback route per service on port 0', () => {
    const document = gatewayDocument(DEMO_LOCATIONS, credentials);
    expect(normalizeGatewayConfig(document).ok).toBe(true);
    expect(document).toMatchObject({
      hybridConnections: { 'site-a': { connectionString: credentials['site-a']!.sendConnectionString } },
      routes: {
        [routeId('site-a', 'web')]: {
          port: 0,
          bindAddress: '127.0.0.1',
          service: 'web',
          allow: ['127.0.0.0/8'],
        },
        [routeId('site-a', 'echo')]: { port: 0, hybridConnection: 'site-a', service: 'echo' },
      },
    });
  });

  it('names what is missing instead of writing a broken document', () => {
    expect(() => forwarderDocument(DEMO_LOCATIONS, credentials, { 'site-a': { web: 1 } })).toThrow(
      'no target port for site-a/echo',
    );
    expect(() => gatewayDocument(DEMO_LOCATIONS, {})).toThrow('no credentials for location site-a');
  });
});
