import { createSasToken } from '../../../../modules/common/src/hc/sas';
import { tokenHealth } from '../../../../cloud/src/model/token-health';

const NOW_MS = Date.UTC(2026, 0, 1);
const HOUR_MS = 3_600_000;

function token(hc: string, lifetimeMs: number): string {
  return createSasToken({
    resource: `http://ns.example.com/${hc}`,
    keyName: 'listen',
    key: 'a2V5',
    lifetimeMs,
    nowMs: NOW_MS,
  });
}

describe('tokenHealth', () => {
  it('finds the earliest expiry per hybrid connection and the tokens within the margin', () => {
    const health = tokenHealth(
      [
        {
          deviceId: 'berlin',
          moduleId: 'relay-forwarder',
          etag: 'e',
          desired: { hybridConnections: { 'hrf-berlin': { sasToken: token('hrf-berlin', 40 * HOUR_MS) } } },
        },
        {
          deviceId: 'gw-1',
          moduleId: 'relay-gateway',
          etag: 'e',
          desired: {
            hybridConnections: {
              'hrf-berlin': { sasToken: token('hrf-berlin', 10 * HOUR_MS) },
              'hrf-oslo': { sasToken: token('hrf-oslo', 47 * HOUR_MS) },
              manual: { connectionString: 'Endpoint=…' },
            },
          },
        },
        { deviceId: 'x', moduleId: 'relay-gateway', etag: 'e', desired: { hybridConnections: 'junk' } },
      ],
      36 * HOUR_MS,
      NOW_MS,
    );
    expect(health.earliestExpiresAtMs).toBe(NOW_MS + 10 * HOUR_MS);
    expect(Object.fromEntries(health.byHybridConnection)).toEqual({
      'hrf-berlin': NOW_MS + 10 * HOUR_MS,
      'hrf-oslo': NOW_MS + 47 * HOUR_MS,
    });
    expect(health.withinMargin).toEqual([
      {
        deviceId: 'gw-1',
        moduleId: 'relay-gateway',
        hybridConnection: 'hrf-berlin',
        expiresAtMs: NOW_MS + 10 * HOUR_MS,
      },
    ]);
  });
});
