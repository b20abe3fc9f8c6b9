import {
  acceptUrl,
  connectUrl,
  endpointFromConnectionString,
  endpointResource,
  listenUrl,
  rejectUrl,
  type HybridConnectionEndpoint,
} from '../../../../../modules/common/src/hc/endpoint';
import { isRelayError } from '../../../../../modules/common/src/hc/errors';
import {
  StaticTokenProvider,
  staticTokenProvider,
} from '../../../../../modules/common/src/hc/token-provider';
import { createSasToken } from '../../../../../modules/common/src/hc/sas';

const KEY = 'ZW5kcG9pbnQtdGVzdC1rZXk=';
const endpoint: HybridConnectionEndpoint = {
  namespace: 'contoso.servicebus.windows.net',
  path: 'site a/hyco',
  tokenProvider: { getToken: async () => ({ token: 'unused', expiresAtMs: 0 }) },
};

describe('URL builders', () => {
  it('builds the listen URL with an encoded path and the id', () => {
    expect(listenUrl(endpoint, 'id 1')).toBe(
      'wss://contoso.servicebus.windows.net/$hc/site%20a/hyco?sb-hc-action=listen&sb-hc-id=id+1',
    );
  });

  it('builds the connect URL, with sb-hc-id only when given', () => {
    expect(connectUrl({ ...endpoint, path: 'hyco' })).toBe(
      'wss://contoso.servicebus.windows.net/$hc/hyco?sb-hc-action=connect',
    );
    const url = new URL(connectUrl({ ...endpoint, path: 'hyco' }, 'abc&def'));
    expect(url.searchParams.get('sb-hc-id')).toBe('abc&def');
    expect(url.searchParams.get('sb-hc-action')).toBe('connect');
  });

  it('keeps a sandbox port', () => {
    expect(listenUrl({ ...endpoint, namespace: '127.0.0.1:4443', path: 'p' })).toMatch(
      /^wss:\/\/127\.0\.0\.1:4443\/\$hc\/p\?sb-hc-action=listen$/,
    );
  });

  it('uses the accept address as is and refuses anything but wss://', () => {
    const address = 'wss://g1.servicebus.windows.net:443/$hc/hyco?sb-hc-action=accept&sb-hc-id=42&x=%2F';
    expect(acceptUrl(address)).toBe(address);
    expect(() => acceptUrl('http://evil.example/')).toThrow(/wss/);
    expect(() => acceptUrl('not a url')).toThrow(/not a URL/);
  });

  it('appends the reject parameters, percent-encoded, without touching the address', () => {
    const address = 'wss://g1.servicebus.windows.net:443/$hc/hyco?sb-hc-action=accept&sb-hc-id=42';
    const url = rejectUrl(address, 403, 'Not for you & yours');
    expect(url.startsWith(`${address}&`)).toBe(true);
    expect(url).toContain('sb-hc-statusDescription=Not%20for%20you%20%26%20yours');
    const parsed = new URL(url);
    expect(parsed.searchParams.get('sb-hc-statusCode')).toBe('403');
    expect(parsed.searchParams.get('sb-hc-statusDescription')).toBe('Not for you & yours');
  });

  it('signs tokens for http://{namespace}/{path}', () => {
    expect(endpointResource({ ...endpoint, path: 'hyco' })).toBe(
      'http://contoso.servicebus.windows.net/hyco',
    );
  });
});

describe('endpointFromConnectionString', () => {
  it('takes namespace, EntityPath and a key provider from the string', async () => {
    const ep = endpointFromConnectionString(
      `Endpoint=sb://127.0.0.1:5671/;SharedAccessKeyName=listen;SharedAccessKey=${KEY};EntityPath=hyco`,
      { tls: { ca: 'PEM' }, tokenLifetimeMs: 120_000 },
    );
    expect(ep).toMatchObject({ namespace: '127.0.0.1:5671', path: 'hyco', tls: { ca: 'PEM' } });
    const { expiresAtMs } = await ep.tokenProvider.getToken(endpointResource(ep));
    expect(expiresAtMs - Date.now()).toBeLessThanOrEqual(120_000);
  });

  it('takes the path from options when the string has none', () => {
    const ep = endpointFromConnectionString(
      `Endpoint=sb://ns/;SharedAccessKeyName=a;SharedAccessKey=${KEY}`,
      {
        path: 'other',
      },
    );
    expect(ep.path).toBe('other');
  });

  it('uses a pre-issued token as a static provider', () => {
    const sas = createSasToken({ resource: 'http://ns/hyco', keyName: 'a', key: KEY, lifetimeMs: 60_000 });
    const ep = endpointFromConnectionString(`Endpoint=sb://ns/;SharedAccessSignature=${sas};EntityPath=hyco`);
    expect(ep.tokenProvider).toBeInstanceOf(StaticTokenProvider);
  });

  it('names the missing path', () => {
    let caught: unknown;
    try {
      endpointFromConnectionString(`Endpoint=sb://ns/;SharedAccessKeyName=a;SharedAccessKey=${KEY}`);
    } catch (err) {
      caught = err;
    }
    expect(isRelayError(caught, 'RELAY_BAD_CONNECTION_STRING')).toBe(true);
    expect((caught as Error).message).toMatch(/EntityPath is missing/);
  });

  it('refuses a path that contradicts EntityPath', () => {
    expect(() =>
      endpointFromConnectionString(
        `Endpoint=sb://ns/;SharedAccessKeyName=a;SharedAccessKey=${KEY};EntityPath=x`,
        {
          path: 'y',
        },
      ),
    ).toThrow(/differs/);
  });

  it('accepts a parsed connection string too', () => {
    const provider = staticTokenProvider(
      createSasToken({ resource: 'http://ns/', keyName: 'a', key: KEY, lifetimeMs: 60_000 }),
    );
    expect(provider).toBeDefined();
    const ep = endpointFromConnectionString({
      namespace: 'ns',
      entityPath: 'p',
      sharedAccessKeyName: 'a',
      sharedAccessKey: KEY,
    });
    expect(ep.path).toBe('p');
  });
});
