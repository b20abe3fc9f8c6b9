import Ajv2020, { ErrorObject, ValidateFunction } from 'ajv/dist/2020';
import manifestSchema from '../../../deployment/schema/iot-edge-deployment.schema.json';
import { joinCreateOptions } from './create-options';
import { childPointer, ManifestProblem } from './errors';
import { parseRoute, routeText } from './routes';
import { checkTwinLimits } from './twin-limits';

const SCHEMA_ID = manifestSchema.$id;
const SYSTEM_MODULE_NAMES = new Set(['edgeAgent', 'edgeHub']);

let ajv: Ajv2020 | undefined;

function compiler(): Ajv2020 {
  // One compiler per process: compiling the schema is the slow part, validating is cheap.
  if (!ajv) {
    ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
    ajv.addSchema(manifestSchema);
  }
  return ajv;
}

function validator(ref: string): ValidateFunction {
  const fn = compiler().getSchema(ref);
  if (!fn) throw new Error(`schema ${ref} is missing`);
  return fn;
}

/**
 * Checks a generated deployment manifest against the IoT Edge rules: the JSON Schema under
 * deployment/schema/, then what a schema cannot say (route grammar, routes naming deployed modules,
 * createOptions chunks that join into JSON, twins for deployed modules only, twin depth and size,
 * placeholders left unexpanded). Returns every problem with its path; an empty list means valid.
 */
export function validateManifest(manifest: unknown): ManifestProblem[] {
  const validate = validator(SCHEMA_ID);
  const problems = validate(manifest) ? [] : fromAjv(validate.errors ?? [], '');
  problems.push(...findPlaceholders(manifest, ''));
  const content = objectAt(manifest, 'modulesContent');
  if (content) problems.push(...checkContent(content, '/modulesContent'));
  return dedupe(problems);
}

/**
 * Checks one `$edgeAgent` module entry (as a layered deployment writes it under
 * `properties.desired.modules.<name>`) against the same schema; `path` prefixes the problems.
 */
export function validateModuleEntry(entry: unknown, path: string): ManifestProblem[] {
  const validate = validator(`${SCHEMA_ID}#/$defs/module`);
  const problems = validate(entry) ? [] : fromAjv(validate.errors ?? [], path);
  const settings = objectAt(entry, 'settings');
  if (settings) problems.push(...checkCreateOptions(settings, childPointer(path, 'settings')));
  problems.push(...findPlaceholders(entry, path));
  return dedupe(problems);
}

function checkContent(content: Record<string, unknown>, path: string): ManifestProblem[] {
  const problems: ManifestProblem[] = [];
  const agentPath = childPointer(childPointer(path, '$edgeAgent'), 'properties.desired');
  const agent = objectAt(objectAt(content, '$edgeAgent'), 'properties.desired');
  const modules = objectAt(agent, 'modules') ?? {};
  const deployed = new Set(Object.keys(modules));

  for (const name of deployed) {
    if (SYSTEM_MODULE_NAMES.has(name)) {
      problems.push({
        path: childPointer(childPointer(agentPath, 'modules'), name),
        message: `"${name}" is a system module; declare it under systemModules`,
      });
    }
  }
  for (const [group, entries] of [
    ['systemModules', objectAt(agent, 'systemModules') ?? {}],
    ['modules', modules],
  ] as const) {
    for (const [name, entry] of Object.entries(entries)) {
      const settings = objectAt(entry, 'settings');
      if (settings) {
        const settingsPath = childPointer(childPointer(childPointer(agentPath, group), name), 'settings');
        problems.push(...checkCreateOptions(settings, settingsPath));
      }
    }
  }

  const hubPath = childPointer(childPointer(path, '$edgeHub'), 'properties.desired');
  const routes = objectAt(objectAt(objectAt(content, '$edgeHub'), 'properties.desired'), 'routes') ?? {};
  for (const [name, entry] of Object.entries(routes)) {
    const text = routeText(entry);
    if (text === undefined) continue; // the schema already reported the shape
    const routePath =
      typeof entry === 'string'
        ? childPointer(childPointer(hubPath, 'routes'), name)
        : childPointer(childPointer(childPointer(hubPath, 'routes'), name), 'route');
    const parsed = parseRoute(text);
    if (!parsed.ok) {
      problems.push({ path: routePath, message: `route syntax: ${parsed.error}` });
      continue;
    }
    for (const ref of [parsed.route.sourceModule, parsed.route.sinkModule]) {
      if (ref !== undefined && !deployed.has(ref)) {
        problems.push({
          path: routePath,
          message: `route names module "${ref}", which $edgeAgent does not deploy`,
        });
      }
    }
  }

  for (const [name, twin] of Object.entries(content)) {
    const twinPath = childPointer(path, name);
    if (!name.startsWith('$') && !deployed.has(name)) {
      problems.push({
        path: twinPath,
        message: `desired properties for module "${name}", which $edgeAgent does not deploy`,
      });
    }
    const desired = objectAt(twin, 'properties.desired');
    if (desired) problems.push(...checkTwinLimits(desired, childPointer(twinPath, 'properties.desired')));
  }
  return problems;
}

