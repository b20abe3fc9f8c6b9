import { buildDocument } from '../../../../cloud/src/status/document';
import { buildSnapshot } from '../../../../cloud/src/status/snapshot';
import type { HistoryBucket } from '../../../../cloud/src/status/view-types';
import type { JsonObject } from '../../../../cloud/src/model/json';
import { FIXTURE_NOW_MS, fixtureReading } from '../../../support/status-fixtures';

const OPTIONS = { forwarderModuleId: 'relay-forwarder', gatewayModuleId: 'relay-gateway' };
const figures = (bytes: number, errors = 0) => ({
  bytes,
  errors,
  connections: bytes > 0 ? 1 : 0,
  peakActive: 0,
});

describe('buildDocument', () => {
  it('sums the hour per location and charts the busiest locations by bytes', () => {
    const buckets: HistoryBucket[] = [
      {
        startMs: 0,
        fleet: figures(111, 1),
        locations: { a: figures(100), b: figures(10, 1), c: figures(1) },
      },
      { startMs: 60_000, fleet: figures(210), locations: { a: figures(50), d: figures(160) } },
    ];
    const doc = buildDocument({
      nowMs: 61_000,
      pollIntervalMs: 30_000,
      bucketMs: 60_000,
      source: { ok: true, lastSuccessAtMs: 61_000 },
      snapshot: null,
      buckets,
      chartedLocations: 2,
    });
    expect(doc.history.chartedLocations).toEqual(['d', 'a']);
    expect(doc.history.hourByLocation.a).toEqual({ bytes: 150, errors: 0, connections: 2, peakActive: 0 });
    expect(doc.history.hour).toEqual({ bytes: 321, errors: 1, connections: 2, peakActive: 0 });
  });

  it('carries no secret, whatever the modules or tags say', () => {
    const key = 'c2VjcmV0LWtleS1tYXRlcmlhbC0xMjM0NTY3ODkwYWJjZA==';
    const sas = `SharedAccessSignature sr=sb%3A%2F%2Fns%2Fhc&sig=AbCdEf0123456789%2B%2F%3D&se=1900000000&skn=listen`;
    const reading = fixtureReading();
    const depotTags = reading.devices.find((d) => d.deviceId === 'depot')!.tags;
    ((depotTags.relayStatus as JsonObject).problems as JsonObject).LEAK = `bad: ${sas}`;
    const gateway = reading.modules.find((m) => m.moduleId === 'relay-gateway')!;
    const routes = gateway.reported.routes as JsonObject;
    routes.manual = {
      ...(routes.manual as JsonObject),
      reason: { code: 'X', message: `Endpoint=sb://ns/;SharedAccessKeyName=send;SharedAccessKey=${key}` },
    };
    // Fields a buggy module might report are not copied at all.
    gateway.reported.sasToken = sas;
    const depot = reading.modules.find((m) => m.deviceId === 'depot')!;
    const config = depot.reported.config as JsonObject;
    ((config.refused as JsonObject).problems as JsonObject[]).push({ path: '/x', message: `token ${sas}` });

    const { snapshot } = buildSnapshot(reading, OPTIONS, FIXTURE_NOW_MS);
    const json = JSON.stringify(
      buildDocument({
        nowMs: FIXTURE_NOW_MS,
        pollIntervalMs: 1000,
        bucketMs: 60_000,
        source: { ok: false, error: { code: 'E', message: `failed with sig=${key}` } },
        snapshot,
        buckets: [],
      }),
    );
    expect(json).not.toContain(key);
    expect(json).not.toContain('AbCdEf0123456789');
    expect(json).not.toMatch(/sig=(?!\[redacted\])/);
    expect(json).toContain('SharedAccessKey=[redacted]');
    // What is not secret survives scrubbing.
    expect(json).toContain('"plant-7"');
    expect(json).toContain('relay.contoso.com');
  });
});
