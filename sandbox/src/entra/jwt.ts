import { createSign, createVerify, type KeyObject } from 'node:crypto';

/** A decoded JWT: header, claims and the parts its signature covers. */
export interface DecodedJwt {
  readonly header: Readonly<Record<string, unknown>>;
  readonly claims: Readonly<Record<string, unknown>>;
  /** `base64url(header).base64url(claims)`: the signed input. */
  readonly signedInput: string;
  readonly signature: Buffer;
}

const b64url = (data: string | Buffer): string => Buffer.from(data).toString('base64url');

/** Signs `claims` as a compact RS256 JWT (RFC 7515/7519) with `privateKey`, naming the key `kid`. */
export function signRs256Jwt(claims: object, privateKey: KeyObject, kid: string): string {
  const signedInput = `${b64url(JSON.stringify({ typ: 'JWT', alg: 'RS256', kid }))}.${b64url(JSON.stringify(claims))}`;
  const signature = createSign('RSA-SHA256').update(signedInput).sign(privateKey);
  return `${signedInput}.${b64url(signature)}`;
}

/** True when `text` has the shape of a compact JWS (three base64url parts, the first a JSON header). */
export function looksLikeJwt(text: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(text) && text.startsWith('ey');
}

/** Splits and decodes a compact JWT without checking it; throws on a malformed one. */
export function decodeJwt(token: string): DecodedJwt {
  const parts = token.split('.');
  if (parts.length !== 3) throw new Error('a JWT has three dot-separated parts');
  const [head, body, sig] = parts as [string, string, string];
  const json = (part: string, what: string): Record<string, unknown> => {
    let value: unknown;
    try {
      value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    } catch {
      throw new Error(`the JWT ${what} is not base64url JSON`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw new Error(`the JWT ${what} is not a JSON object`);
    return value as Record<string, unknown>;
  };
  return {
    header: json(head, 'header'),
    claims: json(body, 'claims'),
    signedInput: `${head}.${body}`,
    signature: Buffer.from(sig, 'base64url'),
  };
}

/** True when `jwt` carries `alg: RS256` and a signature `publicKey` verifies. */
export function verifyRs256Signature(jwt: DecodedJwt, publicKey: KeyObject): boolean {
  // Only RS256: accepting the header's `alg` blindly would allow `none` or an HMAC keyed with the public key.
  if (jwt.header.alg !== 'RS256') return false;
  return createVerify('RSA-SHA256').update(jwt.signedInput).verify(publicKey, jwt.signature);
}
