// UDP targets and clients for the datagram tests: a tiny DNS responder (A records for one zone), a game-style
// server that answers each datagram with its sha256 and the port it came from, and a client that waits for
// answers. Real sockets on loopback, ephemeral ports.
import { createHash } from 'node:crypto';
import dgram from 'node:dgram';
import { once } from 'node:events';

/** A UDP server on 127.0.0.1. */
export interface UdpServer {
  readonly port: number;
  readonly socket: dgram.Socket;
  close(): Promise<void>;
}

async function bindServer(
  onMessage: (socket: dgram.Socket, msg: Buffer, rinfo: dgram.RemoteInfo) => void,
): Promise<UdpServer> {
  const socket = dgram.createSocket('udp4');
  socket.on('message', (msg, rinfo) => onMessage(socket, msg, rinfo));
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  return {
    port: socket.address().port,
    socket,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

/**
 * A DNS responder (RFC 1035 wire format): answers A queries for names in `records` with their address and TTL 60,
 * anything else with NXDOMAIN. Enough for Node's Resolver and dig.
 */
export function startDnsResponder(
  records: Readonly<Record<string, string>>,
): Promise<UdpServer & { queries: number }> {
  const state = { queries: 0 };
  return bindServer((socket, query, rinfo) => {
    state.queries += 1;
    const { name, end, qtype } = readQuestion(query);
    const address = records[name.toLowerCase()];
    const found = address !== undefined && qtype === 1;
    const header = Buffer.alloc(12);
    query.copy(header, 0, 0, 2); // id
    // QR, opcode 0, RD copied, RA; rcode 0 or 3 (NXDOMAIN).
    header.writeUInt16BE(0x8180 | (query.readUInt16BE(2) & 0x0100) | (address === undefined ? 3 : 0), 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(found ? 1 : 0, 6);
    const question = query.subarray(12, end);
    const parts = [header, question];
    if (found) {
      const answer = Buffer.alloc(16);
      answer.writeUInt16BE(0xc00c, 0); // pointer to the question's name
      answer.writeUInt16BE(1, 2); // A
      answer.writeUInt16BE(1, 4); // IN
      answer.writeUInt32BE(60, 6);
      answer.writeUInt16BE(4, 10);
      address.split('.').forEach((octet, i) => answer.writeUInt8(Number(octet), 12 + i));
      parts.push(answer);
    }
    socket.send(Buffer.concat(parts), rinfo.port, rinfo.address);
  }).then(
    (server) =>
      Object.defineProperty(server, 'queries', { get: () => state.queries }) as UdpServer & {
        queries: number;
      },
  );
}

function readQuestion(query: Buffer): { name: string; end: number; qtype: number } {
  const labels: string[] = [];
  let offset = 12;
  while (query[offset] !== 0) {
    const length = query[offset];
    labels.push(query.subarray(offset + 1, offset + 1 + length).toString('ascii'));
    offset += 1 + length;
  }
  offset += 1;
  return { name: labels.join('.'), qtype: query.readUInt16BE(offset), end: offset + 4 };
}

/**
 * A game-style server: each datagram `[clientId u16][seq u32][payload]` is answered with
 * `[clientId][seq][sha256(payload)][payload reversed]`, from the port it came to. A request whose payload is
 * `big:N` is answered with N bytes instead (to test size bounds on the way back). It remembers from which source
 * ports each client id reached it.
 */
export async function startGameServer(): Promise<UdpServer & { portsByClient: Map<number, Set<number>> }> {
  const portsByClient = new Map<number, Set<number>>();
  const server = await bindServer((socket, msg, rinfo) => {
    const clientId = msg.readUInt16BE(0);
    let ports = portsByClient.get(clientId);
    if (!ports) portsByClient.set(clientId, (ports = new Set()));
    ports.add(rinfo.port);
    const payload = msg.subarray(6);
    const text = payload.toString('latin1');
    if (text.startsWith('big:')) {
      socket.send(Buffer.alloc(Number(text.slice(4)), 0x62), rinfo.port, rinfo.address);
      return;
    }
    const reply = Buffer.concat([msg.subarray(0, 6), sha256(payload), Buffer.from(payload).reverse()]);
    socket.send(reply, rinfo.port, rinfo.address);
  });
  return Object.assign(server, { portsByClient });
}

/** sha256 of bytes. */
export function sha256(bytes: Uint8Array): Buffer {
  return createHash('sha256').update(bytes).digest();
}

/** A UDP client bound to its own ephemeral port, with a queue of datagrams received. */
export class UdpClient {
  readonly socket = dgram.createSocket('udp4');
  private readonly received: Buffer[] = [];
  private waiter: (() => void) | undefined;

  private constructor() {
    this.socket.on('message', (msg) => {
      this.received.push(msg);
      this.waiter?.();
    });
  }

  /** Binds a client on 127.0.0.1 (a new source port). */
  static async open(): Promise<UdpClient> {
    const client = new UdpClient();
    client.socket.bind(0, '127.0.0.1');
    await once(client.socket, 'listening');
    return client;
  }

  /** The client's source port. */
  get port(): number {
    return this.socket.address().port;
  }

  /** Sends one datagram to 127.0.0.1:port. */
  send(port: number, payload: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) =>
      this.socket.send(payload, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())),
    );
  }

  /** The next datagram received, or a rejection after `timeoutMs` (generous: a loaded machine is slow, not lossy). */
  async next(timeoutMs = 15_000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no datagram within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiter = undefined;
    }
    return this.received.shift()!;
  }

  /** Datagrams received and not yet taken. */
  get pending(): number {
    return this.received.length;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

/** A game request: `[clientId u16][seq u32][payload]`. */
export function gameRequest(clientId: number, seq: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(6);
  head.writeUInt16BE(clientId, 0);
  head.writeUInt32BE(seq, 2);
  return Buffer.concat([head, payload]);
}
