// Every unusable reading of a configuration file counts once as a refused configuration, in both modules: the
// relay.config.versions{refused} metric and the 'rejected'/'configRejected' events must say how many bad files an
// operator wrote. (The forwarder used to log an unparsable file without counting it.)
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startForwarderFromFile, type ForwarderFileApp } from '../../modules/relay-forwarder/src/file-app';
import { startGatewayFromFile, type GatewayFileApp } from '../../modules/relay-gateway/src/file-app';
import { eventually, ScriptedOpener, testLogger } from '../support/relay-gateway-harness';

// Ten unusable readings: broken JSON, empty files, and the same broken text twice in a row (still two writes).
const BAD = [
  '{',
  '',
  '{"schemaVersion": 1,,}',
  '   \n',
  'not json at all',
  '{"a": [1, 2}',
  '{"a": [1, 2}',
  '[',
  '\uFEFF',
  '{"schemaVersion": 1, "x": }',
];

describe('unusable configuration files', () => {
  let dir: string;
  let gateway: GatewayFileApp | undefined;
  let forwarder: ForwarderFileApp | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'config-refusals-'));
  });

  afterEach(async () => {
    await gateway?.stop(0);
    await forwarder?.stop(0);
    await rm(dir, { recursive: true, force: true });
  });

  it('counts each of ten unusable files once, in the gateway and in the forwarder alike', async () => {
    const gatewayPath = join(dir, 'gateway.json');
    const forwarderPath = join(dir, 'forwarder.json');
    await writeFile(gatewayPath, JSON.stringify({ schemaVersion: 1, hybridConnections: {}, routes: {} }));
    await writeFile(forwarderPath, JSON.stringify({ schemaVersion: 1, hybridConnections: {} }));
    const watch = { debounceMs: 20, pollIntervalMs: 0 };
    gateway = await startGatewayFromFile({
      configPath: gatewayPath,
      logger: testLogger(),
      opener: new ScriptedOpener().open,
      watch,
    });
    forwarder = await startForwarderFromFile({ configPath: forwarderPath, log: testLogger(), watch });
    let gatewayRefused = 0;
    let forwarderRefused = 0;
    gateway.gateway.on('rejected', () => gatewayRefused++);
    forwarder.forwarder.on('configRejected', () => forwarderRefused++);

    for (const [i, text] of BAD.entries()) {
      await writeFile(gatewayPath, text);
      await writeFile(forwarderPath, text);
      // One file at a time: the watcher's debounce would rightly merge writes that come faster than it reads.
      await eventually(() => gatewayRefused === i + 1, `the gateway to read bad file ${i + 1}`, 10_000);
      await eventually(() => forwarderRefused === i + 1, `the forwarder to read bad file ${i + 1}`, 10_000);
    }
    expect(gatewayRefused).toBe(BAD.length);
    expect(forwarderRefused).toBe(BAD.length);
    // The last good configuration still runs.
    expect(forwarder.forwarder.config).toMatchObject({ drainTimeoutMs: 30_000 });
    expect(gateway.gateway.state().configured).toBe(true);
  }, 60_000);
});
