import {
  formatRelayConnectionString,
  parseRelayConnectionString,
} from '../../../../../modules/common/src/hc/connection-string';
import { RelayError } from '../../../../../modules/common/src/hc/errors';

const KEY = 'S3cr3tKeyValueThatMustNeverAppearInErrors0123456789=';
const SAS = 'SharedAccessSignature sr=http%3A%2F%2Fns%2Fhyco&sig=abc%3D&se=1900000000&skn=send';

function parseError(text: string): RelayError {
  try {
    parseRelayConnectionString(text);
  } catch (err) {
    expect(err).toBeInstanceOf(RelayError);
    return err as RelayError;
  }
  throw new Error('expected parseRelayConnectionString to throw');
}

describe('parseRelayConnectionString', () => {
  it('parses the key form, case-insensitively and with a trailing semicolon', () => {
    expect(
      parseRelayConnectionString(
        `endpoint=sb://contoso.servicebus.windows.net/;SharedAccessKeyName=listen;SHAREDACCESSKEY=${KEY};EntityPath=hyco;`,
      ),
    ).toEqual({
      namespace: 'contoso.servicebus.windows.net',
      sharedAccessKeyName: 'listen',
      sharedAccessKey: KEY,
      entityPath: 'hyco',
    });
  });

  it('keeps a port in the namespace (the sandbox listens on an ephemeral one)', () => {
    const cs = parseRelayConnectionString(
      `Endpoint=sb://127.0.0.1:45678/;SharedAccessKeyName=a;SharedAccessKey=${KEY}`,
    );
    expect(cs.namespace).toBe('127.0.0.1:45678');
    expect(cs.entityPath).toBeUndefined();
  });

  it('parses the SharedAccessSignature form', () => {
    expect(
      parseRelayConnectionString(`Endpoint=sb://ns/;SharedAccessSignature=${SAS};EntityPath=hyco`),
    ).toEqual({
      namespace: 'ns',
      sharedAccessSignature: SAS,
      entityPath: 'hyco',
    });
  });

  it('round-trips through formatRelayConnectionString', () => {
    for (const text of [
      `Endpoint=sb://ns/;SharedAccessKeyName=a;SharedAccessKey=${KEY};EntityPath=p`,
      `Endpoint=sb://ns/;SharedAccessSignature=${SAS}`,
    ]) {
      expect(formatRelayConnectionString(parseRelayConnectionString(text))).toBe(text);
    }
  });

  it.each([
    ['Endpoint', `SharedAccessKeyName=a;SharedAccessKey=${KEY}`, /Endpoint is missing/],
    ['SharedAccessKeyName', `Endpoint=sb://ns/;SharedAccessKey=${KEY}`, /SharedAccessKeyName is missing/],
    ['SharedAccessKey', 'Endpoint=sb://ns/;SharedAccessKeyName=a', /SharedAccessKey is missing/],
    [
      'SharedAccessKey (empty)',
      'Endpoint=sb://ns/;SharedAccessKeyName=a;SharedAccessKey=',
      /SharedAccessKey is missing/,
    ],
  ])('names the missing %s', (_part, text, message) => {
    const err = parseError(text);
    expect(err.code).toBe('RELAY_BAD_CONNECTION_STRING');
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(message);
  });

  it.each([
    ['an empty string', '', /Endpoint is missing/],
    ['a non-URL endpoint', `Endpoint=not a url;SharedAccessKeyName=a;SharedAccessKey=${KEY}`, /not a URL/],
    [
      'a non-sb scheme',
      `Endpoint=https://ns/;SharedAccessKeyName=a;SharedAccessKey=${KEY}`,
      /sb:\/\/ scheme/,
    ],
    [
      'a duplicated part',
      `Endpoint=sb://ns/;Endpoint=sb://x/;SharedAccessKeyName=a;SharedAccessKey=${KEY}`,
      /twice/,
    ],
    [
      'both credentials',
      `Endpoint=sb://ns/;SharedAccessKeyName=a;SharedAccessKey=${KEY};SharedAccessSignature=${SAS}`,
      /not both/,
    ],
    ['a SAS without its prefix', 'Endpoint=sb://ns/;SharedAccessSignature=sr=x&sig=y', /must start with/],
    [
      'a segment without =',
      `Endpoint=sb://ns/;SharedAccessKeyName=a;SharedAccessKey=${KEY};garbage`,
      /not Name=Value/,
    ],
  ])('rejects %s with a precise reason', (_name, text, message) => {
    expect(parseError(text).message).toMatch(message);
  });

  it('never echoes the key in any error', () => {
    const bad = [
      `Endpoint=sb://ns/;SharedAccessKey=${KEY}`,
      `SharedAccessKeyName=a;SharedAccessKey=${KEY}`,
      `Endpoint=https://ns/;SharedAccessKeyName=a;SharedAccessKey=${KEY}`,
      `Endpoint=sb://ns/;SharedAccessKeyName=a;SharedAccessKey=${KEY};SharedAccessKey=${KEY}`,
      `Endpoint=sb://ns/;SharedAccessKeyName=a;${KEY}`,
      `Endpoint=sb://ns/;SharedAccessKeyName=a;${KEY.slice(0, -1)}`,
      `Endpoint=sb://ns/;SharedAccessKeyName=a;SharedAccessKey=${KEY};SharedAccessSignature=${SAS}`,
    ];
    for (const text of bad) {
      const err = parseError(text);
      expect(err.message).not.toContain(KEY);
      expect(err.message).not.toContain(KEY.slice(0, 12));
      expect(String(err.stack)).not.toContain(KEY);
    }
  });
});
