import { DeviceAuthSuccess } from '../auth';
import { toIotHubError } from '../errors';
import { identityKey } from '../identity';
import { isJsonObject, JsonObject } from '../json';
import { MessageFeed } from '../message-feed';
import { DirectMethods } from '../methods';
import { Registry } from '../registry';
import { deviceTwinDocument } from '../twin';
import { parseInboundTopic, twinResponseTopic } from './topics';

/** What the hub does with one PUBLISH from a device or module. */
export type PublishOutcome =
  { kind: 'accepted'; reply?: { topic: string; payload: Buffer } } | { kind: 'refused'; reason: string };

/** Services a device publish may touch. */
export interface DeviceRequestContext {
  registry: Registry;
  feed: MessageFeed;
  methods: DirectMethods;
}

/** IoT Hub's device-to-cloud message size limit. */
export const MAX_D2C_BYTES = 256 * 1024;

/**
 * Handles one PUBLISH from an authenticated client: twin GET, reported patch, method response, telemetry or
 * module output event. Topics a client may not use are refused (IoT Hub then closes the connection).
 */
export function handleDevicePublish(
  ctx: DeviceRequestContext,
  who: DeviceAuthSuccess,
  topic: string,
  payload: Buffer,
): PublishOutcome {
  const parsed = parseInboundTopic(topic);
  if (!parsed) return { kind: 'refused', reason: `topic '${topic}' is not allowed` };
  ctx.registry.touch(who.deviceId, who.moduleId);
  switch (parsed.kind) {
    case 'twinGet': {
      const record = ctx.registry.getIdentity(who.deviceId, who.moduleId);
      return reply(twinResponseTopic(200, parsed.rid), JSON.stringify(deviceTwinDocument(record.twin)));
    }
    case 'twinReported':
      try {
        const patch = JSON.parse(payload.toString('utf8')) as unknown;
        if (!isJsonObject(patch))
          return twinError(parsed.rid, 400, 400004, 'reported patch must be a JSON object');
        const version = ctx.registry.reportFromDevice(who.deviceId, who.moduleId, patch as JsonObject);
        return reply(twinResponseTopic(204, parsed.rid, version), '');
      } catch (err) {
        if (err instanceof SyntaxError)
          return twinError(parsed.rid, 400, 400004, 'reported patch is not valid JSON');
        const e = toIotHubError(err);
        return twinError(parsed.rid, e.status, e.numericCode, e.message);
      }
    case 'methodResponse':
      ctx.methods.onResponse(identityKey(who.deviceId, who.moduleId), parsed.rid, parsed.status, payload);
      return { kind: 'accepted' };
    case 'telemetry': {
      if (parsed.deviceId !== who.deviceId || parsed.moduleId !== who.moduleId) {
        return { kind: 'refused', reason: `a client may only send as itself, not to '${topic}'` };
      }
      if (payload.length > MAX_D2C_BYTES) return { kind: 'refused', reason: 'message above 256 KB' };
      const properties: Record<string, string> = {};
      const systemProperties: Record<string, string> = {};
      for (const [k, v] of Object.entries(parsed.properties)) {
        if (k.startsWith('$.')) systemProperties[k.slice(2)] = v;
        else properties[k] = v;
      }
      ctx.feed.push({
        deviceId: who.deviceId,
        ...(who.moduleId ? { moduleId: who.moduleId } : {}),
        ...(systemProperties.on ? { outputName: systemProperties.on } : {}),
        body: Buffer.from(payload),
        properties,
        systemProperties,
        enqueuedTimeUtc: new Date().toISOString(),
      });
      return { kind: 'accepted' };
    }
  }
}

function reply(topic: string, body: string): PublishOutcome {
  return { kind: 'accepted', reply: { topic, payload: Buffer.from(body) } };
}

function twinError(rid: string, status: number, errorCode: number, message: string): PublishOutcome {
  // The SDK fails the request when the response body carries `errorCode`, whatever the status says.
  return reply(twinResponseTopic(status, rid), JSON.stringify({ errorCode, message }));
}
