/**
 * Vendors the slices of the published ARM schemas that tests/unit/infra needs, from a clone of
 * github.com/Azure/azure-resource-manager-schemas:
 *
 *   npx ts-node --transpile-only infra/schemas/vendor.ts /path/to/azure-resource-manager-schemas
 *   npx prettier --write infra/schemas
 *
 * For every resource type the templates use, it copies that type's `resourceDefinitions` entry and the
 * transitive closure of definitions it references (in its file, in common/definitions.json and in any other
 * schema file), unchanged; plus deploymentTemplate.json and deploymentParameters.json whole. The provider
 * files are 0.3-1 MB each upstream, the slices a few KB. It also lists every apiVersion the repository
 * publishes for those types (api-versions.json), for the "recent or newest" apiVersion rule. SOURCES.json
 * records the commit and each file's git blob id.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Resource types by the schema file (upstream path) that defines them at the apiVersion the templates pin. */
const NEEDED: Record<string, string[]> = {
  'schemas/2024-01-01/Microsoft.Relay.json': ['namespaces'],
  'schemas/2023-06-30/Microsoft.Devices.json': ['IotHubs'],
  'schemas/2022-12-12/Microsoft.Devices.json': ['provisioningServices'],
  'schemas/2025-07-01/Microsoft.OperationalInsights.json': ['workspaces'],
  'schemas/2020-02-02/Microsoft.Insights.Application.json': ['components'],
  'schemas/2024-11-30/Microsoft.ManagedIdentity.json': ['userAssignedIdentities'],
  'schemas/2022-04-01/Microsoft.Authorization.json': ['roleAssignments', 'roleDefinitions'],
  'schemas/2025-07-01/Microsoft.Network.NRP.json': [
    'networkSecurityGroups',
    'virtualNetworks',
    'publicIPAddresses',
    'loadBalancers',
  ],
  'schemas/2025-04-01/Microsoft.Compute.json': ['virtualMachineScaleSets'],
};
const WHOLE = ['schemas/2019-04-01/deploymentTemplate.json', 'schemas/2019-04-01/deploymentParameters.json'];
const BASE = 'https://schema.management.azure.com/';
const OUT = path.join(__dirname);

type Json = Record<string, unknown>;

