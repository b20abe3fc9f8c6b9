import { resolve } from 'node:path';
import { formatBanner, parseRelayMainArgs } from '../../../../sandbox/src/relay-main';

describe('relay-main arguments', () => {
  it('defaults to an ephemeral port, no latency and .sandbox-state', () => {
    expect(parseRelayMainArgs([], {})).toEqual({
      port: 0,
      stateDir: resolve('.sandbox-state'),
      hybridConnections: [],
      latencyProfile: 'none',
      tlsFronts: 0,
      json: false,
    });
  });

  it('reads flags and the environment', () => {
    const args = parseRelayMainArgs(
      [
        '--port',
        '9443',
        '--hc',
        'b',
        '--latency',
        'azure',
        '--accept-timeout-ms',
        '5000',
        '--tls-fronts',
        '3',
        '--json',
      ],
      { SANDBOX_RELAY_HCS: 'a, c', SANDBOX_STATE_DIR: '/tmp/x' },
    );
    expect(args).toEqual({
      port: 9443,
      stateDir: '/tmp/x',
      hybridConnections: ['a', 'c', 'b'],
      latencyProfile: 'azure',
      acceptTimeoutMs: 5000,
      tlsFronts: 3,
      json: true,
    });
  });

  it.each([
    [['--port', 'x'], /--port/],
    [['--port', '70000'], /--port/],
    [['--latency', 'mars'], /--latency/],
    [['--accept-timeout-ms', '0'], /--accept-timeout-ms/],
    [['--hc'], /needs a value/],
    [['--tls-fronts', '-1'], /--tls-fronts/],
    [['--bogus'], /unknown option --bogus/],
  ])('refuses %p', (argv, message) => {
    expect(() => parseRelayMainArgs(argv, {})).toThrow(message);
  });

  it('prints how to trust the CA and where the admin API is', () => {
    const banner = formatBanner({
      namespace: '127.0.0.1:1234',
      caFile: '/s/ca.pem',
      manageConnectionString: 'Endpoint=sb://127.0.0.1:1234/;SharedAccessKeyName=R;SharedAccessKey=k',
      hybridConnections: ['one'],
    });
    expect(banner).toContain('export NODE_EXTRA_CA_CERTS=/s/ca.pem');
    expect(banner).toContain('https://127.0.0.1:1234/$sandbox/');
    expect(banner).toContain('one');
  });
});
