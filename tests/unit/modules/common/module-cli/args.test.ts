import { LOG_LEVELS } from '../../../../../modules/common/src/log';
import { parseModuleArgs } from '../../../../../modules/common/src/module-cli/args';

describe('parseModuleArgs', () => {
  it('reads every option a mode accepts', () => {
    expect(
      parseModuleArgs(
        ['-c', 'f.json', '--relay-ca', 'ca.pem', '--log-level', 'trace', '--shutdown-drain-ms', '0'],
        {
          config: true,
          shutdownDrain: true,
        },
      ),
    ).toEqual({
      ok: true,
      args: { configPath: 'f.json', relayCaPath: 'ca.pem', logLevel: 'trace', shutdownDrainMs: 0 },
    });
    expect(parseModuleArgs([], { config: false, shutdownDrain: false })).toEqual({ ok: true, args: {} });
  });

  it.each([
    [['--config', 'f'], { config: false, shutdownDrain: true }, 'unknown option --config'],
    [
      ['--config', 'f', '--shutdown-drain-ms', '5'],
      { config: true, shutdownDrain: false },
      'unknown option --shutdown-drain-ms',
    ],
    [[], { config: true, shutdownDrain: false }, '--config is required'],
    [
      ['--shutdown-drain-ms', '12345678'],
      { config: false, shutdownDrain: true },
      '--shutdown-drain-ms must be a whole number',
    ],
    [['--shutdown-drain-ms', '-1'], { config: false, shutdownDrain: true }, '--shutdown-drain-ms'],
    [
      ['--log-level', 'loud'],
      { config: false, shutdownDrain: false },
      `--log-level must be one of ${LOG_LEVELS.join(', ')}`,
    ],
  ])('refuses %j with %j', (argv, accepts, message) => {
    const parsed = parseModuleArgs(argv, accepts);
    expect(parsed).toMatchObject({ ok: false, help: false });
    if (!parsed.ok) expect(parsed.error).toContain(message);
  });

  it('asks for help before checking anything else', () => {
    expect(parseModuleArgs(['-h'], { config: true, shutdownDrain: true })).toEqual({ ok: false, help: true });
  });
});
