import { createHash, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import {
  HTTP_REQUEST,
  HTTP_RESPONSE,
  startConnectionTarget,
  type ConnectionTarget,
} from '../../../../bench/connections/target';
import { requestOnce } from '../../../../bench/connections/requests';

/** Connects, writes `bytes` (half-closing after when `end`), resolves with everything read until the target closed. */
function exchange(port: number, bytes: Buffer, end: boolean): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect({ host: '127.0.0.1', port }, () => {
      if (end) socket.end(bytes);
      else socket.write(bytes);
    });
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      // An echo never closes: stop once everything came back.
      if (!end && Buffer.concat(chunks).length >= bytes.length - 1) socket.destroy();
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks)));
  });
}

describe('the connection workloads target', () => {
  let target: ConnectionTarget;
  beforeAll(async () => {
    target = await startConnectionTarget();
  });
  afterAll(async () => {
    await target.close();
  });

  it('answers an HTTP/1.0 GET with the fixed 1 KiB answer and closes, which requestOnce checks byte for byte', async () => {
    expect(await exchange(target.port, HTTP_REQUEST, false)).toEqual(HTTP_RESPONSE);
    await expect(requestOnce(target.port)).resolves.toBeUndefined();
  });

  it('echoes everything after E', async () => {
    const payload = randomBytes(100_000);
    expect(await exchange(target.port, Buffer.concat([Buffer.from('E'), payload]), false)).toEqual(payload);
  });

  it('answers S with the SHA-256 of everything up to the half-close', async () => {
    const payload = randomBytes(300_000);
    const digest = await exchange(target.port, Buffer.concat([Buffer.from('S'), payload]), true);
    expect(digest).toEqual(createHash('sha256').update(payload).digest());
  });

  it('closes a connection that opens with anything else, and counts none open afterwards', async () => {
    expect(await exchange(target.port, Buffer.from('Xhello'), false)).toEqual(Buffer.alloc(0));
    expect(await target.waitForOpenConnections(0, 10_000)).toBe(true);
  });
});
