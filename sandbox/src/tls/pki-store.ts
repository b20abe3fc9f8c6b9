import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { DEFAULT_SANDBOX_HOSTS, generateSandboxPki, SandboxPki } from './pki';

/** File names of a persisted sandbox PKI inside its state directory. */
export const PKI_FILES = { ca: 'ca.pem', cert: 'server.pem', key: 'server.key' } as const;

/**
 * Loads the sandbox PKI from `dir`, or creates and stores it when missing, expiring within a day, or
 * lacking one of `hosts`. A stable CA file lets a user point NODE_EXTRA_CA_CERTS at it once.
 */
export async function loadOrCreateSandboxPki(
  dir: string,
  hosts: readonly string[] = DEFAULT_SANDBOX_HOSTS,
): Promise<SandboxPki & { readonly caFile: string }> {
  const caFile = join(dir, PKI_FILES.ca);
  try {
    const [caPem, certPem, keyPem] = await Promise.all(
      [PKI_FILES.ca, PKI_FILES.cert, PKI_FILES.key].map((f) => readFile(join(dir, f), 'utf8')),
    );
    const cert = new X509Certificate(certPem);
    const fresh = Date.parse(cert.validTo) - Date.now() > 24 * 60 * 60 * 1000;
    // checkIP/checkHost, not a text search: Node prints an IPv6 SAN such as ::1 as 0:0:0:0:0:0:0:1.
    const covers = hosts.every((h) => (isIP(h) ? cert.checkIP(h) : cert.checkHost(h)) !== undefined);
    if (fresh && covers) return { caPem, certPem, keyPem, hosts: [...hosts], caFile };
  } catch {
    // Missing or unreadable: generate below.
  }
  const pki = await generateSandboxPki(hosts);
  await mkdir(dir, { recursive: true });
  await writeFile(caFile, pki.caPem);
  await writeFile(join(dir, PKI_FILES.cert), pki.certPem);
  await writeFile(join(dir, PKI_FILES.key), pki.keyPem, { mode: 0o600 });
  return { ...pki, caFile };
}
