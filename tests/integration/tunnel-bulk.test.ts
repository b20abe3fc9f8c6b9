// 64 MiB each way through TCP → tunnel (ws pair) → TCP, sha256-verified, with half-close ending both directions.
import type * as net from 'node:net';
import {
  checkLeaksAfterEach,
  connectTcp,
  patternBytes,
  readAll,
  sha256,
  startTcpServer,
  startTunnelPath,
  type TestTcpServer,
  type TunnelPath,
} from '../support/tunnel-harness';
import type { TunnelOutcome } from '../../modules/common/src/tunnel';

const SIZE = 64 * 1024 * 1024;

function writeAllThenEnd(socket: net.Socket, data: Buffer): void {
  const CHUNK = 256 * 1024;
  let offset = 0;
  const pump = (): void => {
    while (offset < data.length) {
      const end = Math.min(offset + CHUNK, data.length);
      const ok = socket.write(data.subarray(offset, end));
      offset = end;
      if (!ok) {
        socket.once('drain', pump);
        return;
      }
    }
    socket.end();
  };
  pump();
}

describe('tunnel bulk transfer', () => {
  let target: TestTcpServer | undefined;
  let path: TunnelPath | undefined;

  checkLeaksAfterEach(async () => {
    await path?.close();
    await target?.close();
    path = target = undefined;
  });

  it('moves 64 MiB each way intact and reports the byte counts', async () => {
    const upload = patternBytes(SIZE, 1);
    const download = patternBytes(SIZE, 2);
    let onTarget!: (received: Promise<Buffer>) => void;
    const targetReceived = new Promise<Buffer>((resolve) => (onTarget = resolve));
    target = await startTcpServer((socket) => {
      onTarget(readAll(socket));
      writeAllThenEnd(socket, download);
    });
    path = await startTunnelPath({ services: { bulk: target.port } });

    const client = await connectTcp(path.gatewayPort);
    const clientReceived = readAll(client);
    writeAllThenEnd(client, upload);

    const [fromTarget, atTarget] = await Promise.all([clientReceived, targetReceived]);
    expect(atTarget.length).toBe(SIZE);
    expect(sha256(atTarget)).toBe(sha256(upload));
    expect(fromTarget.length).toBe(SIZE);
    expect(sha256(fromTarget)).toBe(sha256(download));

    const conn = path.connections[0];
    expect(conn.senderHalfClose).toBe(true);
    const sender = (await conn.sender) as TunnelOutcome;
    const listener = (await conn.listener) as TunnelOutcome;
    expect(sender).toEqual({ ok: true, error: undefined, tcpToRelayBytes: SIZE, relayToTcpBytes: SIZE });
    expect(listener).toEqual({ ok: true, error: undefined, tcpToRelayBytes: SIZE, relayToTcpBytes: SIZE });
    client.destroy();
  });
});
