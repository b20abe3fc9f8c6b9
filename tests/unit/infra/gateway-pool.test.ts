/**
 * The gateway pool template's fleet-specific rules: the public port range comes from one pair of parameters and
 * reaches the load balancer (one rule per port), the NSG and the controller's pool settings (checked with the
 * controller's own option parser), matches .env.example, and the probe asks the gateway's /readyz on its health
 * port; the cloud-init it embeds is infra/gateway-cloud-init.yaml and derives the device key exactly as
 * provisioning does (the script is run here with the machine's sh and openssl).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseControllerOptions } from '../../../cloud/src/cli-options';
import { resolveSettings } from '../../../cloud/src/settings';
import { EDGE_AGENT_IMAGE, parseEdgeConfigToml } from '../../../provisioning/src/location/config-toml';
import { deriveDeviceKey } from '../../../provisioning/src/location/device-key';
import { evaluate, readJson, ROOT, type ArmTemplate } from '../../support/arm-template';

const t = readJson<ArmTemplate>('infra/gateway-pool.json');
const example = readJson<{ parameters: Record<string, { value: unknown }> }>(
  'infra/gateway-pool.parameters.example.json',
);
type Params = Parameters<typeof evaluate>[2];
const params: Params = Object.fromEntries(
  Object.entries(t.parameters)
    .filter(([, p]) => p.defaultValue !== undefined)
    .map(([n, p]) => [n, p.defaultValue]),
) as Params;
Object.assign(params, Object.fromEntries(Object.entries(example.parameters).map(([n, p]) => [n, p.value])));
const resource = <T>(type: string) => t.resources.find((r) => r.type === type) as unknown as T;
const lb = resource<{
  properties: {
    loadBalancingRules: string;
    probes: {
      properties: {
        protocol: string;
        requestPath: string;
        port: unknown;
        noHealthyBackendsBehavior?: string;
      };
    }[];
  };
}>('Microsoft.Network/loadBalancers');
const nsg = resource<{ properties: { securityRules: { properties: Record<string, unknown> }[] } }>(
  'Microsoft.Network/networkSecurityGroups',
);
interface CopyLoop {
  name: string;
  count: string;
  input: {
    properties: { frontendPort: string; backendPort: string; protocol: string; probe: { id: string } };
  };
}
const start = example.parameters.gatewayPortRangeStart?.value as number;
const end = example.parameters.gatewayPortRangeEnd?.value as number;

function dotenv(file: string): Record<string, string> {
  return Object.fromEntries(
    readFileSync(path.join(ROOT, file), 'utf8')
      .split('\n')
      .map((l) => /^([A-Z0-9_]+)=(.*)$/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1] as string, m[2] as string]),
  );
}

describe('gateway pool: one port range', () => {
  it('puts one load-balancing rule per port of the range on the load balancer, each to the same port', () => {
    expect(lb.properties.loadBalancingRules).toBe("[variables('portRules')]");
    const loop = (t.variables.copy as CopyLoop[]).find((c) => c.name === 'portRules');
    const count = evaluate(t, loop?.count, params) as number;
    const rules = Array.from({ length: count }, (_, i) => {
      const p = { ...params, $copyIndex: i };
      return {
        frontend: evaluate(t, loop?.input.properties.frontendPort, p),
        backend: evaluate(t, loop?.input.properties.backendPort, p),
        protocol: loop?.input.properties.protocol,
        probe: loop?.input.properties.probe.id,
      };
    });
    const ports = Array.from({ length: end - start + 1 }, (_, i) => start + i);
    expect(rules.map((r) => r.frontend)).toEqual(ports);
    expect(rules.every((r) => r.backend === r.frontend && r.protocol === 'Tcp')).toBe(true);
    expect(rules.every((r) => r.probe === "[variables('probeId')]")).toBe(true);
    // An ARM copy loop stops at 800; a Standard Load Balancer takes 1,500 rules.
    expect(count).toBeLessThanOrEqual(800);
  });

  it('admits exactly that range from the allowed sources in the NSG, and nothing else', () => {
    const rules = nsg.properties.securityRules;
    expect(rules).toHaveLength(1);
    const rule = rules[0]?.properties ?? {};
    expect({ ...rule, range: evaluate(t, rule.destinationPortRange, params) }).toMatchObject({
      access: 'Allow',
      direction: 'Inbound',
      protocol: 'Tcp',
      range: `${start}-${end}`,
      sourceAddressPrefixes: "[parameters('gatewayAllowedSources')]",
    });
  });

  it("gives the controller the same range as its pool settings (parsed by the controller's own options)", () => {
    const text = evaluate(t, t.outputs.controllerPools?.value, {
      ...params,
      $reference: { dnsSettings: { fqdn: 'hrf-gw-x.westeurope.cloudapp.azure.com' } },
    }) as string;
    const parsed = parseControllerOptions([], {
      IOTHUB_CONNECTION_STRING: 'HostName=h.azure-devices.net;SharedAccessKeyName=p;SharedAccessKey=a2V5',
      AZURE_SUBSCRIPTION_ID: 's',
      RELAY_RESOURCE_GROUP: 'rg',
      RELAY_NAMESPACE: 'ns',
      CONTROLLER_POOLS: text,
    });
    if (!parsed.ok) throw new Error(parsed.problems.join('; '));
    const pool = resolveSettings({ pools: parsed.options.pools }).pools.get('default');
    expect(pool).toEqual({
      name: 'default',
      firstPort: start,
      lastPort: end,
      allow: ['0.0.0.0/0'],
      publicHost: 'hrf-gw-x.westeurope.cloudapp.azure.com',
      gatewayModules: params.gatewayModules,
    });
  });

  it('gives the controller and deployment:gen the same relay-gateway module count (GATEWAY_MODULES)', () => {
    const four = { ...params, gatewayModules: 4 };
    const text = evaluate(t, t.outputs.controllerPools?.value, {
      ...four,
      $reference: { dnsSettings: { fqdn: 'h' } },
    }) as string;
    const parsed = parseControllerOptions([], {
      IOTHUB_CONNECTION_STRING: 'HostName=h.azure-devices.net;SharedAccessKeyName=p;SharedAccessKey=a2V5',
      AZURE_SUBSCRIPTION_ID: 's',
      RELAY_RESOURCE_GROUP: 'rg',
      RELAY_NAMESPACE: 'ns',
      CONTROLLER_POOLS: text,
      // What the runbook copies from the output gatewayModules into .env: the same count, so no conflict.
      GATEWAY_PORT_RANGE_START: String(start),
      GATEWAY_PORT_RANGE_END: String(end),
      GATEWAY_ALLOWED_SOURCES: '0.0.0.0/0',
      GATEWAY_MODULES: String(evaluate(t, t.outputs.gatewayModules?.value, four)),
    });
    if (!parsed.ok) throw new Error(parsed.problems.join('; '));
    expect(resolveSettings({ pools: parsed.options.pools }).pools.get('default')?.gatewayModules).toBe(4);
    expect(t.parameters.gatewayModules?.defaultValue).toBe(1);
  });

  it('writes the range nowhere else: no port of it appears as a literal in the template', () => {
    const { parameters: _p, ...rest } = t;
    const text = JSON.stringify(rest);
    expect(text).not.toMatch(new RegExp(`\\b(${start}|${end})\\b`));
  });

  it('is the range of .env.example (GATEWAY_PORT_RANGE_START/END, which deployment:gen passes on)', () => {
    const env = dotenv('.env.example');
    expect([Number(env.GATEWAY_PORT_RANGE_START), Number(env.GATEWAY_PORT_RANGE_END)]).toEqual([start, end]);
  });

  it("probes the gateway's /readyz on the health port the gateway deployment gives it", () => {
    const probe = lb.properties.probes[0]?.properties ?? { protocol: '', requestPath: '', port: 0 };
    const manifest = readJson<{
      modulesContent: {
        $edgeAgent: {
          'properties.desired': { modules: Record<string, { env: Record<string, { value: string }> }> };
        };
      };
    }>('deployment.gateway.template.json');
    const gatewayEnv =
      manifest.modulesContent.$edgeAgent['properties.desired'].modules['relay-gateway']?.env ?? {};
    expect({
      protocol: probe.protocol,
      path: probe.requestPath,
      port: evaluate(t, probe.port, params),
    }).toEqual({
      protocol: 'Http',
      path: '/readyz',
      port: Number(gatewayEnv.HEALTH_PORT?.value),
    });
  });

  it('keeps every instance in rotation when all are probed down, rather than refusing every client', () => {
    // The first module's /readyz answers for its siblings; a module broken on every VM (a bad twin) marks every VM
    // down, and AllProbedUp then sends as if unprobed: the healthy modules keep serving (docs/deploy-azure.md).
    expect(lb.properties.probes).toHaveLength(1);
    expect(lb.properties.probes[0]?.properties).toMatchObject({ noHealthyBackendsBehavior: 'AllProbedUp' });
  });
});

/** The content of one write_files entry of the cloud-config (a literal block indented six spaces). */
function blockOf(cloudConfig: string, filePath: string): string {
  const start = cloudConfig.indexOf(`path: ${filePath}\n`);
  const m = /content: \|\n((?: {6}.*\n|\n)+)/.exec(cloudConfig.slice(start));
  return (m?.[1] ?? '').replace(/^ {6}/gm, '');
}

