import { RelayAPI } from '@azure/arm-relay';
import type WebSocket from 'ws';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandboxArm, SandboxArmCredential, type SandboxArm } from '../../sandbox/src/arm';
import { mintArmToken } from '../../sandbox/src/arm/token';
import { startSandboxRelay, type SandboxRelay } from '../../sandbox/src/relay';
import { generateSandboxPki } from '../../sandbox/src/tls/pki';
import { runNodeScript } from '../support/node-script';
import {
  closed,
  handshakeFailure,
  hcUrl,
  openWs,
  RawListener,
  terminateAll,
  tokenFor,
} from '../support/sandbox-relay-raw-clients';

// Bearer-token auth of the sandbox ARM endpoint, data-plane effect of ARM changes, and the production
// wiring (CA from NODE_EXTRA_CA_CERTS, no tlsOptions) in a child process.
describe('sandbox ARM: authentication and the data plane', () => {
  let relay: SandboxRelay;
  let arm: SandboxArm;
  let client: RelayAPI;
  const rg = 'sandbox-rg';
  const ns = 'sandbox-relay';

  beforeAll(async () => {
    const pki = await generateSandboxPki();
    relay = await startSandboxRelay({ pki });
    arm = await startSandboxArm({ relay, pki });
    client = new RelayAPI(arm.credential(), arm.subscriptionId, arm.clientOptions());
  });

  afterAll(async () => {
    await arm.stop();
    await relay.stop();
  });

  function rawGet(authorization?: string): Promise<{ status: number; body: unknown; challenge?: string }> {
    const path = `/subscriptions/${arm.subscriptionId}/resourceGroups/${rg}/providers/Microsoft.Relay/namespaces/${ns}?api-version=2017-04-01`;
    return new Promise((resolve, reject) => {
      const req = request(
        `${arm.endpoint}${path}`,
        { ca: arm.caPem, headers: authorization ? { authorization } : {} },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              body: JSON.parse(text) as unknown,
              ...(res.headers['www-authenticate'] && { challenge: res.headers['www-authenticate'] }),
            }),
          );
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  it('answers 401 AuthenticationFailed without an Authorization header, with a Bearer challenge', async () => {
    const reply = await rawGet();
    expect(reply.status).toBe(401);
    expect(reply.body).toEqual({
      error: { code: 'AuthenticationFailed', message: expect.stringContaining('missing') },
    });
    expect(reply.challenge).toMatch(/^Bearer /);
  });

  it('answers 401 to an expired token and to one for another audience', async () => {
    const expired = mintArmToken({
      secret: arm.tokenSecret,
      audience: arm.endpoint,
      lifetimeMs: 1000,
      nowMs: Date.now() - 3_600_000,
    });
    expect((await rawGet(`Bearer ${expired.token}`)).body).toMatchObject({
      error: { code: 'ExpiredAuthenticationToken' },
    });
    const elsewhere = mintArmToken({
      secret: arm.tokenSecret,
      audience: 'https://vault.azure.net',
      lifetimeMs: 60_000,
    });
    expect((await rawGet(`Bearer ${elsewhere.token}`)).body).toMatchObject({
      error: { code: 'InvalidAuthenticationTokenAudience' },
    });
    const good = mintArmToken({
      secret: arm.tokenSecret,
      audience: 'https://management.azure.com',
      lifetimeMs: 60_000,
    });
    expect((await rawGet(`Bearer ${good.token}`)).status).toBe(200);
  });

  it('rejects the SDK with 401 InvalidAuthenticationToken when the credential signs with the wrong secret', async () => {
    const wrong = new RelayAPI(
      new SandboxArmCredential('not-the-secret'),
      arm.subscriptionId,
      arm.clientOptions(),
    );
    await expect(wrong.hybridConnections.get(rg, ns, 'anything')).rejects.toMatchObject({
      statusCode: 401,
      code: 'InvalidAuthenticationToken',
    });
  });

  it('makes a hybrid connection and rules created through ARM usable on the data plane at once', async () => {
    await client.hybridConnections.createOrUpdate(rg, ns, 'live-hc', { requiresClientAuthorization: true });
    await client.hybridConnections.createOrUpdateAuthorizationRule(rg, ns, 'live-hc', 'listen', {
      rights: ['Listen'],
    });
    await client.hybridConnections.createOrUpdateAuthorizationRule(rg, ns, 'live-hc', 'send', {
      rights: ['Send'],
    });
    const listenKeys = await client.hybridConnections.listKeys(rg, ns, 'live-hc', 'listen');
    const sendKeys = await client.hybridConnections.listKeys(rg, ns, 'live-hc', 'send');

    const listener = await RawListener.open(
      relay,
      'live-hc',
      tokenFor(relay, 'live-hc', 'listen', listenKeys.primaryKey!),
    );
    let sender: WebSocket | undefined;
    let accepted: WebSocket | undefined;
    try {
      expect((await client.hybridConnections.get(rg, ns, 'live-hc')).listenerCount).toBe(1);
      const senderOpen = openWs(hcUrl(relay, 'live-hc', 'connect'), {
        ca: relay.caPem,
        headers: { ServiceBusAuthorization: tokenFor(relay, 'live-hc', 'send', sendKeys.primaryKey!) },
      });
      const accept = await listener.nextAccept();
      accepted = await openWs(accept.accept.address, { ca: relay.caPem });
      sender = await senderOpen;
      const echoed = new Promise<string>((resolve) =>
        accepted!.once('message', (d: Buffer) => resolve(d.toString())),
      );
      sender.send('hello through an ARM-made hybrid connection');
      expect(await echoed).toBe('hello through an ARM-made hybrid connection');

      // A Listen-only rule cannot send: the relay answers 403.
      const forbidden = await handshakeFailure(hcUrl(relay, 'live-hc', 'connect'), {
        ca: relay.caPem,
        headers: { ServiceBusAuthorization: tokenFor(relay, 'live-hc', 'listen', listenKeys.primaryKey!) },
      });
      expect(forbidden.status).toBe(403);

      // Regenerating the key through ARM invalidates the old one for new handshakes at once.
      await client.hybridConnections.regenerateKeys(rg, ns, 'live-hc', 'send', { keyType: 'PrimaryKey' });
      const stale = await handshakeFailure(hcUrl(relay, 'live-hc', 'connect'), {
        ca: relay.caPem,
        headers: { ServiceBusAuthorization: tokenFor(relay, 'live-hc', 'send', sendKeys.primaryKey!) },
      });
      expect(stale.status).toBe(401);

      // Deleting the hybrid connection through ARM closes its listener with 1001.
      const listenerClosed = closed(listener.control);
      await client.hybridConnections.delete(rg, ns, 'live-hc');
      expect((await listenerClosed).code).toBe(1001);
    } finally {
      terminateAll([sender, accepted, listener.control]);
    }
  });

  it('works unmodified in a process that trusts the CA only through NODE_EXTRA_CA_CERTS', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sandbox-arm-'));
    try {
      const caFile = join(dir, 'ca.pem');
      await writeFile(caFile, arm.caPem);
      await client.hybridConnections.createOrUpdate(rg, ns, 'from-child', {});
      // Plain JavaScript, as production code would run: a RelayAPI with endpoint and $host, no TLS options.
      const script = `
        const { RelayAPI } = require('@azure/arm-relay');
        const credential = { getToken: async () => ({ token: process.env.ARM_TOKEN, expiresOnTimestamp: Date.now() + 600000 }) };
        const client = new RelayAPI(credential, process.env.SUB, { endpoint: process.env.ARM_URL, $host: process.env.ARM_URL });
        client.hybridConnections.get('${rg}', '${ns}', 'from-child')
          .then((hc) => { process.stdout.write(hc.name); })
          .catch((err) => { process.stderr.write(String(err && err.message)); process.exitCode = 1; });`;
      const token = mintArmToken({
        secret: arm.tokenSecret,
        audience: arm.endpoint,
        lifetimeMs: 600_000,
      }).token;
      const out = await runNodeScript(script, {
        NODE_EXTRA_CA_CERTS: caFile,
        ARM_TOKEN: token,
        SUB: arm.subscriptionId,
        ARM_URL: arm.endpoint,
      });
      expect(out).toEqual({ code: 0, stdout: 'from-child', stderr: '' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
