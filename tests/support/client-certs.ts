// Client-certificate PKI for mTLS tests: a CA and client certificates with chosen serials (ECDSA P-256).
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

/** A CA able to issue client certificates. */
export interface ClientCa {
  readonly caPem: string;
  /** Issues a client certificate (clientAuth) with `serialHex`; returns its PEM and PKCS#8 key PEM. */
  issue(commonName: string, serialHex: string): Promise<{ certPem: string; keyPem: string }>;
}

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;

/** Creates a client CA named `name`. */
export async function createClientCa(name: string): Promise<ClientCa> {
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
  const notBefore = new Date(Date.now() - DAY_MS);
  const notAfter = new Date(Date.now() + DAY_MS);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${name}`,
    keys,
    notBefore,
    notAfter,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return {
    caPem: ca.toString('pem'),
    async issue(commonName, serialHex) {
      const clientKeys = (await webcrypto.subtle.generateKey(ALGORITHM, true, [
        'sign',
        'verify',
      ])) as webcrypto.CryptoKeyPair;
      const cert = await x509.X509CertificateGenerator.create({
        serialNumber: serialHex,
        subject: `CN=${commonName}, O=plant-7`,
        issuer: ca.subject,
        publicKey: clientKeys.publicKey,
        signingKey: keys.privateKey,
        notBefore,
        notAfter,
        signingAlgorithm: ALGORITHM,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
          new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth], false),
          await x509.AuthorityKeyIdentifierExtension.create(keys.publicKey),
        ],
      });
      const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', clientKeys.privateKey));
      const keyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END PRIVATE KEY-----\n`;
      return { certPem: cert.toString('pem'), keyPem };
    },
  };
}
