import { createHash } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import type { ConfigProblem } from '../../../common/src/config/schema-validator';
import schema from '../config/schema.json';

/** A route's mutual-TLS settings, compiled. */
export interface MtlsSettings {
  /** Server certificate (chain), key and client CA as PEM, for the route's TLS server. */
  readonly pem: { readonly cert: string; readonly key: string; readonly ca: string };
  /** Revoked client certificate serials: upper-case hex, no separators or leading zeros. */
  readonly revokedSerials: ReadonlySet<string>;
  readonly handshakeTimeoutMs: number;
  /** sha256 of the entry as written (the diff compares this, so no key material is kept twice). */
  readonly fingerprint: string;
}

const DEFAULT_HANDSHAKE_TIMEOUT_MS = schema.$defs.mtls.properties.handshakeTimeoutMs.default;

/** Serial text as compared: `0a:1B` and `A1B` both become `A1B`. */
export function canonicalSerial(serial: string): string {
  return serial
    .replace(/:/g, '')
    .toUpperCase()
    .replace(/^0+(?=.)/, '');
}

/**
 * Compiles a route's `mtls` entry (already schema-checked): the PEM must load as a certificate, a matching key
 * and a CA. Problems name the field but never quote key material.
 */
export function normalizeMtls(
  entry: Record<string, unknown> | undefined,
  at: (...rest: string[]) => string,
  problems: ConfigProblem[],
): MtlsSettings | undefined {
  if (!entry) return undefined;
  const { certificatePem, privateKeyPem, clientCaPem } = entry;
  if (
    typeof certificatePem !== 'string' ||
    typeof privateKeyPem !== 'string' ||
    typeof clientCaPem !== 'string'
  )
    return undefined;
  try {
    // Loaded once here so a bad PEM or a key that does not match is refused at apply, not per client.
    createSecureContext({ cert: certificatePem, key: privateKeyPem, ca: clientCaPem });
  } catch (err) {
    // OpenSSL's text names the failing part (bad PEM, key mismatch) and carries no key bytes.
    problems.push({
      path: at('mtls'),
      message: `cannot load the TLS certificate, key or client CA: ${(err as Error).message}`,
    });
    return undefined;
  }
  const serials = Array.isArray(entry.revokedSerials) ? (entry.revokedSerials as unknown[]) : [];
  return {
    pem: { cert: certificatePem, key: privateKeyPem, ca: clientCaPem },
    revokedSerials: new Set(serials.filter((s): s is string => typeof s === 'string').map(canonicalSerial)),
    handshakeTimeoutMs:
      typeof entry.handshakeTimeoutMs === 'number' ? entry.handshakeTimeoutMs : DEFAULT_HANDSHAKE_TIMEOUT_MS,
    fingerprint: createHash('sha256').update(JSON.stringify(entry)).digest('hex'),
  };
}
