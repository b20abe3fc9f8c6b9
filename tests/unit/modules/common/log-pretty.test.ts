// The readable form of the logs (a person at a terminal, or LOG_FORMAT=pretty) goes through the same two redaction
// nets as JSON: it shows exactly what the JSON line would, never a secret the JSON removes.
import { createHmac } from 'node:crypto';
import { Writable } from 'node:stream';
import { createLogger, logFormatFor, type LogFormat } from '../../../../modules/common/src/log';

const KEY = 'cHJldHR5LWxvZy10ZXN0LWtleS1ub3QtcmVhbC0xMjM0NTY3OA==';
const uri = encodeURIComponent('https://ns.servicebus.windows.net/hc-oslo');
const SIG = createHmac('sha256', KEY).update(`${uri}\n1900000000`).digest('base64');
const TOKEN = `SharedAccessSignature sr=${uri}&sig=${encodeURIComponent(SIG)}&se=1900000000&skn=listen`;
const CONN = `Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=listen;SharedAccessKey=${KEY};EntityPath=hc-oslo`;
const SECRETS = [KEY, SIG, encodeURIComponent(SIG), TOKEN, CONN];

function capture(format: LogFormat): { text: () => string; log: ReturnType<typeof createLogger> } {
  let text = '';
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  const log = createLogger('relay-forwarder', 'info', { destination, format });
  return { text: () => text, log };
}

function logEverySecretShape(log: ReturnType<typeof createLogger>): void {
  log.info(
    { route: 'sql', sasToken: TOKEN, nested: { connectionString: CONN, primaryKey: KEY } },
    'tunnel opened',
  );
  log.warn({ err: new Error(`listener refused with ${TOKEN}`) }, `renewal failed for ${CONN}`);
  log.child({ sharedAccessKey: KEY }).error(`sig=${encodeURIComponent(SIG)} rejected`);
}

describe('pretty logs', () => {
  it('are readable lines (time, level, name, message, fields), not JSON objects', () => {
    const { log, text } = capture('pretty');
    log.info({ route: 'sql', port: 1433 }, 'tunnel opened');
    const line = text().split('\n')[0]!;
    expect(line).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO \(relay-forwarder\): tunnel opened /);
    expect(line).toContain('"route":"sql"');
    expect(line).not.toMatch(/"level":30/);
  });

  it('contain no secret that the JSON redaction removes, and still show the redaction marks', () => {
    const pretty = capture('pretty');
    const json = capture('json');
    logEverySecretShape(pretty.log);
    logEverySecretShape(json.log);
    for (const secret of SECRETS) {
      expect(json.text()).not.toContain(secret);
      expect(pretty.text()).not.toContain(secret);
    }
    expect(pretty.text()).toContain('[redacted]');
    expect(pretty.text()).toMatch(/WARN \(relay-forwarder\): renewal failed/);
    expect(pretty.text()).toMatch(/ERROR \(relay-forwarder\): sig=\[redacted\] rejected/);
  });
});

describe('logFormatFor', () => {
  it('is pretty at a terminal and JSON otherwise; LOG_FORMAT forces either', () => {
    expect(logFormatFor({}, true)).toBe('pretty');
    expect(logFormatFor({}, false)).toBe('json');
    expect(logFormatFor({ LOG_FORMAT: 'json' }, true)).toBe('json');
    expect(logFormatFor({ LOG_FORMAT: 'pretty' }, false)).toBe('pretty');
    expect(logFormatFor({ LOG_FORMAT: 'PRETTY' }, false)).toBe('pretty');
  });

  it('keeps a capturing destination JSON unless a format is asked for', () => {
    const lines: string[] = [];
    const saved = process.env.LOG_FORMAT;
    process.env.LOG_FORMAT = 'pretty';
    try {
      createLogger('t', 'info', { destination: { write: (l: string) => void lines.push(l) } }).info('x');
    } finally {
      if (saved === undefined) delete process.env.LOG_FORMAT;
      else process.env.LOG_FORMAT = saved;
    }
    expect(JSON.parse(lines[0]!)).toMatchObject({ msg: 'x', name: 't' });
  });
});
