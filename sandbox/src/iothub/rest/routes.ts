import { ConfigurationsService } from '../configurations-service';
import { IotHubError } from '../errors';
import { deviceView, identityEtag, moduleView, twinView } from '../identity';
import { isJsonObject, JsonObject, JsonValue } from '../json';
import { DirectMethods, MethodInvocation } from '../methods';
import { HubRight } from '../policies';
import { runQuery } from '../query/run';
import { Registry } from '../registry';
import { etagHeader, RestReply } from './http-io';

/** Everything a REST handler can reach. */
export interface RestContext {
  registry: Registry;
  configurations: ConfigurationsService;
  methods: DirectMethods;
}

/** One parsed request as handlers see it. */
export interface RestRequest {
  params: string[];
  body: JsonValue | undefined;
  query: URLSearchParams;
  header(name: string): string | undefined;
}

/** A REST route: method, path pattern, the rights that allow it, and its handler. */
export interface Route {
  method: string;
  pattern: RegExp;
  rights: readonly HubRight[];
  handle(ctx: RestContext, req: RestRequest): RestReply | Promise<RestReply>;
}

const SEG = '([^/]+)';
const READ: HubRight[] = ['RegistryRead'];
const WRITE: HubRight[] = ['RegistryWrite'];
const TWIN_READ: HubRight[] = ['RegistryRead', 'ServiceConnect'];
const TWIN_WRITE: HubRight[] = ['RegistryWrite', 'ServiceConnect'];

function route(method: string, path: string, rights: HubRight[], handle: Route['handle']): Route {
  return { method, pattern: new RegExp(`^${path}$`), rights, handle };
}

function objectBody(req: RestRequest): JsonObject {
  if (!isJsonObject(req.body)) throw new IotHubError('ArgumentInvalid', 'request body must be a JSON object');
  return req.body;
}

function p(req: RestRequest, i: number): string {
  return req.params[i] ?? '';
}

function twinReply(ctx: RestContext, deviceId: string, moduleId?: string): RestReply {
  const record = ctx.registry.getIdentity(deviceId, moduleId);
  const view = twinView(record, ctx.registry.getDeviceEntry(deviceId).device);
  return { status: 200, body: view, headers: etagHeader(String(view.etag)) };
}

function topParam(req: RestRequest): number | undefined {
  const top = req.query.get('top');
  return top === null ? undefined : Math.max(0, Number.parseInt(top, 10) || 0);
}

function invocation(req: RestRequest, deviceId: string, moduleId?: string): MethodInvocation {
  const body = objectBody(req);
  const num = (v: JsonValue | undefined, dflt: number) => (typeof v === 'number' ? v : dflt);
  const inv: MethodInvocation = {
    deviceId,
    methodName: typeof body.methodName === 'string' ? body.methodName : '',
    payload: body.payload ?? null,
    responseTimeoutSec: num(body.responseTimeoutInSeconds, 30),
    connectTimeoutSec: num(body.connectTimeoutInSeconds, 0),
  };
  return moduleId ? { ...inv, moduleId } : inv;
}

