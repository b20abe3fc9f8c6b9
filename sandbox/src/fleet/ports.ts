// A free range of loopback ports for the gateway pool: the controller hands out ports from a fixed range, and the
// gateway binds them on 127.0.0.1, so the range must be free on this machine.
import { readFileSync } from 'node:fs';
import * as net from 'node:net';

/** First and last port of a range that was free a moment ago. */
export interface PortRange {
  readonly firstPort: number;
  readonly lastPort: number;
}

/** Lowest port of the range the OS picks ephemeral ports from (listen(0) and outgoing connections). */
export function ephemeralPortFloor(): number {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
    const value = Number(low);
    if (Number.isInteger(value) && value > 1024) return value;
  } catch {
    // not Linux: use Linux's default
  }
  return 32768;
}

/**
 * Finds `count` consecutive ports free on 127.0.0.1, below the ephemeral range: a port in that range can be taken
 * at any moment by any outgoing connection or listen(0) on the machine (the fleet itself makes plenty).
 */
export async function findFreePortRange(count: number, attempts = 50): Promise<PortRange> {
  const floor = 10000;
  const ceiling = Math.max(floor + count, Math.min(ephemeralPortFloor(), 65536));
  for (let attempt = 0; attempt < attempts; attempt++) {
    const base = floor + Math.floor(Math.random() * (ceiling - floor - count));
    if (await allFree(base, count)) return { firstPort: base, lastPort: base + count - 1 };
  }
  throw new Error(`found no ${count} consecutive free ports on 127.0.0.1 after ${attempts} attempts`);
}

async function allFree(base: number, count: number): Promise<boolean> {
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = net.createServer();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(base + i, '127.0.0.1', resolve);
      });
      servers.push(server);
    }
    return true;
  } catch {
    return false;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}
