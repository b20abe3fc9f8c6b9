import { isIP } from 'node:net';
import type { SocketEndpoint } from '../net/proxy-protocol';
import type { ConnectHeaders } from './half-close';

/**
 * The gateway's claim of who the public client is, carried like the half-close offer: a header on the sender's
 * connect request that the relay hands to the listener in `connectHeaders`. It is the Send credential holder's
 * assertion, trusted only as far as that credential is (see docs/tunnel-protocol.md, "Client address").
 */

/** Header with the public client's `address:port` (`[v6]:port` for IPv6), as the gateway saw or was told it. */
export const CLIENT_ADDRESS_HEADER = 'x-hrf-client';

/** Formats an endpoint as the header value. */
export function formatClientAddress(endpoint: SocketEndpoint): string {
  return isIP(endpoint.address) === 6
    ? `[${endpoint.address}]:${endpoint.port}`
    : `${endpoint.address}:${endpoint.port}`;
}

/** Connect headers announcing the client, or none when the address is unknown (a client that already reset). */
export function clientAddressHeaders(
  address: string | undefined,
  port: number | undefined,
): Record<string, string> {
  if (address === undefined || port === undefined || isIP(address) === 0) return {};
  return { [CLIENT_ADDRESS_HEADER]: formatClientAddress({ address, port }) };
}

/** What the listener makes of the header: absent, a valid endpoint, or a malformed value (ignored, logged). */
export type ClientAddressClaim =
  | { readonly kind: 'absent' }
  | { readonly kind: 'valid'; readonly endpoint: SocketEndpoint }
  | { readonly kind: 'malformed'; readonly message: string };

/** Reads {@link CLIENT_ADDRESS_HEADER} (case-insensitive name); strict: an IP literal and a port 1-65535, nothing else. */
export function readClientAddress(headers: ConnectHeaders): ClientAddressClaim {
  if (!headers) return { kind: 'absent' };
  const name = Object.keys(headers).find((n) => n.toLowerCase() === CLIENT_ADDRESS_HEADER);
  if (name === undefined) return { kind: 'absent' };
  const raw = headers[name];
  if (typeof raw !== 'string')
    return { kind: 'malformed', message: `${CLIENT_ADDRESS_HEADER} given more than once` };
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([0-9.]+)):([1-9][0-9]{0,4})$/.exec(raw.trim());
  const address = match?.[1] ?? match?.[2];
  const family = match?.[1] !== undefined ? 6 : 4;
  const port = Number(match?.[3]);
  if (!match || address === undefined || isIP(address) !== family || port > 65535)
    return { kind: 'malformed', message: `${CLIENT_ADDRESS_HEADER} is not address:port or [ipv6]:port` };
  return { kind: 'valid', endpoint: { address, port } };
}

/** Header with the client certificate the gateway verified (mTLS routes): `serial=<hex>; subject=<CN=…,O=…>`. */
export const CLIENT_CERT_HEADER = 'x-hrf-client-cert';

/** Connect headers announcing a verified client certificate; `;` and non-printable characters become `?`. */
export function clientCertHeaders(
  identity: { subject: string; serial: string } | undefined,
): Record<string, string> {
  if (!identity) return {};
  const subject = identity.subject.replace(/[^\x20-\x7e]|;/g, '?').slice(0, 512);
  return { [CLIENT_CERT_HEADER]: `serial=${identity.serial}; subject=${subject}` };
}

/** Reads {@link CLIENT_CERT_HEADER}: the value when it has the expected shape, else undefined (ignored). */
export function readClientCert(headers: ConnectHeaders): string | undefined {
  if (!headers) return undefined;
  const name = Object.keys(headers).find((n) => n.toLowerCase() === CLIENT_CERT_HEADER);
  const value = name === undefined ? undefined : headers[name];
  if (typeof value !== 'string' || value.length > 600) return undefined;
  return /^serial=[0-9A-F]{1,128}; subject=[\x20-\x3a\x3c-\x7e]*$/.test(value) ? value : undefined;
}
