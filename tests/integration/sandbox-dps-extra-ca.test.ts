import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createProvisioningServiceClient, startSandboxDps, type SandboxDps } from '../../sandbox/src/dps';
import { generateSandboxPki } from '../../sandbox/src/tls/pki';
import { runNodeScript } from '../support/node-script';
import { Harness } from '../support/sandbox-iothub-helpers';

// Production wiring: a device process that trusts the sandbox CA only through NODE_EXTRA_CA_CERTS and uses
// the stock transports, with no seam at all.
describe('sandbox DPS: unmodified SDK in a process trusting the CA through NODE_EXTRA_CA_CERTS', () => {
  const h = new Harness();
  let dps: SandboxDps;
  let caFile: string;

  beforeAll(async () => {
    const pki = await generateSandboxPki();
    const hub = await h.hub({ pki });
    dps = await startSandboxDps({ iotHub: hub, pki, retryAfterSeconds: 0 });
    h.defer(() => dps.stop());
    caFile = join(await h.tempDir(), 'ca.pem');
    await writeFile(caFile, pki.caPem);
    const service = createProvisioningServiceClient(dps.serviceConnectionString, { ca: dps.caPem });
    await service.createOrUpdateEnrollmentGroup({
      enrollmentGroupId: 'extra-ca',
      attestation: { type: 'symmetricKey' } as never,
      provisioningStatus: 'enabled',
    });
  });

  afterAll(() => h.cleanup());

  it('registers with new Mqtt() at host:port; new Http() cannot reach host:port (no port option)', async () => {
    const script = `
      const { ProvisioningDeviceClient } = require('azure-iot-provisioning-device');
      const { Mqtt } = require('azure-iot-provisioning-device-mqtt');
      const { Http } = require('azure-iot-provisioning-device-http');
      const { SymmetricKeySecurityClient } = require('azure-iot-security-symmetric-key');
      const e = process.env;
      const run = (transport) => ProvisioningDeviceClient.create(e.DPS_HOST, e.ID_SCOPE, transport,
        new SymmetricKeySecurityClient(e.REG_ID, e.DEVICE_KEY)).register();
      run(new Mqtt())
        .then((r) => { process.stdout.write(JSON.stringify(r) + '\\n'); return run(new Http()); })
        .then(() => process.stdout.write('http: ok\\n'), (err) => process.stdout.write('http: ' + (err.code || err.message) + '\\n'))
        .catch((err) => { process.stderr.write(String(err)); process.exitCode = 1; });`;
    const out = await runNodeScript(script, {
      NODE_EXTRA_CA_CERTS: caFile,
      DPS_HOST: dps.hostName,
      ID_SCOPE: dps.idScope,
      REG_ID: 'child-device',
      DEVICE_KEY: dps.deviceKey('extra-ca', 'child-device'),
    });
    expect(out.stderr).toBe('');
    const [mqttLine, httpLine] = out.stdout.trim().split('\n');
    expect(JSON.parse(mqttLine ?? '{}')).toMatchObject({ deviceId: 'child-device', status: 'assigned' });
    // The host name is looked up with the port in it; how the resolver fails depends on the machine.
    expect(httpLine).toMatch(/^http: (ENOTFOUND|EAI_AGAIN)$/);
  });
});
