import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** The fields of a `SharedAccessSignature sr=…&sig=…&se=…[&skn=…]` token, `sr` and `skn` decoded. */
export interface ParsedSasToken {
  /** Resource URI as signed (still URL-encoded, exactly as it appeared in the token). */
  readonly signedResource: string;
  /** Decoded resource URI, e.g. `myhub.azure-devices.net/devices/dev1`. */
  readonly resource: string;
  /** Base64 signature, decoded from the token. */
  readonly signature: string;
  /** Expiry in seconds since the epoch. */
  readonly expirySec: number;
  /** Policy (key) name when the token was signed with a hub-level policy. */
  readonly keyName?: string;
}

/** Parses a SAS token; undefined when it is not one. */
export function parseSasToken(token: string): ParsedSasToken | undefined {
  const prefix = 'SharedAccessSignature ';
  if (!token.startsWith(prefix)) return undefined;
  const fields = new Map<string, string>();
  for (const part of token.slice(prefix.length).split('&')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return undefined;
    fields.set(part.slice(0, eq), part.slice(eq + 1));
  }
  const sr = fields.get('sr');
  const sig = fields.get('sig');
  const se = fields.get('se');
  if (!sr || !sig || !se || !/^\d+$/.test(se)) return undefined;
  try {
    const skn = fields.get('skn');
    return {
      signedResource: sr,
      resource: decodeURIComponent(sr),
      signature: decodeURIComponent(sig),
      expirySec: Number(se),
      ...(skn ? { keyName: decodeURIComponent(skn) } : {}),
    };
  } catch {
    return undefined;
  }
}

/** HMAC-SHA256 of `sr + "\n" + se`; IoT Hub keys are base64 and are decoded before use (unlike Relay keys). */
export function signIotHub(base64Key: string, signedResource: string, expirySec: number): string {
  return createHmac('sha256', Buffer.from(base64Key, 'base64'))
    .update(`${signedResource}\n${expirySec}`)
    .digest('base64');
}

/** True when `token` carries a valid signature by one of `base64Keys` (primary or secondary). */
export function signatureMatches(token: ParsedSasToken, base64Keys: readonly string[]): boolean {
  const given = Buffer.from(token.signature, 'base64');
  return base64Keys.some((key) => {
    if (!key) return false;
    const expected = Buffer.from(signIotHub(key, token.signedResource, token.expirySec), 'base64');
    return expected.length === given.length && timingSafeEqual(expected, given);
  });
}

/** Builds a token the way the Azure SDKs do: `sr` URL-encoded, signature over the encoded `sr`. */
export function createIotHubSasToken(
  resource: string,
  base64Key: string,
  expirySec: number,
  keyName?: string,
): string {
  const sr = encodeURIComponent(resource);
  const sig = encodeURIComponent(signIotHub(base64Key, sr, expirySec));
  return `SharedAccessSignature sr=${sr}&sig=${sig}&se=${expirySec}${keyName ? `&skn=${encodeURIComponent(keyName)}` : ''}`;
}

/** A new symmetric key as IoT Hub generates them: 32 random bytes, base64. */
export function generateSymmetricKey(): string {
  return randomBytes(32).toString('base64');
}

/** True when `key` is base64 of 16 to 64 bytes, the range IoT Hub accepts for symmetric keys. */
export function isValidSymmetricKey(key: string): boolean {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(key) || key.length % 4 !== 0) return false;
  const bytes = Buffer.from(key, 'base64').length;
  return bytes >= 16 && bytes <= 64;
}
