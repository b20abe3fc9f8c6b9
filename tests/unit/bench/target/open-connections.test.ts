// The open-connection count both bench targets keep (bench/target/open-connections.ts), on a real loopback server.
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { OpenConnections } from '../../../../bench/target/open-connections';

describe('OpenConnections', () => {
  let server: Server;
  let open: OpenConnections;
  const clients: Socket[] = [];

  beforeEach(async () => {
    open = new OpenConnections();
    server = createServer((socket) => {
      socket.on('error', () => undefined);
      open.add(socket);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) c.destroy();
    if (server.listening) await new Promise((resolve) => server.close(resolve));
  });

  const client = async (): Promise<Socket> => {
    const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
    socket.on('error', () => undefined);
    clients.push(socket);
    await once(socket, 'connect');
    return socket;
  };

  it('counts connections until they close, and wakes a wait when the count is reached', async () => {
    const [a, b] = [await client(), await client()];
    expect(await open.waitFor(2, 10_000)).toBe(true);
    expect(open.size).toBe(2);
    a.destroy();
    b.end();
    expect(await open.waitFor(0, 10_000)).toBe(true);
    expect(open.size).toBe(0);
  });

  it('answers false when the count is not reached in time', async () => {
    await client();
    expect(await open.waitFor(1, 10_000)).toBe(true);
    expect(await open.waitFor(0, 150)).toBe(false);
  });

  it('closeWith destroys every open connection and closes the server', async () => {
    const socket = await client();
    expect(await open.waitFor(1, 10_000)).toBe(true);
    const closed = once(socket, 'close');
    await open.closeWith(server);
    await closed;
    expect(open.size).toBe(0);
    expect(server.listening).toBe(false);
  });
});