/** The REST API subset `azure-iothub` uses (api-version 2021-04-12), in match order. */
export const ROUTES: readonly Route[] = [
  route('POST', '/devices/query', TWIN_READ, (ctx, req) => {
    const body = objectBody(req);
    if (typeof body.query !== 'string') throw new IotHubError('ArgumentInvalid', 'query is required');
    const pageSize = Number.parseInt(req.header('x-ms-max-item-count') ?? '', 10);
    const token = req.header('x-ms-continuation');
    const page = runQuery(ctx.registry, body.query, {
      ...(Number.isFinite(pageSize) ? { pageSize } : {}),
      ...(token ? { continuationToken: token } : {}),
    });
    const headers: Record<string, string> = { 'x-ms-item-type': 'Twin' };
    if (page.continuationToken) headers['x-ms-continuation'] = page.continuationToken;
    return { status: 200, body: page.items, headers };
  }),
  route('GET', '/devices', READ, (ctx, req) => {
    const all = ctx.registry.listDevices().map(deviceView);
    const top = topParam(req);
    return { status: 200, body: top === undefined ? all : all.slice(0, top) };
  }),
  route('PUT', `/devices/${SEG}`, WRITE, (ctx, req) => {
    const { record } = ctx.registry.putDevice(p(req, 0), objectBody(req), req.header('if-match'));
    return { status: 200, body: deviceView(record), headers: etagHeader(identityEtag(record)) };
  }),
  route('GET', `/devices/${SEG}`, READ, (ctx, req) => {
    const record = ctx.registry.getDeviceEntry(p(req, 0)).device;
    return { status: 200, body: deviceView(record), headers: etagHeader(identityEtag(record)) };
  }),
  route('DELETE', `/devices/${SEG}`, WRITE, (ctx, req) => {
    ctx.registry.deleteDevice(p(req, 0), req.header('if-match'));
    return { status: 204 };
  }),
  route('GET', `/devices/${SEG}/modules`, READ, (ctx, req) => ({
    status: 200,
    body: ctx.registry.listModules(p(req, 0)).map(moduleView),
  })),
  route('PUT', `/devices/${SEG}/modules/${SEG}`, WRITE, (ctx, req) => {
    const { record } = ctx.registry.putModule(p(req, 0), p(req, 1), objectBody(req), req.header('if-match'));
    return { status: 200, body: moduleView(record), headers: etagHeader(identityEtag(record)) };
  }),
  route('GET', `/devices/${SEG}/modules/${SEG}`, READ, (ctx, req) => {
    const record = ctx.registry.getModule(p(req, 0), p(req, 1));
    return { status: 200, body: moduleView(record), headers: etagHeader(identityEtag(record)) };
  }),
  route('DELETE', `/devices/${SEG}/modules/${SEG}`, WRITE, (ctx, req) => {
    ctx.registry.deleteModule(p(req, 0), p(req, 1), req.header('if-match'));
    return { status: 204 };
  }),
  route('POST', `/devices/${SEG}/applyConfigurationContent`, WRITE, (ctx, req) => {
    ctx.configurations.applyContentOnDevice(p(req, 0), objectBody(req));
    return { status: 204 };
  }),
  route('GET', `/twins/${SEG}`, TWIN_READ, (ctx, req) => twinReply(ctx, p(req, 0))),
  route('PATCH', `/twins/${SEG}`, TWIN_WRITE, (ctx, req) => {
    ctx.registry.patchTwin(p(req, 0), undefined, objectBody(req), req.header('if-match'));
    return twinReply(ctx, p(req, 0));
  }),
  route('PUT', `/twins/${SEG}`, TWIN_WRITE, (ctx, req) => {
    ctx.registry.replaceTwin(p(req, 0), undefined, objectBody(req), req.header('if-match'));
    return twinReply(ctx, p(req, 0));
  }),
  route('GET', `/twins/${SEG}/modules/${SEG}`, TWIN_READ, (ctx, req) => twinReply(ctx, p(req, 0), p(req, 1))),
  route('PATCH', `/twins/${SEG}/modules/${SEG}`, TWIN_WRITE, (ctx, req) => {
    ctx.registry.patchTwin(p(req, 0), p(req, 1), objectBody(req), req.header('if-match'));
    return twinReply(ctx, p(req, 0), p(req, 1));
  }),
  route('PUT', `/twins/${SEG}/modules/${SEG}`, TWIN_WRITE, (ctx, req) => {
    ctx.registry.replaceTwin(p(req, 0), p(req, 1), objectBody(req), req.header('if-match'));
    return twinReply(ctx, p(req, 0), p(req, 1));
  }),
  route('POST', `/twins/${SEG}/methods`, ['ServiceConnect'], async (ctx, req) => {
    ctx.registry.getDeviceEntry(p(req, 0));
    const result = await ctx.methods.invoke(invocation(req, p(req, 0)));
    return { status: 200, body: { status: result.status, payload: result.payload } };
  }),
  route('POST', `/twins/${SEG}/modules/${SEG}/methods`, ['ServiceConnect'], async (ctx, req) => {
    ctx.registry.getModule(p(req, 0), p(req, 1));
    const result = await ctx.methods.invoke(invocation(req, p(req, 0), p(req, 1)));
    return { status: 200, body: { status: result.status, payload: result.payload } };
  }),
  route('GET', '/configurations', READ, (ctx, req) => ({
    status: 200,
    body: ctx.configurations.list(topParam(req)),
  })),
  route('PUT', `/configurations/${SEG}`, WRITE, (ctx, req) => {
    const view = ctx.configurations.put(p(req, 0), objectBody(req), req.header('if-match'));
    return { status: 200, body: view, headers: etagHeader(String(view.etag)) };
  }),
  route('GET', `/configurations/${SEG}`, READ, (ctx, req) => {
    const view = ctx.configurations.get(p(req, 0));
    return { status: 200, body: view, headers: etagHeader(String(view.etag)) };
  }),
  route('DELETE', `/configurations/${SEG}`, WRITE, (ctx, req) => {
    ctx.configurations.delete(p(req, 0), req.header('if-match'));
    return { status: 204 };
  }),
  route('GET', '/statistics/devices', READ, (ctx) => {
    const devices = ctx.registry.listDevices();
    const enabled = devices.filter((d) => d.status === 'enabled').length;
    return {
      status: 200,
      body: {
        totalDeviceCount: devices.length,
        enabledDeviceCount: enabled,
        disabledDeviceCount: devices.length - enabled,
      },
    };
  }),
  route('GET', '/statistics/service', READ, (ctx) => ({
    status: 200,
    body: {
      connectedDeviceCount: ctx.registry.listDevices().filter((d) => d.connectionState === 'Connected')
        .length,
    },
  })),
];
