import { context, propagation, Span, SpanKind, SpanStatusCode, trace, Tracer } from '@opentelemetry/api';
import { ATTR } from './instruments';
import type { TunnelAttributes } from './metrics';
import { scrubSecrets } from './redact';

/** Span attribute keys beyond the metric attributes. */
export const SPAN_ATTR = {
  /** The relay tracking id (`sb-hc-id` on the sender, `accept.id` on the listener): both ends carry it. */
  trackingId: 'relay.tracking_id',
  bytesToTarget: 'relay.bytes.to_target',
  bytesToClient: 'relay.bytes.to_client',
  /** Stable error code (RelayError.code, refusal reason) when the span ends in error. */
  errorType: 'error.type',
} as const;

/** Header bag as Node and the relay `connectHeaders` give it. */
export type HeaderBag = Readonly<Record<string, string | readonly string[] | undefined>>;

/** What startTunnelSpan needs. */
export interface TunnelSpanOptions {
  readonly module: string;
  readonly attrs: TunnelAttributes;
  /** Relay tracking id when known; can be added later with setTrackingId. */
  readonly trackingId?: string;
  /** Headers from the peer (forwarder: the sender's `connectHeaders`) carrying W3C trace context. */
  readonly parentHeaders?: HeaderBag;
  /** When the connection really started (epoch ms), for a span begun after the fact; default now. */
  readonly startTimeMs?: number;
}

/** Starts the span for one tunneled connection (gateway: client accept → close; forwarder: relay accept → close). */
export function startTunnelSpan(tracer: Tracer, options: TunnelSpanOptions): Span {
  const { attrs } = options;
  const parent = options.parentHeaders
    ? propagation.extract(context.active(), options.parentHeaders, headerGetter)
    : context.active();
  const span = tracer.startSpan(
    `tunnel ${attrs.route}`,
    {
      kind: SpanKind.SERVER,
      ...(options.startTimeMs !== undefined && { startTime: options.startTimeMs }),
      attributes: {
        [ATTR.module]: options.module,
        [ATTR.route]: attrs.route,
        [ATTR.hybridConnection]: attrs.hybridConnection,
        ...(attrs.location !== undefined && { [ATTR.location]: attrs.location }),
        ...(attrs.service !== undefined && { [ATTR.service]: attrs.service }),
        ...(options.trackingId !== undefined && { [SPAN_ATTR.trackingId]: options.trackingId }),
      },
    },
    parent,
  );
  return span;
}

/** Adds the relay tracking id once it is known (the gateway picks it before dialing; the forwarder reads it from accept). */
export function setTrackingId(span: Span, trackingId: string): void {
  span.setAttribute(SPAN_ATTR.trackingId, trackingId);
}

/** W3C trace-context headers for `span`, to send with the relay connect request so the forwarder's span joins the trace. */
export function traceHeaders(span: Span): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(trace.setSpan(context.active(), span), carrier);
  return carrier;
}

/** How a tunnel ended, for endTunnelSpan. */
export interface TunnelSpanResult {
  readonly bytes?: { readonly toTarget: number; readonly toClient: number };
  /** Set when the tunnel failed; `code` is the stable code (RelayError.code or a refusal reason). */
  readonly error?: { readonly code: string; readonly message?: string };
}

/** Ends a tunnel span with its byte counts and, on failure, an error status and code (message scrubbed of secrets). */
export function endTunnelSpan(span: Span, result: TunnelSpanResult = {}): void {
  if (result.bytes) {
    span.setAttribute(SPAN_ATTR.bytesToTarget, result.bytes.toTarget);
    span.setAttribute(SPAN_ATTR.bytesToClient, result.bytes.toClient);
  }
  if (result.error) {
    span.setAttribute(SPAN_ATTR.errorType, result.error.code);
    span.setStatus({
      code: SpanStatusCode.ERROR,
      message: scrubSecrets(result.error.message ?? result.error.code),
    });
  }
  span.end();
}

/** Runs one reconcile pass inside a span (active for nested spans); failures are recorded, scrubbed, and rethrown. */
export async function traceReconcile<T>(
  tracer: Tracer,
  module: string,
  run: (span: Span) => Promise<T>,
): Promise<T> {
  return tracer.startActiveSpan('reconcile', { attributes: { [ATTR.module]: module } }, async (span) => {
    try {
      return await run(span);
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      const maybeCode = (e as { code?: unknown }).code;
      const code = typeof maybeCode === 'string' ? maybeCode : e.name;
      span.setAttribute(SPAN_ATTR.errorType, code);
      span.recordException({
        name: e.name,
        message: scrubSecrets(e.message),
        stack: scrubSecrets(e.stack ?? ''),
      });
      span.setStatus({ code: SpanStatusCode.ERROR, message: scrubSecrets(e.message) });
      throw err;
    } finally {
      span.end();
    }
  });
}

const headerGetter = {
  keys: (carrier: HeaderBag) => Object.keys(carrier),
  get: (carrier: HeaderBag, key: string) => {
    // Node lower-cases incoming header names; the relay may pass connectHeaders with the sender's casing.
    const direct = carrier[key];
    if (direct !== undefined) return typeof direct === 'string' ? direct : [...direct];
    const found = Object.keys(carrier).find((k) => k.toLowerCase() === key.toLowerCase());
    const value = found === undefined ? undefined : carrier[found];
    return value === undefined || typeof value === 'string' ? value : [...value];
  },
};
