import { mergeVariables, parseEnvFile } from '../../../../provisioning/src/deployment/env-file';
import { isDeploymentError } from '../../../../provisioning/src/deployment/errors';

describe('parseEnvFile', () => {
  it('reads NAME=value lines, comments, export, quotes and empty values', () => {
    const text = [
      '# comment',
      '',
      'A=plain value # trailing comment',
      'export B=exported',
      "C='single # not a comment'",
      'D="line\\nbreak \\"quoted\\""',
      'E=',
      'F=a#b',
      '  G = spaced  ',
    ].join('\r\n');
    expect(parseEnvFile(text)).toEqual({
      A: 'plain value',
      B: 'exported',
      C: 'single # not a comment',
      D: 'line\nbreak "quoted"',
      E: '',
      F: 'a#b',
      G: 'spaced',
    });
  });

  it('names the line of every malformed entry and never echoes its content', () => {
    try {
      parseEnvFile('OK=1\nnot a pair\nPASSWORD="unterminated secret', 'my.env');
      throw new Error('expected a throw');
    } catch (err) {
      expect(isDeploymentError(err, 'DEPLOYMENT_BAD_ENV_FILE')).toBe(true);
      expect(JSON.stringify(err)).not.toContain('secret');
      expect((err as { problems: unknown }).problems).toEqual([
        { path: 'my.env:2', message: 'expected NAME=value' },
        { path: 'my.env:3', message: 'expected NAME=value' },
      ]);
    }
  });
});

describe('mergeVariables', () => {
  it('lets the process environment override .env, ignoring undefined entries', () => {
    expect(mergeVariables({ A: 'file', B: 'file' }, { A: 'env', C: undefined })).toEqual({
      A: 'env',
      B: 'file',
    });
  });
});
