import * as http from 'node:http';

/** GETs `path` from 127.0.0.1:`port` (no keep-alive) and returns the status and the whole body as text. */
export function httpGetLoopback(port: number, path = '/'): Promise<{ status?: number; body: string }> {
  return new Promise((resolveBody, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolveBody({ status: res.statusCode, body: Buffer.concat(chunks).toString() }));
      })
      .on('error', reject);
  });
}
