// Who a tunnel's client is, as its sender's connect headers (or a warm connection's in-band metadata) say: the
// claimed client address and certificate for logs and the PROXY header, and the trace context for telemetry.
import type { Logger } from '../../../common/src/log';
import { readClientCert } from '../../../common/src/tunnel/client-address';
import type { ConnectHeaders } from '../../../common/src/tunnel/half-close';
import { clientOfTunnel, type TunnelClient } from './client-origin';
import type { TraceHeaders } from './tunnel-events';

/** Who a request's client is, as its headers say (see describeClient). */
export type RequestClient = ReturnType<typeof describeClient>;

/** What a tunnel's connect headers (or a warm connection's metadata) say about its client. */
export function describeClient(
  headers: ConnectHeaders,
  acceptedAtMs: number,
  hostLog: Logger,
  tunnelId: string,
): {
  origin: { readonly acceptedAtMs: number; readonly traceHeaders?: TraceHeaders };
  client: TunnelClient | undefined;
  log: Logger;
} {
  const traceHeaders = traceHeadersOf(headers);
  // The gateway's claim of the public client: logged with every line of this tunnel, never trusted for access.
  const client = clientOfTunnel(headers, hostLog, tunnelId);
  const clientCert = readClientCert(headers);
  const log = hostLog.child({
    tunnelId,
    ...(client && { clientAddress: client.text }),
    ...(clientCert !== undefined && { clientCert }),
  });
  return { origin: { acceptedAtMs, ...(traceHeaders && { traceHeaders }) }, client, log };
}

/** The fields that name a tunnel in a summarised log line (the per-tunnel logger carries them otherwise). */
export function who(
  tunnelId: string,
  client: TunnelClient | undefined,
): { tunnelId: string; clientAddress?: string } {
  return { tunnelId, ...(client && { clientAddress: client.text }) };
}

const TRACE_HEADER_NAMES = ['traceparent', 'tracestate'];

// Only the trace context travels on in events: the rest of the sender's headers is none of telemetry's business.
function traceHeadersOf(headers: ConnectHeaders): TraceHeaders | undefined {
  if (!headers) return undefined;
  let found: Record<string, string> | undefined;
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (TRACE_HEADER_NAMES.includes(lower) && typeof value === 'string') (found ??= {})[lower] = value;
  }
  return found;
}
