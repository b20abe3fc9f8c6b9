import type { EnrollmentGroups } from './enrollments';
import { DpsError } from './errors';
import type { HttpReply } from './http-io';
import { registrationStateView, type RegistrationService } from './registration-service';
import type { Registrations } from './registrations';

/** What route handlers work with. */
export interface RouteContext {
  readonly registration: RegistrationService;
  readonly groups: EnrollmentGroups;
  readonly registrations: Registrations;
}

/** A request as handlers see it. */
export interface RouteRequest {
  readonly params: readonly string[];
  readonly body: unknown;
  header(name: string): string | undefined;
}

/** One route: who may call it (a device with its own token, or a service policy) and what it does. */
export interface Route {
  readonly method: string;
  readonly pattern: RegExp;
  readonly caller: 'device' | 'service';
  handle(ctx: RouteContext, req: RouteRequest): HttpReply;
}

/** Largest page of a service query. */
const MAX_PAGE = 1000;

const operationReply = (r: ReturnType<RegistrationService['register']>): HttpReply => ({
  status: r.status,
  body: r.body,
  ...(r.retryAfterSeconds !== undefined && { headers: { 'retry-after': String(r.retryAfterSeconds) } }),
});

const device = (req: RouteRequest) => ({
  idScope: req.params[0] ?? '',
  registrationId: req.params[1] ?? '',
  token: req.header('authorization'),
});

/** Device API (`2019-03-31`) and service API (`2021-10-01`) routes, matched without case on the path. */
export const ROUTES: readonly Route[] = [
  {
    method: 'PUT',
    pattern: /^\/([^/]+)\/registrations\/([^/]+)\/register$/i,
    caller: 'device',
    handle: (ctx, req) => operationReply(ctx.registration.register(device(req), req.body)),
  },
  {
    method: 'GET',
    pattern: /^\/([^/]+)\/registrations\/([^/]+)\/operations\/([^/]+)$/i,
    caller: 'device',
    handle: (ctx, req) => operationReply(ctx.registration.operationStatus(device(req), req.params[2] ?? '')),
  },
  {
    method: 'POST',
    pattern: /^\/enrollmentGroups\/query$/i,
    caller: 'service',
    handle: (ctx, req) =>
      page(
        ctx.groups.list().map((g) => structuredClone(g)),
        req,
      ),
  },
  {
    method: 'PUT',
    pattern: /^\/enrollmentGroups\/([^/]+)$/i,
    caller: 'service',
    handle: (ctx, req) => {
      const { record } = ctx.groups.put(req.params[0] ?? '', req.body, req.header('if-match'));
      return { status: 200, body: record, headers: { etag: `"${record.etag}"` } };
    },
  },
  {
    method: 'GET',
    pattern: /^\/enrollmentGroups\/([^/]+)$/i,
    caller: 'service',
    handle: (ctx, req) => {
      const record = ctx.groups.get(req.params[0] ?? '');
      return { status: 200, body: record, headers: { etag: `"${record.etag}"` } };
    },
  },
  {
    method: 'DELETE',
    pattern: /^\/enrollmentGroups\/([^/]+)$/i,
    caller: 'service',
    handle: (ctx, req) => {
      const removed = ctx.groups.delete(req.params[0] ?? '', req.header('if-match'));
      ctx.registrations.deleteGroup(removed.enrollmentGroupId);
      return { status: 204 };
    },
  },
  {
    method: 'POST',
    pattern: /^\/enrollmentGroups\/([^/]+)\/attestationmechanism$/i,
    caller: 'service',
    handle: (ctx, req) => ({ status: 200, body: ctx.groups.get(req.params[0] ?? '').attestation }),
  },
  {
    method: 'POST',
    pattern: /^\/registrations\/([^/]+)\/query$/i,
    caller: 'service',
    handle: (ctx, req) => {
      ctx.groups.get(req.params[0] ?? '');
      return page(ctx.registrations.ofGroup(req.params[0] ?? '').map(registrationStateView), req);
    },
  },
  {
    method: 'GET',
    pattern: /^\/registrations\/([^/]+)$/i,
    caller: 'service',
    handle: (ctx, req) => {
      const r = ctx.registrations.get(req.params[0] ?? '');
      return { status: 200, body: registrationStateView(r), headers: { etag: `"${r.etag}"` } };
    },
  },
  {
    method: 'DELETE',
    pattern: /^\/registrations\/([^/]+)$/i,
    caller: 'service',
    handle: (ctx, req) => {
      const ifMatch = req.header('if-match')?.replace(/^"(.*)"$/, '$1');
      ctx.registrations.delete(req.params[0] ?? '', ifMatch);
      return { status: 204 };
    },
  },
];

/** Paths the sandbox knows but does not serve (individual enrollments), answered with a clear 404. */
export const UNSERVED = /^\/enrollments(\/|$)/i;

/** One page of a query answer: `x-ms-max-item-count` items from the `x-ms-continuation` offset. */
function page(items: readonly unknown[], req: RouteRequest): HttpReply {
  const max = Number(req.header('x-ms-max-item-count') ?? MAX_PAGE);
  const size = Number.isInteger(max) && max > 0 ? Math.min(max, MAX_PAGE) : MAX_PAGE;
  const start = Number(req.header('x-ms-continuation') ?? 0);
  if (!Number.isInteger(start) || start < 0) throw new DpsError('BadRequest', 'invalid x-ms-continuation');
  const end = start + size;
  return {
    status: 200,
    body: items.slice(start, end),
    headers: end < items.length ? { 'x-ms-continuation': String(end) } : {},
  };
}
