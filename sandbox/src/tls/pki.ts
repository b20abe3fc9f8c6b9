import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

/** A CA and one server certificate signed by it, all PEM. */
export interface SandboxPki {
  /** The CA certificate clients must trust (NODE_EXTRA_CA_CERTS or an explicit `ca` option). */
  readonly caPem: string;
  /** Server certificate for the names in `hosts`. */
  readonly certPem: string;
  /** Server private key (PKCS#8). */
  readonly keyPem: string;
  /** DNS names and IP addresses the server certificate is valid for. */
  readonly hosts: readonly string[];
}

/** Default names every sandbox server answers to on loopback. */
export const DEFAULT_SANDBOX_HOSTS: readonly string[] = ['localhost', '127.0.0.1', '::1'];

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Generates a fresh CA and a server certificate for `hosts` (ECDSA P-256, so it takes milliseconds).
 * The sandbox makes its own PKI so that clients verify TLS exactly as they would against Azure.
 */
export async function generateSandboxPki(
  hosts: readonly string[] = DEFAULT_SANDBOX_HOSTS,
  validityDays = 30,
): Promise<SandboxPki> {
  const crypto = webcrypto;
  x509.cryptoProvider.set(crypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  const notBefore = new Date(Date.now() - DAY_MS);
  const notAfter = new Date(Date.now() + validityDays * DAY_MS);

  const caKeys = (await crypto.subtle.generateKey(ALGORITHM, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    name: 'CN=hybrid-relay-fleet sandbox CA',
    keys: caKeys,
    notBefore,
    notAfter,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });

  const serverKeys = (await crypto.subtle.generateKey(ALGORITHM, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
  const server = await x509.X509CertificateGenerator.create({
    subject: `CN=${hosts[0] ?? 'localhost'}`,
    issuer: ca.subject,
    publicKey: serverKeys.publicKey,
    signingKey: caKeys.privateKey,
    notBefore,
    notAfter,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
        true,
      ),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
      new x509.SubjectAlternativeNameExtension(
        hosts.map((h) => ({ type: isIp(h) ? 'ip' : 'dns', value: h })),
      ),
      await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });

  const pkcs8 = Buffer.from(await crypto.subtle.exportKey('pkcs8', serverKeys.privateKey));
  return {
    caPem: ca.toString('pem'),
    certPem: server.toString('pem'),
    keyPem: toPem('PRIVATE KEY', pkcs8),
    hosts: [...hosts],
  };
}

function isIp(host: string): boolean {
  return /^\d+\.\d+\.\d+\.\d+$/.test(host) || host.includes(':');
}

function toPem(label: string, der: Buffer): string {
  const body = der.toString('base64').replace(/(.{64})/g, '$1\n');
  return `-----BEGIN ${label}-----\n${body}${body.endsWith('\n') ? '' : '\n'}-----END ${label}-----\n`;
}
