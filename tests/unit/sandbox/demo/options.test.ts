import { resolve } from 'node:path';
import { parseDemoArgs } from '../../../../sandbox/src/demo/options';

describe('demo options', () => {
  it('defaults to running on .sandbox-state', () => {
    expect(parseDemoArgs([], {})).toEqual({
      ok: true,
      args: { check: false, stateDir: resolve('.sandbox-state') },
    });
  });

  it('takes --check, DEMO_CHECK, --state-dir and SANDBOX_STATE_DIR', () => {
    expect(parseDemoArgs(['--check', '--state-dir', '/tmp/x'], {})).toEqual({
      ok: true,
      args: { check: true, stateDir: '/tmp/x' },
    });
    expect(parseDemoArgs([], { DEMO_CHECK: '1', SANDBOX_STATE_DIR: '/tmp/y' })).toEqual({
      ok: true,
      args: { check: true, stateDir: '/tmp/y' },
    });
  });

  it('refuses unknown options and a missing value; --help asks for usage', () => {
    expect(parseDemoArgs(['--nope'], {})).toEqual({ ok: false, help: false, error: 'unknown option --nope' });
    expect(parseDemoArgs(['--state-dir'], {})).toEqual({
      ok: false,
      help: false,
      error: '--state-dir needs a value',
    });
    expect(parseDemoArgs(['-h'], {})).toEqual({ ok: false, help: true });
  });
});
