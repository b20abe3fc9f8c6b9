import { createHmac } from 'node:crypto';
import {
  isSecretFieldName,
  redactSecrets,
  scrubSecrets,
  REDACTED,
} from '../../../../../modules/common/src/telemetry/redact';

// A realistic SAS token, built the documented way, so the patterns are tested on the real shape.
const KEY = 'c2VjcmV0LWtleS1tYXRlcmlhbC1mb3ItdGVzdHMtb25seQ==';
const uri = encodeURIComponent('https://ns.servicebus.windows.net/hc-berlin');
const SIG = createHmac('sha256', KEY).update(`${uri}\n1900000000`).digest('base64');
const TOKEN = `SharedAccessSignature sr=${uri}&sig=${encodeURIComponent(SIG)}&se=1900000000&skn=listen`;
const CONN = `Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=listen;SharedAccessKey=${KEY};EntityPath=hc-berlin`;

function expectClean(text: string): void {
  expect(text).not.toContain(KEY);
  expect(text).not.toContain(SIG);
  expect(text).not.toContain(encodeURIComponent(SIG));
}

describe('scrubSecrets', () => {
  it.each([
    ['a SAS token', `token is ${TOKEN} ok`, 'token is SharedAccessSignature [redacted] ok'],
    ['a connection string key', CONN, CONN.replace(KEY, REDACTED)],
    [
      'a URL-encoded token in the sb-hc-token query parameter',
      `wss://ns/$hc/hc?sb-hc-action=listen&sb-hc-token=${encodeURIComponent(TOKEN)}`,
      `wss://ns/$hc/hc?sb-hc-action=listen&sb-hc-token=SharedAccessSignature%20${REDACTED}`,
    ],
    ['a form-encoded token', `t=${TOKEN.replace(/ /g, '+')}`, `t=SharedAccessSignature+${REDACTED}`],
    [
      'a bare sig parameter',
      `https://x/y?se=1&sig=${encodeURIComponent(SIG)}&skn=a`,
      `https://x/y?se=1&sig=${REDACTED}&skn=a`,
    ],
    [
      'an encoded sig parameter',
      `q=a%26sig%3D${encodeURIComponent(SIG)}%26se%3D1`,
      `q=a%26sig%3D${REDACTED}%26se%3D1`,
    ],
    [
      'an IoT Hub device connection string',
      `HostName=h.azure-devices.net;DeviceId=d;SharedAccessKey=${KEY}`,
      `HostName=h.azure-devices.net;DeviceId=d;SharedAccessKey=${REDACTED}`,
    ],
    [
      'an Application Insights connection string',
      'InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://x/',
      `InstrumentationKey=${REDACTED};IngestionEndpoint=https://x/`,
    ],
    [
      'a bearer token',
      'authorization: Bearer eyJhbGciOi.eyJzdWIi.sIgNaTuRe',
      `authorization: Bearer ${REDACTED}`,
    ],
    ['a URL password', 'amqps://user:hunter2@host:5671/x', `amqps://user:${REDACTED}@host:5671/x`],
    [
      'a secret field in stringified JSON',
      JSON.stringify({ primaryKey: KEY, keyName: 'RootManage' }),
      `{"primaryKey":"${REDACTED}","keyName":"RootManage"}`,
    ],
    [
      'a secret field in doubly stringified JSON',
      JSON.stringify({ body: JSON.stringify({ sasToken: 'abc', route: 'r' }) }),
      JSON.stringify({ body: JSON.stringify({ sasToken: REDACTED, route: 'r' }) }),
    ],
  ])('removes %s', (_what, input, expected) => {
    const out = scrubSecrets(input);
    expect(out).toBe(expected);
    expectClean(out);
  });

  it('leaves ordinary text alone', () => {
    const text =
      'route sql → hc-berlin (design=ok, keyName=listen, se=1900000000, SharedAccessKeyName=listen)';
    expect(scrubSecrets(text)).toBe(text);
  });
});

describe('isSecretFieldName', () => {
  it.each([
    'key',
    'sharedAccessKey',
    'primaryKey',
    'token',
    'sasToken',
    'connectionString',
    'password',
    'authorization',
    'ServiceBusAuthorization',
    'sig',
    'clientSecret',
    'credentials',
  ])('%s is secret', (name) => expect(isSecretFieldName(name)).toBe(true));
  it.each(['keyName', 'route', 'tokenExpiresAt', 'hybridConnection', 'location', 'authorizationRule', 'msg'])(
    '%s is not',
    (name) => expect(isSecretFieldName(name)).toBe(false),
  );
});

describe('redactSecrets', () => {
  it('replaces secret-named fields at any depth and scrubs strings, without touching the input', () => {
    const input = {
      route: 'sql',
      relay: { listen: { connection: { sharedAccessKey: KEY, keyName: 'listen' } } },
      list: [{ token: TOKEN }, `url ${TOKEN}`],
      port: 1433,
      none: null,
    };
    const out = redactSecrets(input);
    expect(out).toEqual({
      route: 'sql',
      relay: { listen: { connection: { sharedAccessKey: REDACTED, keyName: 'listen' } } },
      list: [{ token: REDACTED }, `url SharedAccessSignature ${REDACTED}`],
      port: 1433,
      none: null,
    });
    expect(input.relay.listen.connection.sharedAccessKey).toBe(KEY);
  });

  it('turns errors (and their causes) into plain scrubbed objects, keeping code and type', () => {
    const inner = new Error(`inner ${CONN}`);
    const err = Object.assign(new Error(`open failed ${TOKEN}`, { cause: inner }), { code: 'E_X', key: KEY });
    const out = redactSecrets({ err }) as unknown as { err: Record<string, unknown> };
    expect(out.err.type).toBe('Error');
    expect(out.err.code).toBe('E_X');
    expect(out.err.key).toBe(REDACTED);
    expect(out.err.message).toBe(`open failed SharedAccessSignature ${REDACTED}`);
    expectClean(JSON.stringify(out));
    expect((out.err.cause as Record<string, unknown>).message).toContain(`SharedAccessKey=${REDACTED}`);
  });

  it('survives cycles', () => {
    const a: Record<string, unknown> = { name: 'a' };
    a.self = a;
    expect(redactSecrets(a)).toEqual({ name: 'a', self: '[elided]' });
  });

  it('keeps null and undefined secret fields as they are (nothing to hide)', () => {
    expect(redactSecrets({ token: undefined, key: null })).toEqual({ token: undefined, key: null });
  });
});
