import {
  checkModuleEnvironment,
  parseTwinCliArgs,
  selectModuleMode,
  twinSettingsFromEnv,
  waitForStopSignal,
} from '../../../../../modules/common/src/twin/twin-process';
import { EventEmitter } from 'node:events';

describe('selectModuleMode', () => {
  it('is twin mode without --config (IoT Edge runs main.js with no arguments)', () => {
    expect(selectModuleMode([])).toBe('twin');
    expect(selectModuleMode(['--relay-ca', 'ca.pem', '--log-level', 'debug'])).toBe('twin');
  });

  it('is file mode when a configuration file is named', () => {
    expect(selectModuleMode(['--config', 'f.json'])).toBe('file');
    expect(selectModuleMode(['-c', 'f.json'])).toBe('file');
    expect(selectModuleMode(['--config=f.json'])).toBe('file');
  });
});

describe('parseTwinCliArgs', () => {
  it('reads the twin-mode options', () => {
    expect(
      parseTwinCliArgs(['--relay-ca', 'ca.pem', '--log-level', 'debug', '--shutdown-drain-ms', '500']),
    ).toEqual({
      ok: true,
      args: { relayCaPath: 'ca.pem', logLevel: 'debug', shutdownDrainMs: 500 },
    });
    expect(parseTwinCliArgs([])).toEqual({ ok: true, args: {} });
  });

  it('refuses what it does not know, with a message', () => {
    expect(parseTwinCliArgs(['--log-level', 'loud'])).toMatchObject({
      ok: false,
      error: expect.stringContaining('--log-level'),
    });
    expect(parseTwinCliArgs(['--shutdown-drain-ms', 'soon'])).toMatchObject({ ok: false });
    expect(parseTwinCliArgs(['--nope'])).toMatchObject({ ok: false, help: false });
    expect(parseTwinCliArgs(['extra'])).toMatchObject({ ok: false });
    expect(parseTwinCliArgs(['--help'])).toEqual({ ok: false, help: true });
  });
});

describe('twinSettingsFromEnv', () => {
  it('reads intervals and the location', () => {
    expect(
      twinSettingsFromEnv({
        REPORTED_DEBOUNCE_MS: '200',
        REPORTED_REFRESH_MS: '0',
        STATS_INTERVAL_MS: '30000',
        LOCATION: 'plant-7',
      }),
    ).toEqual({
      ok: true,
      settings: {
        reported: { debounceMs: 200, refreshIntervalMs: 0 },
        stats: { intervalMs: 30000 },
        location: 'plant-7',
      },
    });
    expect(twinSettingsFromEnv({})).toEqual({ ok: true, settings: { reported: {}, stats: {} } });
  });

  it('names a variable that is not a whole number of milliseconds', () => {
    expect(twinSettingsFromEnv({ STATS_INTERVAL_MS: '1.5' })).toEqual({
      ok: false,
      error: 'STATS_INTERVAL_MS must be a whole number of milliseconds',
    });
  });
});

describe('waitForStopSignal', () => {
  it('resolves with the first stop signal and leaves no listener behind', async () => {
    const signals = new EventEmitter();
    const waiting = waitForStopSignal(signals);
    signals.emit('SIGTERM');
    expect(await waiting).toBe('SIGTERM');
    expect(signals.listenerCount('SIGINT') + signals.listenerCount('SIGTERM')).toBe(0);
  });

  it('lets the next handler subscribe before its own listeners go, so a signal is never unhandled', async () => {
    const signals = new EventEmitter();
    const countsSeenByOnStop: number[] = [];
    const waiting = waitForStopSignal(signals, () => {
      countsSeenByOnStop.push(signals.listenerCount('SIGINT'), signals.listenerCount('SIGTERM'));
    });
    signals.emit('SIGINT');
    expect(await waiting).toBe('SIGINT');
    expect(countsSeenByOnStop).toEqual([1, 1]);
  });
});

describe('checkModuleEnvironment', () => {
  it('accepts a connection string or the complete IoT Edge environment', () => {
    expect(
      checkModuleEnvironment({
        IotHubConnectionString: 'HostName=h;DeviceId=d;ModuleId=m;SharedAccessKey=k',
      }),
    ).toBeUndefined();
    expect(checkModuleEnvironment({ EdgeHubConnectionString: 'x' })).toBeUndefined();
    expect(
      checkModuleEnvironment({
        IOTEDGE_WORKLOADURI: 'unix:///var/run/iotedge/workload.sock',
        IOTEDGE_DEVICEID: 'd',
        IOTEDGE_MODULEID: 'm',
        IOTEDGE_IOTHUBHOSTNAME: 'h.azure-devices.net',
        IOTEDGE_AUTHSCHEME: 'sasToken',
        IOTEDGE_MODULEGENERATIONID: 'g',
      }),
    ).toBeUndefined();
  });

  it('explains what is missing otherwise, and points at --config', () => {
    const why = checkModuleEnvironment({ IOTEDGE_DEVICEID: 'd' });
    expect(why).toContain('--config');
    expect(why).toContain('IOTEDGE_WORKLOADURI');
    expect(why).not.toContain('IOTEDGE_DEVICEID,');
  });
});