function checkCreateOptions(settings: Record<string, unknown>, path: string): ManifestProblem[] {
  const joined = joinCreateOptions(settings);
  if (joined === undefined || joined === '') return [];
  try {
    const parsed: unknown = JSON.parse(joined);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) return [];
  } catch {
    // reported below
  }
  return [
    {
      path: childPointer(path, 'createOptions'),
      message: 'createOptions (joined with its chunks) is not a JSON object',
    },
  ];
}

function findPlaceholders(value: unknown, path: string): ManifestProblem[] {
  const found: ManifestProblem[] = [];
  const visit = (v: unknown, p: string): void => {
    if (typeof v === 'string') {
      if (/\$\{[^}]*\}/.test(v)) found.push({ path: p, message: 'holds an unexpanded placeholder' });
    } else if (Array.isArray(v)) {
      v.forEach((item, i) => visit(item, childPointer(p, i)));
    } else if (v !== null && typeof v === 'object') {
      for (const [k, child] of Object.entries(v)) {
        if (/\$\{[^}]*\}/.test(k))
          found.push({ path: childPointer(p, k), message: 'key holds an unexpanded placeholder' });
        visit(child, childPointer(p, k));
      }
    }
  };
  visit(value, path);
  return found;
}

function fromAjv(errors: readonly ErrorObject[], prefix: string): ManifestProblem[] {
  const problems: ManifestProblem[] = [];
  for (const e of errors) {
    // if/then and propertyNames wrappers only repeat what the inner error already says.
    if (e.keyword === 'if' || e.keyword === 'propertyNames') continue;
    const at = prefix + e.instancePath;
    const params = e.params as Record<string, unknown>;
    switch (e.keyword) {
      case 'required':
        problems.push({ path: childPointer(at, String(params['missingProperty'])), message: 'is required' });
        break;
      case 'additionalProperties':
        problems.push({
          path: childPointer(at, String(params['additionalProperty'])),
          message: 'is not allowed here',
        });
        break;
      case 'enum':
        problems.push({
          path: at,
          message: `must be one of ${(params['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
        });
        break;
      case 'const':
        problems.push({ path: at, message: `must be ${JSON.stringify(params['allowedValue'])}` });
        break;
      case 'dependentRequired':
        problems.push({
          path: childPointer(at, String(params['property'])),
          message: `needs ${String(params['missingProperty'])} (chunks must not have gaps)`,
        });
        break;
      case 'not':
        problems.push({ path: at, message: 'mqttBroker needs $edgeHub schemaVersion 1.2' });
        break;
      default: {
        // Errors about a key (propertyNames) carry the key; point at it, not at its parent.
        const name = e.propertyName;
        const target = typeof name === 'string' ? childPointer(at, name) : at;
        problems.push({
          path: target,
          message:
            typeof name === 'string' ? `name ${e.message ?? 'is invalid'}` : (e.message ?? 'is invalid'),
        });
      }
    }
  }
  return problems;
}

function dedupe(problems: ManifestProblem[]): ManifestProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.path}\u0000${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function objectAt(value: unknown, key: string): Record<string, unknown> | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const child = (value as Record<string, unknown>)[key];
  return child !== null && typeof child === 'object' && !Array.isArray(child)
    ? (child as Record<string, unknown>)
    : undefined;
}
