import { createHmac } from 'node:crypto';
import { createLogger, REDACTED_FIELDS } from '../../../../modules/common/src/log';
import { RelayError } from '../../../../modules/common/src/hc/errors';

const KEY = 'bG9nLXRlc3Qta2V5LW1hdGVyaWFsLW5vdC1yZWFsLTEyMzQ1Ng==';
const uri = encodeURIComponent('https://ns.servicebus.windows.net/hc-berlin');
const SIG = createHmac('sha256', KEY).update(`${uri}\n1900000000`).digest('base64');
const TOKEN = `SharedAccessSignature sr=${uri}&sig=${encodeURIComponent(SIG)}&se=1900000000&skn=listen`;
const CONN = `Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=listen;SharedAccessKey=${KEY};EntityPath=hc-berlin`;
const SECRETS = [KEY, SIG, encodeURIComponent(SIG), TOKEN, CONN];

function capture(level = 'trace') {
  const lines: string[] = [];
  const logger = createLogger('test', level, {
    destination: { write: (line: string) => void lines.push(line) },
  });
  return { logger, lines, parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

function expectNoSecret(lines: string[]): void {
  expect(lines.length).toBeGreaterThan(0);
  for (const line of lines) for (const secret of SECRETS) expect(line).not.toContain(secret);
}

describe('createLogger', () => {
  it('writes one JSON object per line with name, level and message', () => {
    const { logger, parsed } = capture();
    logger.info({ route: 'sql' }, 'tunnel opened');
    expect(parsed()[0]).toMatchObject({ name: 'test', level: 30, route: 'sql', msg: 'tunnel opened' });
  });

  it('takes the level from the argument, else LOG_LEVEL', () => {
    const { logger, lines } = capture('warn');
    logger.info('dropped');
    logger.warn('kept');
    expect(lines).toHaveLength(1);
    const saved = process.env.LOG_LEVEL;
    process.env.LOG_LEVEL = 'error';
    try {
      expect(createLogger('env').level).toBe('error');
    } finally {
      if (saved === undefined) delete process.env.LOG_LEVEL;
      else process.env.LOG_LEVEL = saved;
    }
  });

  it.each(REDACTED_FIELDS)('redacts the %s field, top level and nested', (field) => {
    const { logger, lines, parsed } = capture();
    logger.info({ [field]: KEY, deep: { a: { b: { c: { [field]: TOKEN } } } } }, 'x');
    expectNoSecret(lines);
    expect(parsed()[0][field]).toBe('[redacted]');
  });

  it('scrubs secrets from messages, format arguments and free-text fields', () => {
    const { logger, lines } = capture();
    logger.info(`connecting with ${TOKEN}`);
    logger.info('connection string %s', CONN);
    logger.debug(
      { url: `wss://ns/$hc/hc?sb-hc-action=listen&sb-hc-token=${encodeURIComponent(TOKEN)}` },
      'dial',
    );
    logger.warn({ response: JSON.stringify({ primaryKey: KEY, primaryConnectionString: CONN }) }, 'listKeys');
    expectNoSecret(lines);
  });

  it('scrubs secrets from errors: message, stack, fields and causes, under any key', () => {
    const { logger, lines, parsed } = capture();
    const cause = new Error(`socket closed for ${CONN}`);
    const err = new RelayError('RELAY_UNAUTHORIZED', `401 with ${TOKEN}`, false, 401, { cause });
    logger.error({ err }, 'listen failed');
    logger.error(err);
    logger.warn({ failure: Object.assign(new Error('x'), { sasToken: TOKEN }) }, 'other key');
    expectNoSecret(lines);
    const first = parsed()[0].err as Record<string, unknown>;
    expect(first).toMatchObject({
      type: 'RelayError',
      code: 'RELAY_UNAUTHORIZED',
      retryable: false,
      status: 401,
    });
    expect(first.message).toBe('401 with SharedAccessSignature [redacted]');
    expect(first.stack).toContain('RelayError');
    expect(parsed()[1].msg).toBe('401 with SharedAccessSignature [redacted]');
  });

  it('scrubs child bindings', () => {
    const { logger, lines, parsed } = capture();
    logger.child({ route: 'sql', connectionString: CONN, note: `t=${TOKEN}` }).info('bound');
    expectNoSecret(lines);
    expect(parsed()[0]).toMatchObject({ route: 'sql', connectionString: '[redacted]' });
  });
});