describe('gateway pool: cloud-init', () => {
  const file = readFileSync(path.join(ROOT, 'infra/gateway-cloud-init.yaml'), 'utf8');

  it('embeds infra/gateway-cloud-init.yaml verbatim', () => {
    expect(t.variables.cloudInit).toBe(file);
  });

  it('derives each instance key exactly like provisioning (base64 HMAC-SHA256 of the registration id)', () => {
    const script = blockOf(file, '/usr/local/sbin/hrf-derive-key');
    expect(script).toContain('openssl dgst -sha256 -mac HMAC');
    const dir = mkdtempSync(path.join(tmpdir(), 'hrf-derive-'));
    try {
      writeFileSync(path.join(dir, 'derive'), script);
      const groupKey = Buffer.from(Array.from({ length: 64 }, (_, i) => (i * 37 + 11) & 0xff)).toString(
        'base64',
      );
      for (const id of ['hrfgw000000', 'hrfgw00000a', 'plant-7']) {
        const out = execFileSync('sh', [path.join(dir, 'derive'), groupKey, id]).toString();
        expect({ id, key: out }).toEqual({ id, key: deriveDeviceKey(groupKey, id) });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("writes a config.toml that provisioning's own parser reads back as the instance's DPS settings", async () => {
    const script = blockOf(file, '/usr/local/sbin/hrf-provision');
    const heredoc = /cat > \/etc\/aziot\/config\.toml <<TOML\n([\s\S]*?)\nTOML\n/.exec(script)?.[1];
    expect(heredoc).toBeDefined();
    // The shell expands the heredoc exactly as on the instance, with this instance's values.
    const text = execFileSync('sh', ['-c', `cat <<TOML\n${heredoc}\nTOML\n`], {
      env: {
        PATH: process.env.PATH ?? '',
        GLOBAL_ENDPOINT: 'https://global.azure-devices-provisioning.net',
        ID_SCOPE: '0ne00ABCDEF',
        reg_id: 'hrfgw000001',
        device_key: 'ZGV2aWNlLWtleQ==',
      },
    }).toString();
    expect(await parseEdgeConfigToml(text)).toEqual({
      globalEndpoint: 'https://global.azure-devices-provisioning.net',
      idScope: '0ne00ABCDEF',
      registrationId: 'hrfgw000001',
      symmetricKey: 'ZGV2aWNlLWtleQ==',
    });
    expect(text).toContain(`image = "${EDGE_AGENT_IMAGE}"`);
  });

  it('passes the group key only through customData, and the instance deletes it after use', () => {
    const vmss = resource<{ properties: { virtualMachineProfile: { osProfile: { customData: string } } } }>(
      'Microsoft.Compute/virtualMachineScaleSets',
    );
    expect(vmss.properties.virtualMachineProfile.osProfile.customData).toContain(
      "parameters('enrollmentGroupKey')",
    );
    expect(file).toMatch(/rm -f \/etc\/hrf\/dps\.env/);
    expect(t.parameters.enrollmentGroupKey?.type).toBe('securestring');
  });
});
