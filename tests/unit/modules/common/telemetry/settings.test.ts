import { TelemetryError } from '../../../../../modules/common/src/telemetry/errors';
import { telemetrySettingsFromEnv } from '../../../../../modules/common/src/telemetry/settings';

describe('telemetrySettingsFromEnv', () => {
  it('defaults: no Azure Monitor, live metrics and HTTP tracing off, no metrics endpoint, loopback', () => {
    expect(telemetrySettingsFromEnv({})).toEqual({
      connectionString: undefined,
      liveMetrics: false,
      httpInstrumentation: false,
      metricsPort: undefined,
      metricsBindAddress: '127.0.0.1',
      serviceName: undefined,
    });
  });

  it('reads every variable', () => {
    expect(
      telemetrySettingsFromEnv({
        APPLICATIONINSIGHTS_CONNECTION_STRING: ' InstrumentationKey=x ',
        AZURE_MONITOR_LIVE_METRICS: 'TRUE',
        AZURE_MONITOR_HTTP_INSTRUMENTATION: '1',
        METRICS_PORT: '9464',
        METRICS_BIND_ADDRESS: '0.0.0.0',
        OTEL_SERVICE_NAME: 'gw-east',
      }),
    ).toEqual({
      connectionString: 'InstrumentationKey=x',
      liveMetrics: true,
      httpInstrumentation: true,
      metricsPort: 9464,
      metricsBindAddress: '0.0.0.0',
      serviceName: 'gw-east',
    });
  });

  it('treats empty values as unset and accepts port 0 (any free port)', () => {
    const s = telemetrySettingsFromEnv({
      APPLICATIONINSIGHTS_CONNECTION_STRING: '  ',
      METRICS_PORT: '0',
      AZURE_MONITOR_LIVE_METRICS: '',
    });
    expect(s.connectionString).toBeUndefined();
    expect(s.metricsPort).toBe(0);
    expect(s.liveMetrics).toBe(false);
  });

  it.each([
    [{ METRICS_PORT: '70000' }, 'METRICS_PORT'],
    [{ METRICS_PORT: 'abc' }, 'METRICS_PORT'],
    [{ METRICS_PORT: '-1' }, 'METRICS_PORT'],
    [{ AZURE_MONITOR_LIVE_METRICS: 'yes' }, 'AZURE_MONITOR_LIVE_METRICS'],
  ])('refuses %j naming %s', (env, name) => {
    let caught: unknown;
    try {
      telemetrySettingsFromEnv(env);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(TelemetryError);
    expect(caught).toMatchObject({ code: 'TELEMETRY_BAD_SETTING', retryable: false });
    expect((caught as Error).message).toContain(name);
  });
});
