/**
 * What an ARM linter (arm-ttk, Bicep's linter) would check in infra/, plus the fleet's own rules: every parameter
 * and variable used; apiVersions pinned, stable, and less than two years old unless no newer stable one exists
 * (tested against today = 2026-12-06); no secret in an output or a default; resource names within Azure's
 * length and character rules; the gateway pool's port range from one pair of parameters for the load balancer,
 * the NSG and the controller's pool settings.
 */
import {
  readJson,
  stringsIn,
  evaluate,
  type ArmTemplate,
  type ArmResource,
} from '../../support/arm-template';

const TEMPLATES = ['infra/fleet.json', 'infra/gateway-pool.json'];
const TODAY = new Date('2026-12-06T00:00:00Z');
const TWO_YEARS_AGO = new Date(TODAY.getTime());
TWO_YEARS_AGO.setUTCFullYear(TODAY.getUTCFullYear() - 2);
const VERSIONS = readJson<{ versions: Record<string, string[]> }>('infra/schemas/api-versions.json').versions;

/** Azure's naming rules ("Naming rules and restrictions for Azure resources"), as length bounds and a pattern. */
const NAME_RULES: Record<string, { min: number; max: number; pattern: RegExp }> = {
  'microsoft.relay/namespaces': { min: 6, max: 50, pattern: /^[A-Za-z][A-Za-z0-9-]*[A-Za-z0-9]$/ },
  'microsoft.devices/iothubs': { min: 3, max: 50, pattern: /^[A-Za-z0-9-]*[A-Za-z0-9]$/ },
  'microsoft.devices/provisioningservices': { min: 3, max: 64, pattern: /^[A-Za-z0-9-]*[A-Za-z0-9]$/ },
  'microsoft.operationalinsights/workspaces': {
    min: 4,
    max: 63,
    pattern: /^[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9]$/,
  },
  'microsoft.insights/components': { min: 1, max: 260, pattern: /^[^%&\\?/]*[^ .]$/ },
  'microsoft.managedidentity/userassignedidentities': {
    min: 3,
    max: 128,
    pattern: /^[A-Za-z0-9][A-Za-z0-9_-]*$/,
  },
  'microsoft.authorization/roledefinitions': { min: 36, max: 36, pattern: /^[0-9a-f-]{36}$/ },
  'microsoft.authorization/roleassignments': { min: 36, max: 36, pattern: /^[0-9a-f-]{36}$/ },
  'microsoft.network/networksecuritygroups': {
    min: 1,
    max: 80,
    pattern: /^[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$/,
  },
  'microsoft.network/virtualnetworks': {
    min: 2,
    max: 64,
    pattern: /^[A-Za-z0-9][A-Za-z0-9_.-]*[A-Za-z0-9_]$/,
  },
  'microsoft.network/publicipaddresses': {
    min: 1,
    max: 80,
    pattern: /^[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$/,
  },
  'microsoft.network/loadbalancers': {
    min: 1,
    max: 80,
    pattern: /^[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$/,
  },
  'microsoft.compute/virtualmachinescalesets': {
    min: 1,
    max: 64,
    pattern: /^[A-Za-z0-9][A-Za-z0-9.-]*[A-Za-z0-9]$/,
  },
};

/** Parameter values to name things with: the defaults, and the longest prefix the parameter allows. */
function parameterSets(t: ArmTemplate): Parameters<typeof evaluate>[2][] {
  const defaults = Object.fromEntries(
    Object.entries(t.parameters)
      .filter(
        ([, p]) =>
          p.defaultValue !== undefined &&
          !(typeof p.defaultValue === 'string' && p.defaultValue.startsWith('[')),
      )
      .map(([name, p]) => [name, p.defaultValue as string]),
  );
  // Copy loops run to their largest count: the most namespaces fleet.json allows.
  const most = t.parameters.relayNamespaces?.maxLength;
  const longest = {
    ...defaults,
    namePrefix: 'a'.repeat(t.parameters.namePrefix?.maxLength ?? 3),
    ...(most !== undefined && { relayNamespaces: Array.from({ length: most }, () => ({})) }),
  };
  return [defaults, longest];
}

describe.each(TEMPLATES)('%s (linter checks)', (file) => {
  const t = readJson<ArmTemplate>(file);
  const body = JSON.stringify({ variables: t.variables, resources: t.resources, outputs: t.outputs });

  it('uses every parameter and every variable', () => {
    const unusedParameters = Object.keys(t.parameters).filter((p) => !body.includes(`parameters('${p}')`));
    const unusedVariables = Object.keys(t.variables)
      .filter((v) => v !== 'copy')
      .filter((v) => !body.replace(`"${v}":`, '').includes(`variables('${v}')`));
    expect({ unusedParameters, unusedVariables }).toEqual({ unusedParameters: [], unusedVariables: [] });
  });

  it.each(t.resources.map((r) => [r.type, r.apiVersion] as const))(
    '%s@%s is pinned, stable and recent (or the newest stable one published)',
    (type, apiVersion) => {
      expect(apiVersion).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      const published = VERSIONS[type.toLowerCase()] ?? [];
      expect(published).toContain(apiVersion);
      const newestStable = published.filter((v) => /^\d{4}-\d{2}-\d{2}$/.test(v)).at(-1);
      const recent = new Date(`${apiVersion}T00:00:00Z`) >= TWO_YEARS_AGO;
      expect({ apiVersion, recentOrNewest: recent || apiVersion === newestStable }).toEqual({
        apiVersion,
        recentOrNewest: true,
      });
    },
  );

  it('calls reference() and listKeys() with the apiVersion its resource is deployed with', () => {
    const pinned = new Map(t.resources.map((r) => [r.type.toLowerCase(), r.apiVersion]));
    const calls = [
      ...body.matchAll(/(?:reference|listKeys)\(resourceId\('([^']+)',(?:[^()]|\([^()]*\))*\), '([^']+)'\)/g),
    ];
    expect(calls.length).toBeGreaterThan(0);
    for (const [, type = '', version] of calls) {
      const base = type.toLowerCase().split('/').slice(0, 2).join('/');
      expect({ type, version }).toEqual({ type, version: pinned.get(base) });
    }
  });

  it('has no secret in an output or a parameter default', () => {
    for (const [name, p] of Object.entries(t.parameters)) {
      if (/secure/i.test(p.type))
        expect({ name, defaultValue: p.defaultValue }).toEqual({ name, defaultValue: undefined });
      else
        expect({ name, looksSecret: /password|secret|(?<!public)key$|connectionstring/i.test(name) }).toEqual(
          {
            name,
            looksSecret: false,
          },
        );
    }
    const secureParams = Object.entries(t.parameters)
      .filter(([, p]) => /secure/i.test(p.type))
      .map(([n]) => n);
    for (const [name, output] of Object.entries(t.outputs)) {
      const text = JSON.stringify(output.value);
      expect({
        name,
        secureType: /secure/i.test(output.type),
        callsList: /\blist[A-Za-z]*\(/.test(text),
        secretName: /password|secret|key$|connectionstring/i.test(name),
        secureParam: secureParams.some((p) => text.includes(`parameters('${p}')`)),
      }).toEqual({ name, secureType: false, callsList: false, secretName: false, secureParam: false });
    }
  });

  it.each(parameterSets(t).map((params, i) => [i === 0 ? 'defaults' : 'longest prefix', params] as const))(
    'names every resource within Azure rules (%s)',
    (_label, params) => {
      const problems: string[] = [];
      for (const r of t.resources as ArmResource[]) {
        const rule = NAME_RULES[r.type.toLowerCase()];
        if (!rule) {
          problems.push(`${r.type}: no naming rule in this test`);
          continue;
        }
        // A copy loop names one resource per index.
        const copy = r.copy as { count: string } | undefined;
        const count = copy ? Number(evaluate(t, copy.count, params)) : 1;
        const names = Array.from({ length: count }, (_, i) =>
          String(evaluate(t, r.name, copy ? { ...params, $copyIndex: i } : params)),
        );
        for (const name of names)
          if (name.length < rule.min || name.length > rule.max || !rule.pattern.test(name))
            problems.push(`${r.type} "${name}" breaks ${rule.min}-${rule.max} ${rule.pattern}`);
        if (new Set(names).size !== names.length) problems.push(`${r.type}: a copy loop repeats a name`);
      }
      expect(problems).toEqual([]);
    },
  );

  it('has no literal secret-looking value anywhere', () => {
    const suspicious = stringsIn(t).filter((s) => /SharedAccessKey=[A-Za-z0-9+/]{20,}|-----BEGIN/.test(s));
    expect(suspicious).toEqual([]);
  });
});
