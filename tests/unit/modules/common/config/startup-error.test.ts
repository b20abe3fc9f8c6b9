import { ConfigStartupError, invalidConfigurationMessage } from '../../../../../modules/common/src/config/startup-error';

describe('ConfigStartupError', () => {
  it('is not retryable and carries its code and problems', () => {
    const problems = [{ path: '/a', message: 'bad' }];
    const err = new ConfigStartupError('CONFIG_INVALID', 'm', problems);
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({ name: 'ConfigStartupError', code: 'CONFIG_INVALID', retryable: false, problems });
    expect(new ConfigStartupError('CONFIG_FILE', 'gone').problems).toEqual([]);
  });

  it('counts the problems in the CONFIG_INVALID message', () => {
    expect(invalidConfigurationMessage('/etc/f.json', 1)).toBe('/etc/f.json: invalid configuration (1 problem)');
    expect(invalidConfigurationMessage('/etc/f.json', 3)).toBe('/etc/f.json: invalid configuration (3 problems)');
  });
});
