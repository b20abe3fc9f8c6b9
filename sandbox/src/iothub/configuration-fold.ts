import { ConfigurationRecord, isLayered } from './configuration';
import { cloneJson, isJsonObject, JsonObject, setAtPath } from './json';

const DESIRED = 'properties.desired';

/** One configuration's content for one twin. */
export interface Contribution {
  config: ConfigurationRecord;
  entry: JsonObject;
}

/** The desired document configurations produce for a twin, and which of them were applied or only targeted. */
export interface FoldResult {
  desired?: JsonObject;
  applied: string[];
  targeted: string[];
}

/** Orders configurations by precedence: higher priority wins; at equal priority the newest wins. */
export function compareConfigurations(a: ConfigurationRecord, b: ConfigurationRecord): number {
  return (
    a.priority - b.priority || a.createdTimeUtc.localeCompare(b.createdTimeUtc) || a.id.localeCompare(b.id)
  );
}

/**
 * Folds the configurations that target a twin into its desired document, following IoT Edge's rules:
 * among standard (base) configurations only the highest-priority one applies; layered configurations
 * (`properties.desired.<path>` entries) that outrank the base then apply in ascending priority on top of it,
 * so a higher priority always has the last word; lower layers are only "targeted". A layered configuration's
 * whole `properties.desired` replaces all lower-priority content. Returns no `desired` when nothing has content for the twin.
 */
export function foldContributions(contributions: readonly Contribution[]): FoldResult {
  const targeted = contributions.map((c) => c.config.id);
  const bases = contributions
    .filter((c) => !isLayered(c.config))
    .sort((a, b) => compareConfigurations(a.config, b.config));
  const winner = bases[bases.length - 1];
  // IoT Edge requires a layer to outrank the base it builds on; a lower one would be overwritten anyway.
  const layered = contributions.filter(
    (c) => isLayered(c.config) && (!winner || compareConfigurations(c.config, winner.config) > 0),
  );
  const ordered = [...(winner ? [winner] : []), ...layered].sort((a, b) =>
    compareConfigurations(a.config, b.config),
  );
  if (ordered.length === 0) return { applied: [], targeted };
  let desired: JsonObject = {};
  for (const { entry } of ordered) {
    const whole = entry[DESIRED];
    if (isJsonObject(whole)) desired = cloneJson(whole);
    for (const [key, value] of Object.entries(entry)) {
      if (key.startsWith(`${DESIRED}.`)) setAtPath(desired, key.slice(DESIRED.length + 1).split('.'), value);
    }
  }
  return { desired, applied: ordered.map((c) => c.config.id), targeted };
}
