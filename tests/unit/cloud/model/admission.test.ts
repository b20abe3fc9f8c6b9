import { locationGatewayBytes } from '../../../../cloud/src/model/admission';
import {
  documentBytes,
  gatewayHybridConnectionEntry,
  gatewayRoute,
  renderGatewayDocument,
} from '../../../../cloud/src/model/documents';
import type { JsonObject } from '../../../../cloud/src/model/json';
import { mintToken } from '../../../../cloud/src/model/tokens';
import { NOW_MS, NS, testSettings } from '../../../support/controller-fixtures';

const settings = testSettings();
const pool = settings.pools.get('default')!;

describe('gateway twin admission', () => {
  it('estimates at least what a location really adds to a gateway document', () => {
    const entries = new Map<string, JsonObject>();
    const routes = new Map<string, JsonObject>();
    let estimate = 0;
    for (let i = 0; i < 40; i++) {
      const hc = `hrf-location-${i}`;
      const services = [
        { name: 'sql', target: '10.0.0.5:1433' },
        { name: 'panel', target: '10.0.0.6:80' },
      ];
      // Keys with many '+' and '/' make signatures with many percent-escapes.
      const key = `${'+/'.repeat(i)}key-${i}`;
      entries.set(
        hc,
        gatewayHybridConnectionEntry(
          NS,
          hc,
          mintToken(
            { namespaceHost: NS, hybridConnection: hc, rule: 'send' },
            key,
            { lifetimeMs: 3_600_000, renewMarginMs: 1_800_000 },
            NOW_MS,
          ),
        ),
      );
      services.forEach((s, j) =>
        routes.set(`location-${i}_${s.name}`, gatewayRoute(pool, hc, s, 20000 + i * 2 + j)),
      );
      estimate += locationGatewayBytes(
        pool,
        NS,
        hc,
        services.map((s) => ({ name: `location-${i}_${s.name}`, service: s })),
      );
    }
    const base = documentBytes(renderGatewayDocument(settings, {}, new Map(), new Map()));
    const real = documentBytes(renderGatewayDocument(settings, {}, entries, routes));
    expect(real).toBeLessThanOrEqual(base + estimate);
    // …and not wildly more (the estimate only assumes the worst signature and port).
    expect(base + estimate - real).toBeLessThan(40 * 120);
  });
});
