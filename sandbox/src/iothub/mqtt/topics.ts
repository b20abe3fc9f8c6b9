/** What a device or module published, decoded from the MQTT topic. */
export type InboundTopic =
  | { kind: 'twinGet'; rid: string }
  | { kind: 'twinReported'; rid: string }
  | { kind: 'methodResponse'; rid: string; status: number }
  | { kind: 'telemetry'; deviceId: string; moduleId?: string; properties: Record<string, string> };

/** Splits `path/?a=1&b=2` into the path and its decoded query parameters. */
function splitQuery(topic: string): { path: string; query: Record<string, string> } | undefined {
  const q = topic.indexOf('?');
  const path = q < 0 ? topic : topic.slice(0, q);
  const query = q < 0 ? {} : parsePropertyBag(topic.slice(q + 1));
  return query ? { path, query } : undefined;
}

/** Decodes an IoT Hub property bag (`k=v&k2=v2`, URL-encoded); undefined when malformed. */
export function parsePropertyBag(bag: string): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  if (bag === '') return out;
  try {
    for (const pair of bag.split('&')) {
      if (pair === '') continue;
      const eq = pair.indexOf('=');
      const key = decodeURIComponent(eq < 0 ? pair : pair.slice(0, eq));
      out[key] = eq < 0 ? '' : decodeURIComponent(pair.slice(eq + 1).replace(/\+/g, ' '));
    }
  } catch {
    return undefined;
  }
  return out;
}

/** Decodes a topic a client published to; undefined for topics IoT Hub does not accept. */
export function parseInboundTopic(topic: string): InboundTopic | undefined {
  if (topic.startsWith('$iothub/')) {
    const split = splitQuery(topic);
    if (!split) return undefined;
    const rid = split.query.$rid;
    if (rid === undefined || rid === '') return undefined;
    const path = split.path.replace(/\/$/, '');
    if (path === '$iothub/twin/GET') return { kind: 'twinGet', rid };
    if (path === '$iothub/twin/PATCH/properties/reported') return { kind: 'twinReported', rid };
    const m = /^\$iothub\/methods\/res\/(\d{3})$/.exec(path);
    if (m) return { kind: 'methodResponse', rid, status: Number(m[1]) };
    return undefined;
  }
  const m = /^devices\/([^/]+)\/(?:modules\/([^/]+)\/)?messages\/events(?:\/(.*))?$/.exec(topic);
  if (!m) return undefined;
  const properties = parsePropertyBag((m[3] ?? '').replace(/\/$/, ''));
  if (!properties) return undefined;
  const deviceId = decodeURIComponent(m[1] ?? '');
  return m[2] !== undefined
    ? { kind: 'telemetry', deviceId, moduleId: decodeURIComponent(m[2]), properties }
    : { kind: 'telemetry', deviceId, properties };
}

/** Response topic for a twin request. */
export function twinResponseTopic(status: number, rid: string, version?: number): string {
  return `$iothub/twin/res/${status}/?$rid=${encodeURIComponent(rid)}${version === undefined ? '' : `&$version=${version}`}`;
}

/** Topic of a desired-properties patch notification. */
export function desiredPatchTopic(version: number): string {
  return `$iothub/twin/PATCH/properties/desired/?$version=${version}`;
}

/** Topic of a direct method request. */
export function methodRequestTopic(methodName: string, rid: string): string {
  return `$iothub/methods/POST/${methodName}/?$rid=${encodeURIComponent(rid)}`;
}

/** Topic filters a client may subscribe to, per IoT Hub's MQTT support. */
export function allowedFilters(deviceId: string, moduleId?: string): string[] {
  const common = ['$iothub/twin/res/#', '$iothub/twin/PATCH/properties/desired/#', '$iothub/methods/POST/#'];
  return moduleId
    ? [...common, `devices/${deviceId}/modules/${moduleId}/inputs/#`]
    : [...common, `devices/${deviceId}/messages/devicebound/#`];
}

/** MQTT topic filter matching (`+` one level, `#` the rest). */
export function filterMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i += 1) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}
