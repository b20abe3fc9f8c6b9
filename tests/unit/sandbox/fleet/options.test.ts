import { resolve } from 'node:path';
import { parseAddLocationArgs, parseFleetArgs } from '../../../../sandbox/src/fleet/options';

describe('fleet options (npm start)', () => {
  it('defaults to running on .sandbox-state', () => {
    expect(parseFleetArgs([], {})).toEqual({
      ok: true,
      args: { check: false, stateDir: resolve('.sandbox-state') },
    });
  });

  it('takes --check, FLEET_CHECK, --state-dir and SANDBOX_STATE_DIR', () => {
    expect(parseFleetArgs(['--check', '--state-dir', '/tmp/x'], {})).toEqual({
      ok: true,
      args: { check: true, stateDir: '/tmp/x' },
    });
    expect(parseFleetArgs([], { FLEET_CHECK: 'true', SANDBOX_STATE_DIR: '/tmp/y' })).toEqual({
      ok: true,
      args: { check: true, stateDir: '/tmp/y' },
    });
  });

  it('answers --help and refuses unknown options and a missing value', () => {
    expect(parseFleetArgs(['--help'], {})).toEqual({ ok: false, help: true });
    expect(parseFleetArgs(['--fast'], {})).toEqual({
      ok: false,
      help: false,
      error: 'unknown option --fast',
    });
    expect(parseFleetArgs(['--state-dir'], {})).toEqual({
      ok: false,
      help: false,
      error: '--state-dir needs a value',
    });
  });
});

describe('add-location options', () => {
  it('takes one NAME and the state directory', () => {
    expect(parseAddLocationArgs(['nice'], {})).toEqual({
      ok: true,
      args: { name: 'nice', stateDir: resolve('.sandbox-state') },
    });
    expect(parseAddLocationArgs(['--state-dir', '/tmp/s', 'nice'], { SANDBOX_STATE_DIR: '/tmp/t' })).toEqual({
      ok: true,
      args: { name: 'nice', stateDir: '/tmp/s' },
    });
    expect(parseAddLocationArgs(['nice'], { SANDBOX_STATE_DIR: '/tmp/t' })).toMatchObject({
      args: { stateDir: '/tmp/t' },
    });
  });

  it('refuses no name, two names and unknown options; answers --help', () => {
    expect(parseAddLocationArgs([], {})).toEqual({ ok: false, help: false, error: 'give the location NAME' });
    expect(parseAddLocationArgs(['a', 'b'], {})).toEqual({ ok: false, help: false, error: 'give one NAME' });
    expect(parseAddLocationArgs(['-x', 'a'], {})).toEqual({
      ok: false,
      help: false,
      error: 'unknown option -x',
    });
    expect(parseAddLocationArgs(['-h'], {})).toEqual({ ok: false, help: true });
  });
});
