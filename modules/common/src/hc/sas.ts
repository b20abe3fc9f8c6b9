import { createHmac, timingSafeEqual } from 'node:crypto';
import { RelayError } from './errors';

/** Rights a SAS rule can grant on a relay entity. */
export type RelayRight = 'Listen' | 'Send' | 'Manage';

/** The fields of a parsed `SharedAccessSignature …` token. */
export interface SasTokenFields {
  /** Resource URI as signed (decoded), e.g. `http://ns.servicebus.windows.net/path`. */
  readonly resource: string;
  /** Expiry in seconds since the Unix epoch. */
  readonly expiresAtSec: number;
  /** Rule (key) name. */
  readonly keyName: string;
  /** Signature, base64. */
  readonly signature: string;
}

/** Options for createSasToken. */
export interface CreateSasTokenOptions {
  /** Resource URI to sign; a namespace URI grants every entity below it. */
  readonly resource: string;
  readonly keyName: string;
  readonly key: string;
  /** Token lifetime from `nowMs`. */
  readonly lifetimeMs: number;
  /** Clock override for tests. */
  readonly nowMs?: number;
}

/** The resource URI the relay expects for an entity: `http://{namespace}/{path}` (scheme is not significant). */
export function relayResourceUri(namespace: string, path?: string): string {
  return `http://${namespace}/${path ?? ''}`.replace(/\/+$/, '');
}

/** Creates a SAS token: HMAC-SHA256(key, enc(uri) + "\n" + expiry), as the Azure Relay SAS documentation specifies. */
export function createSasToken(options: CreateSasTokenOptions): string {
  const expiresAtSec = Math.floor(((options.nowMs ?? Date.now()) + options.lifetimeMs) / 1000);
  const encodedResource = encodeURIComponent(options.resource);
  const signature = sign(options.key, encodedResource, expiresAtSec);
  return (
    `SharedAccessSignature sr=${encodedResource}&sig=${encodeURIComponent(signature)}` +
    `&se=${expiresAtSec}&skn=${encodeURIComponent(options.keyName)}`
  );
}

/** Parses a token into its fields; throws RELAY_BAD_TOKEN naming what is missing. */
export function parseSasToken(token: string): SasTokenFields {
  const prefix = 'SharedAccessSignature ';
  if (!token.startsWith(prefix)) throw badToken('token must start with "SharedAccessSignature "');
  const fields = new Map<string, string>();
  for (const pair of token.slice(prefix.length).split('&')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw badToken('token field is not name=value');
    fields.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  for (const required of ['sr', 'sig', 'se', 'skn']) {
    if (!fields.get(required)) throw badToken(`token has no "${required}"`);
  }
  const expiresAtSec = Number(fields.get('se'));
  if (!Number.isInteger(expiresAtSec)) throw badToken('token expiry "se" is not an integer');
  try {
    return {
      resource: decodeURIComponent(fields.get('sr')!),
      expiresAtSec,
      keyName: decodeURIComponent(fields.get('skn')!),
      signature: decodeURIComponent(fields.get('sig')!),
    };
  } catch {
    throw badToken('token field is not valid percent-encoding');
  }
}

/** Expiry of a token in milliseconds since the epoch. */
export function sasTokenExpiresAtMs(token: string): number {
  return parseSasToken(token).expiresAtSec * 1000;
}

/** Why verifySasToken refused a token. */
export type SasVerifyFailure = 'malformed' | 'unknown-key' | 'bad-signature' | 'expired' | 'wrong-resource';

/** Options for verifySasToken. */
export interface VerifySasTokenOptions {
  /** The entity being accessed, e.g. `http://ns/path`; the token's resource must be a prefix of it. */
  readonly resource: string;
  /** Looks up a key by rule name; undefined when no such rule exists. */
  readonly keyFor: (keyName: string) => string | undefined;
  readonly nowMs?: number;
}

/** Outcome of verifySasToken. */
export type SasVerifyResult =
  | { readonly ok: true; readonly fields: SasTokenFields }
  | { readonly ok: false; readonly reason: SasVerifyFailure; readonly fields?: SasTokenFields };

/** Verifies a token the way the relay does: known rule, valid signature, not expired, resource covers the entity. */
export function verifySasToken(token: string, options: VerifySasTokenOptions): SasVerifyResult {
  let fields: SasTokenFields;
  try {
    fields = parseSasToken(token);
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  const key = options.keyFor(fields.keyName);
  if (key === undefined) return { ok: false, reason: 'unknown-key', fields };
  const expected = Buffer.from(sign(key, encodeURIComponent(fields.resource), fields.expiresAtSec));
  const given = Buffer.from(fields.signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given))
    return { ok: false, reason: 'bad-signature', fields };
  if (fields.expiresAtSec * 1000 <= (options.nowMs ?? Date.now()))
    return { ok: false, reason: 'expired', fields };
  if (!resourceCovers(fields.resource, options.resource))
    return { ok: false, reason: 'wrong-resource', fields };
  return { ok: true, fields };
}

/** True when a token signed for `granted` may be used on `requested` (scheme-insensitive, case-insensitive path prefix). */
export function resourceCovers(granted: string, requested: string): boolean {
  const g = normalizeResource(granted);
  const r = normalizeResource(requested);
  return r === g || r.startsWith(`${g}/`);
}

function normalizeResource(uri: string): string {
  return uri
    .replace(/^[a-z]+:\/\//i, '')
    .replace(/\/+$/, '')
    .toLowerCase();
}

function sign(key: string, encodedResource: string, expiresAtSec: number): string {
  return createHmac('sha256', key).update(`${encodedResource}\n${expiresAtSec}`).digest('base64');
}

function badToken(detail: string): RelayError {
  return new RelayError('RELAY_BAD_TOKEN', `invalid SAS token: ${detail}`, false);
}
