/**
 * Drops the edgeAgent's registry credentials whose password is empty (`CONTAINER_REGISTRY_PASSWORD=` in .env, as
 * .env.example ships it): a public registry needs none, and IoT Edge refuses an empty password. With none left the
 * `registryCredentials` key goes too. Everything else is returned unchanged.
 */
export function dropEmptyRegistryCredentials(doc: Record<string, unknown>): Record<string, unknown> {
  const content = asRecord(doc['modulesContent']);
  const agentTwin = asRecord(content?.['$edgeAgent']);
  const desired = asRecord(agentTwin?.['properties.desired']);
  const runtime = asRecord(desired?.['runtime']);
  const settings = asRecord(runtime?.['settings']);
  const credentials = asRecord(settings?.['registryCredentials']);
  if (!content || !agentTwin || !desired || !runtime || !settings || !credentials) return doc;
  const kept = Object.entries(credentials).filter(([, c]) => asRecord(c)?.['password'] !== '');
  if (kept.length === Object.keys(credentials).length) return doc;
  const { registryCredentials: _dropped, ...otherSettings } = settings;
  const nextSettings =
    kept.length > 0 ? { ...otherSettings, registryCredentials: Object.fromEntries(kept) } : otherSettings;
  return {
    ...doc,
    modulesContent: {
      ...content,
      $edgeAgent: {
        ...agentTwin,
        'properties.desired': { ...desired, runtime: { ...runtime, settings: nextSettings } },
      },
    },
  };
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}