function main(repo: string): void {
  const git = (...args: string[]) =>
    execFileSync('git', ['-C', repo, ...args], { maxBuffer: 1 << 30 }).toString();
  const commit = git('rev-parse', 'HEAD').trim();
  const cache = new Map<string, Json>();
  const load = (file: string): Json => {
    let doc = cache.get(file);
    if (!doc) cache.set(file, (doc = JSON.parse(git('show', `${commit}:${file}`)) as Json));
    return doc;
  };
  // file → set of JSON pointers (e.g. "/definitions/X") to keep
  const keep = new Map<string, Set<string>>();
  const queue: [string, string][] = [];
  const want = (file: string, pointer: string) => {
    const set = keep.get(file) ?? new Set<string>();
    keep.set(file, set);
    if (!set.has(pointer)) {
      set.add(pointer);
      queue.push([file, pointer]);
    }
  };
  for (const [file, types] of Object.entries(NEEDED))
    for (const t of types) want(file, `/resourceDefinitions/${t}`);
  while (queue.length > 0) {
    const [file, pointer] = queue.shift() as [string, string];
    const node = at(load(file), pointer);
    if (node === undefined) throw new Error(`${file}#${pointer} does not exist`);
    for (const ref of refsIn(node)) {
      const [target, frag = ''] = ref.split('#');
      const targetFile = target ? target.replace(BASE, '') : file;
      if (frag) want(targetFile, frag);
    }
  }
  const sources: Json[] = [];
  const write = (file: string, doc: Json) => {
    const dest = path.join(OUT, file.replace(/^schemas\//, ''));
    mkdirSync(path.dirname(dest), { recursive: true });
    writeFileSync(dest, `${JSON.stringify(doc, null, 2)}\n`);
    sources.push({
      file: path.relative(OUT, dest),
      upstream: `https://github.com/Azure/azure-resource-manager-schemas/blob/${commit}/${file}`,
      url: `${BASE}${file}`,
      blob: git('rev-parse', `${commit}:${file}`).trim(),
      ...(WHOLE.includes(file)
        ? { content: 'whole file' }
        : { content: 'slice', kept: [...(keep.get(file) ?? [])].sort() }),
    });
  };
  for (const file of WHOLE) write(file, load(file));
  for (const [file, pointers] of keep) {
    const src = load(file);
    const doc: Json = {};
    for (const key of ['id', '$schema', 'title', 'description']) if (key in src) doc[key] = src[key];
    for (const pointer of [...pointers].sort()) {
      const [, section = '', name = ''] = pointer.split('/');
      const bucket = (doc[section] ??= {}) as Json;
      bucket[name] = at(src, pointer);
    }
    write(file, doc);
  }
  // Every apiVersion the repository publishes for the types used (from each dated folder's resourceDefinitions).
  const versions: Record<string, string[]> = {};
  const typeOf = (provider: string, def: string) => `${provider}/${def.replace(/_/g, '/')}`.toLowerCase();
  const wanted = new Set(
    Object.entries(NEEDED).flatMap(([file, types]) =>
      types.map((t) => typeOf(providerOf(load(file), file), t)),
    ),
  );
  const files = git('ls-tree', '-r', '--name-only', commit, 'schemas')
    .split('\n')
    .filter((f) =>
      /^schemas\/\d{4}-\d{2}-\d{2}[^/]*\/Microsoft\.(Relay|Devices|OperationalInsights|Insights|ManagedIdentity|Authorization|Network|Compute)[^/]*\.json$/.test(
        f,
      ),
    );
  for (const file of files) {
    let doc: Json;
    try {
      doc = JSON.parse(git('show', `${commit}:${file}`)) as Json;
    } catch {
      continue; // an LFS pointer or a file too large for this clone
    }
    const provider = providerOf(doc, file);
    const apiVersion = file.split('/')[1] as string;
    for (const def of Object.keys((doc.resourceDefinitions as Json | undefined) ?? {})) {
      const type = typeOf(provider, def);
      if (wanted.has(type)) (versions[type] ??= []).push(apiVersion);
    }
  }
  for (const list of Object.values(versions)) list.sort();
  writeFileSync(
    path.join(OUT, 'api-versions.json'),
    `${JSON.stringify({ commit, note: 'apiVersions with a schema in Azure/azure-resource-manager-schemas at this commit', versions }, null, 2)}\n`,
  );
  writeFileSync(
    path.join(OUT, 'SOURCES.json'),
    `${JSON.stringify({ repository: 'https://github.com/Azure/azure-resource-manager-schemas', commit, generator: 'infra/schemas/vendor.ts', files: sources }, null, 2)}\n`,
  );
}

function providerOf(doc: Json, file: string): string {
  // Resource definitions name their type in properties.type.enum, e.g. "Microsoft.Relay/namespaces".
  for (const def of Object.values((doc.resourceDefinitions as Json | undefined) ?? {})) {
    const e = ((def as Json).properties as Json | undefined)?.type as Json | undefined;
    const value = (e?.enum as string[] | undefined)?.[0];
    if (value) return value.split('/')[0] as string;
  }
  return path.basename(file, '.json').split('.').slice(0, 2).join('.');
}

function at(doc: unknown, pointer: string): unknown {
  return pointer
    .split('/')
    .slice(1)
    .reduce<unknown>(
      (node, key) => (node as Json | undefined)?.[key.replace(/~1/g, '/').replace(/~0/g, '~')],
      doc,
    );
}

function refsIn(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((n) => refsIn(n, out));
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else refsIn(v, out);
    }
  }
  return out;
}

main(process.argv[2] ?? '.');
